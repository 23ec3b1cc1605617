package ui_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// TestRealEnginePackFlow runs the PDA's pack flow through the API over
// agent/floor's engine: wrong item, gift, waybill rescan, then scan-out by a temp.
func TestRealEnginePackFlow(t *testing.T) {
	e := newRealEnv(t, true)
	e.loadOrders()
	k := e.client().signIn("K1", "1111", "PACK-01")
	steps := []struct {
		code   string
		ok     bool
		reason string
		next   string
	}{
		{"ZT1000000001", true, "", "item"},
		{"6970000000019", false, "wrong_item", "item"},
		{"6971234567888", true, "", "item"},
		{"6971234567888", true, "", "item"},
		{"6971234567888", false, "over_quantity", "item"},
		{"6971234567895", true, "", "waybill"},
		{"ZT1000000002", false, "waybill_mismatch", "waybill"},
		{"ZT1000000001", true, "", "order"},
	}
	for i, s := range steps {
		v := k.scan("pack", s.code)
		if v.OK != s.ok || v.Reason != s.reason || v.Next != s.next {
			t.Fatalf("step %d (%s): ok=%v reason=%q next=%q %q", i, s.code, v.OK, v.Reason, v.Next, v.MsgZH)
		}
		if v.MsgZH == "" || v.MsgEN == "" {
			t.Fatalf("step %d: no words for the screen: %+v", i, v)
		}
		if i == 5 && (len(v.Lines) != 2 || !v.Lines[1].Gift || v.Lines[1].Scanned != 1 || len(v.Tags) != 2) {
			t.Fatalf("gift line and tags: %+v %v", v.Lines, v.Tags)
		}
		// The label prints once the items are all in; it is then scanned again on the parcel.
		if i == 5 && !v.Print {
			t.Fatalf("items complete must print the label: %+v", v)
		}
		if i == len(steps)-1 && !v.Done {
			t.Fatalf("waybill rescan must verify: %+v", v)
		}
	}
	tmp := e.client().badge("BADGE-T1")
	v := tmp.scan("handover", "ZT1000000001")
	if !v.OK || v.Count != 1 || !strings.HasPrefix(v.HandoverID, "CAGE-PDA-T1") {
		t.Fatalf("scan out: %+v", v)
	}
	if v := tmp.scan("handover", "ZT1000000003"); v.OK {
		t.Fatalf("unverified parcel left: %+v", v)
	}
	evs := events(t, e.st)
	if countType(evs, wire.EventPackVerified) != 1 || countType(evs, wire.EventParcelHandedOver) != 1 {
		t.Fatalf("events: verified %d handed over %d", countType(evs, wire.EventPackVerified), countType(evs, wire.EventParcelHandedOver))
	}
	// The manager's numbers come from the engine's floor state.
	m := e.client().signIn("M1", "9000", "")
	_, c, _ := m.do("GET", "/api/manager/counts", nil)
	if c["handed_over_today"].(float64) != 1 {
		t.Fatalf("counts: %v", c)
	}
}

func TestRealEnginePickAndSteps(t *testing.T) {
	e := newRealEnv(t, false)
	e.loadOrders()
	p := e.client().signIn("P1", "2222", "")
	if v := p.scan("pick", "A-03-2-07"); v.OK {
		t.Fatalf("pick scan without an order: %+v", v)
	}
	st, m, raw := p.do("POST", "/api/action", map[string]string{"scan_id": sid(), "kind": "pick_start", "order_id": "O-2"})
	if st != 200 || m["ok"] != true || m["next"] != "location" {
		t.Fatalf("start pick: %d %s", st, raw)
	}
	for _, code := range []string{"C-01-1-01", "6970000000019"} {
		if v := p.scan("pick", code); !v.OK {
			t.Fatalf("pick %s: %+v", code, v)
		}
	}
	if countType(events(t, e.st), wire.EventPickCompleted) != 1 {
		t.Fatal("pick.completed missing")
	}
	k := e.client().signIn("K1", "1111", "PACK-01")
	k.do("POST", "/api/step", map[string]string{"scan_id": sid(), "step": "gift_check", "phase": "start", "code": "ZT1000000001"})
	e.clk.Add(30_000_000_000)
	st, m, raw = k.do("POST", "/api/step", map[string]string{"scan_id": sid(), "step": "gift_check", "phase": "end", "code": "ZT1000000001"})
	if st != 200 || m["duration_ms"].(float64) != 30000 || m["order_id"] != "O-1" {
		t.Fatalf("step: %d %s", st, raw)
	}
	st, _, raw = k.do("POST", "/api/exception", map[string]string{"scan_id": sid(), "category": "damaged_packaging", "text": "外箱破损", "order_id": "ZT1000000003"})
	if st != 200 {
		t.Fatalf("exception: %d %s", st, raw)
	}
	evs := events(t, e.st)
	if countType(evs, wire.EventStepTimed) != 1 || countType(evs, wire.EventExceptionReported) != 1 {
		t.Fatal("step/exception events missing")
	}
}

// TestRetryAfterLostScanResult is the window between the engine's commit and
// the UI's own record of the answer: the agent stopped there, so the UI's
// record is gone (wiped here), and the page retries. The engine kept the scan
// id with the step and answers with its stored verdict; nothing is applied
// twice.
func TestRetryAfterLostScanResult(t *testing.T) {
	e := newRealEnv(t, false)
	e.loadOrders()
	k := e.client().signIn("K1", "1111", "PACK-01")
	lost := func() {
		t.Helper()
		err := e.st.Update(func(tx *store.Tx) error {
			var keys []string
			tx.ForEach(store.CollUIScanResults, "", func(k string, _ []byte) error { keys = append(keys, k); return nil })
			for _, k := range keys {
				if err := tx.Delete(store.CollUIScanResults, k); err != nil {
					return err
				}
			}
			if len(keys) == 0 {
				return errors.New("no answer was kept to lose")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// twice posts a request, loses its kept answer, posts it again, and
	// returns both answers.
	twice := func(path string, body map[string]string) (first, again map[string]any) {
		t.Helper()
		st, first, raw := k.do("POST", path, body)
		if st != 200 {
			t.Fatalf("%s %v: %d %s", path, body, st, raw)
		}
		lost()
		st, again, raw = k.do("POST", path, body)
		if st != 200 {
			t.Fatalf("retry %s %v: %d %s", path, body, st, raw)
		}
		return first, again
	}
	same := func(first, again map[string]any, fields ...string) {
		t.Helper()
		for _, f := range fields {
			if first[f] != again[f] {
				t.Fatalf("retry answered %s=%v, first %v\nfirst %v\nretry %v", f, again[f], first[f], first, again)
			}
		}
	}

	k.scan("pack", "ZT1000000004")
	first, again := twice("/api/scan", map[string]string{"scan_id": "lost-answer-1", "mode": "pack", "code": "6971234567888"})
	if first["next"] != "waybill" || again["replayed"] != true {
		t.Fatalf("item: first %v, retry %v", first, again)
	}
	same(first, again, "ok", "next", "msg_zh", "order_id")
	first, again = twice("/api/scan", map[string]string{"scan_id": "lost-answer-2", "mode": "pack", "code": "ZT1000000004"})
	if first["done"] != true || again["replayed"] != true {
		t.Fatalf("waybill: first %v, retry %v", first, again)
	}
	same(first, again, "ok", "done", "msg_zh")

	// The dock: the first scan opens a cage, then hands the parcel over; the
	// retry neither opens another nor counts the parcel again.
	first, again = twice("/api/scan", map[string]string{"scan_id": "lost-answer-3", "mode": "handover", "code": "ZT1000000004"})
	if first["ok"] != true || first["count"] != 1.0 || again["replayed"] != true {
		t.Fatalf("handover: first %v, retry %v", first, again)
	}
	same(first, again, "ok", "count", "handover_id", "msg_zh")
	first, again = twice("/api/action", map[string]string{"scan_id": "lost-answer-4", "kind": "handover_close"})
	if first["done"] != true || again["replayed"] != true {
		t.Fatalf("close: first %v, retry %v", first, again)
	}
	same(first, again, "ok", "count", "handover_id", "msg_zh", "msg_en")

	k.do("POST", "/api/step", map[string]string{"scan_id": sid(), "step": "gift_check", "phase": "start", "code": "ZT1000000001"})
	e.clk.Add(30 * time.Second)
	first, again = twice("/api/step", map[string]string{"scan_id": "lost-answer-5", "step": "gift_check", "phase": "end", "code": "ZT1000000001"})
	if first["duration_ms"] != 30000.0 {
		t.Fatalf("step: %v", first)
	}
	same(first, again, "duration_ms", "order_id", "started_at", "ended_at")
	twice("/api/exception", map[string]string{"scan_id": "lost-answer-6", "category": "damaged_packaging", "text": "外箱破损", "order_id": "ZT1000000003"})

	// An id the engine kept for one kind of step is not taken for another.
	lost()
	if st, m, _ := k.do("POST", "/api/action", map[string]string{"scan_id": "lost-answer-1", "kind": "cancel"}); st != 409 || m["error"] != "scan_id_reused" {
		t.Fatalf("reused id: %d %v", st, m)
	}

	evs := events(t, e.st)
	for typ, want := range map[string]int{wire.EventPackVerified: 1, wire.EventParcelHandedOver: 1,
		wire.EventStepTimed: 1, wire.EventExceptionReported: 1} {
		if got := countType(evs, typ); got != want {
			t.Errorf("%s ×%d, want %d", typ, got, want)
		}
	}
}
