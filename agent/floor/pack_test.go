package floor

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

const gs = "\x1d"

// babyOrder: two boxes of rice cereal, a gift bib, and an unlabelled basket.
func babyOrder() *wire.Order {
	gift := line("BYT-WD002", "围兜", 1, eanBib)
	gift.Gift = true
	o := order("O-1", "SF1460000000001",
		line("BYT-MH002", "有机米糊礼盒", 2, eanMiHu),
		gift,
		line("HJ-CL-118", "手工编织收纳篮", 1))
	o.Tags = []string{"重点复核", "易碎"}
	return o
}

func TestPackHappyPath(t *testing.T) {
	r := newRig(t)
	r.orders(babyOrder())

	v := r.scan("PACK-01", "SF1460000000001", "")
	if v.Next != StepItems || v.OrderID != "O-1" || len(v.Lines) != 3 || v.Mode != ModePack {
		t.Fatalf("open: %+v", v)
	}
	if !strings.Contains(v.Message.ZH, "有机米糊礼盒 ×2") || !strings.Contains(v.Message.ZH, "围兜(赠品) ×1") {
		t.Fatalf("open message does not list what to scan: %s", v.Message.ZH)
	}
	if strings.Join(v.Gifts, ",") != "赠品:围兜1件" || strings.Join(v.Tags, ",") != "重点复核,易碎" {
		t.Fatalf("gifts %q tags %q", v.Gifts, v.Tags)
	}
	r.clock.Add(3 * time.Second)
	// The same item as EAN-13 with its AIM prefix, then as GS1-128 with AI 01.
	v = r.scan("PACK-01", "]E0"+eanMiHu, "")
	if v.Line == nil || v.Line.Scanned != 1 || v.Line.Done || v.Next != StepItems {
		t.Fatalf("first unit: %+v", v.Line)
	}
	v = r.scan("PACK-01", "]C101"+"0"+eanMiHu+"10B1"+gs+"17260128", "") // good through today
	if !v.Line.Done {
		t.Fatalf("second unit: %+v", v.Line)
	}
	v = r.scan("PACK-01", eanBib, "") // the gift, like any line
	if !v.Line.Gift || !v.Line.Done || !strings.Contains(v.Message.ZH, "赠品") {
		t.Fatalf("gift: %+v %s", v.Line, v.Message.ZH)
	}
	v, err := r.e.Confirm(ctx, "PACK-01", "W01", "3")
	if err != nil {
		t.Fatal(err)
	}
	r.expect(v, "")
	if !v.Print || v.Next != StepWaybill {
		t.Fatalf("all items in: print=%v next=%s", v.Print, v.Next)
	}
	r.clock.Add(2 * time.Second)
	v = r.scan("PACK-01", "SF1460000000001", "")
	if !v.Done || v.Next != StepOrder {
		t.Fatalf("verify: %+v", v)
	}

	evs := r.eventsOf(wire.EventPackVerified)
	if len(evs) != 1 || evs[0].OrderID != "O-1" || evs[0].WaybillNo != "SF1460000000001" || *evs[0].Station != "PACK-01" {
		t.Fatalf("pack.verified events: %+v", evs)
	}
	var data wire.PackVerifiedData
	if err := json.Unmarshal(evs[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Scans) != 4 || data.DurationMS != 5000 || data.Scans[1].Batch != "B1" || data.Scans[3].LineID != "3" {
		t.Fatalf("pack.verified data: %+v", data)
	}
	if len(r.events()) != 1 {
		t.Fatalf("events: %d, want only pack.verified", len(r.events()))
	}
	st, err := r.e.State(ctx, "O-1")
	if err != nil || !st.Verified || st.Station != "PACK-01" {
		t.Fatalf("state %+v, %v", st, err)
	}
	if s, _ := r.e.Session(ctx, "PACK-01"); s != nil {
		t.Fatalf("session left open: %+v", s)
	}
	audit, err := r.s.Audit(store.AuditQuery{OrderID: "O-1"})
	if err != nil || len(audit) != 6 {
		t.Fatalf("audit: %d records, %v", len(audit), err)
	}
}

func TestOpenByOrderIDAndPlatformNo(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-7", "YT5230000000007", line("CW-DG-500", "冻干猫粮", 1, eanCatA)))
	for _, code := range []string{"O-7", "DYO-7"} {
		v := r.scan("PACK-02", code, "")
		if v.OrderID != "O-7" {
			t.Fatalf("open by %s: %+v", code, v)
		}
		if _, err := r.e.Cancel(ctx, "PACK-02", "W01", "test"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGTINForms(t *testing.T) {
	r := newRig(t)
	// The line lists the UPC-A and the inner-pack GTIN-14.
	r.orders(order("O-8", "SF8", line("MILK", "奶粉", 4, upcMilk, caseMilk)))
	r.scan("P", "SF8", "")
	r.scan("P", upcMilk, "")             // as listed
	r.scan("P", "0"+upcMilk, "")         // EAN-13 form
	r.scan("P", "00"+upcMilk, "")        // GTIN-14 form
	v := r.scan("P", "]I1"+caseMilk, "") // the case code
	if v.Next != StepWaybill {
		t.Fatalf("after 4 units: %+v", v)
	}
}

func TestRejects(t *testing.T) {
	brake := line("SL-BP-0031", "陶瓷刹车片 前轮", 1, eanBrake)
	brake.Batch = "B20251215"
	intercepted := order("O-INT", "SF3", line("CW-DG-500", "冻干猫粮", 1, eanCatA))
	intercepted.Status = wire.StatusIntercepted
	intercepted.Intercept = &wire.Intercept{Reason: "refund_requested", Note: "买家申请退款"}
	shipped := order("O-SHIP", "SF4", line("CW-DG-500", "冻干猫粮", 1, eanCatA))
	shipped.Status = wire.StatusShipped
	heldLine := line("SL-LJ-0102", "机油滤清器", 1, eanFilter)
	heldLine.Batch = "B20251102"

	tests := []struct {
		name    string
		setup   func(r *rig)
		scans   []string // scanned in order at PACK-01; all but the last must pass
		reason  string
		event   bool   // a pack.rejected event is recorded
		message string // part of the zh message
	}{
		{"unknown code at open", nil, []string{"NOPE-123"}, wire.ReasonUnknownCode, false, "找不到订单"},
		{"item before the order", nil, []string{eanMiHu}, ReasonNoSession, false, "先扫面单"},
		{"intercepted", func(r *rig) { r.orders(intercepted) }, []string{"SF3"}, wire.ReasonIntercepted, true, "买家申请退款"},
		{"shipped", func(r *rig) { r.orders(shipped) }, []string{"SF4"}, wire.ReasonNotReleased, true, "已发货"},
		{"line on hold", func(r *rig) {
			r.orders(order("O-H", "SF5", heldLine))
			r.hold("H-1", "SL-LJ-0102", "B20251102")
		}, []string{"SF5"}, wire.ReasonOnHold, true, "质检拦截"},
		{"wrong item", nil, []string{"SF1", eanCatB}, wire.ReasonWrongItem, true, "这不是本单的商品 (冻干猫粮 三文鱼味) — 应扫: 有机米糊礼盒 ×2"},
		{"unknown item", nil, []string{"SF1", ean("400000000000")}, wire.ReasonUnknownCode, true, "不认识的条码"},
		{"unreadable item", nil, []string{"SF1", "]E06971234567880"}, wire.ReasonUnknownCode, true, "条码读不对"},
		{"over quantity", nil, []string{"SF1", eanMiHu, eanMiHu, eanMiHu}, wire.ReasonOverQuantity, true, "已扫够 2 件"},
		{"batch on hold", func(r *rig) { r.hold("H-2", "SL-BP-0031", "B20251102") },
			[]string{"SF2", "]C10106958841200315" + "10B20251102"}, wire.ReasonOnHold, true, "批次 B20251102"},
		{"expired unit", nil, []string{"SF1", "]C1010" + eanMiHu + "17260127"}, ReasonExpired, false, "已过期 (有效期至 2026-01-27)"},
		{"waybill before items", nil, []string{"SF1", eanMiHu, "SF1"}, ReasonIncomplete, false, "还有商品没扫"},
		{"waybill mismatch", nil, []string{"SF2", eanBrake, "SF1460000000999"}, wire.ReasonWaybillMismatch, true, "面单不对"},
		{"other order's waybill as label", nil, []string{"SF2", eanBrake, "SF1"}, wire.ReasonWaybillMismatch, true, "本单面单是 SF2"},
		{"no waybill", nil, []string{"O-NW", eanCatA, "SF-WHATEVER"}, wire.ReasonNoWaybill, true, "还没有面单号"},
		{"another order while one is open", nil, []string{"SF1", "SF2"}, ReasonOrderOpen, false, "还没完成"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.orders(order("O-1", "SF1", line("BYT-MH002", "有机米糊礼盒", 2, eanMiHu)),
				order("O-2", "SF2", brake),
				order("O-NW", "", line("CW-DG-500", "冻干猫粮 鸡肉味", 1, eanCatA)),
				order("O-X", "SF9", line("CW-DG-501", "冻干猫粮 三文鱼味", 1, eanCatB)))
			if tt.setup != nil {
				tt.setup(r)
			}
			for _, c := range tt.scans[:len(tt.scans)-1] {
				r.scan("PACK-01", c, "")
			}
			before := len(r.eventsOf(wire.EventPackRejected))
			last := tt.scans[len(tt.scans)-1]
			v := r.scan("PACK-01", last, tt.reason)
			if !strings.Contains(v.Message.ZH, tt.message) {
				t.Fatalf("message %q does not say %q", v.Message.ZH, tt.message)
			}
			rej := r.eventsOf(wire.EventPackRejected)
			if got := len(rej) - before; got != map[bool]int{true: 1, false: 0}[tt.event] {
				t.Fatalf("pack.rejected events: %d new, want event=%v", got, tt.event)
			}
			if tt.event {
				var d wire.PackRejectedData
				if err := json.Unmarshal(rej[len(rej)-1].Data, &d); err != nil {
					t.Fatal(err)
				}
				if d.Reason != tt.reason || d.Code != last {
					t.Fatalf("pack.rejected data %+v", d)
				}
			}
			audit, err := r.s.Audit(store.AuditQuery{})
			if err != nil || len(audit) != len(tt.scans) || audit[len(audit)-1].Reason != tt.reason {
				t.Fatalf("audit %+v, %v", audit, err)
			}
		})
	}
}

func TestAlreadyVerified(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-1", "SF1", line("X", "米糊", 1, eanMiHu)))
	r.scan("PACK-01", "SF1", "")
	r.scan("PACK-01", eanMiHu, "")
	r.scan("PACK-01", "SF1", "")
	r.scan("PACK-02", "SF1", ReasonAlreadyVerified)
}

func TestConfirm(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-1", "SF1", line("X", "米糊", 1, eanMiHu), line("B", "收纳篮", 2)))
	v, _ := r.e.Confirm(ctx, "PACK-01", "W01", "2")
	r.expect(v, ReasonNoSession)
	r.scan("PACK-01", "SF1", "")
	v, _ = r.e.Confirm(ctx, "PACK-01", "W01", "1")
	r.expect(v, ReasonHasBarcode)
	v, _ = r.e.Confirm(ctx, "PACK-01", "W01", "9")
	r.expect(v, ReasonBadRequest)
	v, _ = r.e.Confirm(ctx, "PACK-01", "W01", "2")
	r.expect(v, "")
	if v.Line.Scanned != 2 || v.Next != StepItems {
		t.Fatalf("confirmed line: %+v", v.Line)
	}
	v, _ = r.e.Confirm(ctx, "PACK-01", "W01", "2")
	r.expect(v, wire.ReasonOverQuantity)
}

func TestMidSessionIntercept(t *testing.T) {
	r := newRig(t)
	o := order("O-1", "SF1", line("X", "米糊", 2, eanMiHu))
	r.orders(o)
	r.scan("PACK-01", "SF1", "")
	r.scan("PACK-01", eanMiHu, "")
	v2 := *o
	v2.Version, v2.Status = 2, wire.StatusIntercepted
	v2.Intercept = &wire.Intercept{Reason: "cancelled"}
	r.orders(&v2)
	v := r.scan("PACK-01", eanMiHu, wire.ReasonIntercepted)
	if v.Next != StepOrder {
		t.Fatalf("next %s", v.Next)
	}
	if s, _ := r.e.Session(ctx, "PACK-01"); s != nil {
		t.Fatal("session still open after intercept")
	}
	// The order cannot be opened again anywhere.
	r.scan("PACK-02", "SF1", wire.ReasonIntercepted)
}

func TestMidSessionHold(t *testing.T) {
	r := newRig(t)
	l := line("SL-BP-0031", "刹车片", 2, eanBrake)
	l.Batch = "B1"
	r.orders(order("O-1", "SF1", l))
	r.scan("PACK-01", "SF1", "")
	r.scan("PACK-01", eanBrake, "")
	r.hold("H-1", "SL-BP-0031", "")
	r.scan("PACK-01", eanBrake, wire.ReasonOnHold)
	r.release("H-1")
	r.scan("PACK-01", "SF1", "") // opens again after release
}

func TestMidSessionNewVersion(t *testing.T) {
	r := newRig(t)
	o := order("O-1", "SF1", line("X", "米糊", 3, eanMiHu), line("Y", "猫粮", 1, eanCatA))
	r.orders(o)
	r.scan("PACK-01", "SF1", "")
	r.scan("PACK-01", eanMiHu, "")
	r.scan("PACK-01", eanMiHu, "")
	r.scan("PACK-01", eanCatA, "")
	// The buyer changed the order: one rice cereal only, the cat food gone,
	// a bib added.
	v2 := order("O-1", "SF1", line("X", "米糊", 1, eanMiHu), line("Z", "围兜", 1, eanBib))
	v2.Lines[1].LineID = "3"
	v2.Version = 2
	r.orders(v2)
	v := r.scan("PACK-01", eanCatA, wire.ReasonWrongItem)
	if !v.Changed {
		t.Fatal("verdict does not say the order changed")
	}
	if v.Lines[0].Scanned != 1 || !v.Lines[0].Done || v.Lines[1].Scanned != 0 {
		t.Fatalf("lines after the change: %+v", v.Lines)
	}
	r.scan("PACK-01", eanBib, "")
	v = r.scan("PACK-01", "SF1", "")
	if !v.Done {
		t.Fatal("not verified")
	}
	var d wire.PackVerifiedData
	_ = json.Unmarshal(r.eventsOf(wire.EventPackVerified)[0].Data, &d)
	if len(d.Scans) != 2 {
		t.Fatalf("verified scans %+v, want the one rice cereal and the bib", d.Scans)
	}
}

func TestTwoStationsOneOrder(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-1", "SF1", line("X", "米糊", 1, eanMiHu)))
	r.scan("PACK-01", "SF1", "")
	v := r.scan("PACK-02", "SF1", ReasonClaimed)
	if !strings.Contains(v.Message.ZH, "PACK-01") {
		t.Fatalf("message does not name the other station: %s", v.Message.ZH)
	}
	if _, err := r.e.Cancel(ctx, "PACK-01", "W01", "换台"); err != nil {
		t.Fatal(err)
	}
	r.scan("PACK-02", "SF1", "")
	r.scan("PACK-02", eanMiHu, "")
	r.scan("PACK-02", "SF1", "")
}

func TestTwoStationsRace(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-1", "SF1", line("X", "米糊", 1, eanMiHu)))
	const n = 8
	var wg sync.WaitGroup
	verdicts := make([]Verdict, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := r.e.Scan(ctx, fmt.Sprintf("PACK-%02d", i), "W", "SF1", "")
			if err != nil {
				t.Error(err)
			}
			verdicts[i] = v
		}()
	}
	wg.Wait()
	ok := 0
	for _, v := range verdicts {
		switch {
		case v.OK:
			ok++
		case v.Reason != ReasonClaimed:
			t.Fatalf("unexpected verdict %+v", v)
		}
	}
	if ok != 1 {
		t.Fatalf("%d stations opened the same order", ok)
	}
}

func TestRestartResumes(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-1", "SF1", line("X", "米糊", 2, eanMiHu)))
	r.scan("PACK-01", "SF1", "")
	r.scan("PACK-01", eanMiHu, "")
	r.restart()
	s, err := r.e.Session(ctx, "PACK-01")
	if err != nil || s == nil || s.Counts["1"] != 1 {
		t.Fatalf("session after restart: %+v, %v", s, err)
	}
	r.scan("PACK-02", "SF1", ReasonClaimed) // the claim survived too
	v := r.scan("PACK-01", eanMiHu, "")
	if v.Next != StepWaybill {
		t.Fatalf("after restart: %+v", v)
	}
	r.scan("PACK-01", "SF1", "")
	var d wire.PackVerifiedData
	_ = json.Unmarshal(r.eventsOf(wire.EventPackVerified)[0].Data, &d)
	if len(d.Scans) != 2 {
		t.Fatalf("scans %+v", d.Scans)
	}
}

func TestCancelWithoutSession(t *testing.T) {
	r := newRig(t)
	v, err := r.e.Cancel(ctx, "PACK-01", "W01", "")
	if err != nil || !v.OK {
		t.Fatalf("%+v, %v", v, err)
	}
	if _, err := r.e.Scan(ctx, "", "W01", "x", ""); err == nil {
		t.Fatal("scan without a station accepted")
	}
}

// TestInterceptAfterPrint: every item is in and the label printed, then the
// buyer asks for a refund: the waybill scan must be refused.
func TestInterceptAfterPrint(t *testing.T) {
	r := newRig(t)
	o := order("O-1", "SF1", line("X", "米糊", 1, eanMiHu))
	r.orders(o)
	r.scan("PACK-01", "SF1", "")
	if v := r.scan("PACK-01", eanMiHu, ""); !v.Print {
		t.Fatal("no print after the last item")
	}
	v2 := *o
	v2.Version, v2.Status = 2, wire.StatusIntercepted
	v2.Intercept = &wire.Intercept{Reason: "refund_requested"}
	r.orders(&v2)
	r.scan("PACK-01", "SF1", wire.ReasonIntercepted)
	r.scan("PACK-01", "SF1", wire.ReasonIntercepted) // and again, with no session
	if st, _ := r.e.State(ctx, "O-1"); st.Verified {
		t.Fatal("intercepted order verified")
	}
}

// TestOrderCacheFollowsTheFeed: scans served from the order cache still see a
// new version at once, and a change made outside the feed too.
func TestOrderCacheFollowsTheFeed(t *testing.T) {
	r := newRig(t)
	o := order("O-1", "SF1", line("X", "米糊", 3, eanMiHu))
	r.orders(o)
	r.scan("PACK-01", "SF1", "")
	r.scan("PACK-01", eanMiHu, "")
	r.scan("PACK-01", eanMiHu, "") // from the cache
	v2 := order("O-1", "SF1", line("X", "米糊", 2, eanMiHu))
	v2.Version = 2
	r.orders(v2)
	if v := r.scan("PACK-01", eanMiHu, wire.ReasonOverQuantity); !v.Changed {
		t.Fatal("new version not seen")
	}
	if err := r.s.Update(func(tx *store.Tx) error { return tx.SetOrderStatus("O-1", wire.StatusClosed) }); err != nil {
		t.Fatal(err)
	}
	r.scan("PACK-01", "SF1", wire.ReasonNotReleased)
}
