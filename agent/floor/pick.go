package floor

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dockhand/dockhand/agent/codes"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// StartPick opens a pick session at a picker's station on an order, or, when
// orderID is "", on the first order of the pick list that no one else has.
func (e *Engine) StartPick(ctx context.Context, station, operator, orderID string) (Verdict, error) {
	return e.StartPickOnce(ctx, "", station, operator, orderID)
}

// StartPickOnce is StartPick done at most once per id (see ScanOnce). When it
// tries the pick list's orders in turn, only the answer is kept with the id.
func (e *Engine) StartPickOnce(ctx context.Context, id, station, operator, orderID string) (Verdict, error) {
	if station == "" {
		return Verdict{}, fmt.Errorf("start pick: %w", ErrBadStation)
	}
	if a, err := e.Applied(ctx, operator, id); err != nil || a != nil {
		if a == nil {
			return Verdict{}, fmt.Errorf("start pick at %s: %w", station, err)
		}
		if a.Action != "pick.start" {
			return Verdict{}, fmt.Errorf("start pick at %s: scan id %s (was %s): %w", station, id, a.Action, ErrScanIDReused)
		}
		return a.Verdict, nil
	}
	answer := func(v *Verdict) bool { return v.OK || orderID != "" || v.Reason == ReasonOrderOpen }
	var candidates []string
	if orderID != "" {
		candidates = []string{orderID}
	} else {
		list, err := e.PickList(ctx, 20)
		if err != nil {
			return Verdict{}, err
		}
		for _, p := range list {
			candidates = append(candidates, p.OrderID)
		}
	}
	var v Verdict
	o := once{id: id, operator: operator, action: "pick.start", final: answer}
	for _, cand := range candidates {
		err := e.step(ctx, o, &v, func(tx *store.Tx) error {
			t := e.begin(tx, station, operator, &v)
			v.Mode = ModePick
			s, err := t.session()
			if err != nil {
				return err
			}
			if s != nil && s.OrderID != "" {
				rec, err := t.tx.Order(s.OrderID)
				if err == nil {
					t.show(rec, s)
				}
				v.Next = StepItems
				if err := t.reject(nil, ReasonOrderOpen, "pick", cand, msgStationBusy(s)); err != nil {
					return err
				}
				return t.audit("pick.start", cand)
			}
			if err := t.open(codes.Code{Raw: cand, Data: cand}, nil, ModePick, cand); err != nil {
				return err
			}
			return t.audit("pick.start", cand)
		})
		if err != nil {
			return Verdict{}, fmt.Errorf("start pick of %s at %s: %w", cand, station, err)
		}
		if v.Replayed || answer(&v) {
			return v, nil
		}
	}
	if len(candidates) == 0 {
		v = Verdict{Station: station, Mode: ModePick, Next: StepOrder, Reason: ReasonNoSession, Message: msgNothingToPick()}
	}
	return v, nil
}

// location handles a bin scanned during a pick.
func (t *txn) location(s *Session, o *wire.Order, loc string, l *wire.Line) error {
	v := t.v
	if l == nil {
		v.Expected = nextLocation(o, s)
		return t.reject(o, ReasonWrongLocation, "pick", loc, msgNotHere(loc, v.Expected))
	}
	s.Location = loc
	lv := lineView(l, s)
	v.Line = &lv
	v.OK, v.Next = true, StepItems
	v.Message = msgAtLocation(loc, l, l.Qty-s.Counts[l.LineID])
	return t.saveSession(s)
}

// picked ends a pick session whose lines are all picked.
func (t *txn) picked(s *Session, rec *store.OrderRecord) error {
	v := t.v
	o := &rec.Order
	lines := make([]wire.PickLine, 0, len(o.Lines))
	for _, l := range o.Lines {
		lines = append(lines, wire.PickLine{LineID: l.LineID, Qty: s.Counts[l.LineID], Location: l.Location})
	}
	if _, err := t.event(wire.EventPickCompleted, o, wire.PickData{Lines: lines}); err != nil {
		return err
	}
	st, err := t.state(o.OrderID)
	if err != nil {
		return err
	}
	st.Picked, st.PickedAt = true, t.now
	if err := t.saveState(o.OrderID, st); err != nil {
		return err
	}
	v.OK, v.Done, v.Next = true, true, StepOrder
	v.Message = msgPicked(o)
	return t.endSession(s)
}

// locationLine returns the first unfinished line stored at loc.
func locationLine(o *wire.Order, s *Session, loc string) *wire.Line {
	for i := range o.Lines {
		l := &o.Lines[i]
		if l.Location != "" && l.Location == loc && s.Counts[l.LineID] < l.Qty {
			return l
		}
	}
	return nil
}

// nextLocation is the first bin of the walk that still has something to pick.
func nextLocation(o *wire.Order, s *Session) string {
	var best string
	for _, l := range o.Lines {
		if l.Location == "" || s.Counts[l.LineID] >= l.Qty {
			continue
		}
		if best == "" || compareLocation(l.Location, best) < 0 {
			best = l.Location
		}
	}
	return best
}

var locationPattern = regexp.MustCompile(`^([A-Za-z]+)-(\d{1,3})-(\d{1,3})-(\d{1,3})$`)

func looksLikeLocation(s string) bool { return locationPattern.MatchString(s) }

// Location is a bin in walk order: zone, aisle, level, bin.
type Location struct {
	Zone              string
	Aisle, Level, Bin int
	Valid             bool
}

// ParseLocation reads a bin label like A-03-2-07 (zone A, aisle 3, level 2,
// bin 7). Valid is false for any other form.
func ParseLocation(s string) Location {
	m := locationPattern.FindStringSubmatch(s)
	if m == nil {
		return Location{}
	}
	a, _ := strconv.Atoi(m[2])
	l, _ := strconv.Atoi(m[3])
	b, _ := strconv.Atoi(m[4])
	return Location{Zone: strings.ToUpper(m[1]), Aisle: a, Level: l, Bin: b, Valid: true}
}

// compareLocation orders bins by walk: zone, aisle, level, bin; labels of
// another form come after, in text order.
func compareLocation(a, b string) int {
	la, lb := ParseLocation(a), ParseLocation(b)
	switch {
	case la.Valid && lb.Valid:
		return cmp.Or(cmp.Compare(la.Zone, lb.Zone), cmp.Compare(la.Aisle, lb.Aisle),
			cmp.Compare(la.Level, lb.Level), cmp.Compare(la.Bin, lb.Bin), strings.Compare(a, b))
	case la.Valid:
		return -1
	case lb.Valid:
		return 1
	}
	return strings.Compare(a, b)
}

// PickItem is one order of the pick list.
type PickItem struct {
	OrderID        string     `json:"order_id"`
	Urgent         bool       `json:"urgent"`
	Reasons        []string   `json:"reasons,omitempty"`
	PromisedShipBy *time.Time `json:"promised_ship_by,omitempty"`
	Location       string     `json:"location"` // the first bin of the walk
	Lines          int        `json:"lines"`
	Units          int        `json:"units"`
	Carrier        string     `json:"carrier"`
	Tags           []string   `json:"tags,omitempty"`
}

// PickList returns up to limit orders to pick, in the order pickers should
// take them: urgent first (the hub's priority or the local rules), then the
// earliest promised ship-by time, then the walk order of the first bin. Orders
// intercepted, held, already picked or verified, or being worked on at a
// station are left out.
//
// The first call reads every open order; later calls re-read only the orders
// the store reported as changed since. The list is advice: StartPick checks the
// order again in its own transaction.
func (e *Engine) PickList(ctx context.Context, limit int) ([]PickItem, error) {
	var items []PickItem
	err := e.s.View(func(tx *store.Tx) error {
		if err := e.picks.refresh(ctx, tx); err != nil {
			return err
		}
		holds, err := tx.ActiveHolds()
		if err != nil {
			return err
		}
		now := tx.Now()
		if e.opts.Now != nil {
			now = e.opts.Now()
		}
		e.picks.mu.Lock()
		defer e.picks.mu.Unlock()
		for id, c := range e.picks.orders {
			if held(c.lines, holds) || tx.GetRaw(store.CollClaims, id) != nil {
				continue
			}
			if raw := tx.GetRaw(store.CollFloor, id); raw != nil {
				var st OrderState
				if jsonUnmarshal(raw, &st) == nil && (st.Picked || st.Verified || st.HandedOver) {
					continue
				}
			}
			it := c.item
			it.Reasons = slices.Clone(it.Reasons)
			if res := e.opts.Rules.Evaluate(c.order, now); res.Urgent {
				it.Urgent = true
				for _, r := range res.Reasons {
					if !contains(it.Reasons, r) {
						it.Reasons = append(it.Reasons, r)
					}
				}
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build pick list: %w", err)
	}
	slices.SortFunc(items, comparePick)
	if limit > 0 && len(items) > limit {
		items = items[:limit]
	}
	return items, nil
}

// pickCache holds the open, released orders as the pick list needs them,
// kept up to date from the store's change notices.
type pickCache struct {
	mu     sync.Mutex
	built  bool
	orders map[string]*pickEntry
	dirty  map[string]bool
}

type pickEntry struct {
	item  PickItem
	order *wire.Order // the fields the local urgent rules read (they depend on the time)
	lines []skuBatch
}

type skuBatch struct{ sku, batch string }

func held(lines []skuBatch, holds []wire.Hold) bool {
	for _, l := range lines {
		for i := range holds {
			if holds[i].Matches(l.sku, l.batch) {
				return true
			}
		}
	}
	return false
}

// changed is the store's change listener.
func (c *pickCache) changed(ch store.Change) {
	if len(ch.Orders) == 0 {
		return
	}
	c.mu.Lock()
	if c.built {
		for _, id := range ch.Orders {
			c.dirty[id] = true
		}
	}
	c.mu.Unlock()
}

func (c *pickCache) refresh(ctx context.Context, tx *store.Tx) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.built {
		c.orders, c.dirty = map[string]*pickEntry{}, map[string]bool{}
		err := tx.OpenOrders(func(r *store.OrderRecord) bool {
			c.put(r)
			return ctx.Err() == nil
		})
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return err
		}
		c.built = true
		return nil
	}
	for id := range c.dirty {
		delete(c.orders, id)
		if r, err := tx.Order(id); err == nil {
			c.put(r)
		}
		delete(c.dirty, id)
	}
	return nil
}

func (c *pickCache) put(r *store.OrderRecord) {
	o := &r.Order
	if o.Status != wire.StatusReleased {
		return
	}
	// Keep only what the local urgent rules read, not the whole document
	// (receiver, lines, waybill): on a peak day tens of thousands of orders
	// are open at once.
	rules := &wire.Order{OrderID: o.OrderID, Status: o.Status, Priority: o.Priority, PriorityReasons: o.PriorityReasons,
		Tags: o.Tags, Customer: o.Customer, Carrier: o.Carrier, Remark: o.Remark, SellerNote: o.SellerNote,
		PromisedShipBy: o.PromisedShipBy}
	e := &pickEntry{order: rules, item: PickItem{OrderID: o.OrderID, Urgent: r.Urgent, Reasons: r.Reasons,
		Lines: len(o.Lines), Tags: o.Tags}}
	if o.PromisedShipBy != nil && !o.PromisedShipBy.IsZero() {
		t := o.PromisedShipBy.Time
		e.item.PromisedShipBy = &t
	}
	if o.Carrier != nil {
		e.item.Carrier = o.Carrier.Code
	}
	for _, l := range o.Lines {
		e.item.Units += l.Qty
		e.lines = append(e.lines, skuBatch{l.SKU, l.Batch})
		if l.Location != "" && (e.item.Location == "" || compareLocation(l.Location, e.item.Location) < 0) {
			e.item.Location = l.Location
		}
	}
	c.orders[o.OrderID] = e
}

func comparePick(a, b PickItem) int {
	if a.Urgent != b.Urgent {
		if a.Urgent {
			return -1
		}
		return 1
	}
	switch {
	case a.PromisedShipBy != nil && b.PromisedShipBy != nil:
		if c := a.PromisedShipBy.Compare(*b.PromisedShipBy); c != 0 {
			return c
		}
	case a.PromisedShipBy != nil:
		return -1
	case b.PromisedShipBy != nil:
		return 1
	}
	return cmp.Or(compareLocation(a.Location, b.Location), strings.Compare(a.OrderID, b.OrderID))
}
