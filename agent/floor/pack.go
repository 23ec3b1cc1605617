package floor

import (
	"context"
	"fmt"

	"github.com/dockhand/dockhand/agent/codes"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// Scan handles one scanned code at a station, from a hardware scanner or a
// browser: it opens an order, counts an item, verifies the waybill label, or,
// at the dock, hands a parcel over, depending on the station's session.
// symbology is the AIM identifier the scanner reported, or "".
//
// The verdict is returned only after the session, the events and the audit
// line are durably stored. An error means nothing was recorded (the disk, the
// store); a refusal is a verdict with OK false, not an error.
func (e *Engine) Scan(ctx context.Context, station, operator, code, symbology string) (Verdict, error) {
	return e.ScanOnce(ctx, "", station, operator, code, symbology)
}

// ScanOnce is Scan named by the caller's id: the id is stored with the
// verdict in the scan's own transaction, and a scan whose id (for this
// operator) was seen before returns the stored verdict, marked Replayed,
// without doing anything. id "" is Scan. An id used before for another kind of
// step fails with ErrScanIDReused.
func (e *Engine) ScanOnce(ctx context.Context, id, station, operator, code, symbology string) (Verdict, error) {
	if station == "" {
		return Verdict{}, fmt.Errorf("scan: %w", ErrBadStation)
	}
	var v Verdict
	err := e.step(ctx, once{id: id, operator: operator, action: "scan"}, &v, func(tx *store.Tx) error {
		t := e.begin(tx, station, operator, &v)
		v.Code = code
		c, perr := codes.Parse(code, symbology)
		s, err := t.session()
		if err != nil {
			return err
		}
		switch {
		case s == nil:
			v.Mode = ModePack
			err = t.open(c, perr, ModePack, code)
		case s.Mode == ModeHandover:
			v.Mode = ModeHandover
			err = t.handover(s, c, code)
		default:
			v.Mode = s.Mode
			err = t.item(s, c, perr, code)
		}
		if err != nil {
			return err
		}
		return t.audit("scan", code)
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("scan %q at %s: %w", code, station, err)
	}
	if !v.OK && !v.Replayed {
		e.log.Debug("scan refused", "station", station, "operator", operator, "code", code,
			"reason", v.Reason, "order", v.OrderID)
	}
	return v, nil
}

// open starts a session on the order the code names.
func (t *txn) open(c codes.Code, perr error, mode, code string) error {
	v := t.v
	v.Next = StepOrder
	rec, err := t.findOrder(c)
	if err != nil {
		return err
	}
	if rec == nil {
		if hits := t.tx.LookupBarcode(c.Key()); len(hits) > 0 {
			return t.reject(nil, ReasonNoSession, "open", code, msgItemFirst(hits[0].Name))
		}
		return t.reject(nil, wire.ReasonUnknownCode, "open", code, msgUnknownOrder(c.Data, perr))
	}
	o := &rec.Order
	t.show(rec, nil)
	if ok, err := t.gate(rec, "open", code); !ok || err != nil {
		return err
	}
	st, err := t.state(o.OrderID)
	if err != nil {
		return err
	}
	switch {
	case st.HandedOver:
		return t.reject(o, ReasonHandedOver, "open", code, msgHandedOver(&st))
	case mode == ModePack && st.Verified:
		return t.reject(o, ReasonAlreadyVerified, "open", code, msgAlreadyVerified(&st))
	case mode == ModePick && (st.Picked || st.Verified):
		return t.reject(o, ReasonAlreadyPicked, "open", code, msgAlreadyPicked(&st))
	}
	if ok, err := t.claim(o.OrderID, mode); !ok || err != nil {
		return err
	}
	s := &Session{Station: t.station, Operator: t.operator, Mode: mode, OrderID: o.OrderID, Version: o.Version,
		Started: t.now, Counts: map[string]int{}}
	v.OK, v.Mode = true, mode
	if mode == ModePick {
		lines := make([]wire.PickLine, 0, len(o.Lines))
		for _, l := range o.Lines {
			lines = append(lines, wire.PickLine{LineID: l.LineID, Qty: l.Qty, Location: l.Location})
		}
		if _, err := t.event(wire.EventPickStarted, o, wire.PickData{Lines: lines}); err != nil {
			return err
		}
		v.Next = StepLocation
		v.Message = msgPickOpened(o, nextLocation(o, s))
	} else {
		v.Next = StepItems
		v.Message = msgOpened(o, v.Expected)
	}
	return t.saveSession(s)
}

// claim takes the order for this station unless another station has it.
func (t *txn) claim(orderID, mode string) (bool, error) {
	var c Claim
	ok, err := t.tx.Get(store.CollClaims, orderID, &c)
	if err != nil {
		return false, err
	}
	if ok && c.Station != t.station {
		// A claim counts only while its station's session still holds the order.
		var other Session
		has, err := t.tx.Get(store.CollSessions, c.Station, &other)
		if err != nil {
			return false, err
		}
		if has && other.OrderID == orderID {
			o := &wire.Order{OrderID: orderID}
			return false, t.reject(o, ReasonClaimed, "open", "", msgClaimed(&c))
		}
	}
	return true, t.tx.Put(store.CollClaims, orderID, Claim{Station: t.station, Operator: t.operator, Mode: mode, At: t.now})
}

// reload reads the session's order again and applies the hub's changes. It
// returns nil (with the verdict filled) when the session had to end.
func (t *txn) reload(s *Session, code string) (*store.OrderRecord, error) {
	v := t.v
	rec, err := t.order(s.OrderID)
	if err != nil {
		v.OrderID = s.OrderID
		v.Next = StepOrder
		if err := t.endSession(s); err != nil {
			return nil, err
		}
		return nil, t.reject(nil, ReasonNoSession, "item", code, msgOrderGone(s.OrderID))
	}
	o := &rec.Order
	if o.Version != s.Version {
		v.Changed = true
		reconcile(o, s)
	}
	t.show(rec, s)
	step := "item"
	if s.Mode == ModePick {
		step = "pick"
	}
	ok, err := t.gate(rec, step, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		v.Next = StepOrder
		return nil, t.endSession(s)
	}
	return rec, nil
}

// item handles a scan inside an open pack or pick session.
func (t *txn) item(s *Session, c codes.Code, perr error, code string) error {
	v := t.v
	rec, err := t.reload(s, code)
	if rec == nil || err != nil {
		return err
	}
	o := &rec.Order
	step := "item"
	v.Next = StepItems
	if s.Mode == ModePick {
		step = "pick"
		v.Next = StepLocation
		if l := locationLine(o, s, c.Data); l != nil || looksLikeLocation(c.Data) {
			return t.location(s, o, c.Data, l)
		}
	}
	done := complete(o, s)
	if s.Mode == ModePack && done {
		v.Next = StepWaybill
	}

	// The waybill label of this order.
	if o.Waybill != nil && c.Data == o.Waybill.No && s.Mode == ModePack {
		if !done {
			return t.reject(o, ReasonIncomplete, step, code, msgIncomplete(v.Expected))
		}
		return t.verify(s, rec)
	}

	i, full := match(o, c, s)
	switch {
	case i >= 0 && full:
		l := &o.Lines[i]
		lv := lineView(l, s)
		v.Line = &lv
		return t.reject(o, wire.ReasonOverQuantity, step, code, msgOverQuantity(l))
	case i >= 0:
		return t.accept(s, rec, i, c, code, step)
	}

	// Not an item of this order.
	if s.Mode == ModePack && done {
		if o.Waybill == nil {
			return t.reject(o, wire.ReasonNoWaybill, "waybill", code, msgNoWaybill(o))
		}
		v.Expected = o.Waybill.No
		return t.reject(o, wire.ReasonWaybillMismatch, "waybill", code, msgWaybillMismatch(c.Data, o.Waybill.No))
	}
	if other, err := t.findOrder(c); err != nil {
		return err
	} else if other != nil {
		if other.Order.OrderID == o.OrderID {
			return t.reject(o, ReasonIncomplete, step, code, msgIncomplete(v.Expected))
		}
		return t.reject(o, ReasonOrderOpen, step, code, msgOrderOpen(o, v.Expected))
	}
	if hits := t.tx.LookupBarcode(c.Key()); len(hits) > 0 {
		return t.reject(o, wire.ReasonWrongItem, step, code, msgWrongItem(hits[0].Name, v.Expected))
	}
	return t.reject(o, wire.ReasonUnknownCode, step, code, msgUnknownItem(c.Data, perr, v.Expected))
}

// accept counts one unit of line i, after the batch check.
func (t *txn) accept(s *Session, rec *store.OrderRecord, i int, c codes.Code, code, step string) error {
	v := t.v
	o := &rec.Order
	l := &o.Lines[i]
	batch := c.Batch()
	if batch != "" {
		h, err := t.tx.HoldFor(l.SKU, batch)
		if err != nil {
			return err
		}
		if h != nil {
			lv := lineView(l, s)
			v.Line = &lv
			return t.reject(o, wire.ReasonOnHold, step, code, msgBatchOnHold(l, batch, h))
		}
	} else {
		batch = l.Batch
	}
	if c.GS1 != nil && c.GS1.Expiry != nil {
		// Good through the whole expiry day, in the warehouse's time.
		if end := c.GS1.Expiry.Time(t.now.Location()).AddDate(0, 0, 1); !t.now.Before(end) {
			lv := lineView(l, s)
			v.Line = &lv
			return t.reject(o, ReasonExpired, step, code, msgExpired(l, c.GS1.Expiry.String()))
		}
	}
	if s.Mode == ModePick && l.Location != "" && s.Location != l.Location {
		lv := lineView(l, s)
		v.Line = &lv
		v.Expected = l.Location
		return t.reject(o, ReasonWrongLocation, step, code, msgScanLocation(l))
	}
	s.Counts[l.LineID]++
	s.Scans = append(s.Scans, wire.ScanRecord{Code: code, SKU: l.SKU, LineID: l.LineID, Batch: batch, At: wire.Time{Time: t.now}})
	return t.counted(s, rec, i)
}

// counted finishes a step that added to a line: progress, or the end of the
// items.
func (t *txn) counted(s *Session, rec *store.OrderRecord, i int) error {
	v := t.v
	o := &rec.Order
	l := &o.Lines[i]
	t.show(rec, s)
	lv := lineView(l, s)
	v.Line = &lv
	v.OK = true
	if !complete(o, s) {
		v.Message = msgCounted(l, s.Counts[l.LineID], v.Expected)
		if s.Mode == ModePick {
			v.Next = StepLocation
			if s.Location == l.Location && s.Counts[l.LineID] < l.Qty {
				v.Next = StepItems
			}
		} else {
			v.Next = StepItems
		}
		return t.saveSession(s)
	}
	if s.Mode == ModePick {
		return t.picked(s, rec)
	}
	v.Next = StepWaybill
	v.Print = o.Waybill != nil
	v.Message = msgItemsDone(o)
	return t.saveSession(s)
}

// verify passes the scan-twice check.
func (t *txn) verify(s *Session, rec *store.OrderRecord) error {
	v := t.v
	o := &rec.Order
	dur := t.now.Sub(s.Started).Milliseconds()
	if _, err := t.event(wire.EventPackVerified, o, wire.PackVerifiedData{Scans: s.Scans, DurationMS: dur}); err != nil {
		return err
	}
	st, err := t.state(o.OrderID)
	if err != nil {
		return err
	}
	st.Verified, st.VerifiedAt, st.VerifiedBy, st.Station = true, t.now, t.operator, t.station
	if err := t.saveState(o.OrderID, st); err != nil {
		return err
	}
	v.OK, v.Done, v.Next = true, true, StepOrder
	v.Message = msgVerified(o, dur)
	return t.endSession(s)
}

// Confirm counts an unlabelled line (one with no barcode) as complete after a
// person checked it by eye.
func (e *Engine) Confirm(ctx context.Context, station, operator, lineID string) (Verdict, error) {
	return e.ConfirmOnce(ctx, "", station, operator, lineID)
}

// ConfirmOnce is Confirm done at most once per id (see ScanOnce).
func (e *Engine) ConfirmOnce(ctx context.Context, id, station, operator, lineID string) (Verdict, error) {
	if station == "" {
		return Verdict{}, fmt.Errorf("confirm: %w", ErrBadStation)
	}
	var v Verdict
	err := e.step(ctx, once{id: id, operator: operator, action: "confirm"}, &v, func(tx *store.Tx) error {
		t := e.begin(tx, station, operator, &v)
		s, err := t.session()
		if err != nil {
			return err
		}
		if err := t.confirm(s, lineID); err != nil {
			return err
		}
		return t.audit("confirm", lineID)
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("confirm line %s at %s: %w", lineID, station, err)
	}
	return v, nil
}

func (t *txn) confirm(s *Session, lineID string) error {
	v := t.v
	v.Next = StepOrder
	if s == nil || s.OrderID == "" {
		return t.reject(nil, ReasonNoSession, "confirm", "", msgNoSession())
	}
	v.Mode = s.Mode
	rec, err := t.reload(s, "")
	if rec == nil || err != nil {
		return err
	}
	o := &rec.Order
	v.Next = StepItems
	for i := range o.Lines {
		l := &o.Lines[i]
		if l.LineID != lineID {
			continue
		}
		lv := lineView(l, s)
		v.Line = &lv
		switch {
		case len(l.Barcodes) > 0:
			return t.reject(o, ReasonHasBarcode, "confirm", "", msgHasBarcode(l))
		case s.Counts[l.LineID] >= l.Qty:
			return t.reject(o, wire.ReasonOverQuantity, "confirm", "", msgOverQuantity(l))
		}
		for s.Counts[l.LineID] < l.Qty {
			s.Counts[l.LineID]++
			s.Scans = append(s.Scans, wire.ScanRecord{Code: "manual:" + t.operator, SKU: l.SKU, LineID: l.LineID, Batch: l.Batch, At: wire.Time{Time: t.now}})
		}
		return t.counted(s, rec, i)
	}
	return t.reject(o, ReasonBadRequest, "confirm", "", msgNoSuchLine(lineID))
}

// Cancel ends a station's session: the order goes back (its claim is
// released), nothing is verified.
func (e *Engine) Cancel(ctx context.Context, station, operator, why string) (Verdict, error) {
	return e.CancelOnce(ctx, "", station, operator, why)
}

// CancelOnce is Cancel done at most once per id (see ScanOnce).
func (e *Engine) CancelOnce(ctx context.Context, id, station, operator, why string) (Verdict, error) {
	if station == "" {
		return Verdict{}, fmt.Errorf("cancel: %w", ErrBadStation)
	}
	var v Verdict
	err := e.step(ctx, once{id: id, operator: operator, action: "cancel"}, &v, func(tx *store.Tx) error {
		t := e.begin(tx, station, operator, &v)
		s, err := t.session()
		if err != nil {
			return err
		}
		v.Next = StepOrder
		if s == nil {
			v.OK, v.Message = true, msgNothingOpen()
			return t.audit("cancel", why)
		}
		v.Mode, v.OrderID = s.Mode, s.OrderID
		if s.Mode == ModeHandover {
			v.HandoverID, v.Handed = s.HandoverID, s.Handed
		}
		if err := t.endSession(s); err != nil {
			return err
		}
		v.OK, v.Message = true, msgCancelled(s)
		return t.audit("cancel", why)
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("cancel session at %s: %w", station, err)
	}
	return v, nil
}
