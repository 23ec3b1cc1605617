package printing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/escpos"
	"github.com/dockhand/dockhand/drivers/printer"
	"github.com/dockhand/dockhand/drivers/transport"
	"github.com/dockhand/dockhand/drivers/tspl"
)

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode print job: %w", err)
	}
	return nil
}

// work is one printer's worker: jobs in order, one at a time.
func (q *Queue) work(ctx context.Context, d *device) {
	idle := time.NewTicker(q.opts.IdlePoll)
	defer idle.Stop()
	for ctx.Err() == nil {
		job, ok, err := q.next(d)
		if err != nil {
			q.log.Error("read print queue", "printer", d.cfg.ID, "err", err)
		}
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
			case <-idle.C:
				q.refreshStatus(ctx, d)
			}
			continue
		}
		if !q.process(ctx, d, job) {
			// The printer cannot take it now: wait for a change, then try again.
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
			case <-idle.C:
			}
		}
	}
}

// next returns the printer's oldest job that is queued or held.
func (q *Queue) next(d *device) (Job, bool, error) {
	var job Job
	found := false
	err := q.st.View(func(tx *store.Tx) error {
		return tx.ForEach(store.CollPrintQueue, d.cfg.ID+"/", func(key string, _ []byte) error {
			id := strings.TrimPrefix(key, d.cfg.ID+"/")
			ok, err := tx.Get(store.CollPrintJobs, id, &job)
			if err != nil || !ok {
				return err
			}
			if job.State == StateQueued || job.State == StateHeld {
				found = true
				return store.ErrStop
			}
			return nil
		})
	})
	return job, found, err
}

// process tries to print one job; it reports false when the job must wait for
// the printer (offline, paper out, cover open).
func (q *Queue) process(ctx context.Context, d *device, job Job) bool {
	// Re-check the order: an intercept or hold that arrived after queueing wins.
	if job.Kind == KindWaybill {
		var why error
		err := q.st.View(func(tx *store.Tx) error {
			rec, err := tx.Order(job.OrderID)
			if err != nil {
				return err
			}
			why = checkPrintable(tx, rec)
			return nil
		})
		if err == nil && why != nil {
			q.finish(job, StateCancelled, "", why.Error())
			return true
		}
	}
	st, known, err := q.status(ctx, d)
	if err != nil {
		q.hold(job, "打印机离线 (printer offline): "+err.Error())
		return false
	}
	if known && !st.OK() && st.State != printer.Printing {
		q.hold(job, holdText(st))
		return false
	}
	// Durable mark before the first byte: a crash from here on leaves "uncertain".
	job.Attempts++
	if !q.save(&job, StateSending, "") {
		return false
	}
	wrote := false
	err = d.sup.Do(ctx, func(p transport.Port) error {
		wrote = true
		if _, err := p.Write(job.Data); err != nil {
			return err
		}
		return p.Flush()
	})
	if err != nil {
		if !wrote {
			q.save(&job, StateHeld, "打印机离线 (printer offline): "+err.Error())
			return false
		}
		q.log.Error("print job interrupted while sending", "job", job.ID, "printer", d.cfg.ID, "err", err)
		q.save(&job, StateUncertain, "发送中断,请检查标签是否完整 (interrupted while sending: check the label): "+err.Error())
		return true
	}
	confirmed := q.confirm(ctx, d, job, known)
	if confirmed == "" {
		q.save(&job, StateUncertain, "打印中出现故障,请检查标签 (the printer reported a fault while printing: check the label)")
		return true
	}
	state := StateSent
	if confirmed == "printed" {
		state = StatePrinted
	}
	q.finish(job, state, confirmed, "")
	return true
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
	err := q.st.Update(func(tx *store.Tx) error {
		job.State, job.Detail, job.Updated = state, detail, tx.Now()
		return tx.Put(store.CollPrintJobs, job.ID, job)
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

// finish records a job's final state, its event (for waybills) and audit line in
// one transaction, and takes it off the printer's queue.
func (q *Queue) finish(job Job, state, confirmed, detail string) {
	err := q.st.Update(func(tx *store.Tx) error {
		job.State, job.Confirmed, job.Detail, job.Updated = state, confirmed, detail, tx.Now()
		if err := tx.Delete(store.CollPrintQueue, job.Printer+"/"+job.ID); err != nil {
			return err
		}
		switch state {
		case StateSent, StatePrinted:
			if err := q.recordPrinted(tx, &job); err != nil {
				return err
			}
		case StateCancelled:
			if _, err := tx.AppendAudit(store.AuditRecord{Station: job.Station, Operator: job.Operator, Action: "print.cancelled",
				OrderID: job.OrderID, Reason: detail, Detail: job.ID}); err != nil {
				return err
			}
		}
		return tx.Put(store.CollPrintJobs, job.ID, &job)
	})
	if err != nil {
		q.log.Error("finish print job", "job", job.ID, "err", err)
		return
	}
	q.jobChanged(job)
}

// refreshStatus polls an idle printer so the UI and hub see paper-out early.
func (q *Queue) refreshStatus(ctx context.Context, d *device) {
	if st, _ := d.sup.State(); st != transport.StateConnected {
		return
	}
	_, _, _ = q.status(ctx, d)
}

// status asks the printer how it is. known is false when the printer has no back
// channel or did not answer in time (the job then goes out unconfirmed).
func (q *Queue) status(ctx context.Context, d *device) (printer.Status, bool, error) {
	var st printer.Status
	known := false
	err := d.sup.Do(ctx, func(p transport.Port) error {
		var err error
		st, known, err = queryStatus(ctx, p, string(d.cfg.Profile.Language), q.opts.StatusTimeout)
		return err
	})
	if err != nil {
		return st, false, err
	}
	if known {
		q.setStatus(d, st, true)
	} else {
		d.mu.Lock()
		cur := d.status
		d.mu.Unlock()
		if cur.State == printer.Offline {
			q.setStatus(d, printer.Status{State: printer.Ready, Detail: "no status reply (one-way printer)"}, false)
		}
	}
	return st, known, nil
}

// queryStatus sends the language's real-time status request and decodes the answer.
func queryStatus(ctx context.Context, p transport.Port, lang string, timeout time.Duration) (printer.Status, bool, error) {
	drain(ctx, p)
	switch lang {
	case "tspl":
		if _, err := p.Write(tspl.StatusQuery); err != nil {
			return printer.Status{}, false, err
		}
		b, err := readSome(ctx, p, 1, timeout)
		if err != nil {
			return printer.Status{}, false, err
		}
		if len(b) == 0 {
			return printer.Status{}, false, nil
		}
		st, err := tspl.DecodeStatus(b[len(b)-1:])
		return st, err == nil, nil
	case "escpos":
		worst := printer.Status{State: printer.Ready}
		for _, n := range []int{escpos.StatusPrinter, 2, 4} {
			req, err := escpos.StatusRequest(n)
			if err != nil {
				return printer.Status{}, false, err
			}
			if _, err := p.Write(req); err != nil {
				return printer.Status{}, false, err
			}
			b, err := readSome(ctx, p, 1, timeout)
			if err != nil {
				return printer.Status{}, false, err
			}
			if len(b) == 0 {
				return printer.Status{}, false, nil
			}
			st, err := escpos.DecodeStatus(n, b[len(b)-1])
			if err != nil {
				return printer.Status{}, false, nil
			}
			if !st.OK() && worst.OK() {
				worst = st
			}
		}
		return worst, true, nil
	}
	return printer.Status{}, false, nil
}

// drain discards stale replies (unsolicited status bytes) before a query.
func drain(ctx context.Context, p transport.Port) {
	buf := make([]byte, 64)
	for i := 0; i < 8; i++ {
		c, cancel := context.WithTimeout(ctx, time.Millisecond)
		n, err := p.ReadContext(c, buf)
		cancel()
		if n == 0 || err != nil {
			return
		}
	}
}

// readSome reads until at least min bytes arrived or the timeout passed.
func readSome(ctx context.Context, p transport.Port, min int, timeout time.Duration) ([]byte, error) {
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out []byte
	buf := make([]byte, 64)
	for len(out) < min {
		n, err := p.ReadContext(c, buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if errors.Is(err, transport.ErrOneWay) || errors.Is(err, context.DeadlineExceeded) {
				return out, nil
			}
			return out, err
		}
	}
	return out, nil
}

// notStartedWait is how long a TSPL printer that reports ready may take to start
// printing a job before the job counts as merely accepted.
const notStartedWait = 300 * time.Millisecond

// confirm waits, where the printer can tell, for the label to be physically
// printed. It returns "printed", "accepted" (the printer took the bytes but cannot
// say more), or "" when the printer reported a fault while printing.
func (q *Queue) confirm(ctx context.Context, d *device, job Job, twoWay bool) string {
	if !twoWay {
		return "accepted"
	}
	deadline := time.Now().Add(q.opts.ConfirmTimeout)
	switch string(d.cfg.Profile.Language) {
	case "escpos":
		result := "accepted"
		_ = d.sup.Do(ctx, func(p transport.Port) error {
			id := fmt.Sprintf("%04d", time.Now().UnixNano()%10000)
			req, err := escpos.ProcessIDRequest(id)
			if err != nil {
				return err
			}
			if _, err := p.Write(req); err != nil {
				return err
			}
			var buf []byte
			for time.Now().Before(deadline) {
				b, err := readSome(ctx, p, 1, time.Until(deadline))
				if err != nil || len(b) == 0 {
					return err
				}
				buf = append(buf, b...)
				for len(buf) > 0 {
					r, n, err := escpos.NextReply(buf)
					if err != nil || n == 0 {
						break
					}
					buf = buf[n:]
					if r.Kind == escpos.ReplyProcessID && r.ProcessID == id {
						result = "printed"
						return nil
					}
				}
			}
			return nil
		})
		return result
	case "tspl":
		sent := time.Now()
		sawPrinting := false
		for time.Now().Before(deadline) {
			st, known, err := q.status(ctx, d)
			if err != nil {
				return "" // the printer went away while printing
			}
			if !known {
				return "accepted"
			}
			switch {
			case st.State == printer.Printing:
				sawPrinting = true
			case st.OK() && sawPrinting:
				return "printed"
			case st.OK():
				// Ready without ever reporting printing: too fast to see, or not
				// started. Give it a moment to start, then settle for "accepted".
				if !sawPrinting && time.Since(sent) > notStartedWait {
					return "accepted"
				}
			default:
				return ""
			}
			select {
			case <-ctx.Done():
				return "accepted"
			case <-time.After(50 * time.Millisecond):
			}
		}
		return "accepted"
	}
	return "accepted"
}
