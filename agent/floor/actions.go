package floor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dockhand/dockhand/agent/codes"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// Exception is a problem a person reports (异常上报).
type Exception struct {
	// Code names the order: a waybill, order id or channel order number; ""
	// for a problem with no order (a broken scanner, a wet pallet).
	Code string
	// Category is one of wire.ExceptionCategories.
	Category string
	Text     string
}

// ReportException records an exception.reported event.
func (e *Engine) ReportException(ctx context.Context, station, operator string, x Exception) (Verdict, error) {
	return e.ReportExceptionOnce(ctx, "", station, operator, x)
}

// ReportExceptionOnce is ReportException done at most once per id (see ScanOnce).
func (e *Engine) ReportExceptionOnce(ctx context.Context, id, station, operator string, x Exception) (Verdict, error) {
	var v Verdict
	err := e.step(ctx, once{id: id, operator: operator, action: "exception"}, &v, func(tx *store.Tx) error {
		t := e.begin(tx, station, operator, &v)
		o, ok, err := t.optionalOrder(x.Code, "exception")
		if err != nil || !ok {
			return err
		}
		switch {
		case !slices.Contains(wire.ExceptionCategories, x.Category):
			err = t.reject(nil, ReasonBadRequest, "exception", x.Code, msgBadCategory(x.Category))
		default:
			if _, err = t.event(wire.EventExceptionReported, o, wire.ExceptionData{Category: x.Category, Text: x.Text}); err == nil {
				v.OK, v.Message = true, msgExceptionRecorded()
			}
		}
		if err != nil {
			return err
		}
		return t.audit("exception", x.Category+": "+x.Text)
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("report exception at %s: %w", station, err)
	}
	return v, nil
}

// optionalOrder resolves code to an order when code is not empty. It returns
// ok=false (with the refusal recorded) when code names no order.
func (t *txn) optionalOrder(code, action string) (*wire.Order, bool, error) {
	if strings.TrimSpace(code) == "" {
		return nil, true, nil
	}
	c, _ := codes.Parse(code, "")
	rec, err := t.findOrder(c)
	if err != nil {
		return nil, false, err
	}
	if rec == nil {
		if err := t.reject(nil, wire.ReasonUnknownCode, action, code, msgUnknownOrder(c.Data, nil)); err != nil {
			return nil, false, err
		}
		return nil, false, t.audit(action, code)
	}
	t.show(rec, nil)
	return &rec.Order, true, nil
}

// TimedStep is a manual step that was timed, e.g. a gift eligibility check.
type TimedStep struct {
	Code    string // the order, or ""
	Step    string
	Started time.Time
	Ended   time.Time
}

// RecordStep records a step.timed event.
func (e *Engine) RecordStep(ctx context.Context, station, operator string, s TimedStep) (Verdict, error) {
	return e.RecordStepOnce(ctx, "", station, operator, s)
}

// RecordStepOnce is RecordStep done at most once per id (see ScanOnce).
func (e *Engine) RecordStepOnce(ctx context.Context, id, station, operator string, s TimedStep) (Verdict, error) {
	var v Verdict
	err := e.step(ctx, once{id: id, operator: operator, action: "step"}, &v, func(tx *store.Tx) error {
		t := e.begin(tx, station, operator, &v)
		o, ok, err := t.optionalOrder(s.Code, "step")
		if err != nil || !ok {
			return err
		}
		switch {
		case strings.TrimSpace(s.Step) == "" || s.Started.IsZero() || s.Ended.Before(s.Started):
			err = t.reject(nil, ReasonBadRequest, "step", s.Code, msgBadStep())
		default:
			_, err = t.event(wire.EventStepTimed, o, wire.StepTimedData{Step: s.Step,
				StartedAt: wire.Time{Time: s.Started}, EndedAt: wire.Time{Time: s.Ended}})
			v.OK, v.Message = true, msgStepRecorded(s.Step, s.Ended.Sub(s.Started))
		}
		if err != nil {
			return err
		}
		return t.audit("step", s.Step)
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("record step %s at %s: %w", s.Step, station, err)
	}
	return v, nil
}

// UrgentAck is someone acknowledging an urgent popup.
type UrgentAck struct {
	// Subject is the order (waybill, order id…) or the notice id the popup
	// was about.
	Subject string
	// Notice says Subject is a notice id.
	Notice bool
	Role   string
	// Shown is when the popup appeared; the latency is counted from it.
	Shown time.Time
}

// AckUrgent records an urgent.acknowledged event. The first acknowledgement of
// a subject is kept in the store; later ones are recorded as events too.
func (e *Engine) AckUrgent(ctx context.Context, station, operator string, a UrgentAck) (Verdict, error) {
	return e.AckUrgentOnce(ctx, "", station, operator, a)
}

// AckUrgentOnce is AckUrgent done at most once per id (see ScanOnce).
func (e *Engine) AckUrgentOnce(ctx context.Context, id, station, operator string, a UrgentAck) (Verdict, error) {
	var v Verdict
	err := e.step(ctx, once{id: id, operator: operator, action: "urgent.ack"}, &v, func(tx *store.Tx) error {
		t := e.begin(tx, station, operator, &v)
		var o *wire.Order
		data := wire.UrgentAckData{Role: a.Role}
		if a.Notice {
			data.NoticeID = a.Subject
		} else {
			var ok bool
			var err error
			if o, ok, err = t.optionalOrder(a.Subject, "urgent.ack"); err != nil || !ok {
				return err
			}
		}
		if a.Role == "" || a.Shown.IsZero() || a.Subject == "" {
			if err := t.reject(nil, ReasonBadRequest, "urgent.ack", a.Subject, msgBadAck()); err != nil {
				return err
			}
			return t.audit("urgent.ack", a.Subject)
		}
		data.LatencyMS = max(0, t.now.Sub(a.Shown).Milliseconds())
		if _, err := t.event(wire.EventUrgentAcknowledged, o, data); err != nil {
			return err
		}
		key := a.Subject
		if o != nil {
			key = o.OrderID
		}
		if tx.GetRaw(store.CollUrgentAck, key) == nil {
			if err := tx.Put(store.CollUrgentAck, key, map[string]any{"station": station, "operator": operator,
				"role": a.Role, "at": t.now, "latency_ms": data.LatencyMS}); err != nil {
				return err
			}
		}
		v.OK, v.Message = true, msgAcked()
		return t.audit("urgent.ack", a.Subject)
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("acknowledge urgent %s at %s: %w", a.Subject, station, err)
	}
	return v, nil
}
