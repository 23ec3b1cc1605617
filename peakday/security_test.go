package peakday

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/mosqtest"
	"github.com/dockhand/dockhand/sync/wire"
)

func wsDial(f *floorFixture, api *API, origin string) (*websocket.Conn, int, error) {
	u := "ws" + strings.TrimPrefix(f.base, "http") + "/api/live"
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if api != nil {
		base, _ := url.Parse(f.base)
		var cs []string
		for _, c := range api.hc.Jar.Cookies(base) {
			cs = append(cs, c.Name+"="+c.Value)
		}
		h.Set("Cookie", strings.Join(cs, "; "))
	}
	d := websocket.Dialer{HandshakeTimeout: 3 * time.Second}
	c, resp, err := d.Dial(u, h)
	code := 0
	if resp != nil {
		code = resp.StatusCode
	}
	return c, code, err
}

func TestWebsocketOriginAndAuthentication(t *testing.T) {
	f := sharedFloor(t)
	f.addOperator(t, "WS01", "packer", "468024")
	api := NewAPI(f.base)
	if err := api.SignIn(context.Background(), "WS01", "468024", "PACK-01"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		api    *API
		origin string
		ok     bool
	}{
		{"no session", nil, f.base, false},
		{"foreign origin", api, "http://evil.example", false},
		{"look-alike origin", api, f.base + ".evil.example", false},
		{"null origin", api, "null", false},
		{"session and own origin", api, f.base, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, code, err := wsDial(f, c.api, c.origin)
			if c.ok {
				if err != nil {
					t.Fatalf("websocket refused (HTTP %d): %v", code, err)
				}
				conn.Close()
				return
			}
			if err == nil {
				conn.Close()
				t.Fatalf("websocket opened without a valid session and origin")
			}
			if code != http.StatusUnauthorized && code != http.StatusForbidden {
				t.Fatalf("refused with HTTP %d, want 401 or 403", code)
			}
		})
	}
}

func TestRoleEscalation(t *testing.T) {
	f := sharedFloor(t)
	ctx := context.Background()
	f.addOperator(t, "RE01", "packer", "579135")
	f.addOperator(t, "RE02", "temp", "680246")
	packer, temp := NewAPI(f.base), NewAPI(f.base)
	if err := packer.SignIn(ctx, "RE01", "579135", "PACK-01"); err != nil {
		t.Fatal(err)
	}
	if err := temp.SignIn(ctx, "RE02", "680246", ""); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name         string
		api          *API
		method, path string
		body         any
	}{
		{"packer adds a manager", packer, "POST", "/api/operators", map[string]string{"code": "EVIL1", "name": "x", "role": "manager", "pin": "111111"}},
		{"packer disables the manager", packer, "POST", "/api/operators/" + ManagerCode + "/disable", map[string]string{}},
		{"packer reads the audit", packer, "GET", "/api/manager/audit", nil},
		{"packer reads the operators", packer, "GET", "/api/operators", nil},
		{"temp packs", temp, "POST", "/api/scan", map[string]string{"scan_id": NewScanID(), "code": "123", "mode": "pack"}},
		{"temp reprints", temp, "POST", "/api/reprint", map[string]string{"order_id": "O-1", "reason": "x", "manager_code": "RE02", "manager_pin": "680246"}},
		{"temp picks", temp, "GET", "/api/picklist", nil},
		{"temp adds an operator", temp, "POST", "/api/operators", map[string]string{"code": "EVIL2", "name": "x", "role": "manager", "pin": "111111"}},
		{"packer reprints on own PIN", packer, "POST", "/api/reprint", map[string]string{"order_id": "O-1", "reason": "x", "manager_code": "RE01", "manager_pin": "579135"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.api.Do(ctx, c.method, c.path, c.body, nil)
			var ae *APIError
			if !errors.As(err, &ae) || (ae.Status != http.StatusForbidden && ae.Status != http.StatusUnauthorized) {
				t.Fatalf("got %v, want 403", err)
			}
		})
	}
	// A state change without the CSRF token, or from another origin, is refused too.
	noCSRF := *packer
	noCSRF.CSRF = ""
	if err := noCSRF.Do(ctx, "POST", "/api/scan", map[string]string{"scan_id": NewScanID(), "code": "123", "mode": "pack"}, nil); !isStatus(err, http.StatusForbidden) {
		t.Fatalf("scan without CSRF token: %v, want 403", err)
	}
	evil := *packer
	evil.Base = f.base
	req, _ := http.NewRequest("POST", f.base+"/api/scan", strings.NewReader(`{"scan_id":"s12345678","code":"1","mode":"pack"}`))
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("X-Dockhand-CSRF", packer.CSRF)
	resp, err := packer.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin scan with a stolen token: HTTP %d, want 403", resp.StatusCode)
	}
	// The operators list is unchanged: no EVIL account exists.
	var ops []map[string]any
	if err := f.mgr.Do(ctx, "GET", "/api/operators", nil, &ops); err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		if strings.HasPrefix(fmt.Sprint(o["code"]), "EVIL") {
			t.Fatalf("an escalation attempt created %v", o)
		}
	}
}

func isStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

func TestPINBruteForceThrottled(t *testing.T) {
	// Its own agent: the lock-out also covers the client address.
	f, err := startFloor(agentBinary(t), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	f.addOperator(t, "BF01", "packer", "913579")
	ctx := context.Background()
	var locked bool
	tries := 0
	for pin := 100000; pin < 100050 && !locked; pin++ {
		tries++
		err := NewAPI(f.base).SignIn(ctx, "BF01", fmt.Sprint(pin), "")
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Fatalf("wrong PIN %d: %v, want a refusal", pin, err)
		}
		if ae.Status == http.StatusTooManyRequests || ae.Code == "locked" {
			locked = true
		}
	}
	if !locked {
		t.Fatalf("%d wrong PINs in a row were never throttled", tries)
	}
	if tries > 10 {
		t.Fatalf("throttled only after %d wrong PINs", tries)
	}
	// While locked, even the right PIN is refused.
	if err := NewAPI(f.base).SignIn(ctx, "BF01", "913579", ""); err == nil {
		t.Fatal("the right PIN was accepted during the lock-out: the throttle can be walked around")
	}
	t.Logf("locked after %d wrong PINs", tries)
}

func TestOversizedAndMalformedHTTP(t *testing.T) {
	f := sharedFloor(t)
	pid := f.agent.PID()
	f.addOperator(t, "OV01", "packer", "246813")
	api := NewAPI(f.base)
	if err := api.SignIn(context.Background(), "OV01", "246813", "PACK-02"); err != nil {
		t.Fatal(err)
	}
	post := func(path string, body []byte, ctype string) (int, Verdict) {
		req, _ := http.NewRequest("POST", f.base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Origin", f.base)
		req.Header.Set("X-Dockhand-CSRF", api.CSRF)
		resp, err := api.hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer resp.Body.Close()
		var v Verdict
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	big := bytes.Repeat([]byte("A"), 8<<20)
	cases := []struct {
		name, path string
		body       []byte
	}{
		// A 4xx refusal, or (for input that decodes to a harmless code) a refused verdict.
		{"8 MiB body", "/api/scan", append(append([]byte(`{"scan_id":"s123456789","mode":"pack","code":"`), big...), '"', '}')},
		{"8 MiB sign-in", "/api/signin", append(append([]byte(`{"code":"`), big...), '"', '}')},
		{"not JSON", "/api/scan", []byte("\x00\xff\xfe garbage")},
		{"wrong types", "/api/scan", []byte(`{"scan_id":1,"code":["x"],"mode":{}}`)},
		{"unknown field", "/api/scan", []byte(`{"scan_id":"s123456789","code":"1","mode":"pack","role":"manager"}`)},
		{"deep nesting", "/api/action", bytes.Repeat([]byte("["), 100000)},
		{"overlong code", "/api/scan", []byte(`{"scan_id":"s123456789","mode":"pack","code":"` + strings.Repeat("9", 4000) + `"}`)},
		{"bad scan id", "/api/scan", []byte(`{"scan_id":"../../etc","mode":"pack","code":"1"}`)},
		{"invalid UTF-8 code", "/api/scan", []byte("{\"scan_id\":\"s123456789\",\"mode\":\"pack\",\"code\":\"\xff\xfe\"}")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, v := post(c.path, c.body, "application/json")
			switch {
			case st == http.StatusOK && !v.OK:
			case st >= 400 && st < 500:
			default:
				t.Fatalf("HTTP %d ok=%v, want a 4xx refusal or a refused verdict", st, v.OK)
			}
		})
	}
	f.healthy(t, pid)
}

func TestOversizedWebsocketMessage(t *testing.T) {
	f := sharedFloor(t)
	pid := f.agent.PID()
	f.addOperator(t, "OW01", "packer", "135792")
	api := NewAPI(f.base)
	if err := api.SignIn(context.Background(), "OW01", "135792", "PACK-03"); err != nil {
		t.Fatal(err)
	}
	conn, _, err := wsDial(f, api, f.base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), 1<<20))
	_ = conn.WriteMessage(websocket.BinaryMessage, []byte{0xff, 0x00, 0x13})
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	closed := false
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			var ne interface{ Timeout() bool }
			closed = !(errors.As(err, &ne) && ne.Timeout())
			break
		}
	}
	if !closed {
		t.Fatal("the server kept a connection that sent a 1 MiB message")
	}
	f.healthy(t, pid)
}

func TestMalformedAndOversizedMQTT(t *testing.T) {
	f := sharedFloor(t)
	pid := f.agent.PID()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Garbage without a seq comes from a rogue publisher on the feed topic: the hub
	// would never give it a seq.
	rogue, err := hublink.Connect(ctx, hublink.ClientConfig{Broker: f.broker.URL(), ClientID: "rogue-" + NewScanID(), CleanSession: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]byte{[]byte("\x00\x01garbage{"), []byte(`[1,2,3]`), []byte(`{"seq":"1"}`), bytes.Repeat([]byte("{"), 2<<20)} {
		if err := rogue.PublishWait(ctx, "oms/v1/wh/"+Warehouse+"/feed", false, p); err != nil {
			t.Fatalf("rogue publish: %v", err)
		}
	}
	rogue.Close(0)
	payloads := map[string]func(seq uint64) []byte{
		"wrong types": func(seq uint64) []byte {
			return []byte(fmt.Sprintf(`{"seq":%d,"kind":"order.upsert","at":"x","order":"nope"}`, seq))
		},
		"missing fields": func(seq uint64) []byte {
			return []byte(fmt.Sprintf(`{"seq":%d,"kind":"order.upsert","at":"2026-01-28T10:00:00.000+08:00","order":{}}`, seq))
		},
		"1.5 MiB payload": func(seq uint64) []byte {
			return []byte(fmt.Sprintf(`{"seq":%d,"kind":"notice","pad":"%s"}`, seq, strings.Repeat("p", 3<<19)))
		},
		"invalid UTF-8": func(seq uint64) []byte {
			return []byte(fmt.Sprintf("{\"seq\":%d,\"kind\":\"notice\",\"notice\":{\"notice_id\":\"\xff\",\"text\":\"\xfe\"}}", seq))
		},
		"unknown kind": func(seq uint64) []byte {
			return []byte(fmt.Sprintf(`{"seq":%d,"kind":"teleport","at":"2026-01-28T10:00:00.000+08:00"}`, seq))
		},
	}
	var last uint64
	published := time.Now()
	for name, build := range payloads {
		seq, err := f.hub.PublishRaw(build)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		last = seq
	}
	// A valid order after the bad ones must still be applied: the feed never stalls.
	seq, err := f.hub.PublishMsg(wire.FeedMessage{Kind: wire.KindNotice, Notice: &wire.Notice{NoticeID: "N-AFTER", Level: "info", Text: "ok"}})
	if err != nil {
		t.Fatal(err)
	}
	last = max(last, seq)
	for {
		h, err := GetHealth(ctx, &http.Client{Timeout: time.Second}, f.base)
		if err == nil && h.FeedSeq >= last {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the feed stalled before seq %d (agent at %d): bad input must be quarantined and consumed", last, h.FeedSeq)
		}
		if os.Getenv("PEAKDAY_DEBUG") != "" && time.Since(published) > 3*time.Second {
			b, _ := os.ReadFile(f.agent.LogFile)
			t.Logf("agent at %d of %d after %s:\n%s", h.FeedSeq, last, time.Since(published), tail(string(b), 3000))
			os.Setenv("PEAKDAY_DEBUG", "")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the agent consumed the bad feed in %s", time.Since(published).Round(time.Millisecond))
	var q []map[string]any
	if err := f.mgr.Do(ctx, "GET", "/api/manager/quarantine", nil, &q); err != nil {
		t.Fatalf("quarantine list: %v", err)
	}
	if len(q) < 6 {
		t.Fatalf("%d messages quarantined, want the bad ones kept for a person (at least 6)", len(q))
	}
	f.healthy(t, pid)
}

func TestSerialGarbage(t *testing.T) {
	f := sharedFloor(t)
	pid := f.agent.PID()
	inputs := [][]byte{
		bytes.Repeat([]byte{0xff, 0x00, 0x1b, 0x7f}, 4096),
		bytes.Repeat([]byte("9"), 200_000), // no terminator at all
		[]byte("\r\r\r\n\n\t\r"),
		append([]byte("\x1b[31m"), []byte("\xe4\xb8\r")...),
	}
	for _, in := range inputs {
		if _, err := f.pty.Write(in); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = f.pty.Write([]byte("\r"))
	time.Sleep(300 * time.Millisecond)
	f.healthy(t, pid)
	// The scanner still works after the garbage: a scan gets a verdict on the station's screen.
	f.addOperator(t, "SG01", "packer", "864297")
	api := NewAPI(f.base)
	if err := api.SignIn(context.Background(), "SG01", "864297", "PACK-01"); err != nil {
		t.Fatal(err)
	}
	feed := newVerdictFeed(api)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go feed.run(ctx)
	sc := &SerialScanner{pty: f.pty, verdicts: feed.sub("PACK-01"), wait: 5 * time.Second}
	var v Verdict
	var err error
	for range 10 { // until the websocket is up
		if v, err = sc.Scan(ctx, "", "", "UNKNOWN-CODE-1"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("no verdict for a scan after the garbage: %v", err)
	}
	if v.OK {
		t.Fatalf("an unknown code was accepted: %+v", v)
	}
	// The scan socket refuses a malformed line with an error and keeps serving.
	c := &SocketClient{Path: f.sock}
	defer c.Close()
	if _, err := c.Scan(ctx, "", "", "x"); err == nil {
		t.Fatal("a scan without a station was accepted on the scan socket")
	}
	if v, err := c.Scan(ctx, "PACK-02", "P1", "UNKNOWN-CODE-2"); err != nil || v.OK {
		t.Fatalf("scan socket after a bad line: %+v %v", v, err)
	}
	f.healthy(t, pid)
}

func TestSecretFileModesFromPackaging(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to chown in a scratch root")
	}
	for _, tool := range []string{"useradd", "groupadd", "usermod"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (package passwd)", tool)
		}
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	R := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(R, "etc/dockhand"), 0o755))
	must(os.WriteFile(filepath.Join(R, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644))
	must(os.WriteFile(filepath.Join(R, "etc/shadow"), []byte("root:*:19000:0:99999:7:::\n"), 0o640))
	must(os.WriteFile(filepath.Join(R, "etc/group"), []byte("root:x:0:\nlp:x:7:\ndialout:x:20:\nplugdev:x:46:\n"), 0o644))
	must(os.WriteFile(filepath.Join(R, "etc/gshadow"), []byte("root:*::\nlp:*::\ndialout:*::\nplugdev:*::\n"), 0o640))
	// An administrator dropped the secrets in with a careless umask.
	secrets := []string{"broker-password", "agent.key", "dockhand.yaml"}
	for _, s := range secrets {
		must(os.WriteFile(filepath.Join(R, "etc/dockhand", s), []byte("secret\n"), 0o644))
	}
	unit, err := os.ReadFile(filepath.Join(root, "packaging/linux/dockhand.service"))
	must(err)
	must(os.MkdirAll(filepath.Join(R, "lib/systemd/system"), 0o755))
	must(os.WriteFile(filepath.Join(R, "lib/systemd/system/dockhand.service"), unit, 0o644))
	cmd := exec.Command("sh", filepath.Join(root, "packaging/linux/debian/postinst"), "configure")
	cmd.Env = append(os.Environ(), "DPKG_ROOT="+R)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("postinst: %v\n%s", err, out)
	}
	check := func(path string, want os.FileMode) {
		t.Helper()
		st, err := os.Stat(filepath.Join(R, path))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s is %v, want %v", path, st.Mode().Perm(), want)
		}
		if st.Mode().Perm()&0o007 != 0 {
			t.Errorf("%s is readable by everyone (%v)", path, st.Mode().Perm())
		}
	}
	check("etc/dockhand", 0o750)
	for _, s := range secrets {
		check("etc/dockhand/"+s, 0o640)
	}
	check("var/lib/dockhand", 0o750)
}

func TestWorldReadablePasswordFile(t *testing.T) {
	bin := agentBinary(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "broker-password")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pw, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := startFloor(bin, "  username: HZ01-A\n  password_file: "+pw+"\n", nil)
	if err != nil {
		// Refusing to start is an accepted answer if it says why.
		if strings.Contains(err.Error(), "password") {
			t.Logf("the agent refuses a world-readable password file: %v", err)
			return
		}
		t.Fatal(err)
	}
	defer f.close()
	time.Sleep(300 * time.Millisecond)
	b, _ := os.ReadFile(f.agent.LogFile)
	log := string(b)
	if strings.Contains(log, "s3cret") {
		t.Fatal("the broker password is in the agent's log")
	}
	if strings.Contains(log, "password_file") && (strings.Contains(log, "readable") || strings.Contains(log, "0644") || strings.Contains(log, "-rw-r--r--")) {
		return
	}
	t.Skip("the agent neither refuses nor warns about a world-readable hub.password_file (not implemented yet; reported in docs/peakday)")
}

func TestBrokerTLSVerified(t *testing.T) {
	bin := agentBinary(t)
	dir := t.TempDir()
	certs, err := mosqtest.NewCerts(dir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	status := func(f *floorFixture) bool {
		got := make(chan struct{}, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
		defer cancel()
		c, err := hublink.Connect(ctx, hublink.ClientConfig{Broker: f.broker.URL(), ClientID: "peakday-watch-" + NewScanID(), CleanSession: true,
			TLS: hublink.TLSConfig{CAFile: certs.CAFile}, OnMessage: func(topic string, p []byte) {
				var st struct {
					State string `json:"state"`
				}
				if json.Unmarshal(p, &st) == nil && st.State == "online" {
					select {
					case got <- struct{}{}:
					default:
					}
				}
			}})
		if err != nil {
			t.Fatalf("watcher: %v", err)
		}
		defer c.Close(0)
		if err := c.Subscribe(ctx, "oms/v1/wh/"+Warehouse+"/agents/"+AgentID+"/status"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
			return true
		case <-ctx.Done():
			return false
		}
	}
	t.Run("self-signed broker without the CA is refused", func(t *testing.T) {
		f, err := startFloor(bin, "", certs)
		if err != nil {
			t.Fatal(err)
		}
		defer f.close()
		if status(f) {
			t.Fatal("the agent connected to a broker whose certificate it cannot verify")
		}
		b, _ := os.ReadFile(f.agent.LogFile)
		if !strings.Contains(string(b), "certificate") {
			t.Errorf("the agent's log does not say the certificate was refused:\n%s", tail(string(b), 2000))
		}
	})
	t.Run("with the CA it connects", func(t *testing.T) {
		f, err := startFloor(bin, "  tls:\n    ca_file: "+certs.CAFile+"\n", certs)
		if err != nil {
			t.Fatal(err)
		}
		defer f.close()
		if !status(f) {
			b, _ := os.ReadFile(f.agent.LogFile)
			t.Fatalf("the agent did not come online over verified TLS:\n%s", tail(string(b), 2000))
		}
	})
}
