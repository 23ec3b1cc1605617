package peakday

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/wire"
)

// order is what the simulated floor knows of one order: the hub's latest
// document and when the hub published each change.
type order struct {
	mu          sync.Mutex
	doc         wire.Order
	releaseSeq  uint64    // the seq that first released it
	interceptAt uint64    // the seq of its intercept, 0 if none
	intercepted time.Time // when the hub published the intercept
	packed      bool
}

func (o *order) snapshot() wire.Order {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.doc
}

// openCode is what a packer scans to open the order.
func openCode(d *wire.Order) string {
	if d.Waybill != nil {
		return d.Waybill.No
	}
	return d.OrderID
}

// world is the hub's side of the day, as the harness publishes it.
type world struct {
	hub *hubsim.Hub

	mu        sync.Mutex
	orders    map[string]*order
	byWaybill map[string]*order
	order     []*order // in release order
	holds     map[string]holdRec
	pii       map[string]bool // receiver phones and addresses to look for in logs
	published uint64
	notices   int
}

type holdRec struct {
	hold       wire.Hold
	setSeq     uint64
	releaseSeq uint64
	setAt      time.Time
	releasedAt time.Time
}

func newWorld(hub *hubsim.Hub) *world {
	return &world{hub: hub, orders: map[string]*order{}, byWaybill: map[string]*order{}, holds: map[string]holdRec{},
		pii: map[string]bool{}}
}

// publish sends one feed message through the hub and records it.
func (w *world) publish(m wire.FeedMessage) (uint64, error) {
	seq, err := w.hub.PublishMsg(m)
	if err != nil {
		return 0, fmt.Errorf("publish %s: %w", m.Kind, err)
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.published = seq
	switch m.Kind {
	case wire.KindOrderUpsert:
		d := *m.Order
		o := w.orders[d.OrderID]
		if o == nil {
			o = &order{doc: d, releaseSeq: seq}
			w.orders[d.OrderID] = o
			w.order = append(w.order, o)
			if d.Waybill != nil {
				w.byWaybill[d.Waybill.No] = o
			}
			if r := d.Receiver; r != nil {
				if len(r.Phone) >= 7 {
					w.pii[r.Phone] = true
				}
				if len([]rune(r.Address)) >= 6 {
					w.pii[r.Address] = true
				}
			}
			return seq, nil
		}
		o.mu.Lock()
		if d.Version > o.doc.Version {
			if d.Status == wire.StatusIntercepted && o.doc.Status != wire.StatusIntercepted {
				o.interceptAt, o.intercepted = seq, now
			}
			o.doc = d
		}
		o.mu.Unlock()
	case wire.KindHoldSet:
		w.holds[m.Hold.HoldID] = holdRec{hold: *m.Hold, setSeq: seq, setAt: now}
	case wire.KindHoldRelease:
		h := w.holds[m.Hold.HoldID]
		h.releaseSeq, h.releasedAt = seq, now
		w.holds[m.Hold.HoldID] = h
	case wire.KindNotice:
		w.notices++
	}
	return seq, nil
}

// intercept publishes a new version of o that intercepts it.
func (w *world) intercept(o *order, reason string) (uint64, error) {
	o.mu.Lock()
	d := o.doc
	o.mu.Unlock()
	if d.Status != wire.StatusReleased {
		return 0, nil
	}
	d.Version++
	d.Status = wire.StatusIntercepted
	d.Intercept = &wire.Intercept{Reason: reason, At: &wire.Time{Time: time.Now()}, Note: "peak-day test"}
	return w.publish(wire.FeedMessage{Kind: wire.KindOrderUpsert, Order: &d})
}

func (w *world) byID(id string) *order {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.orders[id]
}

func (w *world) all() []*order {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*order(nil), w.order...)
}

func (w *world) activeHolds() []holdRec {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []holdRec
	for _, h := range w.holds {
		out = append(out, h)
	}
	return out
}

// feedPlan is the generated promotion day and the live changes the hub makes
// while the floor works.
type feedPlan struct {
	opts     sample.Options
	duration time.Duration // over how long the orders arrive
}

// run publishes the generated feed at an even pace over the plan's duration,
// and mid-day a quality hold (released later) and notices. released is
// called for every published order.upsert.
func (p feedPlan) run(ctx context.Context, w *world, heldSKU string, released func(*order)) error {
	g := sample.New(p.opts)
	total := p.opts.Count
	interval := p.duration / time.Duration(max(total, 1))
	start := time.Now()
	n := 0
	holdAt, releaseAt := total*2/5, total*7/10
	noticeEvery := max(total/6, 1)
	for {
		m, ok := g.Next()
		if !ok {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := w.publish(m); err != nil {
			return err
		}
		if m.Kind == wire.KindOrderUpsert && m.Order.Version == 1 {
			n++
			if o := w.byID(m.Order.OrderID); o != nil {
				released(o)
			}
			switch {
			case n == holdAt && heldSKU != "":
				if _, err := w.publish(wire.FeedMessage{Kind: wire.KindHoldSet, Hold: &wire.Hold{HoldID: "H-PEAK-1",
					SKU: heldSKU, Reason: "peak day: complaints on this SKU"}}); err != nil {
					return err
				}
			case n == releaseAt && heldSKU != "":
				if _, err := w.publish(wire.FeedMessage{Kind: wire.KindHoldRelease, Hold: &wire.Hold{HoldID: "H-PEAK-1"}}); err != nil {
					return err
				}
			}
			if n%noticeEvery == 0 {
				if _, err := w.publish(wire.FeedMessage{Kind: wire.KindNotice, Notice: &wire.Notice{
					NoticeID: fmt.Sprintf("N-PEAK-%d", n/noticeEvery), Level: "urgent", Roles: []string{"manager", "packer"},
					Text: "18:00 前顺丰最后一班揽收,请优先处理顺丰单"}}); err != nil {
					return err
				}
			}
			// An even pace: the order n is due at start + n*interval.
			if d := time.Until(start.Add(time.Duration(n) * interval)); d > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(d):
				}
			}
		}
	}
}

func (o *order) interceptSeq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.interceptAt
}
