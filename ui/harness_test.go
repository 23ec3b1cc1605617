package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"

	"github.com/dockhand/dockhand/agent/floor"
	"github.com/dockhand/dockhand/agent/people"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
	"github.com/dockhand/dockhand/ui"
)

// clock is a settable clock shared by the store, people and the UI.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// printing renders a real Code 128 PNG of the waybill number and records
// reprints as waybill.reprinted events in the store.
type printing struct {
	s     *store.Store
	state string
}

func (p *printing) Preview(ctx context.Context, orderID string) ([]byte, error) {
	var no string
	err := p.s.View(func(tx *store.Tx) error {
		r, err := tx.Order(orderID)
		if err != nil {
			return &ui.FloorError{Status: 404, Code: "not_found", ZH: "没有这一单", EN: "no such order"}
		}
		if r.Order.Waybill == nil {
			return &ui.FloorError{Status: 409, Code: "no_waybill", ZH: "还没有面单", EN: "no waybill yet"}
		}
		no = r.Order.Waybill.No
		return nil
	})
	if err != nil {
		return nil, err
	}
	bc, err := code128.Encode(no)
	if err != nil {
		return nil, err
	}
	img, err := barcode.Scale(bc, 480, 120)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = png.Encode(&buf, img)
	return buf.Bytes(), err
}

func (p *printing) Reprint(ctx context.Context, in ui.ReprintInput) (string, error) {
	job := ""
	err := p.s.Update(func(tx *store.Tx) error {
		r, err := tx.Order(in.OrderID)
		if err != nil || r.Order.Waybill == nil {
			return &ui.FloorError{Status: 404, Code: "not_found", ZH: "没有这一单的面单", EN: "no waybill for that order"}
		}
		n, err := tx.NextID("test_print_jobs")
		if err != nil {
			return err
		}
		job = fmt.Sprintf("J%d", n)
		ev := wire.Event{Type: wire.EventWaybillReprinted, OrderID: in.OrderID, WaybillNo: r.Order.Waybill.No,
			Station: wire.OptString(in.Station), Operator: wire.OptString(in.Operator)}
		ev.SetData(wire.WaybillReprintedData{Printer: "printer-" + in.Station, JobID: job, Reason: in.Reason, AuthorizedBy: in.AuthorizedBy})
		_, err = tx.AppendEvent(&ev)
		return err
	})
	return job, err
}

func (p *printing) Printers(ctx context.Context) ([]ui.PrinterState, error) {
	return []ui.PrinterState{{ID: "printer-PACK-01", Station: "PACK-01", State: p.state}}, nil
}

type env struct {
	// gate simulates Wi-Fi trouble between the page and the agent: 0 passes,
	// gateDown drops requests unanswered, gateLoseAnswer applies one scan and
	// then drops its answer.
	gate   atomic.Int32
	t      testing.TB
	clk    *clock
	st     *store.Store
	dir    *people.Directory
	srv    *ui.Server
	http   *httptest.Server
	floor  *ui.EngineFloor
	cancel context.CancelFunc
}

const (
	gateDown       = 1
	gateLoseAnswer = 2
)

func (e *env) gated() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode := e.gate.Load()
		if mode == gateLoseAnswer && r.URL.Path == "/api/scan" {
			e.gate.Store(0)
			e.srv.ServeHTTP(httptest.NewRecorder(), r)
			mode = gateDown
		}
		if mode == gateDown {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		e.srv.ServeHTTP(w, r)
	})
}

var t0 = time.Date(2026, 1, 28, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// newRealEnv is newEnv; the name says the engine is agent/floor's.
func newRealEnv(t testing.TB, withPrinter bool) *env { return newEnv(t, withPrinter) }

// newEnv runs the UI over a real store in t.TempDir(), agent/people and
// agent/floor's engine, behind a real TCP listener.
func newEnv(t testing.TB, withPrinter bool) *env {
	t.Helper()
	clk := &clock{t: t0}
	st, err := store.Open(filepath.Join(t.TempDir(), "dockhand.db"), store.Options{Agent: "HZ01-A", Warehouse: "HZ01", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	dir := people.New(st, people.Options{Now: clk.Now, Iterations: 1000})
	e := &env{t: t, clk: clk, st: st, dir: dir, floor: &ui.EngineFloor{E: floor.New(st, floor.Options{Now: clk.Now}), S: st}}
	opts := ui.Options{Store: st, People: dir, Floor: e.floor, Facts: e.floor, Now: clk.Now,
		Location: time.FixedZone("CST", 8*3600), EscalateAfter: 5 * time.Minute, EscalateEvery: 20 * time.Millisecond}
	if withPrinter {
		opts.Printing = &printing{s: st, state: "ready"}
	}
	e.srv = ui.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	done := make(chan struct{})
	go func() { e.srv.Run(ctx); close(done) }()
	e.http = httptest.NewServer(e.gated())
	t.Cleanup(func() {
		e.http.CloseClientConnections()
		e.http.Close()
		cancel()
		<-done
		if err := st.Check(); err != nil {
			t.Error(err)
		}
		st.Close()
	})
	for _, op := range []people.NewOperator{
		{Code: "M1", Name: "王主管", Role: people.RoleManager, PIN: "9000"},
		{Code: "M2", Name: "赵主管", Role: people.RoleManager, PIN: "9001"},
		{Code: "K1", Name: "李打包", Role: people.RolePacker, PIN: "1111", Badge: "BADGE-K1"},
		{Code: "P1", Name: "张拣货", Role: people.RolePicker, PIN: "2222"},
		{Code: "T1", Name: "临时工小陈", Role: people.RoleTemp, Badge: "BADGE-T1"},
	} {
		if _, err := dir.Add(op, "setup"); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func ts(t time.Time) *wire.Time { return &wire.Time{Time: t} }

// orders are the test's own warehouse: a gift order with tags, a no-barcode line,
// an urgent order, one intercepted after release, one without a waybill.
func testOrders(now time.Time) []wire.Order {
	rcv := &wire.Party{Name: "张伟", Phone: "138****5678", Province: "浙江省", City: "杭州市", District: "余杭区", Address: "仓前街道1号"}
	zto := &wire.Carrier{Code: "ZTO", Name: "中通快递"}
	return []wire.Order{
		{OrderID: "O-1", Version: 1, Platform: "douyin", PlatformOrderNo: "DY1", Warehouse: "HZ01", Status: "released", Priority: "normal",
			Tags: []string{"重点复核", "易碎"}, Receiver: rcv, Carrier: zto, Waybill: &wire.Waybill{No: "ZT1000000001", SortCode: "300-A1 02"},
			Lines: []wire.Line{
				{LineID: "1", SKU: "MH-01", Name: "有机米糊礼盒", Barcodes: []string{"6971234567888"}, Qty: 2, Location: "A-03-2-07"},
				{LineID: "2", SKU: "BIB-01", Name: "围兜", Barcodes: []string{"6971234567895"}, Qty: 1, Gift: true, Location: "B-01-1-01"},
			}, PaidAt: wire.Time{Time: now.Add(-3 * time.Hour)}, PromisedShipBy: ts(now.Add(30 * time.Minute))},
		{OrderID: "O-2", Version: 1, Platform: "taobao", PlatformOrderNo: "TB2", Warehouse: "HZ01", Status: "released", Priority: "urgent",
			PriorityReasons: []string{"remark:生日"}, Receiver: rcv, Carrier: zto, Waybill: &wire.Waybill{No: "ZT1000000002"},
			Lines:  []wire.Line{{LineID: "1", SKU: "CAR-01", Name: "刹车片", Barcodes: []string{"6970000000019"}, Qty: 1, Location: "C-01-1-01"}},
			PaidAt: wire.Time{Time: now.Add(-30 * time.Minute)}},
		{OrderID: "O-3", Version: 1, Platform: "jd", PlatformOrderNo: "JD3", Warehouse: "HZ01", Status: "released", Priority: "normal",
			Receiver: rcv, Carrier: zto, Waybill: &wire.Waybill{No: "ZT1000000003"},
			Lines: []wire.Line{{LineID: "1", SKU: "PET-01", Name: "猫粮 2kg", Barcodes: []string{"6970000000026"}, Qty: 1, Location: "A-01-1-01"},
				{LineID: "2", SKU: "BOX-01", Name: "散装猫砂铲", Barcodes: []string{}, Qty: 1, Location: "A-01-1-02"}},
			PaidAt: wire.Time{Time: now.Add(-time.Hour)}},
		{OrderID: "O-4", Version: 1, Platform: "pdd", PlatformOrderNo: "PDD4", Warehouse: "HZ01", Status: "released", Priority: "normal",
			Receiver: rcv, Carrier: zto, Waybill: &wire.Waybill{No: "ZT1000000004"},
			Lines:  []wire.Line{{LineID: "1", SKU: "MH-01", Name: "有机米糊礼盒", Barcodes: []string{"6971234567888"}, Qty: 1, Location: "A-03-2-07"}},
			PaidAt: wire.Time{Time: now.Add(-26 * time.Hour)}},
		{OrderID: "O-5", Version: 1, Platform: "tmall", PlatformOrderNo: "TM5", Warehouse: "HZ01", Status: "released", Priority: "normal",
			Receiver: rcv, Carrier: zto,
			Lines:  []wire.Line{{LineID: "1", SKU: "PET-01", Name: "猫粮 2kg", Barcodes: []string{"6970000000026"}, Qty: 1, Location: "A-01-1-01"}},
			PaidAt: wire.Time{Time: now.Add(-10 * time.Minute)}},
	}
}

// feed applies messages through the store's feed path, as the hub link does.
func (e *env) feed(msgs ...wire.FeedMessage) {
	e.t.Helper()
	cur, _ := e.st.LastFeedSeq()
	var items []wire.FeedItem
	for i := range msgs {
		m := msgs[i]
		m.Seq = cur + uint64(i) + 1
		m.At = wire.Time{Time: e.clk.Now()}
		items = append(items, wire.FeedItem{Msg: &m})
	}
	if _, err := e.st.ApplyFeed(items); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) loadOrders() {
	var msgs []wire.FeedMessage
	for _, o := range testOrders(e.clk.Now()) {
		o := o
		msgs = append(msgs, wire.FeedMessage{Kind: wire.KindOrderUpsert, Order: &o})
	}
	e.feed(msgs...)
}

// client is one browser: a cookie jar, the CSRF token, an Origin.
type client struct {
	e      *env
	hc     *http.Client
	csrf   string
	origin string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar}, origin: e.http.URL}
}

func (c *client) do(method, path string, body any) (int, map[string]any, []byte) {
	c.e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.e.http.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
	}
	if c.csrf != "" {
		req.Header.Set("X-Dockhand-CSRF", c.csrf)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(raw) > 0 && raw[0] == '{' {
		json.Unmarshal(raw, &m)
	}
	return resp.StatusCode, m, raw
}

func (c *client) signIn(code, pin, station string) *client {
	c.e.t.Helper()
	st, m, raw := c.do("POST", "/api/signin", map[string]string{"code": code, "pin": pin, "station": station})
	if st != 200 {
		c.e.t.Fatalf("sign in %s: %d %s", code, st, raw)
	}
	c.csrf = m["csrf"].(string)
	return c
}

func (c *client) badge(b string) *client {
	c.e.t.Helper()
	st, m, raw := c.do("POST", "/api/signin", map[string]string{"badge": b})
	if st != 200 {
		c.e.t.Fatalf("badge %s: %d %s", b, st, raw)
	}
	c.csrf = m["csrf"].(string)
	return c
}

var scanN int

func sid() string { scanN++; return fmt.Sprintf("scan-%08d", scanN) }

func (c *client) scan(mode, code string) ui.Verdict {
	c.e.t.Helper()
	st, _, raw := c.do("POST", "/api/scan", map[string]string{"scan_id": sid(), "mode": mode, "code": code})
	if st != 200 {
		c.e.t.Fatalf("scan %s %s: %d %s", mode, code, st, raw)
	}
	var v ui.Verdict
	json.Unmarshal(raw, &v)
	return v
}
