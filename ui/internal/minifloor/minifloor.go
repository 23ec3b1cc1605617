// Package minifloor is a small but real scan-twice engine over the agent's store,
// used by the UI's tests (API and browser) until agent/floor is wired in by the
// composition root. It is never used in production.
//
// It keeps its own collections (sessions per station, floor progress per order),
// re-reads the order on every scan (an intercept or hold takes effect at once),
// and writes each step's events and audit line in the same transaction as the
// session state.
package minifloor

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
	"github.com/dockhand/dockhand/ui"
)

const (
	collSessions = "minifloor_sessions"
	collProgress = "minifloor_progress"
	collSteps    = "minifloor_steps"
)

// Engine implements ui.Floor and ui.Facts.
type Engine struct{ S *store.Store }

type session struct {
	Mode       string            `json:"mode"`
	OrderID    string            `json:"order_id,omitempty"`
	Scanned    map[string]int    `json:"scanned,omitempty"`
	Scans      []wire.ScanRecord `json:"scans,omitempty"`
	Started    time.Time         `json:"started"`
	AtLocation string            `json:"at_location,omitempty"`
	HandoverID string            `json:"handover_id,omitempty"`
	Count      int               `json:"count,omitempty"`
}

// Progress is what happened to an order on the floor.
type Progress struct {
	PickedAt     *time.Time `json:"picked_at,omitempty"`
	VerifiedAt   *time.Time `json:"verified_at,omitempty"`
	HandedOverAt *time.Time `json:"handed_over_at,omitempty"`
	CollectedAt  *time.Time `json:"collected_at,omitempty"`
}

type step struct {
	tx  *store.Tx
	in  ui.ScanInput
	ss  *session
	now time.Time
	v   ui.Verdict
}

func (e *Engine) loadSession(tx *store.Tx, station string) (*session, error) {
	var ss session
	found, err := tx.Get(collSessions, station, &ss)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, nil
	}
	if ss.Scanned == nil {
		ss.Scanned = map[string]int{}
	}
	return &ss, nil
}

func progress(tx *store.Tx, id string) Progress {
	var p Progress
	tx.Get(collProgress, id, &p)
	return p
}

func lineViews(o *wire.Order, scanned map[string]int, tx *store.Tx) []ui.LineView {
	var out []ui.LineView
	for _, l := range o.Lines {
		h, _ := tx.HoldFor(l.SKU, l.Batch)
		out = append(out, ui.LineView{LineID: l.LineID, SKU: l.SKU, Name: l.Name, Spec: l.Spec, Qty: l.Qty,
			Scanned: scanned[l.LineID], Gift: l.Gift, Location: l.Location, NoBarcode: len(l.Barcodes) == 0, OnHold: h != nil})
	}
	return out
}

func (st *step) fill(rec *store.OrderRecord) {
	o := &rec.Order
	st.v.OrderID, st.v.Tags, st.v.Urgent, st.v.Remark = o.OrderID, o.Tags, rec.Urgent, o.Remark
	if o.Waybill != nil {
		st.v.WaybillNo = o.Waybill.No
	}
	if o.Carrier != nil {
		st.v.Carrier = o.Carrier.Name
	}
	var scanned map[string]int
	if st.ss != nil {
		scanned = st.ss.Scanned
	}
	st.v.Lines = lineViews(o, scanned, st.tx)
}

func (st *step) event(typ, orderID, waybill string, data any) error {
	ev := wire.Event{Type: typ, OrderID: orderID, WaybillNo: waybill, Station: wire.OptString(st.in.Station), Operator: wire.OptString(st.in.Operator)}
	if err := ev.SetData(data); err != nil {
		return err
	}
	if _, err := st.tx.AppendEvent(&ev); err != nil {
		return err
	}
	_, err := st.tx.AppendAudit(store.AuditRecord{At: st.now, Station: st.in.Station, Operator: st.in.Operator, Action: typ,
		Code: st.in.Code, OrderID: orderID, OK: typ != wire.EventPackRejected, Reason: st.v.Reason, EventSeq: ev.Seq})
	return err
}

func (st *step) reject(reason, zh, en string) error {
	st.v.OK, st.v.Reason, st.v.MsgZH, st.v.MsgEN = false, reason, zh, en
	// The contract ties pack.rejected to an order and to its own reasons; the rest
	// goes to the audit log only.
	if st.in.Mode == ui.ModePack && st.v.OrderID != "" && slices.Contains(wire.RejectReasons, reason) {
		return st.event(wire.EventPackRejected, st.v.OrderID, "", wire.PackRejectedData{Reason: reason, Code: st.in.Code})
	}
	_, err := st.tx.AppendAudit(store.AuditRecord{At: st.now, Station: st.in.Station, Operator: st.in.Operator, Action: st.in.Mode + ".reject",
		Code: st.in.Code, OrderID: st.v.OrderID, Reason: reason})
	return err
}

func (st *step) accept(zh, en string) {
	st.v.OK, st.v.MsgZH, st.v.MsgEN = true, zh, en
}

// orderGate refuses an order that must not be worked on.
func (st *step) orderGate(rec *store.OrderRecord) (bool, error) {
	o := &rec.Order
	switch o.Status {
	case wire.StatusIntercepted:
		st.v.Pull = true
		reason := ""
		if o.Intercept != nil {
			reason = o.Intercept.Reason
		}
		return false, st.reject(wire.ReasonIntercepted, "已拦截,不能发货,请拿出放到拦截区 ("+reason+")", "intercepted: do not ship, take it out ("+reason+")")
	case wire.StatusReleased:
	default:
		return false, st.reject(wire.ReasonNotReleased, "订单不在可发货状态 ("+o.Status+")", "order is not released ("+o.Status+")")
	}
	for _, l := range o.Lines {
		if h, _ := st.tx.HoldFor(l.SKU, l.Batch); h != nil {
			return false, st.reject(wire.ReasonOnHold, "质检拦截:"+l.Name+" 暂停出库", "quality hold on "+l.SKU+": do not ship")
		}
	}
	return true, nil
}

func matchLine(o *wire.Order, code string) (int, bool) {
	key := store.BarcodeKey(code)
	for i, l := range o.Lines {
		for _, b := range l.Barcodes {
			if store.BarcodeKey(b) == key {
				return i, true
			}
		}
	}
	return 0, false
}

func allDone(o *wire.Order, scanned map[string]int) bool {
	for _, l := range o.Lines {
		if scanned[l.LineID] < l.Qty {
			return false
		}
	}
	return true
}

func missingText(o *wire.Order, scanned map[string]int) string {
	var parts []string
	for _, l := range o.Lines {
		if n := l.Qty - scanned[l.LineID]; n > 0 {
			s := fmt.Sprintf("%s ×%d", l.Name, n)
			if l.Gift {
				s = "赠品 " + s
			}
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "、")
}

// itemScan handles an item code inside an open order (pack or pick).
func (st *step) itemScan(rec *store.OrderRecord, onlyLocation string) error {
	o := &rec.Order
	i, ok := matchLine(o, st.in.Code)
	if !ok {
		if hits := st.tx.LookupBarcode(st.in.Code); len(hits) > 0 {
			return st.reject(wire.ReasonWrongItem, "这不是本单的商品("+hits[0].Name+")— 应扫: "+missingText(o, st.ss.Scanned),
				"not in this order ("+hits[0].Name+"); expected: "+missingText(o, st.ss.Scanned))
		}
		return st.reject(wire.ReasonUnknownCode, "不认识这个条码 "+st.in.Code+",请重扫或找主管", "unknown code "+st.in.Code)
	}
	l := o.Lines[i]
	if onlyLocation != "" && l.Location != onlyLocation {
		return st.reject("wrong_location", "这个商品不在当前库位 "+onlyLocation, "this item is not at "+onlyLocation)
	}
	if st.ss.Scanned[l.LineID] >= l.Qty {
		return st.reject(wire.ReasonOverQuantity, fmt.Sprintf("%s 已够 %d 件,多了一件,请拿出", l.Name, l.Qty),
			fmt.Sprintf("%s: already %d, one too many — take it out", l.Name, l.Qty))
	}
	if h, _ := st.tx.HoldFor(l.SKU, l.Batch); h != nil {
		return st.reject(wire.ReasonOnHold, "质检拦截:"+l.Name+" 暂停出库", "quality hold on "+l.SKU)
	}
	st.ss.Scanned[l.LineID]++
	st.ss.Scans = append(st.ss.Scans, wire.ScanRecord{Code: st.in.Code, SKU: l.SKU, LineID: l.LineID, Batch: l.Batch, At: wire.Time{Time: st.now}})
	name := l.Name
	if l.Gift {
		name = "赠品 " + name
	}
	st.accept(fmt.Sprintf("%s %d/%d", name, st.ss.Scanned[l.LineID], l.Qty), fmt.Sprintf("%s %d/%d", name, st.ss.Scanned[l.LineID], l.Qty))
	return nil
}

// Scan implements ui.Floor.
func (e *Engine) Scan(ctx context.Context, in ui.ScanInput) (ui.Verdict, error) {
	var out ui.Verdict
	err := e.S.Update(func(tx *store.Tx) error {
		ss, err := e.loadSession(tx, in.Station)
		if err != nil {
			return err
		}
		st := &step{tx: tx, in: in, ss: ss, now: tx.Now(), v: ui.Verdict{Mode: in.Mode, Code: in.Code, Station: in.Station}}
		if ss != nil && ss.Mode != in.Mode && ss.Mode != "" {
			// A new flow on this station drops the old one.
			ss = nil
			st.ss = nil
		}
		switch in.Mode {
		case ui.ModePack:
			err = e.pack(st)
		case ui.ModePick:
			err = e.pick(st)
		case ui.ModeHandover:
			err = e.handover(st)
		default:
			return fmt.Errorf("scan: unknown mode %q", in.Mode)
		}
		if err != nil {
			return err
		}
		if st.ss == nil {
			err = tx.Delete(collSessions, in.Station)
		} else {
			err = tx.Put(collSessions, in.Station, st.ss)
		}
		out = st.v
		return err
	})
	return out, err
}

func (e *Engine) pack(st *step) error {
	tx := st.tx
	if st.ss == nil || st.ss.OrderID == "" {
		rec, err := tx.FindOrder(st.in.Code)
		if err != nil {
			st.v.Next = "order"
			return st.reject(wire.ReasonUnknownCode, "找不到这张面单/订单 "+st.in.Code, "no order or waybill "+st.in.Code)
		}
		st.v.OrderID = rec.Order.OrderID
		if ok, err := st.orderGate(rec); !ok || err != nil {
			st.fill(rec)
			st.v.Next = "order"
			return err
		}
		st.ss = &session{Mode: ui.ModePack, OrderID: rec.Order.OrderID, Scanned: map[string]int{}, Started: st.now}
		st.fill(rec)
		st.v.Next = "item"
		st.accept("订单已打开,请扫商品", "order opened; scan the items")
		return nil
	}
	rec, err := tx.Order(st.ss.OrderID)
	if err != nil {
		return err
	}
	st.v.OrderID = rec.Order.OrderID
	if ok, err := st.orderGate(rec); !ok || err != nil {
		st.ss = nil
		st.fill(rec)
		st.v.Next = "order"
		return err
	}
	o := &rec.Order
	if !allDone(o, st.ss.Scanned) {
		if o.Waybill != nil && st.in.Code == o.Waybill.No {
			err = st.reject("items_missing", "商品还没扫完 — 还差: "+missingText(o, st.ss.Scanned), "items still missing: "+missingText(o, st.ss.Scanned))
		} else {
			err = st.itemScan(rec, "")
		}
		st.fill(rec)
		st.v.Next = "item"
		if allDone(o, st.ss.Scanned) {
			st.v.Next = "waybill"
			if st.v.OK {
				st.v.MsgZH += " — 商品齐了,请扫面单"
				st.v.MsgEN += " — all items in; scan the waybill label"
			}
		}
		return err
	}
	st.fill(rec)
	st.v.Next = "waybill"
	if o.Waybill == nil {
		return st.reject(wire.ReasonNoWaybill, "这单还没有电子面单,放待打单区", "no waybill assigned yet")
	}
	if st.in.Code != o.Waybill.No {
		return st.reject(wire.ReasonWaybillMismatch, "面单不是这一单的 — 应为 "+o.Waybill.No, "wrong waybill label; expected "+o.Waybill.No)
	}
	data := wire.PackVerifiedData{Scans: st.ss.Scans, DurationMS: st.now.Sub(st.ss.Started).Milliseconds()}
	if err := st.event(wire.EventPackVerified, o.OrderID, o.Waybill.No, data); err != nil {
		return err
	}
	p := progress(tx, o.OrderID)
	now := st.now
	p.VerifiedAt = &now
	if err := tx.Put(collProgress, o.OrderID, &p); err != nil {
		return err
	}
	st.ss = nil
	st.v.Done, st.v.Print, st.v.Next = true, true, "order"
	st.accept("复核通过,正在打印面单", "verified; printing the waybill")
	return nil
}

func nextPickLine(o *wire.Order, scanned map[string]int) (wire.Line, bool) {
	lines := slices.Clone(o.Lines)
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Location < lines[j].Location })
	for _, l := range lines {
		if scanned[l.LineID] < l.Qty {
			return l, true
		}
	}
	return wire.Line{}, false
}

func (e *Engine) pick(st *step) error {
	tx := st.tx
	if st.ss == nil || st.ss.OrderID == "" {
		st.v.Next = "order"
		return st.reject("no_pick", "请先在拣货单里选一单", "choose an order from the pick list first")
	}
	rec, err := tx.Order(st.ss.OrderID)
	if err != nil {
		return err
	}
	st.v.OrderID = rec.Order.OrderID
	if ok, err := st.orderGate(rec); !ok || err != nil {
		st.ss = nil
		st.fill(rec)
		return err
	}
	o := &rec.Order
	l, _ := nextPickLine(o, st.ss.Scanned)
	if st.ss.AtLocation != l.Location {
		st.fill(rec)
		st.v.Location, st.v.Next = l.Location, "location"
		if st.in.Code != l.Location {
			return st.reject("wrong_location", "库位不对,请到 "+l.Location, "wrong location; go to "+l.Location)
		}
		st.ss.AtLocation = l.Location
		st.v.Next = "item"
		st.accept("库位 "+l.Location+",请拣 "+l.Name+fmt.Sprintf(" ×%d", l.Qty-st.ss.Scanned[l.LineID]),
			"at "+l.Location+"; pick "+l.Name)
		return nil
	}
	err = st.itemScan(rec, l.Location)
	st.fill(rec)
	if err != nil {
		return err
	}
	next, more := nextPickLine(o, st.ss.Scanned)
	if more {
		st.v.Next, st.v.Location = "item", next.Location
		if next.Location != st.ss.AtLocation {
			st.v.Next = "location"
			st.v.MsgZH += " — 下一个库位 " + next.Location
			st.v.MsgEN += " — next location " + next.Location
		}
		return nil
	}
	var lines []wire.PickLine
	for _, l := range o.Lines {
		lines = append(lines, wire.PickLine{LineID: l.LineID, Qty: l.Qty, Location: l.Location})
	}
	if err := st.event(wire.EventPickCompleted, o.OrderID, "", wire.PickData{Lines: lines}); err != nil {
		return err
	}
	p := progress(tx, o.OrderID)
	now := st.now
	p.PickedAt = &now
	if err := tx.Put(collProgress, o.OrderID, &p); err != nil {
		return err
	}
	st.ss = nil
	st.v.Done, st.v.Next = true, "order"
	st.accept("本单拣完,送到复核台", "picked; take it to the packing bench")
	return nil
}

func (e *Engine) handover(st *step) error {
	tx := st.tx
	if st.ss == nil {
		id := st.in.HandoverID
		if id == "" {
			id = "CAGE-" + st.in.Station + "-" + st.now.Format("0102")
		}
		st.ss = &session{Mode: ui.ModeHandover, HandoverID: id, Started: st.now}
	}
	st.v.HandoverID, st.v.Count, st.v.Next = st.ss.HandoverID, st.ss.Count, "parcel"
	rec, err := tx.FindOrder(st.in.Code)
	if err != nil {
		return st.reject(wire.ReasonUnknownCode, "找不到这个包裹 "+st.in.Code, "no parcel "+st.in.Code)
	}
	st.v.OrderID = rec.Order.OrderID
	st.fill(rec)
	if ok, err := st.orderGate(rec); !ok || err != nil {
		return err
	}
	p := progress(tx, rec.Order.OrderID)
	if p.HandedOverAt != nil {
		return st.reject("already_handed_over", "这个包裹已经交接过了", "this parcel was already handed over")
	}
	if p.VerifiedAt == nil {
		return st.reject("not_verified", "这个包裹还没复核,不能出库", "not verified yet: cannot leave")
	}
	carrier := ""
	if rec.Order.Carrier != nil {
		carrier = rec.Order.Carrier.Code
	}
	wb := ""
	if rec.Order.Waybill != nil {
		wb = rec.Order.Waybill.No
	}
	if err := st.event(wire.EventParcelHandedOver, rec.Order.OrderID, wb, wire.HandedOverData{Carrier: carrier, HandoverID: st.ss.HandoverID}); err != nil {
		return err
	}
	now := st.now
	p.HandedOverAt = &now
	if err := tx.Put(collProgress, rec.Order.OrderID, &p); err != nil {
		return err
	}
	st.ss.Count++
	st.v.Count, st.v.Done = st.ss.Count, true
	st.accept(fmt.Sprintf("已出库,第 %d 件", st.ss.Count), fmt.Sprintf("scanned out, parcel %d", st.ss.Count))
	return nil
}

// Action implements ui.Floor.
func (e *Engine) Action(ctx context.Context, in ui.ActionInput) (ui.Verdict, error) {
	var out ui.Verdict
	err := e.S.Update(func(tx *store.Tx) error {
		ss, err := e.loadSession(tx, in.Station)
		if err != nil {
			return err
		}
		st := &step{tx: tx, in: ui.ScanInput{Station: in.Station, Operator: in.Operator, Mode: ""}, ss: ss, now: tx.Now(),
			v: ui.Verdict{Station: in.Station}}
		if ss != nil {
			st.in.Mode, st.v.Mode = ss.Mode, ss.Mode
		}
		switch in.Kind {
		case ui.ActionPickStart:
			rec, err := tx.Order(in.OrderID)
			if err != nil {
				return &ui.FloorError{Status: 404, Code: "not_found", ZH: "没有这一单", EN: "no such order"}
			}
			st.in.Mode, st.v.Mode = ui.ModePick, ui.ModePick
			st.v.OrderID = rec.Order.OrderID
			if ok, err := st.orderGate(rec); !ok || err != nil {
				st.fill(rec)
				out = st.v
				return err
			}
			st.ss = &session{Mode: ui.ModePick, OrderID: rec.Order.OrderID, Scanned: map[string]int{}, Started: st.now}
			var lines []wire.PickLine
			for _, l := range rec.Order.Lines {
				lines = append(lines, wire.PickLine{LineID: l.LineID, Qty: l.Qty, Location: l.Location})
			}
			if err := st.event(wire.EventPickStarted, rec.Order.OrderID, "", wire.PickData{Lines: lines}); err != nil {
				return err
			}
			st.fill(rec)
			l, _ := nextPickLine(&rec.Order, nil)
			st.v.Next, st.v.Location = "location", l.Location
			st.accept("开始拣货,请到 "+l.Location, "picking started; go to "+l.Location)
		case ui.ActionConfirmLine:
			if ss == nil || ss.OrderID == "" {
				return &ui.FloorError{Status: 409, Code: "no_session", ZH: "没有进行中的订单", EN: "no open order at this station"}
			}
			rec, err := tx.Order(ss.OrderID)
			if err != nil {
				return err
			}
			found := false
			for _, l := range rec.Order.Lines {
				if l.LineID == in.LineID && len(l.Barcodes) == 0 {
					found = true
					ss.Scanned[l.LineID] = l.Qty
				}
			}
			if !found {
				return &ui.FloorError{Status: 400, Code: "has_barcode", ZH: "这一行有条码,请扫码", EN: "this line has a barcode: scan it"}
			}
			st.fill(rec)
			st.v.OrderID, st.v.Next = rec.Order.OrderID, "item"
			if allDone(&rec.Order, ss.Scanned) {
				st.v.Next = "waybill"
			}
			st.accept("已人工确认无码商品", "unlabelled item confirmed by hand")
		case ui.ActionCancel:
			st.ss = nil
			st.v.Next = "order"
			st.accept("已取消,当前单放回", "cancelled; put the order back")
		case ui.ActionHandoverOpen:
			id := strings.TrimSpace(in.HandoverID)
			if !wire.ValidID(id) {
				return &ui.FloorError{Status: 400, Code: "invalid", ZH: "笼车/交接单号无效", EN: "invalid cage or manifest id"}
			}
			st.ss = &session{Mode: ui.ModeHandover, HandoverID: id, Started: st.now}
			st.v.Mode, st.v.HandoverID, st.v.Next = ui.ModeHandover, id, "parcel"
			st.accept("交接 "+id+" 已开始,请扫包裹", "handover "+id+" open; scan parcels")
		case ui.ActionHandoverClose:
			if ss == nil || ss.Mode != ui.ModeHandover {
				return &ui.FloorError{Status: 409, Code: "no_session", ZH: "没有进行中的交接", EN: "no open handover"}
			}
			st.v.Mode, st.v.HandoverID, st.v.Count, st.v.Done, st.v.Next = ui.ModeHandover, ss.HandoverID, ss.Count, true, "parcel"
			if _, err := tx.AppendAudit(store.AuditRecord{At: st.now, Station: in.Station, Operator: in.Operator, Action: "handover.close", OK: true,
				Detail: fmt.Sprintf("%s %d parcels", ss.HandoverID, ss.Count)}); err != nil {
				return err
			}
			st.ss = nil
			st.accept(fmt.Sprintf("交接 %s 已封笼,共 %d 件", ss.HandoverID, ss.Count), fmt.Sprintf("handover %s closed: %d parcels", ss.HandoverID, ss.Count))
		case ui.ActionPulled:
			rec, err := tx.Order(in.OrderID)
			if err != nil || rec.Order.Status != wire.StatusIntercepted {
				return &ui.FloorError{Status: 409, Code: "not_intercepted", ZH: "这一单没有被拦截", EN: "this order is not intercepted"}
			}
			if err := st.event(wire.EventParcelPulled, rec.Order.OrderID, "", wire.PulledData{Location: in.Location}); err != nil {
				return err
			}
			st.v.OrderID, st.v.Done = rec.Order.OrderID, true
			st.accept("已确认拿出拦截包裹", "intercepted parcel pulled")
		default:
			return fmt.Errorf("action: unknown kind %q", in.Kind)
		}
		out = st.v
		if st.ss == nil {
			return tx.Delete(collSessions, in.Station)
		}
		return tx.Put(collSessions, in.Station, st.ss)
	})
	return out, err
}

// Current implements ui.Floor.
func (e *Engine) Current(ctx context.Context, station string) (ui.Verdict, error) {
	v := ui.Verdict{OK: true, Station: station, Next: "order"}
	err := e.S.View(func(tx *store.Tx) error {
		ss, err := e.loadSession(tx, station)
		if err != nil || ss == nil {
			return err
		}
		v.Mode, v.HandoverID, v.Count = ss.Mode, ss.HandoverID, ss.Count
		if ss.Mode == ui.ModeHandover {
			v.Next = "parcel"
		}
		if ss.OrderID == "" {
			return nil
		}
		rec, err := tx.Order(ss.OrderID)
		if err != nil {
			return err
		}
		st := &step{tx: tx, ss: ss, v: v}
		st.fill(rec)
		v = st.v
		v.Next = "item"
		if allDone(&rec.Order, ss.Scanned) {
			v.Next = "waybill"
		}
		if ss.Mode == ui.ModePick {
			l, _ := nextPickLine(&rec.Order, ss.Scanned)
			v.Location = l.Location
			if ss.AtLocation != l.Location {
				v.Next = "location"
			}
		}
		return nil
	})
	return v, err
}

// PickList implements ui.Floor: released orders not yet picked, urgent first,
// then promised time, then location walk order.
func (e *Engine) PickList(ctx context.Context, operator string, limit int) ([]ui.PickTask, error) {
	var out []ui.PickTask
	err := e.S.View(func(tx *store.Tx) error {
		return tx.OpenOrders(func(r *store.OrderRecord) bool {
			o := &r.Order
			if o.Status != wire.StatusReleased || progress(tx, o.OrderID).PickedAt != nil {
				return true
			}
			t := ui.PickTask{OrderID: o.OrderID, Urgent: r.Urgent, Reasons: r.Reasons, Tags: o.Tags, Lines: lineViews(o, nil, tx)}
			if o.PromisedShipBy != nil {
				p := o.PromisedShipBy.Time
				t.PromisedShipBy = &p
			}
			if o.Carrier != nil {
				t.Carrier = o.Carrier.Name
			}
			l, _ := nextPickLine(o, nil)
			t.FirstLocation = l.Location
			out = append(out, t)
			return true
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Urgent != b.Urgent {
			return a.Urgent
		}
		if (a.PromisedShipBy == nil) != (b.PromisedShipBy == nil) {
			return a.PromisedShipBy != nil
		}
		if a.PromisedShipBy != nil && !a.PromisedShipBy.Equal(*b.PromisedShipBy) {
			return a.PromisedShipBy.Before(*b.PromisedShipBy)
		}
		return a.FirstLocation < b.FirstLocation
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// ReportException implements ui.Floor.
func (e *Engine) ReportException(ctx context.Context, in ui.ExceptionInput) error {
	return e.S.Update(func(tx *store.Tx) error {
		st := &step{tx: tx, in: ui.ScanInput{Station: in.Station, Operator: in.Operator}, now: tx.Now()}
		return st.event(wire.EventExceptionReported, in.OrderID, "", wire.ExceptionData{Category: in.Category, Text: in.Text})
	})
}

// TimedStep implements ui.Floor.
func (e *Engine) TimedStep(ctx context.Context, in ui.StepInput) (ui.StepResult, error) {
	var res ui.StepResult
	key := in.Station + "/" + in.Step
	err := e.S.Update(func(tx *store.Tx) error {
		now := tx.Now()
		orderID := ""
		if rec, err := tx.FindOrder(in.Code); err == nil {
			orderID = rec.Order.OrderID
		}
		if in.Phase == "start" {
			res = ui.StepResult{Step: in.Step, OrderID: orderID, StartedAt: now}
			return tx.Put(collSteps, key, &res)
		}
		found, err := tx.Get(collSteps, key, &res)
		if err != nil {
			return err
		}
		if !found {
			return &ui.FloorError{Status: 409, Code: "not_started", ZH: "这个计时还没开始,请先扫码开始", EN: "step not started; scan to start first"}
		}
		res.EndedAt = &now
		res.DurationMS = now.Sub(res.StartedAt).Milliseconds()
		st := &step{tx: tx, in: ui.ScanInput{Station: in.Station, Operator: in.Operator, Code: in.Code}, now: now}
		if err := st.event(wire.EventStepTimed, res.OrderID, "", wire.StepTimedData{Step: in.Step,
			StartedAt: wire.Time{Time: res.StartedAt}, EndedAt: wire.Time{Time: now}}); err != nil {
			return err
		}
		return tx.Delete(collSteps, key)
	})
	return res, err
}

// OrderFacts implements ui.Facts over the open orders.
func (e *Engine) OrderFacts(ctx context.Context, from time.Time) ([]ui.OrderFact, error) {
	var out []ui.OrderFact
	err := e.S.View(func(tx *store.Tx) error {
		return tx.OpenOrders(func(r *store.OrderRecord) bool {
			o := &r.Order
			if o.PaidAt.Before(from) {
				return true
			}
			p := progress(tx, o.OrderID)
			f := ui.OrderFact{OrderID: o.OrderID, Status: o.Status, Urgent: r.Urgent, PaidAt: o.PaidAt.Time,
				PickedAt: p.PickedAt, VerifiedAt: p.VerifiedAt, HandedOverAt: p.HandedOverAt, CollectedAt: p.CollectedAt}
			if len(o.Lines) > 0 {
				f.Zone = ui.ZoneOf(o.Lines[0].Location)
			}
			if o.Carrier != nil {
				f.Carrier = o.Carrier.Code
			}
			if o.PromisedShipBy != nil {
				t := o.PromisedShipBy.Time
				f.PromisedShipBy = &t
			}
			out = append(out, f)
			return true
		})
	})
	return out, err
}
