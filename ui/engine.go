package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockhand/dockhand/agent/floor"
	"github.com/dockhand/dockhand/agent/store"
)

// EngineFloor adapts agent/floor's engine to Floor and Facts; the composition
// root passes it as Options.Floor and Options.Facts. It keeps the start of timed
// steps in its own collection (the engine records a step once it has ended).
//
// The page's scan id goes to the engine with every step it applies, so the
// engine keeps the id in the step's own transaction: a retry whose answer was
// lost (even across a restart of the agent) gets the stored verdict, marked
// Replayed, and is not applied again.
type EngineFloor struct {
	E *floor.Engine
	S *store.Store

	once  sync.Once
	facts *factIndex // built on first use
}

var (
	_ Floor = (*EngineFloor)(nil)
	_ Facts = (*EngineFloor)(nil)
)

const collSteps = store.CollUISteps

var nextNames = map[string]string{
	floor.StepOrder: "order", floor.StepItems: "item", floor.StepWaybill: "waybill",
	floor.StepLocation: "location", floor.StepParcel: "parcel",
}

// FromEngineVerdict turns an engine verdict into what the pages show (used for
// hardware scanner verdicts passed to PublishVerdict too).
func FromEngineVerdict(v floor.Verdict) Verdict {
	out := Verdict{OK: v.OK, Reason: v.Reason, MsgZH: v.Message.ZH, MsgEN: v.Message.EN, Station: v.Station,
		Mode: v.Mode, Code: v.Code, OrderID: v.OrderID, WaybillNo: v.WaybillNo, Next: nextNames[v.Next],
		Tags: v.Tags, Urgent: v.Urgent, Done: v.Done, Print: v.Print, Pull: v.Pull, At: v.At,
		HandoverID: v.HandoverID, Count: v.Handed, Replayed: v.Replayed}
	if out.Next == "" {
		out.Next = "order"
	}
	if v.Expected != "" && !v.OK && !strings.Contains(out.MsgZH, v.Expected) {
		out.MsgZH += " — 应扫: " + v.Expected
		out.MsgEN += " — expected: " + v.Expected
	}
	for _, l := range v.Lines {
		out.Lines = append(out.Lines, LineView{LineID: l.LineID, SKU: l.SKU, Name: l.Name, Spec: l.Spec, Qty: l.Qty,
			Scanned: l.Scanned, Gift: l.Gift, Location: l.Location, NoBarcode: l.NoBarcode})
		if out.Location == "" && out.Next == "location" && !l.Done {
			out.Location = l.Location
		}
	}
	return out
}

// withSession adds what the session knows (cage, count) to a verdict.
func (f *EngineFloor) withSession(ctx context.Context, station string, v Verdict) (Verdict, error) {
	s, err := f.E.Session(ctx, station)
	if err != nil {
		return v, err
	}
	if s != nil && s.Mode == floor.ModeHandover {
		v.HandoverID, v.Count = s.HandoverID, s.Handed
		if v.Next == "order" {
			v.Next = "parcel"
		}
	}
	return v, nil
}

func busy(mode string) Verdict {
	return Verdict{OK: false, Reason: "station_busy", Next: "order",
		MsgZH: "本工位还有未完成的" + map[string]string{floor.ModePick: "拣货", floor.ModePack: "复核"}[mode] + ",请先完成或取消",
		MsgEN: "this station has an unfinished " + mode + " session; finish or cancel it first"}
}

var errScanIDReused = &FloorError{Status: http.StatusConflict, Code: "scan_id_reused",
	ZH: "扫描编号重复,请刷新页面", EN: "scan id already used for something else; reload the page"}

// engineErr words the engine's refusal of a reused scan id for the page.
func engineErr(err error) error {
	if errors.Is(err, floor.ErrScanIDReused) {
		return errScanIDReused
	}
	return err
}

// applied returns the engine's stored verdict of a page request whose id it
// has seen (a retry after the answer was lost), before any check here that the
// first request changed the ground for. actions are the engine steps the
// request may have been.
func (f *EngineFloor) applied(ctx context.Context, operator, id string, actions ...string) (*floor.Verdict, error) {
	a, err := f.E.Applied(ctx, operator, id)
	if err != nil || a == nil {
		return nil, err
	}
	if !slices.Contains(actions, a.Action) {
		return nil, errScanIDReused
	}
	return &a.Verdict, nil
}

// subID names a step that a page request makes before its own (opening the
// cage for a handover scan): applied once too, without taking the request's id.
func subID(id, part string) string {
	if id == "" {
		return ""
	}
	return id + "." + part
}

// Scan implements Floor. The page's mode picks the flow: a handover scan opens
// the cage first when none is open; a pack or pick scan on a station that is
// still handing over ends the handover.
func (f *EngineFloor) Scan(ctx context.Context, in ScanInput) (Verdict, error) {
	if v, err := f.applied(ctx, in.Operator, in.ScanID, "scan"); v != nil || err != nil {
		if err != nil {
			return Verdict{}, err
		}
		return FromEngineVerdict(*v), nil
	}
	s, err := f.E.Session(ctx, in.Station)
	if err != nil {
		return Verdict{}, err
	}
	switch {
	case in.Mode == ModeHandover && (s == nil || s.Mode != floor.ModeHandover):
		if s != nil {
			return busy(s.Mode), nil
		}
		id := in.HandoverID
		if id == "" {
			id = "CAGE-" + in.Station + "-" + time.Now().Format("0102")
		}
		v, err := f.E.StartHandoverOnce(ctx, subID(in.ScanID, "open"), in.Station, in.Operator, id)
		if err != nil || !v.OK {
			return FromEngineVerdict(v), engineErr(err)
		}
	case in.Mode != ModeHandover && s != nil && s.Mode == floor.ModeHandover:
		if _, err := f.E.CancelOnce(ctx, subID(in.ScanID, "leave"), in.Station, in.Operator, "left the handover for "+in.Mode); err != nil {
			return Verdict{}, engineErr(err)
		}
	case in.Mode == ModePick && (s == nil || s.Mode != floor.ModePick):
		if s != nil {
			return busy(s.Mode), nil
		}
		return Verdict{OK: false, Reason: floor.ReasonNoSession, Next: "order", Mode: ModePick,
			MsgZH: "请先在拣货单里选一单", MsgEN: "choose an order from the pick list first"}, nil
	case in.Mode == ModePack && s != nil && s.Mode == floor.ModePick:
		return busy(s.Mode), nil
	}
	v, err := f.E.ScanOnce(ctx, in.ScanID, in.Station, in.Operator, in.Code, "")
	if err != nil {
		return Verdict{}, engineErr(err)
	}
	if v.Replayed {
		return FromEngineVerdict(v), nil
	}
	return f.withSession(ctx, in.Station, FromEngineVerdict(v))
}

// actionSteps are the engine steps each action kind makes under the page's id.
var actionSteps = map[string]string{
	ActionPickStart: "pick.start", ActionConfirmLine: "confirm", ActionCancel: "cancel",
	ActionHandoverOpen: "handover.start", ActionHandoverClose: "cancel", ActionPulled: "pulled",
}

// handoverClosed is the answer to closing a cage: the engine's cancel of the
// handover session says which cage and how many parcels.
func handoverClosed(v floor.Verdict) Verdict {
	return Verdict{OK: true, Mode: ModeHandover, Next: "parcel", Done: true, HandoverID: v.HandoverID, Count: v.Handed,
		MsgZH: fmt.Sprintf("交接 %s 已封笼,共 %d 件", v.HandoverID, v.Handed),
		MsgEN: fmt.Sprintf("handover %s closed: %d parcels", v.HandoverID, v.Handed), At: v.At, Replayed: v.Replayed}
}

// Action implements Floor.
func (f *EngineFloor) Action(ctx context.Context, in ActionInput) (Verdict, error) {
	if step, known := actionSteps[in.Kind]; known {
		if v, err := f.applied(ctx, in.Operator, in.ScanID, step); v != nil || err != nil {
			switch {
			case err != nil:
				return Verdict{}, err
			case in.Kind == ActionHandoverClose:
				return handoverClosed(*v), nil
			}
			return FromEngineVerdict(*v), nil
		}
	}
	var v floor.Verdict
	var err error
	switch in.Kind {
	case ActionPickStart:
		v, err = f.E.StartPickOnce(ctx, in.ScanID, in.Station, in.Operator, in.OrderID)
	case ActionConfirmLine:
		v, err = f.E.ConfirmOnce(ctx, in.ScanID, in.Station, in.Operator, in.LineID)
	case ActionCancel:
		v, err = f.E.CancelOnce(ctx, in.ScanID, in.Station, in.Operator, "cancelled on the page")
	case ActionHandoverOpen:
		if s, _ := f.E.Session(ctx, in.Station); s != nil && s.Mode != floor.ModeHandover {
			return busy(s.Mode), nil
		}
		v, err = f.E.StartHandoverOnce(ctx, in.ScanID, in.Station, in.Operator, in.HandoverID)
	case ActionHandoverClose:
		s, serr := f.E.Session(ctx, in.Station)
		if serr != nil {
			return Verdict{}, serr
		}
		if s == nil || s.Mode != floor.ModeHandover {
			return Verdict{}, &FloorError{Status: http.StatusConflict, Code: "no_session", ZH: "没有进行中的交接", EN: "no open handover"}
		}
		if v, err = f.E.CancelOnce(ctx, in.ScanID, in.Station, in.Operator, "handover closed"); err != nil {
			return Verdict{}, engineErr(err)
		}
		return handoverClosed(v), nil
	case ActionPulled:
		v, err = f.E.PulledOnce(ctx, in.ScanID, in.Station, in.Operator, in.OrderID, in.Location)
	default:
		return Verdict{}, &FloorError{Status: http.StatusBadRequest, Code: "bad_kind", ZH: "未知操作", EN: "unknown action"}
	}
	if err != nil {
		return Verdict{}, engineErr(err)
	}
	if v.Replayed {
		return FromEngineVerdict(v), nil
	}
	return f.withSession(ctx, in.Station, FromEngineVerdict(v))
}

// Current implements Floor from the station's stored session.
func (f *EngineFloor) Current(ctx context.Context, station string) (Verdict, error) {
	s, err := f.E.Session(ctx, station)
	if err != nil || s == nil {
		return Verdict{OK: true, Station: station, Next: "order"}, err
	}
	v := Verdict{OK: true, Station: station, Mode: s.Mode, OrderID: s.OrderID, Next: "item"}
	if s.Mode == floor.ModeHandover {
		v.Next, v.HandoverID, v.Count = "parcel", s.HandoverID, s.Handed
		return v, nil
	}
	err = f.S.View(func(tx *store.Tx) error {
		r, err := tx.Order(s.OrderID)
		if err != nil {
			return err
		}
		o := &r.Order
		v.Tags, v.Urgent, v.Remark = o.Tags, r.Urgent, o.Remark
		if o.Waybill != nil {
			v.WaybillNo = o.Waybill.No
		}
		done := true
		for _, l := range o.Lines {
			n := s.Counts[l.LineID]
			done = done && n >= l.Qty
			v.Lines = append(v.Lines, LineView{LineID: l.LineID, SKU: l.SKU, Name: l.Name, Spec: l.Spec, Qty: l.Qty, Scanned: n,
				Gift: l.Gift, Location: l.Location, NoBarcode: len(l.Barcodes) == 0})
			if s.Mode == floor.ModePick && n < l.Qty && v.Location == "" {
				v.Location = l.Location
			}
		}
		switch {
		case done && s.Mode == floor.ModePack:
			v.Next = "waybill"
		case s.Mode == floor.ModePick && s.Location != v.Location:
			v.Next = "location"
		}
		return nil
	})
	return v, err
}

// PickList implements Floor.
func (f *EngineFloor) PickList(ctx context.Context, operator string, limit int) ([]PickTask, error) {
	items, err := f.E.PickList(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]PickTask, 0, len(items))
	for _, it := range items {
		out = append(out, PickTask{OrderID: it.OrderID, Urgent: it.Urgent, Reasons: it.Reasons, PromisedShipBy: it.PromisedShipBy,
			FirstLocation: it.Location, Tags: it.Tags, Carrier: it.Carrier})
	}
	return out, nil
}

func refusal(v floor.Verdict) error {
	return &FloorError{Status: http.StatusUnprocessableEntity, Code: v.Reason, ZH: v.Message.ZH, EN: v.Message.EN}
}

// ReportException implements Floor.
func (f *EngineFloor) ReportException(ctx context.Context, in ExceptionInput) error {
	v, err := f.E.ReportExceptionOnce(ctx, in.ScanID, in.Station, in.Operator,
		floor.Exception{Code: in.OrderID, Category: in.Category, Text: in.Text})
	if err != nil {
		return engineErr(err)
	}
	if !v.OK {
		return refusal(v)
	}
	return nil
}

type stepStart struct {
	Code    string    `json:"code"`
	Started time.Time `json:"started"`
	StartID string    `json:"start_id,omitempty"` // the page's scan id of the start
	// Once the end is recorded: its scan id, time and order, so a retry of
	// that end gets the same answer (a new start replaces the record).
	EndID   string    `json:"end_id,omitempty"`
	Ended   time.Time `json:"ended,omitzero"`
	OrderID string    `json:"order_id,omitempty"`
}

func (st *stepStart) result(step string) StepResult {
	ended := st.Ended
	return StepResult{Step: step, OrderID: st.OrderID, StartedAt: st.Started, EndedAt: &ended,
		DurationMS: ended.Sub(st.Started).Milliseconds()}
}

// TimedStep implements Floor: the start is kept here; the end records the step
// through the engine, applied once per scan id (a retried start or end gets
// the first answer).
func (f *EngineFloor) TimedStep(ctx context.Context, in StepInput) (StepResult, error) {
	key := in.Station + "/" + in.Step
	if in.Phase == "start" {
		var res StepResult
		err := f.S.Update(func(tx *store.Tx) error {
			var was stepStart
			if ok, _ := tx.Get(collSteps, key, &was); ok && in.ScanID != "" && was.StartID == in.ScanID && was.EndID == "" {
				res = StepResult{Step: in.Step, OrderID: was.OrderID, StartedAt: was.Started}
				return nil
			}
			now := tx.Now()
			res = StepResult{Step: in.Step, StartedAt: now}
			if r, err := tx.FindOrder(in.Code); err == nil {
				res.OrderID = r.Order.OrderID
			}
			return tx.Put(collSteps, key, stepStart{Code: in.Code, Started: now, StartID: in.ScanID, OrderID: res.OrderID})
		})
		return res, err
	}
	var st stepStart
	var found bool
	var now time.Time
	err := f.S.View(func(tx *store.Tx) (err error) {
		now = tx.Now()
		found, err = tx.Get(collSteps, key, &st)
		return err
	})
	if err != nil {
		return StepResult{}, err
	}
	switch {
	case found && st.EndID != "" && st.EndID == in.ScanID:
		return st.result(in.Step), nil // a retry of the end that was recorded
	case !found || st.EndID != "":
		return StepResult{}, &FloorError{Status: http.StatusConflict, Code: "not_started", ZH: "这个计时还没开始,请先扫码开始", EN: "step not started; scan to start first"}
	}
	v, err := f.E.RecordStepOnce(ctx, in.ScanID, in.Station, in.Operator, floor.TimedStep{Code: st.Code, Step: in.Step, Started: st.Started, Ended: now})
	if err != nil {
		return StepResult{}, engineErr(err)
	}
	if !v.OK {
		return StepResult{}, refusal(v)
	}
	if v.Replayed {
		// Recorded before the agent stopped, not yet marked here: the
		// engine's time of that step is within moments of the end it recorded.
		now = v.At
	}
	started := st.Started
	st.EndID, st.Ended, st.OrderID = in.ScanID, now, v.OrderID
	err = f.S.Update(func(tx *store.Tx) error {
		var cur stepStart
		if ok, err := tx.Get(collSteps, key, &cur); err != nil || !ok || !cur.Started.Equal(started) {
			return err // a new start came meanwhile: keep it
		}
		if in.ScanID == "" {
			return tx.Delete(collSteps, key)
		}
		return tx.Put(collSteps, key, &st)
	})
	if err != nil {
		return StepResult{}, err
	}
	return st.result(in.Step), nil
}

// OrderFacts implements Facts over the open orders and the engine's floor state,
// from an index kept up to date by the store's change notices.
func (f *EngineFloor) OrderFacts(ctx context.Context, from time.Time) ([]OrderFact, error) {
	return f.index().orderFacts(ctx, from)
}

// UrgentOrders implements urgentLister: the urgent released orders first seen
// after since.
func (f *EngineFloor) UrgentOrders(ctx context.Context, since time.Time) ([]string, error) {
	return f.index().urgentSince(ctx, since)
}

func (f *EngineFloor) index() *factIndex {
	f.once.Do(func() { f.facts = newFactIndex(f.S) })
	return f.facts
}

// Benches implements Benches from the engine's open sessions.
func (f *EngineFloor) Benches(ctx context.Context) ([]Bench, error) {
	ss, err := f.E.Sessions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Bench, 0, len(ss))
	for _, s := range ss {
		b := Bench{Station: s.Station, Operator: s.Operator, Mode: s.Mode, OrderID: s.OrderID, HandoverID: s.HandoverID,
			Started: s.Started, Updated: s.Updated}
		for _, n := range s.Counts {
			b.Scanned += n
		}
		out = append(out, b)
	}
	return out, nil
}
