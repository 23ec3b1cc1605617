package floor

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// verified packs and verifies an order of one unit of eanMiHu at PACK-09.
func (r *rig) verified(o *wire.Order) {
	r.t.Helper()
	r.orders(o)
	r.scan("PACK-09", o.Waybill.No, "")
	r.scan("PACK-09", eanMiHu, "")
	r.scan("PACK-09", o.Waybill.No, "")
}

func TestHandover(t *testing.T) {
	r := newRig(t)
	r.verified(order("O-1", "SF1", line("X", "米糊", 1, eanMiHu)))
	r.verified(order("O-2", "SF2", line("X", "米糊", 1, eanMiHu)))
	r.orders(order("O-3", "SF3", line("X", "米糊", 1, eanMiHu)), order("O-4", "", line("X", "米糊", 1, eanMiHu)))

	v, err := r.e.StartHandover(ctx, "DOCK-1", "W07", "")
	if err != nil {
		t.Fatal(err)
	}
	r.expect(v, ReasonBadRequest)
	v, err = r.e.StartHandover(ctx, "DOCK-1", "W07", "CAGE-SF-01")
	if err != nil {
		t.Fatal(err)
	}
	r.expect(v, "")
	v = r.scan("DOCK-1", "SF1", "")
	if !v.Done || v.Mode != ModeHandover || v.Next != StepParcel {
		t.Fatalf("handover: %+v", v)
	}
	r.scan("DOCK-1", "SF1", ReasonHandedOver)
	r.scan("DOCK-1", "SF3", ReasonNotVerified)
	r.scan("DOCK-1", "O-4", wire.ReasonNoWaybill)
	r.scan("DOCK-1", "SF-NOTHING", wire.ReasonUnknownCode)

	// O-2 was verified, then the buyer asked for a refund: pull it.
	o2 := order("O-2", "SF2", line("X", "米糊", 1, eanMiHu))
	o2.Version, o2.Status = 2, wire.StatusIntercepted
	o2.Intercept = &wire.Intercept{Reason: "refund_requested"}
	r.orders(o2)
	v = r.scan("DOCK-1", "SF2", wire.ReasonIntercepted)
	if !v.Pull {
		t.Fatal("intercepted parcel not flagged for pulling")
	}
	st, _ := r.e.State(ctx, "O-2")
	if !st.PullFlagged || st.HandedOver {
		t.Fatalf("state %+v", st)
	}
	v, err = r.e.Pulled(ctx, "DOCK-1", "W07", "SF2", "")
	if err != nil {
		t.Fatal(err)
	}
	r.expect(v, ReasonBadRequest)
	v, err = r.e.Pulled(ctx, "DOCK-1", "W07", "SF1", "EX-01")
	if err != nil {
		t.Fatal(err)
	}
	r.expect(v, ReasonBadRequest) // not intercepted: nothing to pull
	v, err = r.e.Pulled(ctx, "DOCK-1", "W07", "SF2", "EX-01")
	if err != nil {
		t.Fatal(err)
	}
	r.expect(v, "")

	ho := r.eventsOf(wire.EventParcelHandedOver)
	if len(ho) != 1 || ho[0].WaybillNo != "SF1" {
		t.Fatalf("handed over events %+v", ho)
	}
	var hd wire.HandedOverData
	_ = json.Unmarshal(ho[0].Data, &hd)
	if hd.Carrier != "SF" || hd.HandoverID != "CAGE-SF-01" {
		t.Fatalf("handover data %+v", hd)
	}
	pulled := r.eventsOf(wire.EventParcelPulled)
	if len(pulled) != 1 || pulled[0].OrderID != "O-2" {
		t.Fatalf("pulled events %+v", pulled)
	}
	// A station with an open order cannot switch to handover.
	r.scan("PACK-01", "SF3", "")
	v, _ = r.e.StartHandover(ctx, "PACK-01", "W01", "CAGE-2")
	r.expect(v, ReasonOrderOpen)
}

func TestHandoverHeldBatch(t *testing.T) {
	r := newRig(t)
	l := line("SL-BP-0031", "刹车片", 1, eanMiHu)
	l.Batch = "B1"
	r.verified(order("O-1", "SF1", l))
	r.hold("H-1", "SL-BP-0031", "B1")
	if _, err := r.e.StartHandover(ctx, "DOCK-1", "W07", "CAGE-1"); err != nil {
		t.Fatal(err)
	}
	v := r.scan("DOCK-1", "SF1", wire.ReasonOnHold)
	if !v.Pull {
		t.Fatal("held parcel not flagged for pulling")
	}
	v, _ = r.e.Pulled(ctx, "DOCK-1", "W07", "SF1", "QC-01")
	r.expect(v, "")
}

func TestPickList(t *testing.T) {
	r := newRig(t)
	now := r.clock.Now()
	due := func(d time.Duration) *wire.Time { return &wire.Time{Time: now.Add(d)} }
	at := func(o *wire.Order, loc string) *wire.Order { o.Lines[0].Location = loc; return o }
	a := at(order("O-A", "SF1", line("X", "米糊", 1, eanMiHu)), "B-01-1-01")
	a.PromisedShipBy = due(30 * time.Hour)
	b := at(order("O-B", "SF2", line("X", "米糊", 1, eanMiHu)), "A-10-1-01")
	b.PromisedShipBy = due(30 * time.Hour)
	c := at(order("O-C", "SF3", line("X", "米糊", 1, eanMiHu)), "A-03-2-07")
	c.PromisedShipBy = due(30 * time.Hour)
	d := at(order("O-D", "SF4", line("X", "米糊", 1, eanMiHu)), "C-01-1-01")
	d.Remark = "宝宝生日礼物" // urgent by the local rules
	e := at(order("O-E", "SF5", line("X", "米糊", 1, eanMiHu)), "C-01-1-01")
	e.Priority = wire.PriorityUrgent // urgent by the hub
	e.PromisedShipBy = due(48 * time.Hour)
	f := at(order("O-F", "SF6", line("X", "米糊", 1, eanMiHu)), "A-01-1-01")
	f.PromisedShipBy = due(10 * time.Hour) // earlier promise
	g := at(order("O-G", "SF7", line("X", "米糊", 1, eanMiHu)), "A-01-1-01")
	g.Status = wire.StatusIntercepted
	h := at(order("O-H", "SF8", line("X", "米糊", 1, eanMiHu)), "A-01-1-01") // no promise: last
	r.orders(a, b, c, d, e, f, g, h)
	list, err := r.e.PickList(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range list {
		ids = append(ids, p.OrderID)
	}
	want := []string{"O-E", "O-D", "O-F", "O-C", "O-B", "O-A", "O-H"}
	if len(ids) != len(want) {
		t.Fatalf("pick list %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("pick list %v, want %v", ids, want)
		}
	}
	if !list[1].Urgent || list[1].Reasons[0] != "remark:生日" {
		t.Fatalf("local urgent reasons %+v", list[1])
	}
	// Taking an order removes it from the list for everyone else.
	v, err := r.e.StartPick(ctx, "PDA-1", "P01", "")
	if err != nil || v.OrderID != "O-E" {
		t.Fatalf("start pick: %+v, %v", v, err)
	}
	list, _ = r.e.PickList(ctx, 1)
	if len(list) != 1 || list[0].OrderID != "O-D" {
		t.Fatalf("after one taken: %+v", list)
	}
}

func TestPick(t *testing.T) {
	r := newRig(t)
	l1 := line("X", "米糊", 2, eanMiHu)
	l1.Location = "A-03-2-07"
	l2 := line("Y", "猫粮", 1, eanCatA)
	l2.Location = "A-01-1-01"
	l3 := line("Z", "收纳篮", 1)
	l3.Location = "C-15-1-12"
	r.orders(order("O-1", "SF1", l1, l2, l3))
	v, err := r.e.StartPick(ctx, "PDA-1", "P01", "O-1")
	if err != nil {
		t.Fatal(err)
	}
	r.expect(v, "")
	if v.Next != StepLocation || v.Mode != ModePick {
		t.Fatalf("start: %+v", v)
	}
	if evs := r.eventsOf(wire.EventPickStarted); len(evs) != 1 {
		t.Fatalf("pick.started: %d", len(evs))
	}
	r.scan("PDA-1", eanCatA, ReasonWrongLocation) // no bin scanned yet
	r.scan("PDA-1", "B-09-9-09", ReasonWrongLocation)
	r.scan("PDA-1", "A-01-1-01", "")
	r.scan("PDA-1", eanMiHu, ReasonWrongLocation) // that one is in another bin
	r.scan("PDA-1", eanCatA, "")
	r.scan("PDA-1", "A-03-2-07", "")
	r.scan("PDA-1", eanMiHu, "")
	r.scan("PDA-1", eanMiHu, "")
	r.scan("PDA-1", eanMiHu, wire.ReasonOverQuantity)
	r.scan("PDA-2", "SF1", ReasonClaimed) // a packer cannot take it meanwhile
	v, err = r.e.Confirm(ctx, "PDA-1", "P01", "3")
	if err != nil {
		t.Fatal(err)
	}
	r.expect(v, "")
	if !v.Done {
		t.Fatalf("pick not complete: %+v", v)
	}
	evs := r.eventsOf(wire.EventPickCompleted)
	if len(evs) != 1 {
		t.Fatalf("pick.completed: %d", len(evs))
	}
	var d wire.PickData
	_ = json.Unmarshal(evs[0].Data, &d)
	if len(d.Lines) != 3 || d.Lines[0].Qty != 2 || d.Lines[0].Location != "A-03-2-07" {
		t.Fatalf("pick.completed data %+v", d)
	}
	// Picked: now it packs as usual.
	r.scan("PACK-01", "SF1", "")
	v, _ = r.e.StartPick(ctx, "PDA-1", "P01", "O-1")
	r.expect(v, ReasonAlreadyPicked)
}

func TestActions(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-1", "SF1", line("X", "米糊", 1, eanMiHu)))
	v, err := r.e.ReportException(ctx, "PACK-01", "T01", Exception{Code: "SF1", Category: "damaged_packaging", Text: "外箱压坏"})
	if err != nil {
		t.Fatal(err)
	}
	r.expect(v, "")
	v, _ = r.e.ReportException(ctx, "PACK-01", "T01", Exception{Category: "other", Text: "扫描枪没反应"})
	r.expect(v, "")
	v, _ = r.e.ReportException(ctx, "PACK-01", "T01", Exception{Category: "bored"})
	r.expect(v, ReasonBadRequest)
	v, _ = r.e.ReportException(ctx, "PACK-01", "T01", Exception{Code: "NOPE", Category: "other"})
	r.expect(v, wire.ReasonUnknownCode)

	start := r.clock.Now()
	r.clock.Add(40 * time.Second)
	v, _ = r.e.RecordStep(ctx, "PACK-01", "W01", TimedStep{Code: "O-1", Step: "gift_check", Started: start, Ended: r.clock.Now()})
	r.expect(v, "")
	v, _ = r.e.RecordStep(ctx, "PACK-01", "W01", TimedStep{Step: "gift_check", Started: r.clock.Now(), Ended: start})
	r.expect(v, ReasonBadRequest)

	shown := r.clock.Now()
	r.clock.Add(1500 * time.Millisecond)
	v, _ = r.e.AckUrgent(ctx, "MGR", "M001", UrgentAck{Subject: "SF1", Role: "manager", Shown: shown})
	r.expect(v, "")
	v, _ = r.e.AckUrgent(ctx, "MGR", "M001", UrgentAck{Subject: "N-3", Notice: true, Role: "manager", Shown: shown})
	r.expect(v, "")
	v, _ = r.e.AckUrgent(ctx, "MGR", "M001", UrgentAck{Subject: "N-3", Notice: true, Shown: shown})
	r.expect(v, ReasonBadRequest)

	ex := r.eventsOf(wire.EventExceptionReported)
	if len(ex) != 2 || ex[0].OrderID != "O-1" || ex[1].OrderID != "" {
		t.Fatalf("exceptions %+v", ex)
	}
	steps := r.eventsOf(wire.EventStepTimed)
	if len(steps) != 1 || steps[0].OrderID != "O-1" {
		t.Fatalf("steps %+v", steps)
	}
	acks := r.eventsOf(wire.EventUrgentAcknowledged)
	var ad wire.UrgentAckData
	_ = json.Unmarshal(acks[0].Data, &ad)
	if len(acks) != 2 || acks[0].OrderID != "O-1" || ad.LatencyMS != 1500 {
		t.Fatalf("acks %+v %+v", acks, ad)
	}
}

func TestParseLocation(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"A-03-2-07", "A-3-2-7", -1}, // same bin, text breaks the tie
		{"A-03-2-07", "A-10-1-01", -1},
		{"A-03-2-07", "A-03-3-01", -1},
		{"A-03-2-07", "A-03-2-08", -1},
		{"B-01-1-01", "A-99-9-99", 1},
		{"A-01-1-01", "货架3", -1},
		{"货架3", "A-01-1-01", 1},
	}
	for _, tt := range tests {
		if got := compareLocation(tt.a, tt.b); (got > 0) != (tt.want > 0) || (got < 0) != (tt.want < 0) {
			t.Errorf("compareLocation(%s, %s) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
	if l := ParseLocation("A-03-2-07"); !l.Valid || l.Zone != "A" || l.Aisle != 3 || l.Level != 2 || l.Bin != 7 {
		t.Fatalf("ParseLocation = %+v", l)
	}
}

// TestPickListFollowsChanges builds the list, then changes orders and holds:
// the next list shows the changes.
func TestPickListFollowsChanges(t *testing.T) {
	r := newRig(t)
	brake := line("SL-BP-0031", "刹车片", 1, eanBrake)
	brake.Batch = "B1"
	a := order("O-A", "SF1", line("X", "米糊", 1, eanMiHu))
	r.orders(a, order("O-B", "SF2", brake))
	ids := func() []string {
		t.Helper()
		list, err := r.e.PickList(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range list {
			out = append(out, p.OrderID)
		}
		return out
	}
	if got := ids(); len(got) != 2 {
		t.Fatalf("list %v", got)
	}
	a2 := order("O-A", "SF1", line("X", "米糊", 1, eanMiHu))
	a2.Version, a2.Status = 2, wire.StatusIntercepted
	c := order("O-C", "SF3", line("X", "米糊", 1, eanMiHu))
	c.Priority = wire.PriorityUrgent
	r.orders(a2, c)
	r.hold("H-1", "SL-BP-0031", "B1")
	if got := ids(); len(got) != 1 || got[0] != "O-C" {
		t.Fatalf("after intercept, new urgent order and hold: %v", got)
	}
	r.release("H-1")
	r.scan("PACK-01", "SF3", "") // claimed at a bench
	if got := ids(); len(got) != 1 || got[0] != "O-B" {
		t.Fatalf("after release and claim: %v", got)
	}
}
