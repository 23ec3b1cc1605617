package floor

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dockhand/dockhand/agent/codes"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// findOrder resolves a scanned code to an order (waybill, order id, channel
// order number); nil when none.
func (t *txn) findOrder(c codes.Code) (*store.OrderRecord, error) {
	for _, k := range []string{c.Data, strings.TrimSpace(c.Raw)} {
		if k == "" {
			continue
		}
		r, err := t.tx.FindOrder(k)
		if err == nil {
			t.e.orders.put(r, t.tx.OrderRaw(r.Order.OrderID))
			return r, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return nil, nil
}

// blocker says why an order must not be worked on (intercepted, not
// released, a line under a quality hold), or "" when it may.
func (t *txn) blocker(rec *store.OrderRecord) (string, Message, error) {
	o := &rec.Order
	switch o.Status {
	case wire.StatusReleased:
	case wire.StatusIntercepted:
		return wire.ReasonIntercepted, msgIntercepted(o), nil
	default:
		return wire.ReasonNotReleased, msgNotReleased(o), nil
	}
	holds, err := t.tx.ActiveHolds()
	if err != nil {
		return "", Message{}, err
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		for j := range holds {
			if holds[j].Matches(l.SKU, l.Batch) {
				return wire.ReasonOnHold, msgOnHold(l, &holds[j]), nil
			}
		}
	}
	return "", Message{}, nil
}

// gate refuses an order that must not be worked on. It fills the verdict,
// records the refusal and returns false when it refuses.
func (t *txn) gate(rec *store.OrderRecord, step, code string) (bool, error) {
	reason, m, err := t.blocker(rec)
	if err != nil || reason == "" {
		return err == nil, err
	}
	return false, t.reject(&rec.Order, reason, step, code, m)
}

// show fills the verdict's view of an order and the session's progress.
func (t *txn) show(rec *store.OrderRecord, s *Session) {
	o := &rec.Order
	v := t.v
	v.OrderID = o.OrderID
	if o.Waybill != nil {
		v.WaybillNo = o.Waybill.No
	}
	v.Tags = append([]string(nil), o.Tags...)
	v.Lines = v.Lines[:0]
	for _, l := range o.Lines {
		lv := lineView(&l, s)
		v.Lines = append(v.Lines, lv)
		if l.Gift {
			v.Gifts = append(v.Gifts, wire.GiftText(l))
		}
	}
	v.Urgent, v.UrgentReasons = rec.Urgent, append([]string(nil), rec.Reasons...)
	if len(t.e.opts.Rules.Keywords)+len(t.e.opts.Rules.Tiers)+len(t.e.opts.Rules.Tags)+len(t.e.opts.Rules.Carriers) > 0 || t.e.opts.Rules.DueWithin > 0 {
		res := t.e.opts.Rules.Evaluate(o, t.now)
		if res.Urgent {
			v.Urgent = true
			for _, r := range res.Reasons {
				if !contains(v.UrgentReasons, r) {
					v.UrgentReasons = append(v.UrgentReasons, r)
				}
			}
		}
	}
	v.Expected = remaining(o, s)
}

func lineView(l *wire.Line, s *Session) LineView {
	lv := LineView{LineID: l.LineID, SKU: l.SKU, Name: l.Name, Spec: l.Spec, Qty: l.Qty, Gift: l.Gift,
		NoBarcode: len(l.Barcodes) == 0, Location: l.Location, Batch: l.Batch}
	if s != nil {
		lv.Scanned = s.Counts[l.LineID]
	}
	lv.Done = lv.Scanned >= lv.Qty
	return lv
}

// remaining says in words what is still to scan: "有机米糊礼盒 ×3, 围兜(赠品) ×1".
func remaining(o *wire.Order, s *Session) string {
	var parts []string
	for _, l := range o.Lines {
		left := l.Qty
		if s != nil {
			left -= s.Counts[l.LineID]
		}
		if left <= 0 {
			continue
		}
		name := l.Name
		if l.Gift {
			name += "(赠品)"
		}
		parts = append(parts, name+" ×"+strconv.Itoa(left))
	}
	return strings.Join(parts, ", ")
}

func complete(o *wire.Order, s *Session) bool {
	for _, l := range o.Lines {
		if s.Counts[l.LineID] < l.Qty {
			return false
		}
	}
	return true
}

// reconcile carries a session's counts over to a new version of its order:
// lines that vanished or changed SKU lose their scans, counts above a lowered
// quantity are cut.
func reconcile(o *wire.Order, s *Session) {
	bySKU := make(map[string]string, len(o.Lines))
	qty := make(map[string]int, len(o.Lines))
	for _, l := range o.Lines {
		bySKU[l.LineID], qty[l.LineID] = l.SKU, l.Qty
	}
	kept := s.Scans[:0]
	perLine := map[string]int{}
	for _, sc := range s.Scans {
		if bySKU[sc.LineID] == sc.SKU && perLine[sc.LineID] < qty[sc.LineID] {
			perLine[sc.LineID]++
			kept = append(kept, sc)
		}
	}
	s.Scans = kept
	s.Counts = perLine
	s.Version = o.Version
}

// match finds the line a code stands for. It returns the index of the first
// line not yet complete that lists the code, or of a complete one (full=true)
// when every line listing it is done; -1 when no line lists it.
func match(o *wire.Order, c codes.Code, s *Session) (idx int, full bool) {
	key := c.Key()
	data := c.Data
	idx = -1
	for i := range o.Lines {
		l := &o.Lines[i]
		for _, bc := range l.Barcodes {
			k, err := codes.Normalize(bc)
			if err != nil {
				k = strings.TrimSpace(bc)
			}
			if k == key || bc == data {
				if s.Counts[l.LineID] < l.Qty {
					return i, false
				}
				if idx < 0 {
					idx = i
				}
				break
			}
		}
	}
	return idx, idx >= 0
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func orderLabel(o *wire.Order) string {
	if o.Waybill != nil {
		return fmt.Sprintf("%s (%s)", o.OrderID, o.Waybill.No)
	}
	return o.OrderID
}
