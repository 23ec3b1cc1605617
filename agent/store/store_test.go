package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dockhand/dockhand/sync/wire"
)

// openTest opens a store on a real file and checks the file's integrity when the
// test ends.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.Agent == "" {
		opts.Agent, opts.Warehouse = "HZ01-A", "HZ01"
	}
	s, err := Open(filepath.Join(t.TempDir(), "dockhand.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil {
			t.Errorf("integrity check: %v", err)
		}
		s.Close()
	})
	return s
}

func order(id string, version int64, status, waybill string, barcodes ...string) *wire.Order {
	o := &wire.Order{OrderID: id, Version: version, Platform: "douyin", PlatformOrderNo: "P" + id,
		Warehouse: "HZ01", Status: status, Priority: wire.PriorityNormal,
		Receiver: &wire.Party{Name: "𠮷田", Address: "九龙城区土瓜湾道1号"}, Carrier: &wire.Carrier{Code: "SF", Name: "顺丰"},
		Lines: []wire.Line{{LineID: "1", SKU: "SKU-" + id, Name: "米糊", Barcodes: barcodes, Qty: 1}}}
	o.PaidAt.Time = time.Date(2026, 1, 28, 9, 0, 0, 0, time.UTC)
	if waybill != "" {
		o.Waybill = &wire.Waybill{No: waybill}
	}
	return o
}

func upsert(seq uint64, o *wire.Order) wire.FeedItem {
	return wire.FeedItem{Msg: &wire.FeedMessage{Seq: seq, Kind: wire.KindOrderUpsert, Order: o}}
}

func TestApplyFeed(t *testing.T) {
	s := openTest(t, Options{})
	st, err := s.ApplyFeed([]wire.FeedItem{
		upsert(1, order("O-1", 1, wire.StatusReleased, "SF1", "6971234567888")),
		upsert(2, order("O-2", 1, wire.StatusReleased, "SF2", "06971234567888")),
		{Msg: &wire.FeedMessage{Seq: 3, Kind: wire.KindHoldSet, Hold: &wire.Hold{HoldID: "H-1", SKU: "SKU-O-1", Batch: "B1"}}},
		{Bad: &wire.Quarantined{Seq: 4, HasSeq: true, Topic: "t", Reason: "bad", Raw: []byte("{")}},
		{Msg: &wire.FeedMessage{Seq: 5, Kind: "pallet.moved"}},
		upsert(6, order("O-1", 1, wire.StatusIntercepted, "SF1")), // stale: same version
	})
	if err != nil {
		t.Fatal(err)
	}
	want := wire.ApplyStats{Applied: 3, Quarantined: 1, Unknown: 1, Stale: 1, LastSeq: 6}
	if st != want {
		t.Fatalf("stats = %+v, want %+v", st, want)
	}
	// Duplicates are skipped, a gap is refused and applies nothing.
	st, err = s.ApplyFeed([]wire.FeedItem{upsert(5, order("O-9", 1, wire.StatusReleased, ""))})
	if err != nil || st.Duplicates != 1 {
		t.Fatalf("duplicate: %+v, %v", st, err)
	}
	_, err = s.ApplyFeed([]wire.FeedItem{upsert(7, order("O-3", 1, wire.StatusReleased, "")), upsert(9, order("O-4", 1, wire.StatusReleased, ""))})
	if !errors.Is(err, ErrGap) {
		t.Fatalf("gap: err = %v, want ErrGap", err)
	}
	if seq, _ := s.LastFeedSeq(); seq != 6 {
		t.Fatalf("cursor after refused gap = %d, want 6", seq)
	}
	err = s.View(func(tx *Tx) error {
		if _, err := tx.Order("O-3"); !errors.Is(err, ErrNotFound) {
			t.Errorf("O-3 from a refused call was applied: %v", err)
		}
		r, err := tx.OrderByWaybill("SF2")
		if err != nil || r.Order.OrderID != "O-2" {
			t.Errorf("by waybill: %v %v", r, err)
		}
		if r, err := tx.FindOrder("PO-1"); err != nil || r.Order.OrderID != "O-1" {
			t.Errorf("by platform no: %v %v", r, err)
		}
		// EAN-13 and its GTIN-14 form meet in the index.
		hits := tx.LookupBarcode("6971234567888")
		if len(hits) != 2 {
			t.Errorf("barcode hits = %v, want both SKUs", hits)
		}
		h, err := tx.HoldFor("SKU-O-1", "B1")
		if err != nil || h == nil {
			t.Errorf("hold not found: %v", err)
		}
		if h, _ := tx.HoldFor("SKU-O-1", "B2"); h != nil {
			t.Errorf("hold on batch B1 covers B2")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q, err := s.QuarantineList(10)
	if err != nil || len(q) != 1 || q[0].Seq != 4 || string(q[0].Raw) != "{" {
		t.Fatalf("quarantine = %+v, %v", q, err)
	}
}

func TestVersionedUpsert(t *testing.T) {
	s := openTest(t, Options{})
	tests := []struct {
		version int64
		status  string
		waybill string
		applied bool
	}{
		{1, wire.StatusReleased, "", true},
		{3, wire.StatusReleased, "SF-A", true},
		{2, wire.StatusIntercepted, "SF-A", false}, // older
		{3, wire.StatusIntercepted, "SF-A", false}, // equal
		{4, wire.StatusIntercepted, "SF-B", true},  // newer, waybill changed
	}
	for i, tt := range tests {
		st, err := s.ApplyFeed([]wire.FeedItem{upsert(uint64(i+1), order("O-1", tt.version, tt.status, tt.waybill))})
		if err != nil {
			t.Fatal(err)
		}
		if (st.Applied == 1) != tt.applied {
			t.Fatalf("step %d: stats %+v, applied want %v", i, st, tt.applied)
		}
	}
	s.View(func(tx *Tx) error {
		r, _ := tx.Order("O-1")
		if r.Order.Version != 4 || r.Order.Status != wire.StatusIntercepted {
			t.Errorf("order = v%d %s", r.Order.Version, r.Order.Status)
		}
		if _, err := tx.OrderByWaybill("SF-A"); !errors.Is(err, ErrNotFound) {
			t.Errorf("old waybill still indexed")
		}
		return nil
	})
}

func TestSnapshot(t *testing.T) {
	s := openTest(t, Options{})
	if _, err := s.ApplyFeed([]wire.FeedItem{
		upsert(1, order("O-1", 1, wire.StatusReleased, "")),
		upsert(2, order("O-2", 1, wire.StatusReleased, "")),
		{Msg: &wire.FeedMessage{Seq: 3, Kind: wire.KindHoldSet, Hold: &wire.Hold{HoldID: "H-1", SKU: "X"}}},
		{Msg: &wire.FeedMessage{Seq: 4, Kind: wire.KindHoldSet, Hold: &wire.Hold{HoldID: "H-2", SKU: "Y"}}},
	}); err != nil {
		t.Fatal(err)
	}
	st, err := s.ApplySnapshot([]wire.FeedMessage{
		{Kind: wire.KindOrderUpsert, Snapshot: true, Order: order("O-2", 2, wire.StatusReleased, "SF2")},
		{Kind: wire.KindOrderUpsert, Snapshot: true, Order: order("O-5", 1, wire.StatusReleased, "")},
		{Kind: wire.KindHoldSet, Snapshot: true, Hold: &wire.Hold{HoldID: "H-2", SKU: "Y"}},
	}, 40)
	if err != nil {
		t.Fatal(err)
	}
	if st.Closed != 1 || st.Released != 1 || st.LastSeq != 40 {
		t.Fatalf("snapshot stats = %+v", st)
	}
	s.View(func(tx *Tx) error {
		r, _ := tx.Order("O-1")
		if r.Order.Status != wire.StatusClosed {
			t.Errorf("O-1 not mentioned but %s", r.Order.Status)
		}
		hs, _ := tx.ActiveHolds()
		if len(hs) != 1 || hs[0].HoldID != "H-2" {
			t.Errorf("holds = %v", hs)
		}
		return nil
	})
	stats, _ := s.Stats()
	if stats.OpenOrders != 2 || stats.Orders != 3 || stats.FeedCursor != 40 {
		t.Fatalf("stats = %+v", stats)
	}
}

func TestOutbox(t *testing.T) {
	s := openTest(t, Options{OutboxCap: 3})
	var payloads [][]byte
	for i := 0; i < 3; i++ {
		err := s.Update(func(tx *Tx) error {
			e := &wire.Event{Type: wire.EventPackRejected, OrderID: "O-1"}
			if err := e.SetData(wire.PackRejectedData{Reason: wire.ReasonWrongItem, Code: "1"}); err != nil {
				return err
			}
			b, err := tx.AppendEvent(e)
			payloads = append(payloads, b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-s.OutboxSignal():
	default:
		t.Fatal("no outbox signal after append")
	}
	err := s.Update(func(tx *Tx) error { _, err := tx.AppendEvent(&wire.Event{Type: "x"}); return err })
	if !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("append past cap: %v", err)
	}
	recs, err := s.OutboxAfter(1, 10)
	if err != nil || len(recs) != 2 || recs[0].Seq != 2 || string(recs[1].Payload) != string(payloads[2]) {
		t.Fatalf("after 1: %+v %v", recs, err)
	}
	for i, p := range payloads {
		e, err := wire.DecodeEvent(p)
		if err != nil || e.Seq != uint64(i+1) || e.Agent != "HZ01-A" {
			t.Fatalf("event %d: %+v %v", i, e, err)
		}
	}
	if n, err := s.AckOutbox(2); n != 2 || err != nil {
		t.Fatalf("ack: %d %v", n, err)
	}
	pending, oldest, _ := s.OutboxStats()
	if pending != 1 || oldest.IsZero() {
		t.Fatalf("pending %d oldest %v", pending, oldest)
	}
	// Seq keeps growing after acks.
	s.Update(func(tx *Tx) error {
		e := &wire.Event{Type: "x"}
		_, err := tx.AppendEvent(e)
		if e.Seq != 4 {
			t.Errorf("seq after ack = %d, want 4", e.Seq)
		}
		return err
	})
	// An old ack again, and an ack beyond the last event, change nothing wrong.
	for _, tc := range []struct {
		ack           uint64
		removed, left int
	}{{1, 0, 2}, {2, 0, 2}, {99, 2, 0}, {99, 0, 0}} {
		n, err := s.AckOutbox(tc.ack)
		pending, _, _ := s.OutboxStats()
		if err != nil || n != tc.removed || pending != tc.left {
			t.Errorf("ack %d: removed %d (want %d), pending %d (want %d), %v", tc.ack, n, tc.removed, pending, tc.left, err)
		}
	}
	s.Update(func(tx *Tx) error {
		e := &wire.Event{Type: "x"}
		_, err := tx.AppendEvent(e)
		if e.Seq != 5 {
			t.Errorf("seq after acking past the end = %d, want 5", e.Seq)
		}
		return err
	})
	if pending, _, _ := s.OutboxStats(); pending != 1 {
		t.Errorf("pending = %d, want 1", pending)
	}
}

func TestAuditAndCollections(t *testing.T) {
	s := openTest(t, Options{})
	err := s.Update(func(tx *Tx) error {
		for i := 0; i < 5; i++ {
			op := "W1"
			if i%2 == 1 {
				op = "W2"
			}
			if _, err := tx.AppendAudit(AuditRecord{Action: "scan", OrderID: fmt.Sprintf("O-%d", i%2), Operator: op}); err != nil {
				return err
			}
		}
		return tx.Put(CollSessions, "PACK-01", map[string]string{"order": "O-1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := s.Audit(AuditQuery{OrderID: "O-1"})
	if len(recs) != 2 || recs[0].Seq != 2 {
		t.Fatalf("audit by order = %+v", recs)
	}
	recs, _ = s.Audit(AuditQuery{Operator: "W1", AfterSeq: 1})
	if len(recs) != 2 || recs[0].Seq != 3 {
		t.Fatalf("audit by operator = %+v", recs)
	}
	s.View(func(tx *Tx) error {
		var m map[string]string
		ok, err := tx.Get(CollSessions, "PACK-01", &m)
		if !ok || err != nil || m["order"] != "O-1" {
			t.Errorf("collection get: %v %v %v", ok, err, m)
		}
		return nil
	})
}

func TestPurge(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { return now }})
	s.ApplyFeed([]wire.FeedItem{
		upsert(1, order("O-old", 1, wire.StatusShipped, "SF1")),
		upsert(2, order("O-open", 1, wire.StatusReleased, "SF2")),
	})
	now = now.Add(10 * 24 * time.Hour)
	s.ApplyFeed([]wire.FeedItem{upsert(3, order("O-new", 1, wire.StatusClosed, "SF3"))})
	n, err := s.Purge(now.Add(-7 * 24 * time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
	s.View(func(tx *Tx) error {
		if _, err := tx.OrderByWaybill("SF1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("purged order still found by waybill")
		}
		for _, id := range []string{"O-open", "O-new"} {
			if _, err := tx.Order(id); err != nil {
				t.Errorf("%s purged: %v", id, err)
			}
		}
		return nil
	})
}

func TestSchemaVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.ApplyFeed([]wire.FeedItem{upsert(1, order("O-1", 1, wire.StatusReleased, "SF1"))})
	s.Close()

	// Make it a schema-1 file: no platform index, version 1.
	setRaw(t, path, func(btx *bolt.Tx) error {
		if err := btx.DeleteBucket(bByPlatNo); err != nil {
			return err
		}
		return btx.Bucket(bMeta).Put(kSchema, u64(1))
	})
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("migrate from 1: %v", err)
	}
	s.View(func(tx *Tx) error {
		if r, err := tx.OrderByPlatformNo("PO-1"); err != nil || r.Order.OrderID != "O-1" {
			t.Errorf("migration did not build the platform index: %v", err)
		}
		return nil
	})
	s.Close()
	if v, _ := SchemaOf(path); v != SchemaVersion {
		t.Fatalf("schema after migration = %d", v)
	}

	// A newer file is refused and left as it is.
	setRaw(t, path, func(btx *bolt.Tx) error { return btx.Bucket(bMeta).Put(kSchema, u64(SchemaVersion+1)) })
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("newer schema: %v", err)
	}
	if v, _ := SchemaOf(path); v != SchemaVersion+1 {
		t.Fatalf("refused file was changed to schema %d", v)
	}
}

func setRaw(t *testing.T, path string, fn func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestBarcodeKey(t *testing.T) {
	tests := map[string]string{
		"6971234567888":   "06971234567888",
		"06971234567888":  "06971234567888",
		"012345678905":    "00012345678905",
		"96385074":        "00000096385074",
		"ABC-123":         "ABC-123",
		"697123456788":    "00697123456788",
		"69712345678889X": "69712345678889X",
	}
	for in, want := range tests {
		if got := BarcodeKey(in); got != want {
			t.Errorf("BarcodeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOrderRecordJSON(t *testing.T) {
	// Records survive a round trip with rare characters intact.
	r := OrderRecord{Order: *order("O-1", 1, wire.StatusReleased, "")}
	b, _ := json.Marshal(r)
	got, err := decodeOrder(b)
	if err != nil || got.Order.Receiver.Name != "𠮷田" {
		t.Fatalf("round trip: %v %v", got, err)
	}
}

// An order applied from the hub's own bytes reads back the same as one encoded
// by the store, unknown fields and all.
func TestApplyKeepsHubBytes(t *testing.T) {
	s := openTest(t, Options{})
	payload := []byte(`{"seq": 1, "kind": "order.upsert", "at": "2026-01-28T09:00:47.000+08:00", "order": {"order_id": "O-1", "version": 2,
		"platform": "douyin", "platform_order_no": "599", "warehouse": "HZ01", "status": "released", "priority": "urgent",
		"receiver": {"name": "𠮷田 🐼", "phone": "141****9028", "province": "台湾省", "city": "台北市", "district": "信义区", "address": "市府路1号"},
		"carrier": {"code": "SF", "name": "顺丰"}, "waybill": {"no": "SF9"}, "future": [1, 2],
		"lines": [{"line_id": "1", "sku": "A", "name": "米糊", "barcodes": ["6971234567888"], "qty": 3, "gift": true}],
		"paid_at": "2026-01-28T04:04:47.000+08:00"}}`)
	m, err := wire.DecodeFeed(payload)
	if err != nil || m.RawOrder == nil {
		t.Fatalf("decode: %v (raw %d bytes)", err, len(m.RawOrder))
	}
	if _, err := s.ApplyFeed([]wire.FeedItem{{Msg: &m}}); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		r, err := tx.OrderByWaybill("SF9")
		if err != nil {
			t.Fatal(err)
		}
		if r.Order.Receiver.Name != "𠮷田 🐼" || !r.Order.Lines[0].Gift || r.Order.Version != 2 || !r.Urgent || r.FeedSeq != 1 || r.FirstSeen.IsZero() {
			t.Errorf("read back %+v", r)
		}
		return nil
	})
}

// TestAuditIndexBehind: queries by order and operator find records whether
// or not the index has caught up, across the index mark, after a reopen.
func TestAuditIndexBehind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := Open(path, Options{Agent: "A", Warehouse: "HZ01"})
	if err != nil {
		t.Fatal(err)
	}
	add := func(n int) {
		t.Helper()
		for i := range n {
			if err := s.Update(func(tx *Tx) error {
				_, err := tx.AppendAudit(AuditRecord{Action: "scan", OrderID: fmt.Sprintf("O%d", i%3), Operator: fmt.Sprintf("P%d", i%2), OK: true})
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(q AuditQuery) int {
		t.Helper()
		q.Limit = 1000
		recs, err := s.Audit(q)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range recs {
			if (q.OrderID != "" && r.OrderID != q.OrderID) || (q.Operator != "" && r.Operator != q.Operator) {
				t.Fatalf("%+v matched %+v", r, q)
			}
			if i > 0 && r.Seq <= recs[i-1].Seq {
				t.Fatalf("records out of order: %d after %d", r.Seq, recs[i-1].Seq)
			}
		}
		return len(recs)
	}
	check := func(stage string, total int) {
		t.Helper()
		for _, tc := range []struct {
			q    AuditQuery
			want int
		}{
			{AuditQuery{OrderID: "O0"}, (total + 2) / 3},
			{AuditQuery{OrderID: "O2"}, total / 3},
			{AuditQuery{Operator: "P1"}, total / 2},
			{AuditQuery{Operator: "P0", AfterSeq: 4}, (total+1)/2 - 2},
			{AuditQuery{}, total},
		} {
			if got := count(tc.q); got != tc.want {
				t.Errorf("%s: %+v found %d records, want %d", stage, tc.q, got, tc.want)
			}
		}
	}
	add(30)
	check("nothing indexed", 30)
	if n, err := s.IndexAudit(time.Millisecond); err != nil || n != 30 {
		t.Fatalf("IndexAudit = %d, %v", n, err)
	}
	check("all indexed", 30)
	add(30)
	check("half indexed", 60)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("reopened", 60)
	if n, err := s.IndexAudit(time.Millisecond); err != nil || n != 30 {
		t.Fatalf("IndexAudit after reopen = %d, %v", n, err)
	}
	if n, err := s.IndexAudit(time.Millisecond); err != nil || n != 0 {
		t.Fatalf("IndexAudit with nothing new = %d, %v", n, err)
	}
	check("caught up", 60)
}

// TestMigrateAuditMark: a schema 2 file indexed every audit record as it was
// written and kept the event seq and pending count in meta; opening it sets the
// index mark at the end of its log and moves the outbox's seq into its bucket.
func TestMigrateAuditMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := s.Update(func(tx *Tx) error {
			_, err := tx.AppendAudit(AuditRecord{Action: "scan", OrderID: "O1", OK: true})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.IndexAudit(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for range 7 {
		if err := s.Update(func(tx *Tx) error { _, err := tx.AppendEvent(&wire.Event{Type: "x"}); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AckOutbox(3); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error {
		if _, err := tx.NextID(CollPrintJobs); err != nil {
			return err
		}
		return tx.Put(CollSessions, "PACK-01", map[string]string{"order": "O1"})
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	setRaw(t, path, func(btx *bolt.Tx) error { // as schema 2 wrote it
		nested, err := btx.CreateBucket(bColls)
		if err != nil {
			return err
		}
		for _, name := range []string{CollSessions, CollPrintJobs} {
			top := btx.Bucket(collBucket(name))
			b, err := nested.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			if err := top.ForEach(func(k, v []byte) error { return b.Put(k, v) }); err != nil {
				return err
			}
			if err := b.SetSequence(top.Sequence()); err != nil {
				return err
			}
			if err := btx.DeleteBucket(collBucket(name)); err != nil {
				return err
			}
		}
		meta := btx.Bucket(bMeta)
		for _, err := range []error{meta.Delete(kAuditIndexed), meta.Delete(kOutboxAcked),
			meta.Put(kOutboxSeq, u64(7)), meta.Put(kNOutbox, u64(4)), btx.Bucket(bOutbox).SetSequence(0)} {
			if err != nil {
				return err
			}
		}
		return meta.Put(kSchema, u64(2))
	})
	if s, err = Open(path, Options{}); err != nil {
		t.Fatalf("migrate from 2: %v", err)
	}
	defer s.Close()
	if n, err := s.IndexAudit(time.Millisecond); err != nil || n != 0 {
		t.Errorf("after migration IndexAudit = %d, %v; want nothing left to index", n, err)
	}
	if recs, err := s.Audit(AuditQuery{OrderID: "O1"}); err != nil || len(recs) != 5 {
		t.Errorf("after migration: %d records of O1, %v", len(recs), err)
	}
	if pending, _, _ := s.OutboxStats(); pending != 4 {
		t.Errorf("after migration %d events pending, want 4", pending)
	}
	if err := s.Update(func(tx *Tx) error {
		e := &wire.Event{Type: "x"}
		_, err := tx.AppendEvent(e)
		if e.Seq != 8 {
			t.Errorf("first seq after migration = %d, want 8", e.Seq)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.AckOutbox(8); n != 5 || err != nil {
		t.Errorf("ack after migration removed %d, %v; want 5", n, err)
	}
	if err := s.Update(func(tx *Tx) error {
		var sess map[string]string
		if ok, err := tx.Get(CollSessions, "PACK-01", &sess); !ok || err != nil || sess["order"] != "O1" {
			t.Errorf("session after migration: %v %v %v", sess, ok, err)
		}
		if id, err := tx.NextID(CollPrintJobs); id != 2 || err != nil {
			t.Errorf("collection sequence after migration: %d, %v; want 2", id, err)
		}
		if tx.tx.Bucket(bColls) != nil {
			t.Error("the nested collections bucket is still there")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
