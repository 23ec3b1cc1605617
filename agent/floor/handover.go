package floor

import (
	"context"
	"fmt"
	"strings"

	"github.com/dockhand/dockhand/agent/codes"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// StartHandover puts a dock station in handover mode: the parcels it scans go
// into the cage or manifest handoverID, until Cancel.
func (e *Engine) StartHandover(ctx context.Context, station, operator, handoverID string) (Verdict, error) {
	return e.StartHandoverOnce(ctx, "", station, operator, handoverID)
}

// StartHandoverOnce is StartHandover done at most once per id (see ScanOnce).
func (e *Engine) StartHandoverOnce(ctx context.Context, id, station, operator, handoverID string) (Verdict, error) {
	if station == "" {
		return Verdict{}, fmt.Errorf("start handover: %w", ErrBadStation)
	}
	handoverID = strings.TrimSpace(handoverID)
	var v Verdict
	err := e.step(ctx, once{id: id, operator: operator, action: "handover.start"}, &v, func(tx *store.Tx) error {
		t := e.begin(tx, station, operator, &v)
		v.Mode = ModeHandover
		s, err := t.session()
		if err != nil {
			return err
		}
		switch {
		case handoverID == "":
			v.Next = StepOrder
			if err := t.reject(nil, ReasonBadRequest, "handover", "", msgNoHandoverID()); err != nil {
				return err
			}
		case s != nil && s.OrderID != "":
			v.Next, v.OrderID = StepItems, s.OrderID
			if err := t.reject(nil, ReasonOrderOpen, "handover", handoverID, msgStationBusy(s)); err != nil {
				return err
			}
		default:
			ns := &Session{Station: station, Operator: operator, Mode: ModeHandover, HandoverID: handoverID, Started: t.now}
			if s != nil && s.Mode == ModeHandover && s.HandoverID == handoverID {
				ns = s
			}
			if err := t.saveSession(ns); err != nil {
				return err
			}
			v.HandoverID, v.Handed = ns.HandoverID, ns.Handed
			v.OK, v.Next, v.Message = true, StepParcel, msgHandoverStarted(handoverID)
		}
		return t.audit("handover.start", handoverID)
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("start handover %s at %s: %w", handoverID, station, err)
	}
	return v, nil
}

// handover scans one parcel out to the carrier.
func (t *txn) handover(s *Session, c codes.Code, code string) error {
	v := t.v
	v.Next = StepParcel
	v.HandoverID, v.Handed = s.HandoverID, s.Handed
	rec, err := t.findOrder(c)
	if err != nil {
		return err
	}
	if rec == nil {
		return t.reject(nil, wire.ReasonUnknownCode, "handover", code, msgUnknownParcel(c.Data))
	}
	o := &rec.Order
	t.show(rec, nil)
	st, err := t.state(o.OrderID)
	if err != nil {
		return err
	}
	ok, err := t.gate(rec, "handover", code)
	if err != nil {
		return err
	}
	if !ok {
		if v.Reason == wire.ReasonIntercepted || v.Reason == wire.ReasonOnHold {
			// It must not leave: flag it for pulling.
			v.Pull = true
			v.Message = msgPull(o, v.Message)
			st.PullFlagged = true
			return t.saveState(o.OrderID, st)
		}
		return nil
	}
	switch {
	case st.HandedOver:
		return t.reject(o, ReasonHandedOver, "handover", code, msgHandedOver(&st))
	case o.Waybill == nil:
		return t.reject(o, wire.ReasonNoWaybill, "handover", code, msgNoWaybill(o))
	case !st.Verified:
		return t.reject(o, ReasonNotVerified, "handover", code, msgNotVerified(o))
	}
	carrier := ""
	if o.Carrier != nil {
		carrier = o.Carrier.Code
	}
	if _, err := t.event(wire.EventParcelHandedOver, o, wire.HandedOverData{Carrier: carrier, HandoverID: s.HandoverID}); err != nil {
		return err
	}
	st.HandedOver, st.HandoverID, st.HandedAt = true, s.HandoverID, t.now
	if err := t.saveState(o.OrderID, st); err != nil {
		return err
	}
	s.Handed++
	v.Handed = s.Handed
	v.OK, v.Done = true, true
	v.Message = msgHandedOverOK(o, s.HandoverID, s.Handed)
	return t.saveSession(s)
}

// Pulled records that a person took an intercepted (or held) parcel out of the
// flow and put it at location.
func (e *Engine) Pulled(ctx context.Context, station, operator, code, location string) (Verdict, error) {
	return e.PulledOnce(ctx, "", station, operator, code, location)
}

// PulledOnce is Pulled done at most once per id (see ScanOnce).
func (e *Engine) PulledOnce(ctx context.Context, id, station, operator, code, location string) (Verdict, error) {
	if station == "" {
		return Verdict{}, fmt.Errorf("record pulled parcel: %w", ErrBadStation)
	}
	location = strings.TrimSpace(location)
	var v Verdict
	err := e.step(ctx, once{id: id, operator: operator, action: "pulled"}, &v, func(tx *store.Tx) error {
		t := e.begin(tx, station, operator, &v)
		c, _ := codes.Parse(code, "")
		rec, err := t.findOrder(c)
		if err != nil {
			return err
		}
		switch {
		case rec == nil:
			err = t.reject(nil, wire.ReasonUnknownCode, "pull", code, msgUnknownParcel(c.Data))
		case location == "":
			t.show(rec, nil)
			err = t.reject(nil, ReasonBadRequest, "pull", code, msgNoPullLocation())
		default:
			err = t.pulled(rec, location)
		}
		if err != nil {
			return err
		}
		return t.audit("pulled", code)
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("record pulled parcel %s at %s: %w", code, station, err)
	}
	return v, nil
}

func (t *txn) pulled(rec *store.OrderRecord, location string) error {
	v := t.v
	o := &rec.Order
	t.show(rec, nil)
	st, err := t.state(o.OrderID)
	if err != nil {
		return err
	}
	reason, _, err := t.blocker(rec)
	if err != nil {
		return err
	}
	if reason == "" && !st.PullFlagged {
		return t.reject(nil, ReasonBadRequest, "pull", "", msgNotToPull(o))
	}
	if _, err := t.event(wire.EventParcelPulled, o, wire.PulledData{Location: location}); err != nil {
		return err
	}
	st.Pulled, st.PulledAt, st.PullFlagged = true, t.now, false
	if err := t.saveState(o.OrderID, st); err != nil {
		return err
	}
	v.OK, v.Done = true, true
	v.Message = msgPulled(o, location)
	return nil
}
