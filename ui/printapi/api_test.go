package printapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockhand/dockhand/agent/people"
	"github.com/dockhand/dockhand/agent/printing"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/drivers/printertest"
	"github.com/dockhand/dockhand/ui/live"
)

const erpOrigin = "http://erp.example:8000"

// rig is the API over a real store, a real print queue and a real loopback
// TCP printer, served on a real listener.
type rig struct {
	t      *testing.T
	st     *store.Store
	q      *printing.Queue
	api    *API
	pr     *printertest.Printer
	srv    *httptest.Server
	dir    *people.Directory
	key    string            // an API key named "erp"
	tokens map[string]string // role → session token
	csrf   map[string]string
}

type rigOpts struct {
	lang    string
	keyFile string
	quiet   bool // log nothing (benchmarks)
}

func newRig(t testing.TB, o rigOpts) *rig {
	tt, _ := t.(*testing.T)
	if o.lang == "" {
		o.lang = "tspl"
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "d.db"), store.Options{Agent: "HZ01-A", Warehouse: "HZ01"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pr, err := printertest.Start()
	if err != nil {
		t.Fatal(err)
	}
	pr.SetPrintTime(5 * time.Millisecond)
	t.Cleanup(pr.Close)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	if o.quiet {
		log = slog.New(slog.DiscardHandler)
	}
	r := &rig{t: tt, st: st, pr: pr, tokens: map[string]string{}, csrf: map[string]string{}}
	var api *API
	q, err := printing.New(printing.Options{Store: st, Log: log, IdlePoll: 50 * time.Millisecond, ConfirmTimeout: 3 * time.Second,
		OnJob: func(j printing.Job) {
			if api != nil {
				api.JobChanged(j)
			}
		}},
		[]printing.PrinterConfig{{ID: "P1", URL: pr.URL(), Profile: label.Profile{Language: label.Language(o.lang), DPI: 203, WidthMM: 76, HeightMM: 130, GapMM: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	r.q = q
	r.dir = people.New(st, people.Options{Iterations: 1000})
	for _, op := range []people.NewOperator{
		{Code: "M1", Name: "主管", Role: people.RoleManager, PIN: "1234"},
		{Code: "W1", Name: "打包员", Role: people.RolePacker, PIN: "1234"},
		{Code: "T1", Name: "临时工", Role: people.RoleTemp, PIN: "1234"},
	} {
		if _, err := r.dir.Add(op, "test"); err != nil {
			t.Fatal(err)
		}
		ss, token, err := r.dir.SignInPIN("127.0.0.1", op.Code, op.PIN, "")
		if err != nil {
			t.Fatal(err)
		}
		r.tokens[string(op.Role)], r.csrf[string(op.Role)] = token, ss.CSRF
	}
	api, err = New(Options{Queue: q, Store: st, People: r.dir, AllowedOrigins: []string{erpOrigin}, KeyFile: o.keyFile, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	r.api = api
	if r.key, err = api.AddKey("erp", "M1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	r.srv = httptest.NewServer(api)
	t.Cleanup(func() { r.srv.Close(); api.Close(); cancel(); <-done })
	return r
}

// call makes a request; auth is "key", "key:<secret>", a role's session, or "".
func (r *rig) call(method, path, auth string, body any, hdr ...string) (int, map[string]any) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.srv.URL+path, rd)
	switch {
	case auth == "key":
		req.Header.Set(keyHeader, r.key)
	case strings.HasPrefix(auth, "key:"):
		req.Header.Set(keyHeader, strings.TrimPrefix(auth, "key:"))
	case auth != "":
		req.AddCookie(&http.Cookie{Name: cookieName, Value: r.tokens[auth]})
		req.Header.Set(csrfHeader, r.csrf[auth])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			r.t.Fatalf("%s %s: not JSON: %q", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

func rawLabelBytes(key string) string {
	return "SIZE 76 mm, 130 mm\r\nGAP 2 mm, 0 mm\r\nCLS\r\nTEXT 10,10,\"3\",0,1,1,\"RAW " + key + "\"\r\nPRINT 1,1\r\n"
}

func rawJob(key string) RawRequest {
	return RawRequest{Printer: "P1", Language: "tspl", DataB64: base64.StdEncoding.EncodeToString([]byte(rawLabelBytes(key))), ClientKey: key}
}

func TestPrinters(t *testing.T) {
	r := newRig(t, rigOpts{})
	code, out := r.call("GET", "/api/print/printers", "key", nil)
	if code != 200 {
		t.Fatalf("printers: %d %v", code, out)
	}
	ps := out["printers"].([]any)
	p := ps[0].(map[string]any)
	if len(ps) != 1 || p["id"] != "P1" || p["language"] != "tspl" || p["dpi"] != 203.0 || p["width_mm"] != 76.0 {
		t.Fatalf("printers = %v", ps)
	}
}

func TestAuthFailures(t *testing.T) {
	r := newRig(t, rigOpts{})
	revoked, err := r.api.AddKey("old", "M1")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.api.RevokeKey("old", "M1"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, auth string
		body                     any
		hdr                      []string
		status                   int
		code                     string
	}{
		{"no credentials", "GET", "/api/print/printers", "", nil, nil, 401, "unauthenticated"},
		{"bad key", "GET", "/api/print/printers", "key:dk_wrong", nil, nil, 401, "bad_key"},
		{"revoked key", "GET", "/api/print/printers", "key:" + revoked, nil, nil, 401, "bad_key"},
		{"bad key as bearer", "GET", "/api/print/printers", "", nil, []string{"Authorization", "Bearer dk_wrong"}, 401, "bad_key"},
		{"wrong origin", "POST", "/api/print/jobs/raw", "key", rawJob("o1"), []string{"Origin", "http://evil.example"}, 403, "bad_origin"},
		{"temp role", "GET", "/api/print/printers", "temp", nil, nil, 403, "forbidden"},
		{"temp role submits", "POST", "/api/print/jobs/raw", "temp", rawJob("t1"), nil, 403, "forbidden"},
		{"session without CSRF", "POST", "/api/print/jobs/raw", "", rawJob("c1"), []string{"Cookie", cookieName + "=" + r.tokens["packer"]}, 403, "bad_csrf"},
		{"signed-out session", "GET", "/api/print/printers", "", nil, []string{"Cookie", cookieName + "=nope"}, 401, "signed_out"},
		{"key may not resolve", "POST", "/api/print/jobs/PJ-0000000001/resolve", "key", map[string]string{"decision": "cancel"}, nil, 403, "forbidden"},
		{"packer may not resolve", "POST", "/api/print/jobs/PJ-0000000001/resolve", "packer", map[string]string{"decision": "cancel"}, nil, 403, "forbidden"},
		{"key may not manage keys", "GET", "/api/print/keys", "key", nil, nil, 403, "forbidden"},
		{"packer may not manage keys", "POST", "/api/print/keys", "packer", map[string]string{"name": "x"}, nil, 403, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := r.call(tt.method, tt.path, tt.auth, tt.body, tt.hdr...)
			if code != tt.status || out["error"] != tt.code {
				t.Fatalf("%d %v, want %d %s", code, out, tt.status, tt.code)
			}
			if out["msg_zh"] == "" || out["msg_en"] == "" {
				t.Fatalf("refusal without words: %v", out)
			}
		})
	}
	if r.pr.Labels() != 0 || len(r.pr.Data()) != 0 {
		t.Fatal("a refused request reached the printer")
	}
}

func TestCORS(t *testing.T) {
	r := newRig(t, rigOpts{})
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", r.srv.URL+"/api/print/jobs/raw", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-dockhand-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ok := pre(erpOrigin)
	if ok.StatusCode != 204 || ok.Header.Get("Access-Control-Allow-Origin") != erpOrigin ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), keyHeader) {
		t.Fatalf("preflight from an allowed origin: %d %v", ok.StatusCode, ok.Header)
	}
	bad := pre("http://evil.example")
	if bad.StatusCode != 403 || bad.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %d %v", bad.StatusCode, bad.Header)
	}
	// The actual request from the ERP's page carries the CORS header too.
	req, _ := http.NewRequest("GET", r.srv.URL+"/api/print/printers", nil)
	req.Header.Set("Origin", erpOrigin)
	req.Header.Set(keyHeader, r.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != erpOrigin {
		t.Fatalf("request from the ERP: %d %v", resp.StatusCode, resp.Header)
	}
	// The agent's own pages need no CORS header.
	code, _ := r.call("GET", "/api/print/printers", "packer", nil, "Origin", r.srv.URL)
	if code != 200 {
		t.Fatalf("same-origin page: %d", code)
	}
}

func TestRawJobIdempotent(t *testing.T) {
	r := newRig(t, rigOpts{})
	code, out := r.call("POST", "/api/print/jobs/raw?wait=5s", "key", rawJob("erp-42"))
	if code != 202 || out["state"] != printing.StatePrinted || out["confirmed"] != "printed" || out["client_key"] != "erp-42" {
		t.Fatalf("first submit: %d %v", code, out)
	}
	id := out["id"]
	// The ERP did not see the answer and sends the same job again.
	code, out = r.call("POST", "/api/print/jobs/raw", "key", rawJob("erp-42"))
	if code != 200 || out["id"] != id || out["duplicate"] != true {
		t.Fatalf("retried submit: %d %v", code, out)
	}
	if !r.pr.WaitLabels(1, 2*time.Second) || r.pr.Labels() != 1 {
		t.Fatalf("labels = %d, want exactly 1", r.pr.Labels())
	}
	// Client keys are per caller: the packer's "erp-42" is another job.
	code, out = r.call("POST", "/api/print/jobs/raw?wait=5s", "packer", rawJob("erp-42"))
	if code != 202 || out["id"] == id {
		t.Fatalf("another caller's key: %d %v", code, out)
	}
	if !r.pr.WaitLabels(2, 2*time.Second) {
		t.Fatalf("labels = %d, want 2", r.pr.Labels())
	}
}

func TestRawJobRefusals(t *testing.T) {
	r := newRig(t, rigOpts{})
	wrongLang := rawJob("")
	wrongLang.Language = "escpos"
	unknown := rawJob("")
	unknown.Printer = "P9"
	badB64 := rawJob("")
	badB64.DataB64 = "***"
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"wrong language", wrongLang, 400, "wrong_language"},
		{"unknown printer", unknown, 404, "unknown_printer"},
		{"bad base64", badB64, 400, "bad_request"},
		{"empty", RawRequest{Printer: "P1", Language: "tspl"}, 400, "bad_request"},
		{"unknown field", map[string]string{"printer": "P1", "lang": "tspl"}, 400, "bad_request"},
	}
	for _, tt := range tests {
		code, out := r.call("POST", "/api/print/jobs/raw", "key", tt.body)
		if code != tt.status || out["error"] != tt.code || out["msg_zh"] == "" {
			t.Errorf("%s: %d %v, want %d %s", tt.name, code, out, tt.status, tt.code)
		}
	}
}

func sampleDoc(no string) Document {
	return Document{WaybillNo: no, CarrierCode: "ZTO", CarrierName: "中通快递", SortCode: "351-W01 000", PackageCenter: "杭州转运中心",
		Receiver: Party{Name: "张三", Phone: "13800001234", Province: "浙江省", City: "杭州市", District: "西湖区", Address: "文三路 1 号"},
		Sender:   Party{Name: "李四", Phone: "057100000000", City: "上海市", Address: "仓库"},
		Items:    []Item{{Name: "刹车片", Qty: 2}}, Gifts: []Item{{Name: "围兜", Qty: 1}}}
}

func TestLayoutJobPrintOnce(t *testing.T) {
	r := newRig(t, rigOpts{})
	req := LayoutRequest{Printer: "P1", Waybill: sampleDoc("ZT7300001"), PrintOnce: true}
	code, out := r.call("POST", "/api/print/jobs/layout?wait=5s", "key", req)
	if code != 202 || out["state"] != printing.StatePrinted || out["kind"] != printing.KindLayout || out["waybill_no"] != "ZT7300001" {
		t.Fatalf("layout job: %d %v", code, out)
	}
	if !bytes.Contains(r.pr.Data(), []byte("ZT7300001")) || r.pr.Labels() != 1 {
		t.Fatalf("printer got %d labels: %q", r.pr.Labels(), r.pr.Data())
	}
	code, out = r.call("POST", "/api/print/jobs/layout", "key", req)
	if code != 409 || out["error"] != "already_printed" || !strings.Contains(out["msg_zh"].(string), "已打印") {
		t.Fatalf("second print of the waybill: %d %v", code, out)
	}
	bad := LayoutRequest{Printer: "P1", Waybill: Document{}}
	if code, out = r.call("POST", "/api/print/jobs/layout", "key", bad); code != 400 {
		t.Fatalf("layout without waybill number: %d %v", code, out)
	}
	if r.pr.Labels() != 1 {
		t.Fatalf("labels = %d after refusals, want 1", r.pr.Labels())
	}
}

func TestGetJob(t *testing.T) {
	r := newRig(t, rigOpts{})
	_, out := r.call("POST", "/api/print/jobs/raw?wait=5s", "key", rawJob("g1"))
	id := out["id"].(string)
	if code, got := r.call("GET", "/api/print/jobs/"+id, "key", nil); code != 200 || got["id"] != id || got["state"] != printing.StatePrinted {
		t.Fatalf("own job: %d %v", code, got)
	}
	if code, got := r.call("GET", "/api/print/jobs/"+id, "manager", nil); code != 200 || got["id"] != id {
		t.Fatalf("manager reads any job: %d %v", code, got)
	}
	if code, got := r.call("GET", "/api/print/jobs/"+id, "packer", nil); code != 404 {
		t.Fatalf("someone else's job: %d %v", code, got)
	}
	if code, got := r.call("GET", "/api/print/jobs/PJ-9999999999", "key", nil); code != 404 || got["error"] != "not_found" {
		t.Fatalf("unknown job: %d %v", code, got)
	}
}

func TestResolveUncertain(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.pr.DropAfter(30) // the cable is pulled in the middle of the job
	_, out := r.call("POST", "/api/print/jobs/raw?wait=5s", "key", rawJob("u1"))
	if out["state"] != printing.StateUncertain {
		t.Fatalf("job cut mid-send: %v", out)
	}
	id := out["id"].(string)
	if code, got := r.call("POST", "/api/print/jobs/"+id+"/resolve", "manager", map[string]string{"decision": "maybe"}); code != 400 || got["error"] != "bad_decision" {
		t.Fatalf("bad decision: %d %v", code, got)
	}
	code, got := r.call("POST", "/api/print/jobs/"+id+"/resolve", "manager", map[string]string{"decision": "cancel"})
	if code != 200 || got["state"] != printing.StateCancelled {
		t.Fatalf("manager cancels: %d %v", code, got)
	}
	if code, got = r.call("POST", "/api/print/jobs/"+id+"/resolve", "manager", map[string]string{"decision": "resend"}); code != 409 || got["error"] != "not_uncertain" {
		t.Fatalf("resolve a settled job: %d %v", code, got)
	}
}

func TestKeyManagement(t *testing.T) {
	dir := t.TempDir()
	kf := filepath.Join(dir, "keys")
	if err := os.WriteFile(kf, []byte("# initial keys\nwms dk_from_the_key_file_123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOpts{keyFile: kf})
	if code, _ := r.call("GET", "/api/print/printers", "key:dk_from_the_key_file_123", nil); code != 200 {
		t.Fatalf("key from the key file: %d", code)
	}
	code, out := r.call("POST", "/api/print/keys", "manager", map[string]string{"name": "kingdee"})
	if code != 201 || !strings.HasPrefix(out["key"].(string), keyPrefix) {
		t.Fatalf("add key: %d %v", code, out)
	}
	secret := out["key"].(string)
	if code, _ := r.call("GET", "/api/print/printers", "key:"+secret, nil); code != 200 {
		t.Fatalf("new key: %d", code)
	}
	if code, out := r.call("POST", "/api/print/keys", "manager", map[string]string{"name": "kingdee"}); code != 409 {
		t.Fatalf("duplicate name: %d %v", code, out)
	}
	code, out = r.call("GET", "/api/print/keys", "manager", nil)
	if code != 200 || len(out["keys"].([]any)) != 3 || strings.Contains(strings.Join(keysJSON(out), ""), secret) {
		t.Fatalf("list keys: %d %v", code, out)
	}
	if code, _ := r.call("POST", "/api/print/keys/kingdee/revoke", "manager", nil); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if code, _ := r.call("GET", "/api/print/printers", "key:"+secret, nil); code != 401 {
		t.Fatalf("revoked key still works: %d", code)
	}
	// Only hashes are stored.
	raw, _ := os.ReadFile(r.st.Path())
	if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte("dk_from_the_key_file_123")) {
		t.Fatal("a key secret is stored in clear")
	}
}

func keysJSON(v any) []string {
	b, _ := json.Marshal(v)
	return []string{string(b)}
}

// dial opens the job websocket with the rig's key.
func (r *rig) dial(query string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(r.srv.URL, "http") + "/api/print/ws" + query
	return websocket.DefaultDialer.Dial(u, hdr)
}

func readMsg(t *testing.T, c *websocket.Conn) live.Message {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m live.Message
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read websocket: %v", err)
	}
	return m
}

func TestJobOutcomeOverWebsocket(t *testing.T) {
	r := newRig(t, rigOpts{})
	c, _, err := r.dial("", http.Header{keyHeader: {r.key}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if m := readMsg(t, c); m.Type != live.TypeHello {
		t.Fatalf("first message %v", m)
	}
	// Someone else's job is not shown to this caller.
	r.call("POST", "/api/print/jobs/raw?wait=5s", "packer", rawJob("other"))
	_, out := r.call("POST", "/api/print/jobs/raw", "key", rawJob("ws1"))
	id := out["id"].(string)
	var states []string
	var ids []uint64
	for len(states) == 0 || states[len(states)-1] != printing.StatePrinted {
		m := readMsg(t, c)
		var v View
		if err := json.Unmarshal(m.Data, &v); err != nil || m.Type != TypeJob {
			t.Fatalf("message %+v: %v", m, err)
		}
		if v.ID != id {
			t.Fatalf("got another caller's job %s", v.ID)
		}
		if len(ids) > 0 && m.ID <= ids[len(ids)-1] {
			t.Fatalf("ids do not grow: %v then %d", ids, m.ID)
		}
		states, ids = append(states, v.State), append(ids, m.ID)
		if v.State == printing.StatePrinted && v.Confirmed != "printed" {
			t.Fatalf("printed without confirmation level: %+v", v)
		}
	}
	if states[0] != printing.StateQueued && states[0] != printing.StateSending {
		t.Fatalf("states %v", states)
	}
	c.Close()
	// A page that lost the connection after the first message resumes.
	c2, _, err := r.dial("?since="+itoa(ids[0]), http.Header{keyHeader: {r.key}})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if m := readMsg(t, c2); m.Type != live.TypeHello {
		t.Fatalf("first message after resume %v", m)
	}
	for _, want := range ids[1:] {
		if m := readMsg(t, c2); m.ID != want {
			t.Fatalf("resumed message id %d, want %d", m.ID, want)
		}
	}
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }

func TestWebsocketAuth(t *testing.T) {
	r := newRig(t, rigOpts{})
	if _, resp, err := r.dial("", nil); err == nil || resp.StatusCode != 401 {
		t.Fatalf("websocket without credentials: %v %v", err, resp)
	}
	if _, resp, err := r.dial("", http.Header{keyHeader: {r.key}, "Origin": {"http://evil.example"}}); err == nil || resp.StatusCode != 403 {
		t.Fatalf("websocket from another origin: %v %v", err, resp)
	}
	// A browser page gets a one-time ticket with its key.
	code, out := r.call("POST", "/api/print/ws/ticket", "key", nil, "Origin", erpOrigin)
	if code != 200 {
		t.Fatalf("ticket: %d %v", code, out)
	}
	tk := out["ticket"].(string)
	c, _, err := r.dial("?ticket="+tk, http.Header{"Origin": {erpOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, resp, err := r.dial("?ticket="+tk, http.Header{"Origin": {erpOrigin}}); err == nil || resp.StatusCode != 401 {
		t.Fatalf("ticket used twice: %v %v", err, resp)
	}
	// A signed-in page of the agent uses its session.
	c, _, err = r.dial("", http.Header{"Cookie": {cookieName + "=" + r.tokens["packer"]}, "Origin": {r.srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestHeldOverWebsocket: a job waiting for paper is pushed as held with the
// reason, then as printed once paper is loaded.
func TestHeldOverWebsocket(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.pr.SetPaperOut(true)
	deadline := time.Now().Add(5 * time.Second)
	for { // until the printer has reported it
		_, out := r.call("GET", "/api/print/printers", "key", nil)
		if out["printers"].([]any)[0].(map[string]any)["state"] == "paper_out" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the printer never reported paper out")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c, _, err := r.dial("", http.Header{keyHeader: {r.key}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readMsg(t, c) // hello
	r.call("POST", "/api/print/jobs/raw", "key", rawJob("h1"))
	var v View
	for v.State != printing.StateHeld {
		if err := json.Unmarshal(readMsg(t, c).Data, &v); err != nil {
			t.Fatal(err)
		}
		if v.State == printing.StatePrinted {
			t.Fatal("printed while out of paper")
		}
	}
	if !strings.Contains(v.Detail, "缺纸") || !strings.Contains(v.Detail, "paper out") {
		t.Fatalf("held without the reason: %+v", v)
	}
	r.pr.SetPaperOut(false)
	for v.State != printing.StatePrinted {
		if err := json.Unmarshal(readMsg(t, c).Data, &v); err != nil {
			t.Fatal(err)
		}
	}
	if r.pr.Labels() != 1 {
		t.Fatalf("labels = %d", r.pr.Labels())
	}
}
