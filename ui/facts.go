package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockhand/dockhand/agent/floor"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// factIndex keeps what the manager's console needs of every open order — its
// status, urgency, zone, carrier, promised time and floor milestones — in a
// compact form in memory, refreshed from the store's change notices. The live
// counts, the SLA alarms and the urgent popups then cost a pass over this index
// instead of decoding every open order's document again: on a promotion day
// that decode took about 2 s of CPU every 10 s and held a long read
// transaction, and the scans at the benches paid for it in their latency.
//
// Only the orders a change notice names are read again, so a refresh costs in
// proportion to what happened since the last one.
type factIndex struct {
	s *store.Store

	mu    sync.Mutex // guards dirty and rebuild
	dirty map[string]struct{}
	// rebuild: nothing built yet, or the notices cannot be trusted to name
	// every change (never, today: kept for a listener added late).
	rebuild bool

	rmu   sync.Mutex // one refresh at a time; guards facts and strs
	facts map[string]factRec
	strs  map[string]string // interned statuses, zones and carriers
}

// factRec is one open order. Times are Unix nanoseconds, 0 for none.
type factRec struct {
	status, zone, carrier                             string
	urgent                                            bool
	firstSeen, paid, promised, picked, verified, hand int64
}

func newFactIndex(s *store.Store) *factIndex {
	x := &factIndex{s: s, dirty: make(map[string]struct{}), rebuild: true}
	s.OnChange(x.changed)
	return x
}

// changed is the store's listener: it only notes the ids (it runs on the
// committing goroutine).
func (x *factIndex) changed(ch store.Change) {
	if len(ch.Orders) == 0 && len(ch.Floor) == 0 {
		return
	}
	x.mu.Lock()
	for _, id := range ch.Orders {
		x.dirty[id] = struct{}{}
	}
	for _, id := range ch.Floor {
		x.dirty[id] = struct{}{}
	}
	x.mu.Unlock()
}

// refresh brings the index up to date and calls fn with it under the lock.
//
// The ids noted so far are taken before the read transaction begins: a change
// noted before that moment was committed before it (the store notifies after
// the commit), so the transaction sees it; a change noted after it stays noted
// for the next refresh.
func (x *factIndex) refresh(ctx context.Context, fn func(map[string]factRec)) error {
	x.rmu.Lock()
	defer x.rmu.Unlock()
	x.mu.Lock()
	ids, all := x.dirty, x.rebuild
	x.dirty, x.rebuild = make(map[string]struct{}), false
	x.mu.Unlock()
	err := x.s.View(func(tx *store.Tx) error {
		if all {
			x.facts = make(map[string]factRec)
			return tx.OpenOrders(func(r *store.OrderRecord) bool {
				x.facts[r.Order.OrderID] = x.record(tx, r)
				return ctx.Err() == nil
			})
		}
		for id := range ids {
			raw := tx.OrderRaw(id)
			if raw == nil {
				delete(x.facts, id)
				continue
			}
			r, err := store.DecodeOrder(raw)
			if err != nil {
				return err
			}
			if !r.Open() {
				delete(x.facts, id)
				continue
			}
			x.facts[id] = x.record(tx, r)
		}
		return ctx.Err()
	})
	if err != nil {
		// Read it all again next time rather than trust a half-done refresh.
		x.mu.Lock()
		x.rebuild = true
		x.mu.Unlock()
		return fmt.Errorf("refresh the order facts: %w", err)
	}
	fn(x.facts)
	return nil
}

func (x *factIndex) record(tx *store.Tx, r *store.OrderRecord) factRec {
	o := &r.Order
	var st floor.OrderState
	tx.Get(store.CollFloor, o.OrderID, &st)
	f := factRec{status: x.intern(o.Status), urgent: r.Urgent, firstSeen: nanos(r.FirstSeen),
		paid: nanos(o.PaidAt.Time), picked: nanos(st.PickedAt), verified: nanos(st.VerifiedAt), hand: nanos(st.HandedAt)}
	if len(o.Lines) > 0 {
		f.zone = x.intern(ZoneOf(o.Lines[0].Location))
	}
	if o.Carrier != nil {
		f.carrier = x.intern(o.Carrier.Code)
	}
	if o.PromisedShipBy != nil {
		f.promised = nanos(o.PromisedShipBy.Time)
	}
	return f
}

func (x *factIndex) intern(s string) string {
	if x.strs == nil {
		x.strs = make(map[string]string)
	}
	if v, ok := x.strs[s]; ok {
		return v
	}
	s = strings.Clone(s)
	x.strs[s] = s
	return s
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) *time.Time {
	if n == 0 {
		return nil
	}
	t := time.Unix(0, n)
	return &t
}

// orderFacts returns the open orders paid since from, by order id.
func (x *factIndex) orderFacts(ctx context.Context, from time.Time) ([]OrderFact, error) {
	var out []OrderFact
	err := x.refresh(ctx, func(m map[string]factRec) {
		out = make([]OrderFact, 0, len(m))
		since := from.UnixNano()
		for id, f := range m {
			if f.paid < since {
				continue
			}
			fct := OrderFact{OrderID: id, Status: f.status, Urgent: f.urgent, Zone: f.zone, Carrier: f.carrier,
				PaidAt: time.Unix(0, f.paid), PromisedShipBy: fromNanos(f.promised), PickedAt: fromNanos(f.picked),
				VerifiedAt: fromNanos(f.verified), HandedOverAt: fromNanos(f.hand)}
			if f.status == wire.StatusShipped || f.status == wire.StatusClosed {
				fct.CollectedAt = fct.HandedOverAt
			}
			out = append(out, fct)
		}
	})
	slices.SortFunc(out, func(a, b OrderFact) int { return strings.Compare(a.OrderID, b.OrderID) })
	return out, err
}

// urgentSince returns the ids of the urgent released orders the agent first saw
// after since, by order id.
func (x *factIndex) urgentSince(ctx context.Context, since time.Time) ([]string, error) {
	var out []string
	err := x.refresh(ctx, func(m map[string]factRec) {
		after := since.UnixNano()
		for id, f := range m {
			if f.urgent && f.status == wire.StatusReleased && f.firstSeen > after {
				out = append(out, id)
			}
		}
	})
	slices.Sort(out)
	return out, err
}
