package printing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/drivers/printer"
	"github.com/dockhand/dockhand/drivers/transport"
	"github.com/dockhand/dockhand/sync/wire"
)

// Profile is a printer and the media loaded in it.
type Profile = label.Profile

// Renderer turns an order into printer bytes for a profile: the agent's own
// layout, or the platform's rendered waybill after its checks.
type Renderer interface {
	RenderWaybill(rec *store.OrderRecord, p Profile) ([]byte, error)
}

// PrinterConfig binds a printer id to its address and profile.
type PrinterConfig struct {
	ID      string
	URL     string
	Profile Profile
}

// Options configure the queue.
type Options struct {
	Store    *store.Store
	Renderer Renderer
	Log      *slog.Logger
	// OnPrinter hears every change of a printer's state (for the hub status and the UI).
	OnPrinter func(id string, st printer.Status)
	// OnJob hears every change of a job (for the UI and the local print API).
	OnJob func(Job)
	// StatusTimeout bounds one status query (400ms); ConfirmTimeout bounds the
	// wait for a printed confirmation while the printer shows no progress
	// (15s); IdlePoll is how often an idle printer's status is refreshed (2s).
	StatusTimeout, ConfirmTimeout, IdlePoll time.Duration
	// StatusFresh is how long a good status answer is trusted before the next
	// job without asking again, unless something failed since (300ms).
	StatusFresh time.Duration
	// PollEvery is how often a TSPL printer with jobs in flight is asked
	// whether it finished them (20ms).
	PollEvery time.Duration
	// Window is how many jobs may be sent ahead of their confirmation (16):
	// more gives a fast printer more throughput, fewer leaves fewer labels to
	// check by hand when the connection drops mid-burst.
	Window int
	// Supervisor knobs for every printer's transport.
	Supervisor transport.SupervisorOptions
}

// Queue is the print-once queue of all the agent's printers.
type Queue struct {
	opts     Options
	log      *slog.Logger
	st       *store.Store
	printers map[string]*device

	mu      sync.Mutex
	waiters map[string][]chan Job
}

// device is one printer with its sender, confirmer and reader.
type device struct {
	cfg  PrinterConfig
	sup  *transport.Supervisor
	wake chan struct{} // a job was queued or a decision made
	// direct carries jobs committed as "sending" at submission (the printer
	// was idle and known to be fine): one commit from request to printer.
	direct      chan *Job      // a pointer: the buffer is deep, a Job is not small
	freed       chan struct{}  // a place in the window came free
	confirmWake chan struct{}  // a job went in flight
	reconnected chan struct{}  // the supervisor opened the port again
	replies     chan byte      // status bytes from the reader
	pids        chan string    // ESC/POS process ids from the reader
	settles     chan []outcome // settled jobs for the settler to record
	oneWay      atomic.Bool    // the port has no back channel
	pidSeq      atomic.Uint32
	asked       atomic.Int64 // status questions before sending (the cache was stale)
	wmu         sync.Mutex   // one writer on the port at a time
	amu         sync.Mutex   // one status question at a time

	mu      sync.Mutex
	status  printer.Status
	known   bool      // the printer answered the last status query
	freshAt time.Time // when it last answered fine; zero after a failure
	backlog bool      // jobs may wait in the store's queue
	queued  uint64    // counts jobs put in the store's queue
	flights []*flight // sent, not yet confirmed, oldest first
	gen     uint64    // counts connections and losses: a job's confirmation must come on its own
}

// newConnection notes that the connection was lost or opened: jobs in flight
// on the old one cannot be confirmed any more.
func (d *device) newConnection() {
	d.mu.Lock()
	d.gen++
	d.freshAt = time.Time{}
	d.mu.Unlock()
	signal(d.confirmWake)
}

// markBacklog notes that a job was committed to the store's queue: new jobs
// must not overtake it through the direct lane. It is called after the commit,
// so a sender that scanned the queue before the commit sees the count change
// and keeps the lane closed.
func (d *device) markBacklog() {
	d.mu.Lock()
	d.backlog = true
	d.queued++
	d.mu.Unlock()
}

// invalidate forgets the last status answer: the next job asks again.
func (d *device) invalidate() {
	d.mu.Lock()
	d.freshAt = time.Time{}
	d.mu.Unlock()
}

// nextPID is a 4-digit ESC/POS process id, different for each job in flight.
func (d *device) nextPID() string {
	return fmt.Sprintf("%04d", d.pidSeq.Add(1)%10000)
}

// canDirect reports whether a new job may skip the store's queue: nothing
// waits before it, the window has room, the printer is connected and answered
// fine a moment ago.
func (d *device) canDirect(fresh time.Duration, window int) bool {
	if st, _ := d.sup.State(); st != transport.StateConnected || len(d.direct) > 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.backlog && len(d.flights) < window && !d.freshAt.IsZero() && time.Since(d.freshAt) < fresh &&
		(!d.known || d.status.OK())
}

// PrinterState is a printer as the UI and the hub status show it.
type PrinterState struct {
	ID       string         `json:"id"`
	URL      string         `json:"url"`
	Language string         `json:"language"`
	Status   printer.Status `json:"status"`
}

// New builds the queue; Run starts the printers.
func New(opts Options, printers []PrinterConfig) (*Queue, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.StatusTimeout == 0 {
		opts.StatusTimeout = 400 * time.Millisecond
	}
	if opts.ConfirmTimeout == 0 {
		opts.ConfirmTimeout = 15 * time.Second
	}
	if opts.IdlePoll == 0 {
		opts.IdlePoll = 2 * time.Second
	}
	if opts.StatusFresh == 0 {
		opts.StatusFresh = 300 * time.Millisecond
	}
	if opts.PollEvery == 0 {
		opts.PollEvery = 20 * time.Millisecond
	}
	if opts.Window <= 0 {
		opts.Window = 16
	}
	q := &Queue{opts: opts, log: opts.Log, st: opts.Store, printers: map[string]*device{}, waiters: map[string][]chan Job{}}
	for _, pc := range printers {
		d := &device{cfg: pc, wake: make(chan struct{}, 1), status: printer.Status{State: printer.Offline, Detail: "not connected yet"},
			direct: make(chan *Job, 4096), freed: make(chan struct{}, 1), confirmWake: make(chan struct{}, 1),
			reconnected: make(chan struct{}, 1), replies: make(chan byte, 16),
			pids: make(chan string, 256), settles: make(chan []outcome, 256), backlog: true}
		so := opts.Supervisor
		so.Logger = opts.Log.With("printer", pc.ID)
		so.OnEvent = func(e transport.Event) { q.onTransport(d, e) }
		sup, err := transport.NewSupervisor(pc.URL, so)
		if err != nil {
			return nil, fmt.Errorf("printer %s: %w", pc.ID, err)
		}
		d.sup = sup
		q.printers[pc.ID] = d
	}
	return q, nil
}

func (q *Queue) onTransport(d *device, e transport.Event) {
	if errors.Is(e.Err, context.Canceled) {
		return // the agent is stopping
	}
	if e.State == transport.StateOffline {
		detail := "printer offline"
		if e.Err != nil {
			detail = e.Err.Error()
		}
		d.newConnection()
		q.setStatus(d, printer.Status{State: printer.Offline, Detail: detail}, false)
		return
	}
	d.newConnection()
	d.oneWay.Store(false)
	signal(d.reconnected)
	q.setStatus(d, printer.Status{State: printer.Ready}, false)
	d.poke()
}

func (d *device) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (q *Queue) setStatus(d *device, st printer.Status, known bool) {
	d.mu.Lock()
	changed := d.status != st
	d.status = st
	if known {
		d.known = true
	}
	d.mu.Unlock()
	if changed {
		if !st.OK() {
			q.log.Warn("printer needs attention", "printer", d.cfg.ID, "state", st.State, "detail", st.Detail)
		}
		if q.opts.OnPrinter != nil {
			q.opts.OnPrinter(d.cfg.ID, st)
		}
	}
}

// Printers lists every printer with its last known state.
func (q *Queue) Printers() []PrinterState {
	out := make([]PrinterState, 0, len(q.printers))
	for id, d := range q.printers {
		d.mu.Lock()
		out = append(out, PrinterState{ID: id, URL: d.cfg.URL, Language: string(d.cfg.Profile.Language), Status: d.status})
		d.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Profile returns a printer's profile.
func (q *Queue) Profile(id string) (Profile, bool) {
	d, ok := q.printers[id]
	if !ok {
		return Profile{}, false
	}
	return d.cfg.Profile, true
}

// Run supervises every printer and runs its worker until ctx ends. Jobs that were
// being sent when the agent stopped are marked uncertain first.
func (q *Queue) Run(ctx context.Context) error {
	if err := q.markInterrupted(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, d := range q.printers {
		wg.Add(5)
		go func() { defer wg.Done(); _ = d.sup.Run(ctx) }()
		go func() { defer wg.Done(); q.work(ctx, d) }()
		go func() { defer wg.Done(); q.confirm(ctx, d) }()
		go func() { defer wg.Done(); q.settler(ctx, d) }()
		go func() { defer wg.Done(); q.read(ctx, d) }()
	}
	wg.Wait()
	return nil
}

// markInterrupted turns jobs left in "sending" by a crash into "uncertain".
func (q *Queue) markInterrupted() error {
	var changed []Job
	err := q.st.Update(func(tx *store.Tx) error {
		changed = changed[:0]
		return tx.ForEach(store.CollPrintJobs, "", func(key string, raw []byte) error {
			var j Job
			if err := jsonUnmarshal(raw, &j); err != nil {
				return err
			}
			if j.State != StateSending {
				return nil
			}
			j.State, j.Detail, j.Updated = StateUncertain, "发送中断(断电或重启),请检查标签是否完整打印 (sending was interrupted; check whether the label came out whole)", tx.Now()
			if _, err := tx.AppendAudit(store.AuditRecord{Action: "print.uncertain", OrderID: j.OrderID, Detail: j.ID}); err != nil {
				return err
			}
			changed = append(changed, j)
			return putJob(tx, &j)
		})
	})
	if err != nil {
		return fmt.Errorf("recover print jobs: %w", err)
	}
	for _, j := range changed {
		q.log.Warn("print job was interrupted while sending; waiting for a person", "job", j.ID, "order", j.OrderID)
		q.jobChanged(j)
	}
	return nil
}

// checkPrintable says why an order must not be printed, or nil.
func checkPrintable(tx *store.Tx, rec *store.OrderRecord) error {
	o := &rec.Order
	switch o.Status {
	case wire.StatusIntercepted:
		return ErrIntercepted
	case wire.StatusReleased:
	default:
		return ErrNotReleased
	}
	if o.Waybill == nil || o.Waybill.No == "" {
		return ErrNoWaybill
	}
	for _, l := range o.Lines {
		h, err := tx.HoldFor(l.SKU, l.Batch)
		if err != nil {
			return err
		}
		if h != nil {
			return fmt.Errorf("%w: %s %s", ErrOnHold, l.SKU, l.Batch)
		}
	}
	return nil
}

// PrintWaybill queues the first print of an order's waybill on a printer. A
// waybill that was printed (or is queued) already is refused with
// ErrAlreadyPrinted.
func (q *Queue) PrintWaybill(ctx context.Context, orderID, printerID, station, operator string) (Job, error) {
	return q.submitWaybill(ctx, orderID, printerID, station, operator, "", "")
}

// Reprint queues an authorised reprint (补打) with its reason and the manager who
// authorised it; the caller has checked the manager's PIN.
func (q *Queue) Reprint(ctx context.Context, orderID, printerID, station, operator, reason, authorizedBy string) (Job, error) {
	if strings.TrimSpace(reason) == "" || authorizedBy == "" {
		return Job{}, ErrNeedReason
	}
	return q.submitWaybill(ctx, orderID, printerID, station, operator, reason, authorizedBy)
}

func (q *Queue) submitWaybill(_ context.Context, orderID, printerID, station, operator, reason, authorizedBy string) (Job, error) {
	d, ok := q.printers[printerID]
	if !ok {
		return Job{}, fmt.Errorf("%w: %s", ErrUnknownPrinter, printerID)
	}
	reprint := authorizedBy != ""
	// Render outside the write transaction; the version is checked again inside.
	var rec *store.OrderRecord
	err := q.st.View(func(tx *store.Tx) error {
		r, err := tx.Order(orderID)
		if err != nil {
			return err
		}
		rec = r
		return checkPrintable(tx, r)
	})
	if err != nil {
		return Job{}, fmt.Errorf("print waybill of %s: %w", orderID, err)
	}
	data, err := q.opts.Renderer.RenderWaybill(rec, d.cfg.Profile)
	if err != nil {
		return Job{}, fmt.Errorf("render waybill of %s for %s: %w", orderID, printerID, err)
	}
	var job Job
	direct := false
	err = q.st.Group(func(tx *store.Tx) error {
		cur, err := tx.Order(orderID)
		if err != nil {
			return err
		}
		if cur.Order.Version != rec.Order.Version {
			return fmt.Errorf("order %s changed while its label was rendered; scan again", orderID)
		}
		if err := checkPrintable(tx, cur); err != nil {
			return err
		}
		wb := cur.Order.Waybill.No
		var prev string
		if _, err := tx.Get(store.CollPrintByWB, wb, &prev); err != nil {
			return err
		}
		if prev != "" && !reprint {
			var pj Job
			if _, err := tx.Get(store.CollPrintJobs, prev, &pj); err != nil {
				return err
			}
			if pj.State != StateCancelled && pj.State != StateFailed {
				return fmt.Errorf("%w (job %s, %s)", ErrAlreadyPrinted, pj.ID, pj.State)
			}
		}
		if prev == "" && reprint {
			return fmt.Errorf("order %s has never been printed: print it, do not reprint", orderID)
		}
		n, err := tx.NextID(store.CollPrintJobs)
		if err != nil {
			return err
		}
		now := tx.Now()
		job = Job{ID: jobKey(n), Kind: KindWaybill, Printer: printerID, OrderID: orderID, WaybillNo: wb,
			Station: station, Operator: operator, Reprint: reprint, Reason: reason, AuthorizedBy: authorizedBy,
			Language: string(d.cfg.Profile.Language), Data: data, State: StateQueued, Created: now, Updated: now}
		if !reprint {
			if err := tx.Put(store.CollPrintByWB, wb, job.ID); err != nil {
				return err
			}
		}
		action := "print.queued"
		if reprint {
			action = "reprint.queued"
		}
		if _, err := tx.AppendAudit(store.AuditRecord{Station: station, Operator: operator, Action: action, OrderID: orderID,
			OK: true, Reason: reason, Detail: job.ID + " authorised by " + authorizedBy}); err != nil {
			return err
		}
		direct, err = q.enqueue(tx, &job, d)
		return err
	})
	if err != nil {
		return Job{}, fmt.Errorf("print waybill of %s: %w", orderID, err)
	}
	q.dispatch(d, job, direct)
	return job, nil
}

// Submission is a job from the local print API: raw printer bytes, or a
// document the API rendered for the printer.
type Submission struct {
	Printer  string
	Kind     string // KindRaw or KindLayout
	Language string // the language the bytes are in; empty: the printer's
	Data     []byte
	// ClientKey de-duplicates a job retried by its client: a key seen before
	// returns the earlier job instead of printing twice.
	ClientKey string
	// WaybillNo with Once prints the document only once per waybill number,
	// across the API and the agent's own waybill printing.
	WaybillNo string
	Once      bool
	Operator  string // who submitted it (an operator code or an API key's name)
}

// SubmitRaw queues raw printer bytes from the local print API. A clientKey seen
// before returns the earlier job instead of printing twice.
func (q *Queue) SubmitRaw(ctx context.Context, printerID, language string, data []byte, clientKey, operator string) (Job, error) {
	j, _, err := q.Submit(ctx, Submission{Printer: printerID, Kind: KindRaw, Language: language, Data: data,
		ClientKey: clientKey, Operator: operator})
	return j, err
}

// Submit queues a job from the local print API. existed is true when the
// client key was seen before: the earlier job is returned and nothing new is
// printed.
func (q *Queue) Submit(_ context.Context, sub Submission) (job Job, existed bool, err error) {
	d, ok := q.printers[sub.Printer]
	if !ok {
		return Job{}, false, fmt.Errorf("%w: %s", ErrUnknownPrinter, sub.Printer)
	}
	if sub.Language != "" && !strings.EqualFold(sub.Language, string(d.cfg.Profile.Language)) {
		return Job{}, false, fmt.Errorf("%w: printer %s speaks %s, not %s", ErrWrongLanguage, sub.Printer, d.cfg.Profile.Language, sub.Language)
	}
	if len(sub.Data) == 0 {
		return Job{}, false, ErrEmptyJob
	}
	if sub.Kind == "" {
		sub.Kind = KindRaw
	}
	if sub.Once && sub.WaybillNo == "" {
		return Job{}, false, ErrNoWaybill
	}
	direct := false
	err = q.st.Group(func(tx *store.Tx) error {
		existed, direct = false, false
		if sub.ClientKey != "" {
			var id string
			if _, err := tx.Get(store.CollPrintByWB, "raw:"+sub.ClientKey, &id); err != nil {
				return err
			}
			if id != "" {
				existed = true
				_, err := tx.Get(store.CollPrintJobs, id, &job)
				return err
			}
		}
		if sub.Once {
			var prev string
			if _, err := tx.Get(store.CollPrintByWB, sub.WaybillNo, &prev); err != nil {
				return err
			}
			if prev != "" {
				var pj Job
				if _, err := tx.Get(store.CollPrintJobs, prev, &pj); err != nil {
					return err
				}
				if pj.State != StateCancelled && pj.State != StateFailed {
					return fmt.Errorf("%w (job %s, %s)", ErrAlreadyPrinted, pj.ID, pj.State)
				}
			}
		}
		n, err := tx.NextID(store.CollPrintJobs)
		if err != nil {
			return err
		}
		now := tx.Now()
		job = Job{ID: jobKey(n), Kind: sub.Kind, Printer: sub.Printer, ClientKey: sub.ClientKey, Operator: sub.Operator,
			WaybillNo: sub.WaybillNo, Language: string(d.cfg.Profile.Language), Data: sub.Data, State: StateQueued, Created: now, Updated: now}
		if sub.ClientKey != "" {
			if err := tx.Put(store.CollPrintByWB, "raw:"+sub.ClientKey, job.ID); err != nil {
				return err
			}
		}
		if sub.Once {
			if err := tx.Put(store.CollPrintByWB, sub.WaybillNo, job.ID); err != nil {
				return err
			}
		}
		direct, err = q.enqueue(tx, &job, d)
		return err
	})
	if err != nil {
		return Job{}, false, fmt.Errorf("queue print job for %s: %w", sub.Printer, err)
	}
	if !existed {
		q.dispatch(d, job, direct)
	}
	return job, existed, nil
}

// enqueue stores a new job in tx. When nothing waits before it and the printer
// answered fine a moment ago, the job is committed as "sending" and handed
// straight to the sender (direct): one commit from request to printer, and a
// crash before the bytes went out leaves it uncertain like any sending job.
func (q *Queue) enqueue(tx *store.Tx, j *Job, d *device) (direct bool, err error) {
	direct = d.canDirect(q.opts.StatusFresh, q.opts.Window)
	if direct {
		j.State, j.Attempts = StateSending, 1
	} else {
		j.State = StateQueued
		d.mu.Lock()
		d.backlog = true // counted in dispatch, once committed
		d.mu.Unlock()
	}
	if err := putJob(tx, j); err != nil {
		return false, err
	}
	return direct, tx.PutRaw(store.CollPrintQueue, j.Printer+"/"+j.ID, []byte{1})
}

// dispatch tells the listeners about a committed new job and wakes its sender.
func (q *Queue) dispatch(d *device, j Job, direct bool) {
	q.jobChanged(j)
	if direct {
		d.direct <- &j
		return
	}
	d.markBacklog()
	d.poke()
}

// Job returns a job by id.
func (q *Queue) Job(id string) (Job, error) {
	var j Job
	err := q.st.View(func(tx *store.Tx) error {
		ok, err := tx.Get(store.CollPrintJobs, id, &j)
		if err == nil && !ok {
			err = fmt.Errorf("print job %s: %w", id, store.ErrNotFound)
		}
		return err
	})
	return j, err
}

// JobsOf returns an order's print jobs, oldest first.
func (q *Queue) JobsOf(orderID string) ([]Job, error) {
	var out []Job
	err := q.st.View(func(tx *store.Tx) error {
		return tx.ForEach(store.CollPrintJobs, "", func(_ string, raw []byte) error {
			var j Job
			if err := jsonUnmarshal(raw, &j); err != nil {
				return err
			}
			if j.OrderID == orderID {
				j.Data = nil
				out = append(out, j)
			}
			return nil
		})
	})
	return out, err
}

// Wait blocks until the job is done, held or uncertain, or ctx ends.
func (q *Queue) Wait(ctx context.Context, id string) (Job, error) {
	ch := make(chan Job, 8)
	q.mu.Lock()
	q.waiters[id] = append(q.waiters[id], ch)
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		ws := q.waiters[id]
		for i, w := range ws {
			if w == ch {
				q.waiters[id] = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(q.waiters[id]) == 0 {
			delete(q.waiters, id)
		}
		q.mu.Unlock()
	}()
	j, err := q.Job(id)
	if err != nil {
		return j, err
	}
	for !settled(j) {
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case j = <-ch:
		}
	}
	return j, nil
}

func settled(j Job) bool { return j.Done() || j.State == StateHeld || j.State == StateUncertain }

func (q *Queue) jobChanged(j Job) {
	j.Data = nil
	if q.opts.OnJob != nil {
		q.opts.OnJob(j) // before the waiters: a websocket has it when Wait returns
	}
	q.mu.Lock()
	for _, ch := range q.waiters[j.ID] {
		select {
		case ch <- j:
		default:
		}
	}
	q.mu.Unlock()
}

// Resolve records a person's decision on an uncertain (or held) job: "resend"
// sends it again, "printed" accepts that the label came out whole, "cancel" drops it.
func (q *Queue) Resolve(_ context.Context, id, decision, by string) (Job, error) {
	var job Job
	err := q.st.Group(func(tx *store.Tx) error {
		ok, err := tx.Get(store.CollPrintJobs, id, &job)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("print job %s: %w", id, store.ErrNotFound)
		}
		if job.State != StateUncertain && job.State != StateHeld {
			return ErrNotUncertain
		}
		now := tx.Now()
		job.Updated = now
		switch decision {
		case "resend":
			job.State, job.Detail = StateQueued, "resent by "+by
			if err := tx.PutRaw(store.CollPrintQueue, job.Printer+"/"+job.ID, []byte{1}); err != nil {
				return err
			}
		case "printed":
			job.State, job.Detail, job.Confirmed = StateSent, "confirmed whole by "+by, wire.ConfirmedAccepted
			if err := tx.Delete(store.CollPrintQueue, job.Printer+"/"+job.ID); err != nil {
				return err
			}
			if err := q.recordPrinted(tx, &job); err != nil {
				return err
			}
		case "cancel":
			job.State, job.Detail = StateCancelled, "cancelled by "+by
			if err := tx.Delete(store.CollPrintQueue, job.Printer+"/"+job.ID); err != nil {
				return err
			}
		default:
			return fmt.Errorf("decision %q must be resend, printed or cancel", decision)
		}
		if _, err := tx.AppendAudit(store.AuditRecord{Operator: by, Action: "print.resolve." + decision, OrderID: job.OrderID, OK: true, Detail: job.ID}); err != nil {
			return err
		}
		return putJob(tx, &job)
	})
	if err != nil {
		return Job{}, fmt.Errorf("resolve print job %s: %w", id, err)
	}
	q.jobChanged(job)
	if d := q.printers[job.Printer]; d != nil {
		if job.State == StateQueued {
			d.markBacklog()
		}
		d.poke()
	}
	return job, nil
}

// recordPrinted writes the waybill.printed or waybill.reprinted event of a
// waybill job inside tx.
func (q *Queue) recordPrinted(tx *store.Tx, j *Job) error {
	if j.Kind != KindWaybill {
		return nil
	}
	e := &wire.Event{Type: wire.EventWaybillPrinted, OrderID: j.OrderID, WaybillNo: j.WaybillNo,
		Station: wire.OptString(j.Station), Operator: wire.OptString(j.Operator)}
	var data any = wire.WaybillPrintedData{Printer: j.Printer, JobID: j.ID, Copies: 1, Confirmed: j.Confirmed}
	if j.Reprint {
		e.Type = wire.EventWaybillReprinted
		data = wire.WaybillReprintedData{Printer: j.Printer, JobID: j.ID, Reason: j.Reason, AuthorizedBy: j.AuthorizedBy}
	}
	if err := e.SetData(data); err != nil {
		return err
	}
	if _, err := tx.AppendEvent(e); err != nil {
		return err
	}
	_, err := tx.AppendAudit(store.AuditRecord{Station: j.Station, Operator: j.Operator, Action: e.Type, OrderID: j.OrderID,
		OK: true, Detail: j.ID + " " + j.Confirmed, EventSeq: e.Seq})
	return err
}

// putJob stores a job. A job that reached its final state is stored without
// its printer bytes: nothing sends them again (a reprint renders the waybill
// anew), and a day of labels would otherwise fill the data file.
func putJob(tx *store.Tx, j *Job) error {
	if j.Done() && j.Data != nil {
		c := *j
		c.Data = nil
		j = &c
	}
	return tx.Put(store.CollPrintJobs, j.ID, j)
}

// purgeBatch bounds the jobs one purge transaction deletes.
const purgeBatch = 1000

// Purge deletes finished jobs last changed before cutoff, with their print-once
// and client-key entries (an order is purged after the same retention, so its
// waybill cannot come back to be printed). Held and uncertain jobs stay until a
// person decides. It reports how many jobs it deleted.
func (q *Queue) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int
		var last string
		err := q.st.Update(func(tx *store.Tx) error {
			var old []Job
			n, last = 0, after
			if err := tx.ForEach(store.CollPrintJobs, "", func(key string, raw []byte) error {
				if key <= after {
					return nil
				}
				if len(old) == purgeBatch {
					return store.ErrStop
				}
				last = key
				var j Job
				if err := jsonUnmarshal(raw, &j); err != nil {
					return fmt.Errorf("print job %s: %w", key, err)
				}
				if j.Done() && j.Updated.Before(cutoff) {
					old = append(old, j)
				}
				return nil
			}); err != nil {
				return err
			}
			for _, j := range old {
				for _, k := range []string{j.WaybillNo, "raw:" + j.ClientKey} {
					if k == "" || k == "raw:" {
						continue
					}
					var id string
					if _, err := tx.Get(store.CollPrintByWB, k, &id); err != nil {
						return err
					}
					if id == j.ID {
						if err := tx.Delete(store.CollPrintByWB, k); err != nil {
							return err
						}
					}
				}
				if err := tx.Delete(store.CollPrintJobs, j.ID); err != nil {
					return err
				}
			}
			n = len(old)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("purge print jobs: %w", err)
		}
		total += n
		if last == after {
			return total, nil
		}
		after = last
	}
}

// Queued reports whether the order's waybill has a print job (in any state),
// or needs none (no waybill yet).
func (q *Queue) Queued(orderID string) (bool, error) {
	queued := false
	err := q.st.View(func(tx *store.Tx) error {
		rec, err := tx.Order(orderID)
		if err != nil {
			return err
		}
		queued = rec.Order.Waybill == nil || tx.GetRaw(store.CollPrintByWB, rec.Order.Waybill.No) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("print job of %s: %w", orderID, err)
	}
	return queued, nil
}
