package printing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/escpos"
	"github.com/dockhand/dockhand/drivers/printer"
	"github.com/dockhand/dockhand/drivers/transport"
	"github.com/dockhand/dockhand/drivers/tspl"
)

// Each printer runs four goroutines besides its transport supervisor:
//
//   - the sender takes queued jobs in order, marks a batch of them "sending" in
//     one commit (re-checking waybill orders inside it), and writes them one
//     after the other without waiting for the paper;
//   - the confirmer follows the jobs sent but not yet confirmed ("in flight"):
//     a TSPL printer that reported printing after a job was sent and then
//     reports ready has printed it (and everything sent before); an ESC/POS
//     printer answers each job's own GS ( H process id once it is printed;
//   - the settler records settled jobs' final states, riding along with the
//     next commit (store.GroupSoon) so that it never holds up a submission;
//   - the reader owns the printer's back channel and hands status replies and
//     process ids to whoever waits for them.
//
// A status query is skipped when the printer answered one within
// Options.StatusFresh and nothing failed since.

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode print job: %w", err)
	}
	return nil
}

// flight is a job sent to the printer and not yet confirmed.
type flight struct {
	job      Job
	sentAt   time.Time
	deadline time.Time
	pid      string // ESC/POS process id asked after the job
	twoWay   bool   // the printer answered status before the job went out
	printing bool   // TSPL: the printer said "printing" after this job was sent
	gen      uint64 // the connection it went out on
	pending  bool   // still being written: only a process id answer settles it
}

// work is one printer's sender.
func (q *Queue) work(ctx context.Context, d *device) {
	idle := time.NewTicker(q.opts.IdlePoll)
	defer idle.Stop()
	var carry []Job // direct jobs taken while waiting, sent once there is room
	for ctx.Err() == nil {
		if !q.waitRoom(ctx, d) {
			return
		}
		if len(carry) == 0 {
			select {
			case j := <-d.direct:
				carry = append(carry, *j)
			default:
			}
		}
		if len(carry) > 0 {
			q.sendDirect(ctx, d, carry)
			carry = nil
			continue
		}
		d.mu.Lock()
		seen := d.queued
		d.mu.Unlock()
		jobs, err := q.next(d, q.room(d))
		if err != nil {
			q.log.Error("read print queue", "printer", d.cfg.ID, "err", err)
		}
		if len(jobs) == 0 {
			d.mu.Lock()
			if d.queued == seen && err == nil { // nothing was queued while we looked
				d.backlog = false
			}
			d.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
			case j := <-d.direct:
				carry = append(carry, *j)
			case <-idle.C:
				if q.inflight(d) == 0 {
					q.refreshStatus(ctx, d)
				}
			}
			continue
		}
		if !q.process(ctx, d, jobs) {
			// The printer cannot take them now: wait for a change, then try again.
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
			case <-idle.C:
			}
		}
	}
}

// room is how many more jobs may be in flight.
func (q *Queue) room(d *device) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return max(q.opts.Window-len(d.flights), 0)
}

func (q *Queue) inflight(d *device) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.flights)
}

// waitRoom blocks while the window of jobs in flight is full.
func (q *Queue) waitRoom(ctx context.Context, d *device) bool {
	for q.room(d) == 0 {
		select {
		case <-ctx.Done():
			return false
		case <-d.freed:
		}
	}
	return true
}

// next returns up to n of the printer's oldest jobs that are queued or held.
func (q *Queue) next(d *device, n int) ([]Job, error) {
	var jobs []Job
	err := q.st.View(func(tx *store.Tx) error {
		jobs = jobs[:0]
		return tx.ForEach(store.CollPrintQueue, d.cfg.ID+"/", func(key string, _ []byte) error {
			var job Job
			id := strings.TrimPrefix(key, d.cfg.ID+"/")
			ok, err := tx.Get(store.CollPrintJobs, id, &job)
			if err != nil || !ok {
				return err
			}
			if job.State == StateQueued || job.State == StateHeld {
				jobs = append(jobs, job)
				if len(jobs) >= n {
					return store.ErrStop
				}
			}
			return nil
		})
	})
	return jobs, err
}

// process tries to print a batch of jobs; it reports false when they must wait
// for the printer (offline, paper out, cover open).
func (q *Queue) process(ctx context.Context, d *device, jobs []Job) bool {
	if st, _ := d.sup.State(); st != transport.StateConnected {
		// Starting up or reconnecting: give the printer a moment before holding.
		wctx, cancel := context.WithTimeout(ctx, q.opts.StatusTimeout)
		_, _ = d.sup.Wait(wctx)
		cancel()
	}
	st, known, err := q.currentStatus(ctx, d)
	if err != nil {
		q.hold(jobs[0], "打印机离线 (printer offline): "+err.Error())
		return false
	}
	if known && !st.OK() {
		q.hold(jobs[0], holdText(st))
		return false
	}
	// Durable mark before the first byte, in one commit for the batch: a crash
	// from here on leaves "uncertain". An intercept or hold that arrived after
	// queueing wins: the order is read again inside the same transaction.
	var send, changed []Job
	err = q.st.Group(func(tx *store.Tx) error {
		send, changed = send[:0], changed[:0]
		now := tx.Now()
		for _, j := range jobs {
			var cur Job
			ok, err := tx.Get(store.CollPrintJobs, j.ID, &cur)
			if err != nil {
				return err
			}
			if !ok || (cur.State != StateQueued && cur.State != StateHeld) {
				continue // resolved or cancelled meanwhile
			}
			if cur.Kind == KindWaybill {
				rec, err := tx.Order(cur.OrderID)
				if err != nil {
					return err
				}
				if why := checkPrintable(tx, rec); why != nil {
					if err := q.finishTx(tx, &cur, StateCancelled, "", why.Error()); err != nil {
						return err
					}
					changed = append(changed, cur)
					continue
				}
			}
			cur.Attempts++
			cur.State, cur.Detail, cur.Updated = StateSending, "", now
			if err := putJob(tx, &cur); err != nil {
				return err
			}
			send = append(send, cur)
			changed = append(changed, cur)
		}
		return nil
	})
	if err != nil {
		q.log.Error("mark print jobs sending", "printer", d.cfg.ID, "err", err)
		return false
	}
	for _, j := range changed {
		q.jobChanged(j)
	}
	return q.write(ctx, d, send, known)
}

// sendDirect writes jobs that were committed as "sending" when they were
// submitted (the printer was idle and known to be fine). Should the printer
// have reported a problem since, they go back to the queue, held, unsent.
func (q *Queue) sendDirect(ctx context.Context, d *device, jobs []Job) {
	st, known, err := q.currentStatus(ctx, d)
	switch {
	case err != nil:
		q.requeue(jobs, StateHeld, "打印机离线 (printer offline): "+err.Error())
	case known && !st.OK():
		q.requeue(jobs, StateHeld, holdText(st))
	default:
		q.write(ctx, d, jobs, known)
	}
}

// write sends jobs already marked "sending", in order. A job the printer never
// got goes back to the queue (held while the printer is offline); a job cut off
// mid-send is uncertain, and the ones after it go back to the queue.
func (q *Queue) write(ctx context.Context, d *device, jobs []Job, twoWay bool) bool {
	escPOS := string(d.cfg.Profile.Language) == "escpos"
	for i, job := range jobs {
		var pid string
		if escPOS && twoWay {
			pid = d.nextPID()
		}
		wrote := false
		var f *flight
		var stop error
		_, err := d.send(func(p transport.Port, gen uint64) error {
			// The bytes may go out well after the batch was marked "sending"
			// (the printer's buffer takes them at its own pace): an intercept
			// or hold that reached the agent since still stops the label.
			if job.Kind == KindWaybill {
				if stop = q.recheck(job.OrderID); stop != nil {
					return nil
				}
			}
			wrote = true
			// In flight before the first byte: the printer may answer the
			// process id before Write returns.
			f = &flight{job: job, pid: pid, twoWay: twoWay, gen: gen, pending: true}
			d.mu.Lock()
			d.flights = append(d.flights, f)
			d.mu.Unlock()
			if _, err := p.Write(job.Data); err != nil {
				return err
			}
			if pid != "" {
				req, err := escpos.ProcessIDRequest(pid)
				if err != nil {
					return err
				}
				if _, err := p.Write(req); err != nil {
					return err
				}
			}
			now := time.Now()
			d.mu.Lock()
			f.sentAt, f.deadline, f.pending = now, now.Add(q.opts.ConfirmTimeout), false
			d.mu.Unlock()
			return nil
		})
		if err != nil {
			d.invalidate()
			if f != nil {
				d.dropFlight(f)
			}
			rest := jobs[i+1:]
			if !wrote {
				q.requeue(jobs[i:], StateHeld, "打印机离线 (printer offline): "+err.Error())
				return false
			}
			q.log.Error("print job interrupted while sending", "job", job.ID, "printer", d.cfg.ID, "err", err)
			q.save(&job, StateUncertain, "发送中断,请检查标签是否完整 (interrupted while sending: check the label): "+err.Error())
			q.requeue(rest, StateQueued, "")
			return true
		}
		if stop != nil {
			q.cancelUnsent(job, stop)
			continue
		}
		signal(d.confirmWake)
	}
	return true
}

// recheck reads the order again: why its label must not be printed now, or nil.
func (q *Queue) recheck(orderID string) error {
	var why error
	err := q.st.View(func(tx *store.Tx) error {
		rec, err := tx.Order(orderID)
		if err != nil {
			return err
		}
		why = checkPrintable(tx, rec)
		return nil
	})
	if err != nil {
		return err
	}
	return why
}

// cancelUnsent records that a job marked "sending" was stopped before its first
// byte went out.
func (q *Queue) cancelUnsent(job Job, why error) {
	err := q.st.Group(func(tx *store.Tx) error {
		return q.finishTx(tx, &job, StateCancelled, "", why.Error())
	})
	if err != nil {
		q.log.Error("cancel print job", "job", job.ID, "err", err)
		return
	}
	q.jobChanged(job)
}

// requeue puts jobs that were marked "sending" but never written back in the
// queue, in one commit.
func (q *Queue) requeue(jobs []Job, state, detail string) {
	if len(jobs) == 0 {
		return
	}
	err := q.st.Group(func(tx *store.Tx) error {
		now := tx.Now()
		for i := range jobs {
			jobs[i].State, jobs[i].Detail, jobs[i].Updated = state, detail, now
			jobs[i].Attempts--
			if err := putJob(tx, &jobs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		q.log.Error("put print jobs back in the queue", "err", err)
		return
	}
	if d := q.printers[jobs[0].Printer]; d != nil {
		d.markBacklog()
	}
	for _, j := range jobs {
		q.jobChanged(j)
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func holdText(st printer.Status) string {
	switch st.State.Hub() {
	case printer.PaperOut:
		return "缺纸,请装纸 (paper out: load labels)"
	case printer.CoverOpen:
		return "打印头/上盖打开,请合上 (cover open: close it)"
	}
	return "打印机故障 (printer error): " + st.String()
}

// save moves a job to a state durably; it reports success.
func (q *Queue) save(job *Job, state, detail string) bool {
	err := q.st.Group(func(tx *store.Tx) error {
		job.State, job.Detail, job.Updated = state, detail, tx.Now()
		return putJob(tx, job)
	})
	if err != nil {
		q.log.Error("save print job", "job", job.ID, "state", state, "err", err)
		return false
	}
	q.jobChanged(*job)
	return true
}

func (q *Queue) hold(job Job, why string) {
	if job.State == StateHeld && job.Detail == why {
		return
	}
	q.save(&job, StateHeld, why)
}

// finishTx records a job's final state inside tx: its event (for waybills) or
// audit line, and takes it off the printer's queue.
func (q *Queue) finishTx(tx *store.Tx, job *Job, state, confirmed, detail string) error {
	job.State, job.Confirmed, job.Detail, job.Updated = state, confirmed, detail, tx.Now()
	if err := tx.Delete(store.CollPrintQueue, job.Printer+"/"+job.ID); err != nil {
		return err
	}
	switch state {
	case StateSent, StatePrinted:
		if err := q.recordPrinted(tx, job); err != nil {
			return err
		}
	case StateCancelled:
		if _, err := tx.AppendAudit(store.AuditRecord{Station: job.Station, Operator: job.Operator, Action: "print.cancelled",
			OrderID: job.OrderID, Reason: detail, Detail: job.ID}); err != nil {
			return err
		}
	}
	return putJob(tx, job)
}

// outcome is how a job in flight ended.
type outcome struct {
	f         *flight
	state     string
	confirmed string
	detail    string
	answered  bool // the printer answered a question sent after the job: it has every byte
}

// settle frees the places of settled jobs in the window at once and hands
// their outcomes to the settler, which records them: the confirmer never
// waits for the disk.
func (q *Queue) settle(d *device, outs []outcome) {
	if len(outs) == 0 {
		return
	}
	d.mu.Lock()
	kept := d.flights[:0]
	for _, f := range d.flights {
		if !slices.ContainsFunc(outs, func(o outcome) bool { return o.f == f }) {
			kept = append(kept, f)
		}
	}
	clear(d.flights[len(kept):])
	d.flights = kept
	d.mu.Unlock()
	signal(d.freed)
	d.settles <- outs
}

// settler is one printer's recorder of settled jobs, in the order they
// settled. At the end it records what is left before returning.
func (q *Queue) settler(ctx context.Context, d *device) {
	for {
		var outs []outcome
		select {
		case outs = <-d.settles:
		case <-ctx.Done():
			for {
				select {
				case outs := <-d.settles:
					q.record(d, outs)
				default:
					return
				}
			}
		}
		for more := true; more; { // one commit for everything waiting
			select {
			case o := <-d.settles:
				outs = append(outs, o...)
			default:
				more = false
			}
		}
		q.record(d, outs)
	}
}

// record writes settled jobs' final states in one commit.
func (q *Queue) record(d *device, outs []outcome) {
	// "Accepted" means the printer took every byte: make sure it did, unless
	// it answered a question sent after them.
	for _, o := range outs {
		if o.confirmed != "accepted" || o.answered {
			continue
		}
		if err := d.flush(); err != nil {
			d.invalidate()
			for i := range outs {
				if outs[i].confirmed == "accepted" && !outs[i].answered {
					outs[i] = outcome{f: outs[i].f, state: StateUncertain,
						detail: "发送中断,请检查标签是否完整 (interrupted while sending: check the label): " + err.Error()}
				}
			}
		}
		break
	}
	// A good answer only counts on the connection the job went out on (checked
	// after the flush, which may have waited).
	d.mu.Lock()
	gen := d.gen
	d.mu.Unlock()
	for i, o := range outs {
		if o.state != StateUncertain && o.f.gen != gen {
			outs[i] = outcome{f: o.f, state: StateUncertain,
				detail: "打印机连接中断,请检查标签是否打印 (the printer went away before confirming: check the label)"}
		}
	}
	jobs := make([]Job, len(outs))
	// Nobody waits on this commit in a hurry: it rides along with the next
	// submission or sending mark rather than holding them up.
	err := q.st.GroupSoon(settleWait, func(tx *store.Tx) error {
		for i, o := range outs {
			jobs[i] = o.f.job
			if o.state == StateUncertain {
				jobs[i].State, jobs[i].Detail, jobs[i].Updated = o.state, o.detail, tx.Now()
				if err := putJob(tx, &jobs[i]); err != nil {
					return err
				}
				continue
			}
			if err := q.finishTx(tx, &jobs[i], o.state, o.confirmed, o.detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// The jobs stay "sending" in the store; a restart makes them uncertain.
		q.log.Error("finish print jobs", "printer", d.cfg.ID, "err", err)
		return
	}
	for _, j := range jobs {
		if j.State == StateUncertain {
			q.log.Warn("print job outcome uncertain", "job", j.ID, "printer", d.cfg.ID, "detail", j.Detail)
		}
		q.jobChanged(j)
	}
}

// fastPolls is how many polls at a tenth of PollEvery the confirmer makes
// while the window is full.
const fastPolls = 25

// settleWait bounds how long a job's final state waits for another commit to
// ride along with.
const settleWait = 5 * time.Millisecond

const faultText = "打印中出现故障,请检查标签 (the printer reported a fault while printing: check the label)"

// confirm is one printer's confirmer: it settles the jobs in flight.
func (q *Queue) confirm(ctx context.Context, d *device) {
	poll := time.NewTimer(time.Hour)
	defer poll.Stop()
	fast := 0 // quick polls made while the window is full
	for {
		d.mu.Lock()
		fs := make([]*flight, 0, len(d.flights))
		for _, f := range d.flights {
			if !f.pending {
				fs = append(fs, f)
			}
		}
		gen := d.gen
		d.mu.Unlock()
		var outs []outcome
		now := time.Now()
		var next time.Time
		var tsplWait []*flight
		for _, f := range fs {
			switch {
			case f.gen != gen:
				// The connection it went out on is gone: whether the printer
				// printed it, only a look at the label can tell.
				outs = append(outs, outcome{f: f, state: StateUncertain,
					detail: "打印机连接中断,请检查标签是否打印 (the printer went away before confirming: check the label)"})
			case !f.twoWay:
				outs = append(outs, outcome{f: f, state: StateSent, confirmed: "accepted"})
			case now.After(f.deadline):
				outs = append(outs, outcome{f: f, state: StateSent, confirmed: "accepted"})
			default:
				if f.pid == "" {
					tsplWait = append(tsplWait, f)
				}
				if next.IsZero() || f.deadline.Before(next) {
					next = f.deadline
				}
			}
		}
		q.settle(d, outs)
		if len(tsplWait) > 0 {
			q.settle(d, q.pollTSPL(ctx, d, tsplWait))
			if ctx.Err() != nil {
				return
			}
			every := q.opts.PollEvery
			if q.room(d) == 0 && fast < fastPolls {
				// The sender waits for the printer: catch its return to ready
				// soon, for a few polls (a slow line must not be flooded).
				every /= 10
				fast++
			} else if q.room(d) > 0 {
				fast = 0
			}
			next = time.Now().Add(every)
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), 0)
		}
		poll.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.confirmWake:
		case <-poll.C:
		case pid := <-d.pids:
			// Take every answer that arrived meanwhile: one commit for them all.
			last := pid
			for more := true; more; {
				select {
				case p := <-d.pids:
					last = p
				default:
					more = false
				}
			}
			q.settle(d, processed(d, last))
		}
		if !poll.Stop() {
			select {
			case <-poll.C:
			default:
			}
		}
	}
}

// processed settles the ESC/POS job that asked for process id pid and every
// job sent before it: the printer answers once everything before is printed.
func processed(d *device, pid string) []outcome {
	d.mu.Lock()
	defer d.mu.Unlock()
	idx := -1
	for i, f := range d.flights {
		if f.pid == pid {
			idx = i
			break
		}
	}
	var outs []outcome
	for i := 0; i <= idx; i++ {
		f := d.flights[i]
		if f.pid == "" {
			continue
		}
		outs = append(outs, outcome{f: f, state: StatePrinted, confirmed: "printed"})
	}
	return outs
}

// pollTSPL asks a TSPL printer once how it is and settles what the answer
// decides: ready after "printing" confirms every job sent before the question;
// ready without ever printing settles for "accepted" after a short while; a
// fault makes the jobs in flight uncertain.
func (q *Queue) pollTSPL(ctx context.Context, d *device, fs []*flight) []outcome {
	st, known, asked, err := q.statusAt(ctx, d)
	if ctx.Err() != nil {
		return nil
	}
	var outs []outcome
	for _, f := range fs {
		if !f.sentAt.Before(asked) {
			continue
		}
		switch {
		case err != nil:
			outs = append(outs, outcome{f: f, state: StateUncertain, detail: faultText + ": " + err.Error()})
		case !known:
			outs = append(outs, outcome{f: f, state: StateSent, confirmed: "accepted"})
		case st.State == printer.Printing:
			f.printing = true
			f.deadline = asked.Add(q.opts.ConfirmTimeout) // still working: keep waiting
		case st.OK() && f.printing:
			outs = append(outs, outcome{f: f, state: StatePrinted, confirmed: "printed"})
		case st.OK():
			// Ready without ever reporting printing: too fast to see, or not
			// started. Give it a moment to start, then settle for "accepted".
			if asked.Sub(f.sentAt) > notStartedWait {
				outs = append(outs, outcome{f: f, state: StateSent, confirmed: "accepted", answered: true})
			}
		default:
			outs = append(outs, outcome{f: f, state: StateUncertain, detail: faultText + ": " + holdText(st)})
		}
	}
	return outs
}

// notStartedWait is how long a TSPL printer that reports ready may take to start
// printing a job before the job counts as merely accepted.
const notStartedWait = 300 * time.Millisecond

// refreshStatus polls an idle printer so the UI and hub see paper-out early.
func (q *Queue) refreshStatus(ctx context.Context, d *device) {
	if st, _ := d.sup.State(); st != transport.StateConnected {
		return
	}
	_, _, _ = q.status(ctx, d)
}

// currentStatus is the printer's status, asked only when the last answer is
// older than StatusFresh or something failed since.
func (q *Queue) currentStatus(ctx context.Context, d *device) (printer.Status, bool, error) {
	d.mu.Lock()
	if !d.freshAt.IsZero() && time.Since(d.freshAt) < q.opts.StatusFresh {
		st, known := d.status, d.known
		d.mu.Unlock()
		return st, known, nil
	}
	d.mu.Unlock()
	d.asked.Add(1)
	return q.status(ctx, d)
}

// status asks the printer how it is. known is false when the printer has no back
// channel or did not answer in time (the job then goes out unconfirmed).
func (q *Queue) status(ctx context.Context, d *device) (printer.Status, bool, error) {
	st, known, _, err := q.statusAt(ctx, d)
	return st, known, err
}

// statusAt is status, also returning when the question went out: the answer
// covers every byte written before that.
func (q *Queue) statusAt(ctx context.Context, d *device) (st printer.Status, known bool, asked time.Time, err error) {
	p, err := d.sup.Port()
	if err == nil {
		st, known, asked, err = d.queryStatus(ctx, p, q.opts.StatusTimeout)
	}
	if err != nil {
		d.invalidate()
		return st, false, asked, err
	}
	if known {
		q.setStatus(d, st, true)
		d.mu.Lock()
		if st.OK() {
			d.freshAt = time.Now()
		} else {
			d.freshAt = time.Time{}
		}
		d.mu.Unlock()
	} else {
		d.mu.Lock()
		cur := d.status
		d.known = false
		d.freshAt = time.Now() // a one-way printer: do not ask before every job
		d.mu.Unlock()
		if cur.State == printer.Offline {
			q.setStatus(d, printer.Status{State: printer.Ready, Detail: "no status reply (one-way printer)"}, false)
		}
	}
	return st, known, asked, nil
}

// queryStatus sends the language's real-time status request and waits for the
// reader to hand over the answer. asked is when the first request went out.
func (d *device) queryStatus(ctx context.Context, p transport.Port, timeout time.Duration) (st printer.Status, known bool, asked time.Time, err error) {
	d.amu.Lock() // one question at a time: answers are not labelled
	defer d.amu.Unlock()
	switch string(d.cfg.Profile.Language) {
	case "tspl":
		b, ok, at, err := d.ask(ctx, p, tspl.StatusQuery, timeout)
		if err != nil || !ok {
			return printer.Status{}, false, at, err
		}
		return tspl.StatusOf(b), true, at, nil
	case "escpos":
		worst := printer.Status{State: printer.Ready}
		for i, n := range []int{escpos.StatusPrinter, 2, 4} {
			req, err := escpos.StatusRequest(n)
			if err != nil {
				return printer.Status{}, false, asked, err
			}
			b, ok, at, err := d.ask(ctx, p, req, timeout)
			if i == 0 {
				asked = at
			}
			if err != nil || !ok {
				return printer.Status{}, false, asked, err
			}
			st, err := escpos.DecodeStatus(n, b)
			if err != nil {
				return printer.Status{}, false, asked, nil
			}
			if !st.OK() && worst.OK() {
				worst = st
			}
		}
		return worst, true, asked, nil
	}
	return printer.Status{}, false, time.Now(), nil
}

// ask writes a status request and waits for one status byte from the reader.
// ok is false when none came in time. d.amu is held.
func (d *device) ask(ctx context.Context, p transport.Port, req []byte, timeout time.Duration) (b byte, ok bool, asked time.Time, err error) {
	for drained := false; !drained; { // stale answers to earlier questions
		select {
		case <-d.replies:
		default:
			drained = true
		}
	}
	if d.oneWay.Load() {
		return 0, false, time.Now(), nil
	}
	d.wmu.Lock()
	asked = time.Now()
	_, err = p.Write(req)
	d.wmu.Unlock()
	if err != nil {
		return 0, false, asked, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case b := <-d.replies:
		return b, true, asked, nil
	case <-t.C:
		return 0, false, asked, nil
	case <-ctx.Done():
		return 0, false, asked, ctx.Err()
	}
}

// send runs fn with the open port under the device's write lock, so that
// jobs and status questions never interleave. Unlike Supervisor.Do it does not
// wait for the printer to acknowledge the bytes: the confirmation does that.
// gen is the connection the bytes went out on.
func (d *device) send(fn func(p transport.Port, gen uint64) error) (gen uint64, err error) {
	d.mu.Lock()
	gen = d.gen
	d.mu.Unlock()
	p, err := d.sup.Port()
	if err != nil {
		return gen, err
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	return gen, fn(p, gen)
}

// dropFlight forgets a job that never went out whole.
func (d *device) dropFlight(f *flight) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i := slices.Index(d.flights, f); i >= 0 {
		d.flights = slices.Delete(d.flights, i, i+1)
	}
}

// flush waits until the printer acknowledged every byte written so far.
func (d *device) flush() error {
	p, err := d.sup.Port()
	if err != nil {
		return err
	}
	return p.Flush()
}

// read is one printer's reader: it owns the back channel of whichever port is
// open and hands status bytes and ESC/POS process ids to the others.
func (q *Queue) read(ctx context.Context, d *device) {
	buf := make([]byte, 256)
	escPOS := string(d.cfg.Profile.Language) == "escpos"
	for ctx.Err() == nil {
		p, err := d.sup.Wait(ctx)
		if err != nil {
			return
		}
		var pending []byte
	conn:
		for {
			n, err := p.ReadContext(ctx, buf)
			if n > 0 {
				if escPOS {
					pending = d.dispatchESCPOS(append(pending, buf[:n]...))
				} else {
					for _, b := range buf[:n] {
						d.reply(b)
					}
				}
			}
			if err == nil {
				continue
			}
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, transport.ErrOneWay) {
				d.oneWay.Store(true)
				select { // wait for the next connection
				case <-ctx.Done():
					return
				case <-d.reconnected:
				}
				break conn
			}
			d.invalidate()
			// Let the supervisor notice and reopen before waiting again.
			select {
			case <-ctx.Done():
				return
			case <-d.reconnected:
			case <-time.After(q.opts.Supervisor.MinBackoff + 50*time.Millisecond):
			}
			break conn
		}
	}
}

// reply hands one status byte to a waiting question; with nobody asking, the
// oldest unread byte makes room.
func (d *device) reply(b byte) {
	for {
		select {
		case d.replies <- b:
			return
		default:
		}
		select {
		case <-d.replies:
		default:
		}
	}
}

// dispatchESCPOS cuts the back channel into replies and returns the
// incomplete tail.
func (d *device) dispatchESCPOS(b []byte) []byte {
	for len(b) > 0 {
		r, n, err := escpos.NextReply(b)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return b
		}
		if err != nil {
			b = b[max(n, 1):]
			continue
		}
		switch r.Kind {
		case escpos.ReplyStatus:
			d.reply(r.Bytes[0])
		case escpos.ReplyProcessID:
			select {
			case d.pids <- r.ProcessID:
			default: // the confirmer is far behind; the deadline settles the job
			}
		}
		b = b[n:]
	}
	return b[:0]
}
