package peakday

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// Invariant is one check of the day, with how many things it looked at and
// how many broke it.
type Invariant struct {
	Name    string
	Checked int
	Broken  int
	Detail  string
	// Target marks a performance target rather than a correctness invariant.
	Target bool
	// Note marks a reported observation that neither passes nor fails.
	Note bool
	// Examples are some of the things that broke it.
	Examples []string
}

func (i *Invariant) broke(example string) {
	i.Broken++
	if len(i.Examples) < 10 {
		i.Examples = append(i.Examples, example)
	}
	if i.Detail == "" {
		i.Detail = example
	}
}

// Pass reports whether nothing broke it.
func (i Invariant) Pass() bool { return i.Broken == 0 }

// Result is the outcome of a day.
type Result struct {
	Opts       Options
	Invariants []Invariant
	Faults     []FaultRec
	Samples    []Sample
	Mistakes   map[string][2]int // kind → caught, made
	Checks     map[string]int
	Unexpected []Unexpected
	Scans      int
	Events     int
	Labels     int
	Worked     time.Duration
	Drained    time.Duration
	Latency    []LatencyWindow
	Overall    Percentiles
	ByVia      map[string]Percentiles
	Errors     []string
	Disk       string
	scans      []scanRec
}

// Failed lists the invariants that broke (targets excluded).
func (r *Result) Failed() []Invariant {
	var out []Invariant
	for _, i := range r.Invariants {
		if !i.Pass() && !i.Target && !i.Note {
			out = append(out, i)
		}
	}
	return out
}

// reachTime is when the agent first showed a feed seq ≥ seq (from the
// samples); zero when never.
func reachTime(samples []Sample, seq uint64) time.Time {
	for _, s := range samples {
		if s.FeedSeq >= seq {
			return s.At
		}
	}
	return time.Time{}
}

func (r *runner) check(ctx context.Context) (*Result, error) {
	res := &Result{Opts: r.opts, Disk: r.disk, Checks: map[string]int{}, Mistakes: map[string][2]int{}}
	r.rec.mu.Lock()
	res.Samples = append([]Sample(nil), r.rec.samples...)
	res.Faults = append([]FaultRec(nil), r.rec.faults...)
	res.Unexpected = append([]Unexpected(nil), r.rec.surprises...)
	for k, v := range r.rec.checks {
		res.Checks[k] = v
	}
	mistakes := append([]MistakeRec(nil), r.rec.mistakes...)
	res.scans = append([]scanRec(nil), r.rec.scans...)
	r.rec.mu.Unlock()
	res.Scans = len(res.scans)
	add := func(i Invariant) { res.Invariants = append(res.Invariants, i) }

	st, err := store.Open(filepath.Join(r.dataDir, "dockhand.db"), store.Options{Agent: AgentID, Warehouse: Warehouse, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open the agent's store after the run: %w", err)
	}
	defer st.Close()

	// The store's own consistency check.
	ci := Invariant{Name: "the data file passes bbolt's consistency check after kill -9 and a full disk", Checked: 1}
	if err := st.Check(); err != nil {
		ci.Broken, ci.Detail = 1, err.Error()
	}
	add(ci)

	// Every floor event reached the hub exactly once.
	hubEvents, err := r.hub.Events(AgentID)
	if err != nil {
		return nil, err
	}
	var last uint64
	auditSeqs := map[uint64]bool{}
	var pending int
	err = st.View(func(tx *store.Tx) error {
		last = tx.LastEventSeq()
		return nil
	})
	if err != nil {
		return nil, err
	}
	pending, _, _ = st.OutboxStats()
	audit, err := st.Audit(store.AuditQuery{})
	if err == nil {
		for _, a := range audit {
			if a.EventSeq > 0 {
				auditSeqs[a.EventSeq] = true
			}
		}
	}
	bySeq := map[uint64]bool{}
	ids := map[string]int{}
	for _, e := range hubEvents {
		bySeq[e.Seq] = true
		ids[e.Event.EventID]++
	}
	ev := Invariant{Name: "every floor event reached the hub exactly once", Checked: int(last)}
	var missing, dupIDs, notInAudit int
	for s := uint64(1); s <= last; s++ {
		if !bySeq[s] {
			missing++
		}
	}
	for _, n := range ids {
		if n > 1 {
			dupIDs++
		}
	}
	for s := range auditSeqs {
		if !bySeq[s] {
			notInAudit++
		}
	}
	extra := len(hubEvents) - int(last)
	viol := r.hub.Violations()
	ev.Broken = missing + dupIDs + max(extra, 0) + len(viol) + pending
	ev.Detail = fmt.Sprintf("agent seqs 1..%d; hub stored %d; missing %d; event ids stored twice %d; beyond the agent's last seq %d; audited events missing at the hub %d; contract violations %d; outbox still pending %d; byte-identical re-sends the hub absorbed %d",
		last, len(hubEvents), missing, dupIDs, max(extra, 0), notInAudit, len(viol), pending, r.hub.Duplicates())
	ev.Broken += notInAudit
	if len(viol) > 0 {
		ev.Detail += "; first violation: " + viol[0].Reason
	}
	res.Events = len(hubEvents)
	add(ev)

	// The agent's orders equal the hub's.
	orders := r.world.all()
	oi := Invariant{Name: "the agent's order state equals the hub's (version and status)", Checked: len(orders)}
	for _, o := range orders {
		d := o.snapshot()
		var rec *store.OrderRecord
		_ = st.View(func(tx *store.Tx) error {
			rec, _ = tx.Order(d.OrderID)
			return nil
		})
		switch {
		case rec == nil:
			oi.broke(d.OrderID + " missing at the agent")
		case rec.Order.Version != d.Version || rec.Order.Status != d.Status:
			oi.broke(fmt.Sprintf("%s: agent v%d %s, hub v%d %s", d.OrderID, rec.Order.Version, rec.Order.Status, d.Version, d.Status))
		}
	}
	add(oi)

	// Parcels: verified with the right items, nothing after an intercept or hold reached the agent.
	byOrder := map[string][]wire.Event{}
	reprints := map[string]int{}
	for _, e := range hubEvents {
		if e.Event.OrderID != "" {
			byOrder[e.Event.OrderID] = append(byOrder[e.Event.OrderID], e.Event)
		}
		if e.Event.Type == wire.EventWaybillReprinted {
			reprints[e.Event.WaybillNo]++
		}
	}
	holds := r.world.activeHolds()
	type window struct {
		sku, batch string
		from, to   time.Time
	}
	var hw []window
	for _, h := range holds {
		w := window{sku: h.hold.SKU, batch: h.hold.Batch, from: reachTime(res.Samples, h.setSeq)}
		if h.releaseSeq > 0 {
			w.to = h.releasedAt // the release was published: work after it is allowed
		}
		if !w.from.IsZero() {
			hw = append(hw, w)
		}
	}
	heldAt := func(d *wire.Order, t time.Time) bool {
		for _, w := range hw {
			if t.Before(w.from) || (!w.to.IsZero() && t.After(w.to)) {
				continue
			}
			for _, l := range d.Lines {
				if l.SKU == w.sku && (w.batch == "" || l.Batch == w.batch) {
					return true
				}
			}
		}
		return false
	}
	pi := Invariant{Name: "no parcel verified or handed over unverified, with a wrong or missing item, or after its intercept or hold reached the agent"}
	li := Invariant{Name: "no label printed for an order after its intercept or hold reached the agent"}
	inflight := Invariant{Name: "labels whose print job was queued before the intercept reached the agent but whose bytes arrived after (the print worker's last check raced the intercept; the waybill scan then refused the parcel)", Note: true}
	labelsByWB := map[string][]Label{}
	r.lmu.Lock()
	allLabels := append([]Label(nil), r.all...)
	r.lmu.Unlock()
	for _, l := range allLabels {
		labelsByWB[l.Waybill] = append(labelsByWB[l.Waybill], l)
	}
	res.Labels = len(allLabels)
	for _, o := range orders {
		d := o.snapshot()
		var interceptReached time.Time
		if d.Status == wire.StatusIntercepted {
			var rec *store.OrderRecord
			_ = st.View(func(tx *store.Tx) error { rec, _ = tx.Order(d.OrderID); return nil })
			if rec != nil && rec.Order.Status == wire.StatusIntercepted {
				interceptReached = rec.Updated
			}
			if t := reachTime(res.Samples, o.interceptSeq()); !t.IsZero() && (interceptReached.IsZero() || t.Before(interceptReached)) {
				interceptReached = t
			}
		}
		verified := false
		for _, e := range byOrder[d.OrderID] {
			at := e.At.Time
			switch e.Type {
			case wire.EventPackVerified:
				pi.Checked++
				verified = true
				var pd wire.PackVerifiedData
				_ = json.Unmarshal(e.Data, &pd)
				if why := itemsWrong(&d, pd.Scans); why != "" {
					pi.broke(d.OrderID + ": " + why)
				}
				if !interceptReached.IsZero() && at.After(interceptReached) {
					pi.broke(d.OrderID + ": verified after its intercept reached the agent")
				}
				if heldAt(&d, at) {
					pi.broke(d.OrderID + ": verified while a hold on its SKU was active at the agent")
				}
			case wire.EventParcelHandedOver:
				pi.Checked++
				if !verified {
					pi.broke(d.OrderID + ": handed over unverified")
				}
				if !interceptReached.IsZero() && at.After(interceptReached) {
					pi.broke(d.OrderID + ": handed over after its intercept reached the agent")
				}
				if heldAt(&d, at) {
					pi.broke(d.OrderID + ": handed over while on hold")
				}
			}
		}
		if d.Waybill != nil {
			for _, l := range labelsByWB[d.Waybill.No] {
				li.Checked++
				if !interceptReached.IsZero() && l.At.After(interceptReached) {
					queued := lastQueued(st, d.OrderID, l.At)
					gap := l.At.Sub(interceptReached).Round(time.Millisecond)
					if !queued.IsZero() && queued.Before(interceptReached) {
						inflight.Checked++
						inflight.broke(fmt.Sprintf("%s: job queued %s before the intercept reached the agent, first bytes at the printer %s after",
							d.OrderID, interceptReached.Sub(queued).Round(time.Millisecond), gap))
					} else {
						li.broke(fmt.Sprintf("%s: label's first bytes reached the printer %s after its intercept reached the agent", d.OrderID, gap))
					}
				}
				if heldAt(&d, l.At) {
					li.broke(d.OrderID + ": label came out while its SKU was on hold at the agent")
				}
			}
		}
	}
	add(pi)
	add(li)
	if inflight.Broken > 0 {
		add(inflight)
	}

	// No waybill printed twice without an authorised reprint.
	wi := Invariant{Name: "no waybill printed twice without an authorised reprint", Checked: len(labelsByWB)}
	for wb, ls := range labelsByWB {
		if wb == "" {
			continue
		}
		if len(ls) > 1+reprints[wb] {
			wi.broke(fmt.Sprintf("%s printed %d times with %d authorised reprints", wb, len(ls), reprints[wb]))
		}
	}
	add(wi)

	// Every mistake caught with the right reason.
	mi := Invariant{Name: "every mistake the simulated people made was caught with the right reason", Checked: len(mistakes)}
	for _, m := range mistakes {
		c := res.Mistakes[m.Kind]
		c[1]++
		if m.Caught {
			c[0]++
		} else {
			mi.broke(fmt.Sprintf("%s at %s (%s) on %s: want %s, got ok=%v reason %q", m.Kind, m.Station, m.Via, m.OrderID, m.Want, m.OK, m.Got))
		}
		res.Mistakes[m.Kind] = c
	}
	add(mi)

	// No receiver phone or address in the agent's log.
	pii := Invariant{Name: "no receiver phone number or address in the agent's log"}
	n, hits, err := scanLog(r.agent.LogFile, r.world.pii)
	if err != nil {
		pii.Broken, pii.Detail = 1, err.Error()
	} else {
		pii.Checked = n
		pii.Broken = len(hits)
		if len(hits) > 0 {
			pii.Detail = fmt.Sprintf("%d values found, e.g. %q", len(hits), hits[0])
		} else {
			pii.Detail = fmt.Sprintf("%d distinct phones and addresses searched in %d log lines", len(r.world.pii), n)
		}
	}
	add(pii)

	// Faults recovered.
	fi := Invariant{Name: "every injected fault recovered", Checked: len(res.Faults)}
	for _, f := range res.Faults {
		if !f.OK && !strings.HasPrefix(f.Detail, "skipped") {
			fi.broke(f.Name + ": " + f.Detail)
		}
	}
	add(fi)

	res.latency()
	r.targets(res)
	return res, nil
}

// itemsWrong compares a pack.verified's scans with the order's lines.
func itemsWrong(d *wire.Order, scans []wire.ScanRecord) string {
	got := map[string]int{}
	for _, s := range scans {
		got[s.LineID]++
	}
	for _, l := range d.Lines {
		if got[l.LineID] != l.Qty {
			return fmt.Sprintf("line %s (%s) verified with %d of %d", l.LineID, l.SKU, got[l.LineID], l.Qty)
		}
		delete(got, l.LineID)
	}
	for id := range got {
		return "a scan for line " + id + " the order does not have"
	}
	for _, s := range scans {
		for _, l := range d.Lines {
			if l.LineID == s.LineID && l.SKU != s.SKU {
				return fmt.Sprintf("line %s is %s, scanned %s", l.LineID, l.SKU, s.SKU)
			}
		}
	}
	return ""
}

// scanLog searches the log for every value; it returns the lines read and the
// values found.
func scanLog(path string, values map[string]bool) (int, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, fmt.Errorf("read the agent's log: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	// Index the values by their first bytes, then look at every position of a line.
	const k = 6
	index := map[string][]string{}
	for v := range values {
		if len(v) >= k {
			index[v[:k]] = append(index[v[:k]], v)
		}
	}
	found := map[string]bool{}
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		for i := 0; i+k <= len(line); i++ {
			for _, v := range index[line[i:i+k]] {
				if strings.HasPrefix(line[i:], v) {
					found[v] = true
				}
			}
		}
	}
	out := make([]string, 0, len(found))
	for v := range found {
		out = append(out, v)
	}
	sort.Strings(out)
	return n, out, sc.Err()
}

// lastQueued is when the agent last queued a print of the order before t
// (from its audit log), or zero.
func lastQueued(st *store.Store, orderID string, t time.Time) time.Time {
	as, err := st.Audit(store.AuditQuery{OrderID: orderID})
	if err != nil {
		return time.Time{}
	}
	var q time.Time
	for _, a := range as {
		if (a.Action == "print.queued" || a.Action == "reprint.queued") && a.At.Before(t) && a.At.After(q) {
			q = a.At
		}
	}
	return q
}
