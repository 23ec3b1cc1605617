package ui_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzAPIRequest posts arbitrary bodies to every JSON endpoint a page can call:
// the server must never panic or fail with a 500, and every refusal must be JSON
// worded for an operator.
func FuzzAPIRequest(f *testing.F) {
	for _, s := range []string{
		`{"scan_id":"abcdefgh","mode":"pack","code":"ZT1000000001"}`,
		`{"scan_id":"abcdefgh2","mode":"pack","code":"6971234567888"}`,
		`{"scan_id":"abcdefgh3","mode":"handover","code":"ZT1000000002","handover_id":"CAGE-1"}`,
		`{"scan_id":"abcdefgh4","kind":"confirm_line","line_id":"2"}`,
		`{"scan_id":"abcdefgh5","category":"other","text":"x"}`,
		`{"scan_id":"abcdefgh6","step":"gift_check","phase":"start","code":"ZT1000000001"}`,
		`{"code":"M1","pin":"9000"}`, `{"badge":"\u0000"}`, `{"id":"notice:N-1"}`,
		`{"order_id":"O-1","reason":"卡纸","manager_code":"M1","manager_pin":"9000"}`,
		`{"code":"W9","name":"𠮷野家","role":"temp","badge":"BADGE-W9"}`,
		`{}`, `[`, `null`, `{"scan_id":1}`, `{"code":"` + strings.Repeat("9", 600) + `"}`, "\xff\xfe",
	} {
		for p := range uint8(8) {
			f.Add(p, []byte(s))
		}
	}
	e := newEnv(f, true)
	e.loadOrders()
	m := e.client().signIn("M1", "9000", "PACK-01")
	var cookie string
	for _, ck := range m.hc.Jar.Cookies(mustURL(e.http.URL)) {
		cookie = ck.Name + "=" + ck.Value
	}
	paths := []string{"/api/scan", "/api/action", "/api/exception", "/api/step", "/api/signin", "/api/urgent/ack", "/api/operators", "/api/reprint"}
	f.Fuzz(func(t *testing.T, p uint8, body []byte) {
		path := paths[int(p)%len(paths)]
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Origin", "http://example.com")
		req.Header.Set("Cookie", cookie)
		req.Header.Set("X-Dockhand-CSRF", m.csrf)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != 503 {
			t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 {
			var er struct {
				Error string `json:"error"`
				MsgZH string `json:"msg_zh"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &er); err != nil || er.Error == "" || er.MsgZH == "" {
				t.Fatalf("%s %q: refusal not worded for people: %d %s", path, body, rec.Code, rec.Body.String())
			}
		}
	})
}
