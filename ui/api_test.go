package ui_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
	"github.com/dockhand/dockhand/ui"
	"github.com/dockhand/dockhand/ui/live"
)

func events(t testing.TB, st *store.Store) []wire.Event {
	t.Helper()
	recs, err := st.OutboxAfter(0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []wire.Event
	for _, r := range recs {
		ev, err := wire.DecodeEvent(r.Payload)
		if err != nil {
			t.Fatalf("event %d breaks the contract: %v", r.Seq, err)
		}
		out = append(out, ev)
	}
	return out
}

func countType(evs []wire.Event, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func TestSignIn(t *testing.T) {
	e := newEnv(t, false)
	c := e.client()
	if st, _, _ := c.do("GET", "/api/me", nil); st != 401 {
		t.Fatalf("me without session: %d", st)
	}
	st, m, _ := c.do("POST", "/api/signin", map[string]string{"code": "K1", "pin": "0000"})
	if st != 401 || m["error"] != "bad_pin" || !strings.Contains(m["msg_zh"].(string), "还可尝试 2 次") {
		t.Fatalf("bad PIN: %d %v", st, m)
	}
	c.signIn("K1", "1111", "PACK-01")
	st, m, _ = c.do("GET", "/api/me", nil)
	if st != 200 || m["role"] != "packer" || m["station"] != "PACK-01" {
		t.Fatalf("me: %d %v", st, m)
	}
	// Badge sign-in; a temp gets its own PDA station.
	tmp := e.client().badge("BADGE-T1")
	_, m, _ = tmp.do("GET", "/api/me", nil)
	if m["role"] != "temp" || m["station"] != "PDA-T1" {
		t.Fatalf("temp me: %v", m)
	}
	// Sign-in from a foreign origin is refused.
	evil := e.client()
	evil.origin = "http://evil.example"
	if st, m, _ := evil.do("POST", "/api/signin", map[string]string{"code": "K1", "pin": "1111"}); st != 403 || m["error"] != "bad_origin" {
		t.Fatalf("foreign origin sign-in: %d %v", st, m)
	}
	// Sign out ends the session.
	if st, _, _ := c.do("POST", "/api/signout", map[string]string{}); st != 200 {
		t.Fatal(st)
	}
	if st, _, _ := c.do("GET", "/api/me", nil); st != 401 {
		t.Fatalf("after sign-out: %d", st)
	}
}

func TestPINThrottleOverHTTP(t *testing.T) {
	e := newEnv(t, false)
	c := e.client()
	for range 2 {
		c.do("POST", "/api/signin", map[string]string{"code": "P1", "pin": "0000"})
	}
	st, m, _ := c.do("POST", "/api/signin", map[string]string{"code": "P1", "pin": "0000"})
	if st != 429 || m["error"] != "locked" || m["retry_after_s"] == nil {
		t.Fatalf("third wrong PIN: %d %v", st, m)
	}
	if st, _, _ := c.do("POST", "/api/signin", map[string]string{"code": "P1", "pin": "2222"}); st != 429 {
		t.Fatalf("right PIN while locked: %d", st)
	}
	e.clk.Add(31 * time.Second)
	c.signIn("P1", "2222", "")
}

func TestOriginAndCSRF(t *testing.T) {
	e := newEnv(t, false)
	e.loadOrders()
	c := e.client().signIn("K1", "1111", "PACK-01")
	body := map[string]string{"scan_id": "abcdefgh1", "mode": "pack", "code": "ZT1000000001"}
	tests := []struct {
		name, origin, csrf string
		want               int
		code               string
	}{
		{"foreign origin", "http://evil.example", c.csrf, 403, "bad_origin"},
		{"origin with another port", strings.Replace(e.http.URL, ":", ":1", 2), c.csrf, 403, "bad_origin"},
		{"no origin", "", c.csrf, 403, "bad_origin"},
		{"no csrf", e.http.URL, "", 403, "bad_csrf"},
		{"wrong csrf", e.http.URL, "nope", 403, "bad_csrf"},
		{"good", e.http.URL, c.csrf, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := *c
			cc.origin, cc.csrf = tt.origin, tt.csrf
			st, m, _ := cc.do("POST", "/api/scan", body)
			if st != tt.want || (tt.code != "" && m["error"] != tt.code) {
				t.Fatalf("got %d %v, want %d %s", st, m, tt.want, tt.code)
			}
		})
	}
	// The websocket checks the Origin too.
	hdr := http.Header{"Origin": {"http://evil.example"}}
	for _, ck := range c.hc.Jar.Cookies(mustURL(e.http.URL)) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.http.URL, "http")+"/api/live", hdr)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("websocket from a foreign origin: %v %v", err, resp)
	}
	// And needs a session.
	_, resp, err = websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.http.URL, "http")+"/api/live", http.Header{"Origin": {e.http.URL}})
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("websocket without session: %v %v", err, resp)
	}
}

// TestRoles: every role rule is enforced by the server.
func TestRoles(t *testing.T) {
	e := newEnv(t, true)
	e.loadOrders()
	clients := map[string]*client{
		"manager": e.client().signIn("M1", "9000", "PACK-09"),
		"packer":  e.client().signIn("K1", "1111", "PACK-01"),
		"picker":  e.client().signIn("P1", "2222", ""),
		"temp":    e.client().badge("BADGE-T1"),
	}
	type call struct {
		method, path string
		body         map[string]string
	}
	scan := func(mode string) call {
		return call{"POST", "/api/scan", map[string]string{"mode": mode, "code": "NOPE-123"}}
	}
	act := func(kind string) call {
		return call{"POST", "/api/action", map[string]string{"kind": kind, "handover_id": "CAGE-1", "order_id": "O-5"}}
	}
	calls := map[string]call{
		"scan pack":      scan("pack"),
		"scan pick":      scan("pick"),
		"scan out":       scan("handover"),
		"pick start":     act("pick_start"),
		"handover open":  act("handover_open"),
		"handover close": act("handover_close"),
		"cancel":         act("cancel"),
		"exception":      {"POST", "/api/exception", map[string]string{"category": "other", "text": "x"}},
		"step":           {"POST", "/api/step", map[string]string{"step": "gift_check", "phase": "start", "code": "ZT1000000001"}},
		"picklist":       {"GET", "/api/picklist", nil},
		"station view":   {"GET", "/api/stations/PACK-01", nil},
		"printers":       {"GET", "/api/printers", nil},
		"operators":      {"GET", "/api/operators", nil},
		"add operator":   {"POST", "/api/operators", map[string]string{"code": "X9", "name": "x", "role": "picker", "pin": "1234"}},
		"disable":        {"POST", "/api/operators/P1/disable", map[string]string{}},
		"counts":         {"GET", "/api/manager/counts", nil},
		"audit":          {"GET", "/api/manager/audit", nil},
		"quarantine":     {"GET", "/api/manager/quarantine", nil},
		"reprint":        {"POST", "/api/reprint", map[string]string{"order_id": "O-1", "reason": "x", "manager_code": "M1", "manager_pin": "0"}},
		"urgent":         {"GET", "/api/urgent", nil},
		"me":             {"GET", "/api/me", nil},
	}
	allowed := map[string][]string{
		"temp":    {"scan out", "handover open", "exception", "urgent", "me"},
		"picker":  {"scan pick", "pick start", "cancel", "exception", "step", "picklist", "urgent", "me"},
		"packer":  {"scan pack", "scan out", "handover open", "handover close", "cancel", "exception", "step", "station view", "printers", "reprint", "urgent", "me"},
		"manager": nil, // everything
	}
	for role, c := range clients {
		for name, cl := range calls {
			if name == "disable" && role == "manager" {
				continue // would disable P1 for the other rows
			}
			t.Run(role+"/"+name, func(t *testing.T) {
				var body any
				if cl.body != nil {
					b := map[string]string{}
					for k, v := range cl.body {
						b[k] = v
					}
					if cl.path == "/api/scan" || cl.path == "/api/action" || cl.path == "/api/exception" || cl.path == "/api/step" {
						b["scan_id"] = sid()
					}
					body = b
				}
				st, m, _ := c.do(cl.method, cl.path, body)
				want := role == "manager"
				for _, a := range allowed[role] {
					want = want || a == name
				}
				if want && st == 403 {
					t.Fatalf("%s may %s but got 403 %v", role, name, m)
				}
				if !want && (st != 403 || m["error"] != "forbidden") {
					t.Fatalf("%s must not %s: got %d %v", role, name, st, m)
				}
			})
		}
	}
}

func mustURL(s string) *urlT { u, _ := parseURL(s); return u }

func TestPackFlow(t *testing.T) {
	e := newEnv(t, true)
	e.loadOrders()
	c := e.client().signIn("K1", "1111", "PACK-01")
	steps := []struct {
		code   string
		ok     bool
		reason string
		next   string
	}{
		{"NOPE-1", false, "unknown_code", "order"},
		{"ZT1000000001", true, "", "item"},                // open by waybill
		{"6970000000019", false, "wrong_item", "item"},    // 刹车片: another order's item
		{"6971234567888", true, "", "item"},               // 米糊 1/2
		{"ZT1000000001", false, "incomplete", "item"},     // waybill before the items are complete
		{"]E06971234567888", true, "", "item"},            // 米糊 2/2, the scanner's AIM prefix is understood
		{"6971234567888", false, "over_quantity", "item"}, // one too many
		{"06971234567895", true, "", "waybill"},           // gift as GTIN-14: all in
		{"ZT1000000002", false, "waybill_mismatch", "waybill"},
		{"ZT1000000001", true, "", "order"}, // verified
	}
	for i, s := range steps {
		v := c.scan("pack", s.code)
		if v.OK != s.ok || v.Reason != s.reason || v.Next != s.next {
			t.Fatalf("step %d (%s): got ok=%v reason=%q next=%q (%s), want ok=%v reason=%q next=%q",
				i, s.code, v.OK, v.Reason, v.Next, v.MsgZH, s.ok, s.reason, s.next)
		}
		if s.reason == "wrong_item" && !strings.Contains(v.MsgZH, "应扫") {
			t.Fatalf("wrong item must say what to scan: %s", v.MsgZH)
		}
		if i == 7 {
			if len(v.Lines) != 2 || !v.Lines[1].Gift || v.Lines[1].Scanned != 1 || len(v.Tags) != 2 {
				t.Fatalf("lines/tags: %+v %v", v.Lines, v.Tags)
			}
		}
		if i == len(steps)-1 && !v.Done {
			t.Fatalf("last step must verify: %+v", v)
		}
	}
	evs := events(t, e.st)
	if n := countType(evs, wire.EventPackVerified); n != 1 {
		t.Fatalf("pack.verified ×%d", n)
	}
	if n := countType(evs, wire.EventPackRejected); n != 3 {
		t.Fatalf("pack.rejected ×%d, want 3 (contract reasons with an order)", n)
	}
	// The session is gone; the page asking for it sees "scan an order".
	_, m, _ := c.do("GET", "/api/session", nil)
	if m["next"] != "order" {
		t.Fatalf("session after verify: %v", m)
	}
}

func TestScanIdempotent(t *testing.T) {
	e := newEnv(t, false)
	e.loadOrders()
	c := e.client().signIn("K1", "1111", "PACK-01")
	c.scan("pack", "ZT1000000004")
	body := map[string]string{"scan_id": "retry-after-wifi-1", "mode": "pack", "code": "6971234567888"}
	st, m1, _ := c.do("POST", "/api/scan", body)
	if st != 200 || m1["done"] == true || m1["next"] != "waybill" {
		t.Fatalf("first: %d %v", st, m1)
	}
	// The same request again (the answer was lost): same answer, marked replayed,
	// and the item is not counted twice (it would be over_quantity).
	st, m2, _ := c.do("POST", "/api/scan", body)
	if st != 200 || m2["replayed"] != true || m2["ok"] != true || m2["next"] != "waybill" {
		t.Fatalf("retry: %d %v", st, m2)
	}
	// Many concurrent duplicates: applied once.
	body2 := map[string]string{"scan_id": "retry-after-wifi-2", "mode": "pack", "code": "ZT1000000004"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	replays := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, m, _ := c.do("POST", "/api/scan", body2)
			mu.Lock()
			if m["replayed"] == true {
				replays++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if replays != 7 {
		t.Fatalf("replays = %d, want 7", replays)
	}
	if n := countType(events(t, e.st), wire.EventPackVerified); n != 1 {
		t.Fatalf("pack.verified ×%d", n)
	}
	// A scan id reused for another kind of request is refused.
	st, m, _ := c.do("POST", "/api/exception", map[string]string{"scan_id": "retry-after-wifi-1", "category": "other", "text": "x"})
	if st != 409 || m["error"] != "scan_id_reused" {
		t.Fatalf("reused id: %d %v", st, m)
	}
	// Another operator's scan ids are its own.
	c2 := e.client().signIn("M1", "9000", "PACK-02")
	st, m, _ = c2.do("POST", "/api/scan", map[string]string{"scan_id": "retry-after-wifi-1", "mode": "pack", "code": "ZT1000000003"})
	if st != 200 || m["replayed"] == true {
		t.Fatalf("other operator: %d %v", st, m)
	}
	if st, _, _ := c.do("POST", "/api/scan", map[string]string{"scan_id": "x", "mode": "pack", "code": "1"}); st != 400 {
		t.Fatalf("short scan id: %d", st)
	}
}

func TestInterceptMidSessionAndPull(t *testing.T) {
	e := newEnv(t, false)
	e.loadOrders()
	k := e.client().signIn("K1", "1111", "PACK-01")
	m := e.client().signIn("M1", "9000", "")
	k.scan("pack", "ZT1000000003")
	k.scan("pack", "6970000000026")
	// The hub intercepts O-3 while it is on the bench.
	o := testOrders(t0)[2]
	o.Version, o.Status = 2, wire.StatusIntercepted
	o.Intercept = &wire.Intercept{Reason: "refund_requested"}
	e.feed(wire.FeedMessage{Kind: wire.KindOrderUpsert, Order: &o})
	v := k.scan("pack", "6970000000026")
	if v.OK || v.Reason != wire.ReasonIntercepted || !strings.Contains(v.MsgZH, "拦截") {
		t.Fatalf("scan after intercept: %+v", v)
	}
	_, _, raw := m.do("GET", "/api/manager/pull", nil)
	var pull []ui.PullItem
	json.Unmarshal(raw, &pull)
	if len(pull) != 1 || pull[0].OrderID != "O-3" || pull[0].Reason != "refund_requested" {
		t.Fatalf("pull list: %s", raw)
	}
	st, _, _ := m.do("POST", "/api/action", map[string]string{"scan_id": sid(), "kind": "pulled", "order_id": "O-3", "location": "拦截区"})
	if st != 200 || countType(events(t, e.st), wire.EventParcelPulled) != 1 {
		t.Fatalf("pulled: %d", st)
	}
}

func TestHandoverTempScanOut(t *testing.T) {
	e := newEnv(t, false)
	e.loadOrders()
	k := e.client().signIn("K1", "1111", "PACK-01")
	for _, code := range []string{"ZT1000000002", "6970000000019", "ZT1000000002"} {
		k.scan("pack", code)
	}
	tmp := e.client().badge("BADGE-T1")
	st, m, _ := tmp.do("POST", "/api/action", map[string]string{"scan_id": sid(), "kind": "handover_open", "handover_id": "CAGE-ZTO-1"})
	if st != 200 || m["handover_id"] != "CAGE-ZTO-1" {
		t.Fatalf("open: %d %v", st, m)
	}
	if v := tmp.scan("handover", "ZT1000000001"); v.OK || v.Reason != "not_verified" {
		t.Fatalf("unverified parcel: %+v", v)
	}
	if v := tmp.scan("handover", "ZT1000000002"); !v.OK || v.Count != 1 {
		t.Fatalf("verified parcel: %+v", v)
	}
	if v := tmp.scan("handover", "ZT1000000002"); v.OK {
		t.Fatalf("twice: %+v", v)
	}
	// A temp cannot close the cage; a packer at that station can.
	if st, _, _ := tmp.do("POST", "/api/action", map[string]string{"scan_id": sid(), "kind": "handover_close"}); st != 403 {
		t.Fatalf("temp close: %d", st)
	}
	evs := events(t, e.st)
	if countType(evs, wire.EventParcelHandedOver) != 1 {
		t.Fatal("parcel.handed_over missing")
	}
	for _, ev := range evs {
		if ev.Type == wire.EventParcelHandedOver && (ev.WaybillNo != "ZT1000000002" || !strings.Contains(string(ev.Data), "CAGE-ZTO-1")) {
			t.Fatalf("handed over event: %+v %s", ev, ev.Data)
		}
	}
}

func TestPickFlow(t *testing.T) {
	e := newEnv(t, false)
	e.loadOrders()
	p := e.client().signIn("P1", "2222", "")
	_, _, raw := p.do("GET", "/api/picklist", nil)
	var tasks []ui.PickTask
	json.Unmarshal(raw, &tasks)
	if len(tasks) != 5 || tasks[0].OrderID != "O-2" || !tasks[0].Urgent || tasks[1].OrderID != "O-1" {
		t.Fatalf("pick list order (urgent, then promised time, then location): %s", raw)
	}
	st, m, _ := p.do("POST", "/api/action", map[string]string{"scan_id": sid(), "kind": "pick_start", "order_id": "O-1"})
	if st != 200 || m["next"] != "location" || m["location"] != "A-03-2-07" {
		t.Fatalf("start: %d %v", st, m)
	}
	for i, s := range []struct {
		code string
		ok   bool
		next string
	}{
		{"Z-99-9-99", false, "location"}, // no line of this order there
		{"A-03-2-07", true, "item"},
		{"6971234567888", true, "item"},
		{"6971234567888", true, "location"},
		{"B-01-1-01", true, "item"},
		{"6971234567895", true, "order"},
	} {
		v := p.scan("pick", s.code)
		if v.OK != s.ok || v.Next != s.next {
			t.Fatalf("pick step %d %s: %+v", i, s.code, v)
		}
	}
	evs := events(t, e.st)
	if countType(evs, wire.EventPickStarted) != 1 || countType(evs, wire.EventPickCompleted) != 1 {
		t.Fatal("pick events missing")
	}
}

func TestExceptionAndTimedStep(t *testing.T) {
	e := newEnv(t, false)
	e.loadOrders()
	tmp := e.client().badge("BADGE-T1")
	st, m, _ := tmp.do("POST", "/api/exception", map[string]string{"scan_id": sid(), "category": "gift_missing", "text": "赠品围兜缺货", "order_id": "O-1"})
	if st != 200 || m["ok"] != true {
		t.Fatalf("exception: %d %v", st, m)
	}
	if st, m, _ := tmp.do("POST", "/api/exception", map[string]string{"scan_id": sid(), "category": "bored"}); st != 400 {
		t.Fatalf("bad category: %d %v", st, m)
	}
	k := e.client().signIn("K1", "1111", "PACK-01")
	if st, m, _ := k.do("POST", "/api/step", map[string]string{"scan_id": sid(), "step": "gift_check", "phase": "end", "code": "ZT1000000001"}); st != 409 {
		t.Fatalf("end before start: %d %v", st, m)
	}
	k.do("POST", "/api/step", map[string]string{"scan_id": sid(), "step": "gift_check", "phase": "start", "code": "ZT1000000001"})
	e.clk.Add(42 * time.Second)
	st, m, _ = k.do("POST", "/api/step", map[string]string{"scan_id": sid(), "step": "gift_check", "phase": "end", "code": "ZT1000000001"})
	if st != 200 || m["duration_ms"].(float64) != 42000 || m["order_id"] != "O-1" {
		t.Fatalf("step end: %d %v", st, m)
	}
	evs := events(t, e.st)
	if countType(evs, wire.EventExceptionReported) != 1 || countType(evs, wire.EventStepTimed) != 1 {
		t.Fatal("events missing")
	}
}

func TestReprint(t *testing.T) {
	e := newEnv(t, true)
	e.loadOrders()
	k := e.client().signIn("K1", "1111", "PACK-01")
	req := func(code, pin, reason string) (int, map[string]any) {
		st, m, _ := k.do("POST", "/api/reprint", map[string]string{"order_id": "O-1", "reason": reason, "manager_code": code, "manager_pin": pin})
		return st, m
	}
	if st, m := req("M1", "9000", " "); st != 400 {
		t.Fatalf("no reason: %d %v", st, m)
	}
	if st, m := req("M1", "1234", "面单卡纸"); st != 401 || !strings.Contains(m["msg_zh"].(string), "还可尝试") {
		t.Fatalf("wrong manager PIN: %d %v", st, m)
	}
	if st, m := req("K1", "1111", "面单卡纸"); st != 403 || m["error"] != "not_manager" {
		t.Fatalf("packer authorising: %d %v", st, m)
	}
	st, m := req("M1", "9000", "面单卡纸")
	if st != 200 || m["authorized_by"] != "M1" {
		t.Fatalf("reprint: %d %v", st, m)
	}
	evs := events(t, e.st)
	if countType(evs, wire.EventWaybillReprinted) != 1 {
		t.Fatal("waybill.reprinted missing")
	}
	st, _, raw := k.do("GET", "/api/preview/O-1", nil)
	if st != 200 || !strings.HasPrefix(string(raw), "\x89PNG") {
		t.Fatalf("preview: %d", st)
	}
	// Without a printer the UI says so.
	e2 := newEnv(t, false)
	k2 := e2.client().signIn("K1", "1111", "PACK-01")
	if st, m, _ := k2.do("GET", "/api/printers", nil); st != 200 || m["available"] != false {
		t.Fatalf("no printer: %d %v", st, m)
	}
	if st, m, _ := k2.do("POST", "/api/reprint", map[string]string{"order_id": "O-1", "reason": "x", "manager_code": "M1", "manager_pin": "9000"}); st != 503 || m["error"] != "no_printer" {
		t.Fatalf("reprint without printer: %d %v", st, m)
	}
}

func TestOperatorsCRUD(t *testing.T) {
	e := newEnv(t, false)
	m := e.client().signIn("M1", "9000", "")
	st, r, _ := m.do("POST", "/api/operators", map[string]string{"code": "W7", "name": "新人", "role": "temp", "badge": "BADGE-W7"})
	if st != 201 || r["code"] != "W7" || r["has_badge"] != true {
		t.Fatalf("add: %d %v", st, r)
	}
	if st, r, _ := m.do("POST", "/api/operators", map[string]string{"code": "W7", "name": "x", "role": "temp", "badge": "BADGE-W8"}); st != 409 {
		t.Fatalf("duplicate: %d %v", st, r)
	}
	if st, r, _ := m.do("POST", "/api/operators", map[string]string{"code": "W8", "name": "x", "role": "boss", "pin": "1234"}); st != 400 {
		t.Fatalf("bad role: %d %v", st, r)
	}
	w7 := e.client().badge("BADGE-W7")
	if st, _, _ := m.do("POST", "/api/operators/W7/disable", map[string]string{}); st != 200 {
		t.Fatal(st)
	}
	if st, r, _ := w7.do("GET", "/api/me", nil); st != 403 || r["error"] != "disabled" {
		t.Fatalf("disabled operator's session: %d %v", st, r)
	}
	_, _, raw := m.do("GET", "/api/operators", nil)
	if strings.Contains(string(raw), "pin_hash") || strings.Contains(string(raw), "BADGE-") {
		t.Fatalf("secrets leak in the operator list: %s", raw)
	}
}

func TestManagerViews(t *testing.T) {
	e := newEnv(t, false)
	e.loadOrders()
	// One order through to handover for the spread, and a bad payload in quarantine.
	k := e.client().signIn("K1", "1111", "PACK-01")
	for _, code := range []string{"ZT1000000002", "6970000000019", "ZT1000000002"} {
		k.scan("pack", code)
	}
	k.scan("handover", "ZT1000000002")
	if err := e.st.Quarantine(wire.Quarantined{Topic: "oms/v1/wh/HZ01/feed", Reason: "not JSON", Raw: []byte("{oops")}); err != nil {
		t.Fatal(err)
	}
	m := e.client().signIn("M1", "9000", "")
	_, c, _ := m.do("GET", "/api/manager/counts", nil)
	if c["open"].(float64) != 5 || c["urgent"].(float64) != 1 || c["handed_over_today"].(float64) != 1 || c["quarantined"].(float64) != 1 {
		t.Fatalf("counts: %v", c)
	}
	_, _, raw := m.do("GET", "/api/manager/sla", nil)
	var alarms []ui.Alarm
	json.Unmarshal(raw, &alarms)
	kinds := map[string]bool{}
	for _, a := range alarms {
		kinds[a.Kind+":"+a.OrderID] = true
	}
	// O-1: paid 3 h ago, not picked, due in 30 min; O-4: paid 26 h ago.
	for _, want := range []string{"not_picked:O-1", "due_soon:O-1", "not_picked:O-4"} {
		if !kinds[want] {
			t.Fatalf("alarm %s missing: %s", want, raw)
		}
	}
	_, _, raw = m.do("GET", "/api/manager/heatmap", nil)
	var hm ui.HeatMap
	json.Unmarshal(raw, &hm)
	if len(hm.Zones) != 2 || hm.Zones[0] != "A" || hm.Over24h[0] != 1 {
		t.Fatalf("heat map: %s", raw)
	}
	_, sp, _ := m.do("GET", "/api/manager/spread", nil)
	if sp["orders"].(float64) != 1 || sp["median_min"].(float64) != 30 {
		t.Fatalf("spread: %v", sp)
	}
	_, _, raw = m.do("GET", "/api/manager/quarantine", nil)
	if !strings.Contains(string(raw), "{oops") {
		t.Fatalf("quarantine: %s", raw)
	}
	_, _, raw = m.do("GET", "/api/manager/audit?operator=K1", nil)
	var recs []store.AuditRecord
	json.Unmarshal(raw, &recs)
	if len(recs) < 3 {
		t.Fatalf("audit by operator: %s", raw)
	}
	_, _, raw = m.do("GET", "/api/manager/audit?order=O-2", nil)
	json.Unmarshal(raw, &recs)
	for _, r := range recs {
		if r.OrderID != "O-2" {
			t.Fatalf("audit by order returned %+v", r)
		}
	}
	_, s, _ := m.do("GET", "/api/manager/status", nil)
	if s["known"] != false || s["hub_link"].(map[string]any)["state"] != "unknown" {
		t.Fatalf("status without a Status: %v", s)
	}
}

// liveConn opens the websocket of a signed-in client.
func (c *client) live(t testing.TB, q string) *websocket.Conn {
	t.Helper()
	hdr := http.Header{"Origin": {c.e.http.URL}}
	for _, ck := range c.hc.Jar.Cookies(mustURL(c.e.http.URL)) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(c.e.http.URL, "http")+"/api/live"+q, hdr)
	if err != nil {
		t.Fatalf("live: %v %v", err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func next(t testing.TB, ws *websocket.Conn, typ string) live.Message {
	t.Helper()
	for {
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m live.Message
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m.Type == typ {
			return m
		}
	}
}

func TestUrgentPopupAckAndEscalation(t *testing.T) {
	e := newEnv(t, false)
	m1 := e.client().signIn("M1", "9000", "")
	m2 := e.client().signIn("M2", "9001", "")
	k := e.client().signIn("K1", "1111", "PACK-01")
	ws1, ws2, wsk := m1.live(t, ""), m2.live(t, ""), k.live(t, "")
	for _, ws := range []*websocket.Conn{ws1, ws2, wsk} {
		next(t, ws, live.TypeHello)
	}
	// An urgent notice for managers and an urgent order arrive from the hub.
	e.feed(wire.FeedMessage{Kind: wire.KindNotice, Notice: &wire.Notice{NoticeID: "N-3", Level: "urgent", Roles: []string{"manager"},
		Text: "18:00 前顺丰最后一班揽收"}})
	var p ui.Popup
	json.Unmarshal(next(t, ws1, live.TypeUrgent).Data, &p)
	if p.ID != "notice:N-3" || p.Escalated {
		t.Fatalf("popup: %+v", p)
	}
	next(t, ws2, live.TypeUrgent)
	_, _, raw := k.do("GET", "/api/urgent", nil)
	if strings.Contains(string(raw), "N-3") {
		t.Fatalf("a manager notice reached a packer: %s", raw)
	}
	// Unacknowledged for more than 5 minutes: pushed again, escalated, to every manager.
	e.clk.Add(6 * time.Minute)
	var esc ui.Popup
	for !esc.Escalated {
		ws1.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m live.Message
		if err := ws1.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
		if m.Type == live.TypeUrgent {
			json.Unmarshal(m.Data, &esc)
		}
	}
	if !esc.Escalated || esc.ID != "notice:N-3" {
		t.Fatalf("escalation: %+v", esc)
	}
	// M2 acknowledges: the ack event carries the latency, every page closes the popup.
	st, r, _ := m2.do("POST", "/api/urgent/ack", map[string]string{"id": "notice:N-3"})
	if st != 200 || r["already"] != false {
		t.Fatalf("ack: %d %v", st, r)
	}
	next(t, ws1, live.TypeAck)
	if st, r, _ := m1.do("POST", "/api/urgent/ack", map[string]string{"id": "notice:N-3"}); st != 200 || r["already"] != true {
		t.Fatalf("second ack: %d %v", st, r)
	}
	var ack wire.Event
	for _, ev := range events(t, e.st) {
		if ev.Type == wire.EventUrgentAcknowledged {
			ack = ev
		}
	}
	var d wire.UrgentAckData
	json.Unmarshal(ack.Data, &d)
	if d.LatencyMS != 6*60*1000 || d.Role != "manager" || d.NoticeID != "N-3" {
		t.Fatalf("urgent.acknowledged: %s", ack.Data)
	}
	if countType(events(t, e.st), wire.EventUrgentAcknowledged) != 1 {
		t.Fatal("acknowledged twice")
	}
}

func TestStationAndCategories(t *testing.T) {
	e := newEnv(t, false)
	p := e.client().signIn("P1", "2222", "")
	if st, m, _ := p.do("POST", "/api/station", map[string]string{"station": "bad station!"}); st != 400 {
		t.Fatalf("bad station: %d %v", st, m)
	}
	st, m, _ := p.do("POST", "/api/station", map[string]string{"station": "PDA-07"})
	if st != 200 || m["station"] != "PDA-07" {
		t.Fatalf("set station: %d %v", st, m)
	}
	if _, m, _ := p.do("GET", "/api/me", nil); m["station"] != "PDA-07" {
		t.Fatalf("station not kept: %v", m)
	}
	if _, m, _ := p.do("GET", "/api/session", nil); m["station"] != "PDA-07" || m["next"] != "order" {
		t.Fatalf("session: %v", m)
	}
	tmp := e.client().badge("BADGE-T1")
	if st, _, _ := tmp.do("POST", "/api/station", map[string]string{"station": "PACK-01"}); st != 403 {
		t.Fatalf("a temp cannot move station: %d", st)
	}
	_, _, raw := tmp.do("GET", "/api/exception/categories", nil)
	for _, c := range wire.ExceptionCategories {
		if !strings.Contains(string(raw), c) {
			t.Fatalf("categories %s missing %s", raw, c)
		}
	}
	if st, m, _ := p.do("GET", "/api/nope", nil); st != 404 || m["error"] != "not_found" {
		t.Fatalf("unknown endpoint: %d %v", st, m)
	}
}

func TestBenches(t *testing.T) {
	e := newEnv(t, false)
	e.loadOrders()
	k := e.client().signIn("K1", "1111", "PACK-01")
	k.scan("pack", "ZT1000000001")
	k.scan("pack", "6971234567888")
	m := e.client().signIn("M1", "9000", "")
	_, _, raw := m.do("GET", "/api/manager/benches", nil)
	var bs []ui.Bench
	json.Unmarshal(raw, &bs)
	if len(bs) != 1 || bs[0].Station != "PACK-01" || bs[0].OrderID != "O-1" || bs[0].Scanned != 1 || bs[0].Stuck {
		t.Fatalf("benches: %s", raw)
	}
	e.clk.Add(6 * time.Minute)
	_, _, raw = m.do("GET", "/api/manager/benches", nil)
	json.Unmarshal(raw, &bs)
	if !bs[0].Stuck || bs[0].IdleS != 360 {
		t.Fatalf("a bench idle 6 min with an order open is stuck: %s", raw)
	}
	if st, _, _ := k.do("GET", "/api/manager/benches", nil); st != 403 {
		t.Fatalf("packer reading benches: %d", st)
	}
}

// TestLiveClosedOnSignOutAndDisable: a page's websocket does not outlive its
// session or its operator.
func TestLiveClosedOnSignOutAndDisable(t *testing.T) {
	e := newEnv(t, false)
	k := e.client().signIn("K1", "1111", "PACK-01")
	k2 := e.client().signIn("K1", "1111", "PACK-01")
	p := e.client().signIn("P1", "2222", "")
	m := e.client().signIn("M1", "9000", "")
	wk, wk2, wp := k.live(t, ""), k2.live(t, ""), p.live(t, "")
	for _, ws := range []*websocket.Conn{wk, wk2, wp} {
		next(t, ws, live.TypeHello)
	}
	closed := func(ws *websocket.Conn) bool {
		ws.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			var msg live.Message
			if err := ws.ReadJSON(&msg); err != nil {
				return !errors.Is(err, os.ErrDeadlineExceeded)
			}
		}
	}
	k.do("POST", "/api/signout", map[string]string{})
	if !closed(wk) {
		t.Fatal("the signed-out page's websocket stayed open")
	}
	e.srv.Hub().Publish(live.TypeCounts, live.Audience{}, 1)
	wk2.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := wk2.ReadMessage(); err != nil {
		t.Fatalf("the operator's other session must stay: %v", err)
	}
	m.do("POST", "/api/operators/P1/disable", map[string]string{})
	if !closed(wp) {
		t.Fatal("a disabled operator's websocket stayed open")
	}
}
