package floor

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/codes"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/agent/urgent"
	"github.com/dockhand/dockhand/sync/wire"
)

var ctx = context.Background()

// clock is a settable test clock.
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

// rig is an engine on a real bbolt file.
type rig struct {
	t     testing.TB
	path  string
	s     *store.Store
	e     *Engine
	clock *clock
	seq   uint64
}

func newRig(t testing.TB) *rig {
	t.Helper()
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "dockhand.db"),
		clock: &clock{t: time.Date(2026, 1, 28, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))}}
	r.open()
	t.Cleanup(func() {
		if r.s == nil {
			return
		}
		r.checkOutbox()
		if err := r.s.Check(); err != nil {
			t.Errorf("store integrity: %v", err)
		}
		r.s.Close()
	})
	return r
}

func (r *rig) open() {
	r.t.Helper()
	// fsync adds nothing to these tests (restarts close the file cleanly);
	// the benchmarks keep it.
	s, err := store.Open(r.path, store.Options{Agent: "HZ01-A", Warehouse: "HZ01", Now: r.clock.Now, NoSync: true})
	if err != nil {
		r.t.Fatal(err)
	}
	r.s = s
	r.e = New(s, Options{Rules: urgent.DefaultRules()})
}

// restart closes the store and opens it again with a new engine, as after a
// power cut between two scans.
func (r *rig) restart() {
	r.t.Helper()
	if err := r.s.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.open()
}

// feed applies feed messages with the next seqs.
func (r *rig) feed(msgs ...wire.FeedMessage) {
	r.t.Helper()
	items := make([]wire.FeedItem, len(msgs))
	for i := range msgs {
		r.seq++
		msgs[i].Seq = r.seq
		msgs[i].At = wire.Time{Time: r.clock.Now()}
		items[i] = wire.FeedItem{Msg: &msgs[i]}
	}
	if _, err := r.s.ApplyFeed(items); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) orders(os ...*wire.Order) {
	r.t.Helper()
	var msgs []wire.FeedMessage
	for _, o := range os {
		if err := o.Validate(); err != nil {
			r.t.Fatalf("test order %s: %v", o.OrderID, err)
		}
		msgs = append(msgs, wire.FeedMessage{Kind: wire.KindOrderUpsert, Order: o})
	}
	r.feed(msgs...)
}

func (r *rig) hold(id, sku, batch string) {
	r.feed(wire.FeedMessage{Kind: wire.KindHoldSet, Hold: &wire.Hold{HoldID: id, SKU: sku, Batch: batch, Reason: "3次客诉"}})
}

func (r *rig) release(id string) {
	r.feed(wire.FeedMessage{Kind: wire.KindHoldRelease, Hold: &wire.Hold{HoldID: id}})
}

// scan scans and checks the verdict's OK and reason.
func (r *rig) scan(station, code string, wantReason string) Verdict {
	r.t.Helper()
	v, err := r.e.Scan(ctx, station, "W01", code, "")
	if err != nil {
		r.t.Fatalf("scan %q: %v", code, err)
	}
	r.expect(v, wantReason)
	return v
}

func (r *rig) expect(v Verdict, wantReason string) {
	r.t.Helper()
	if v.Reason != wantReason || v.OK != (wantReason == "") {
		r.t.Fatalf("verdict ok=%v reason=%q (%s), want reason %q", v.OK, v.Reason, v.Message.ZH, wantReason)
	}
	if v.Message.ZH == "" || v.Message.EN == "" {
		r.t.Fatalf("verdict without a message: %+v", v)
	}
}

// events returns every event in the outbox, decoded strictly as the hub does.
func (r *rig) events() []wire.Event {
	r.t.Helper()
	recs, err := r.s.OutboxAfter(0, 100000)
	if err != nil {
		r.t.Fatal(err)
	}
	out := make([]wire.Event, 0, len(recs))
	for _, rec := range recs {
		ev, err := wire.DecodeEvent(rec.Payload)
		if err != nil {
			r.t.Fatalf("event %d breaks the contract: %v\n%s", rec.Seq, err, rec.Payload)
		}
		out = append(out, ev)
	}
	return out
}

func (r *rig) checkOutbox() { r.events() }

// eventsOf returns the events of one type.
func (r *rig) eventsOf(typ string) []wire.Event {
	var out []wire.Event
	for _, ev := range r.events() {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func ean(body string) string { return body + string(codes.CheckDigit(body)) }

var (
	eanMiHu   = ean("697123456788") // 6971234567888
	eanBib    = ean("697123456790")
	eanBrake  = ean("695884120031")
	eanFilter = ean("695884120102")
	eanCatA   = ean("694112230050")
	eanCatB   = ean("694112230051")
	upcMilk   = ean("03600029145")   // UPC-A 036000291452
	caseMilk  = ean("1003600029145") // GTIN-14 of an inner pack
)

// order builds a released order with a waybill.
func order(id, waybill string, lines ...wire.Line) *wire.Order {
	o := &wire.Order{OrderID: id, Version: 1, Platform: "douyin", PlatformOrderNo: "DY" + id, Warehouse: "HZ01",
		Status: wire.StatusReleased, Priority: wire.PriorityNormal,
		Receiver: &wire.Party{Name: "张𠮷", Phone: "138****5678", Province: "浙江省", City: "杭州市", District: "西湖区", Address: "文三路1号"},
		Carrier:  &wire.Carrier{Code: "SF", Name: "顺丰速运", Service: "顺丰标快"}, Lines: lines}
	o.PaidAt = wire.Time{Time: time.Date(2026, 1, 28, 8, 0, 0, 0, time.UTC)}
	if waybill != "" {
		o.Waybill = &wire.Waybill{No: waybill, SortCode: "564-E10 31", PackageCenter: "杭州转运中心"}
	}
	for i := range o.Lines {
		if o.Lines[i].LineID == "" {
			o.Lines[i].LineID = string(rune('1' + i))
		}
	}
	return o
}

func line(sku, name string, qty int, barcodes ...string) wire.Line {
	if barcodes == nil {
		barcodes = []string{}
	}
	return wire.Line{SKU: sku, Name: name, Qty: qty, Barcodes: barcodes}
}
