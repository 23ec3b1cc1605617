package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// OrderRecord is an order as the agent keeps it: the hub's document plus what the
// agent derived when it stored it.
type OrderRecord struct {
	Order wire.Order `json:"order"`
	// Urgent is the hub's priority or the agent's local rules; Reasons says why.
	Urgent  bool     `json:"urgent,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
	// FeedSeq is the feed seq that brought this version (0 for a snapshot).
	FeedSeq   uint64    `json:"feed_seq"`
	FirstSeen time.Time `json:"first_seen"`
	Updated   time.Time `json:"updated"`
}

// Open reports whether the order is still on the floor (released or intercepted).
func (r *OrderRecord) Open() bool {
	return r.Order.Status == wire.StatusReleased || r.Order.Status == wire.StatusIntercepted
}

var (
	kNOrders = []byte("n_orders")
	kNOpen   = []byte("n_open")
	kNOutbox = []byte("n_outbox") // schema ≤ 2 only: pending events (now last seq − last acked)
)

func decodeOrder(v []byte) (*OrderRecord, error) {
	var r OrderRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decode stored order: %w", err)
	}
	return &r, nil
}

func platKey(o *wire.Order) []byte { return []byte(o.Platform + ":" + o.PlatformOrderNo) }

// BarcodeKey is the index key of an item code: numeric GTINs (8, 12, 13 or 14
// digits) are zero-padded to 14 digits so that EAN-13, UPC-A and GTIN-14 forms of
// one code meet; anything else is kept as it is.
func BarcodeKey(code string) string {
	n := len(code)
	if n == 8 || n == 12 || n == 13 || n == 14 {
		for i := 0; i < n; i++ {
			if code[i] < '0' || code[i] > '9' {
				return code
			}
		}
		return strings.Repeat("0", 14-n) + code
	}
	return code
}

func (tx *Tx) count(key []byte, delta int) {
	m := tx.tx.Bucket(bMeta)
	v := int64(readU64(m.Get(key))) + int64(delta)
	if v < 0 {
		v = 0
	}
	_ = m.Put(key, u64(uint64(v)))
}

func (tx *Tx) counter(key []byte) int { return int(readU64(tx.tx.Bucket(bMeta).Get(key))) }

// Order returns the order with the hub's id.
func (tx *Tx) Order(id string) (*OrderRecord, error) {
	v := tx.OrderRaw(id)
	if v == nil {
		return nil, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	return decodeOrder(v)
}

// OrderRaw is the stored record of an order, nil when there is none. The bytes
// are valid only during the transaction; DecodeOrder decodes them.
func (tx *Tx) OrderRaw(id string) []byte { return tx.tx.Bucket(bOrders).Get([]byte(id)) }

// DecodeOrder decodes a record OrderRaw returned.
func DecodeOrder(raw []byte) (*OrderRecord, error) { return decodeOrder(raw) }

// OrderIDByWaybill resolves a waybill number to its order's id without reading
// the order.
func (tx *Tx) OrderIDByWaybill(no string) (string, error) {
	id := tx.tx.Bucket(bByWaybill).Get([]byte(no))
	if id == nil {
		return "", fmt.Errorf("waybill %s: %w", no, ErrNotFound)
	}
	return string(id), nil
}

// OrderByWaybill returns the order whose waybill number is no.
func (tx *Tx) OrderByWaybill(no string) (*OrderRecord, error) {
	id := tx.tx.Bucket(bByWaybill).Get([]byte(no))
	if id == nil {
		return nil, fmt.Errorf("waybill %s: %w", no, ErrNotFound)
	}
	return tx.Order(string(id))
}

// OrderByPlatformNo returns the order with a channel's own order number, on any
// platform.
func (tx *Tx) OrderByPlatformNo(no string) (*OrderRecord, error) {
	c := tx.tx.Bucket(bByPlatNo).Cursor()
	suffix := []byte(":" + no)
	// Platform names are few; try each known one before a scan.
	for _, p := range []string{"douyin", "taobao", "tmall", "jd", "pdd", "miniapp", "wechat", "phone", "other"} {
		if id := tx.tx.Bucket(bByPlatNo).Get([]byte(p + ":" + no)); id != nil {
			return tx.Order(string(id))
		}
	}
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if bytes.HasSuffix(k, suffix) {
			return tx.Order(string(v))
		}
	}
	return nil, fmt.Errorf("platform order %s: %w", no, ErrNotFound)
}

// FindOrder resolves what a person scanned to open an order: a waybill number, the
// hub's order id, or a channel's order number, in that order.
func (tx *Tx) FindOrder(code string) (*OrderRecord, error) {
	if r, err := tx.OrderByWaybill(code); err == nil {
		return r, nil
	}
	if r, err := tx.Order(code); err == nil {
		return r, nil
	}
	if r, err := tx.OrderByPlatformNo(code); err == nil {
		return r, nil
	}
	return nil, fmt.Errorf("code %s: %w", code, ErrNotFound)
}

// BarcodeHit is a SKU known under a barcode.
type BarcodeHit struct {
	SKU  string
	Name string
}

// LookupBarcode returns every SKU the warehouse's orders list under code (after
// BarcodeKey normalisation).
func (tx *Tx) LookupBarcode(code string) []BarcodeHit {
	prefix := append([]byte(BarcodeKey(code)), 0)
	var hits []BarcodeHit
	c := tx.tx.Bucket(bByBarcode).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		hits = append(hits, BarcodeHit{SKU: string(k[len(prefix):]), Name: string(v)})
	}
	return hits
}

// ActiveHolds returns every quality hold in force.
func (tx *Tx) ActiveHolds() ([]wire.Hold, error) {
	var hs []wire.Hold
	err := tx.tx.Bucket(bHolds).ForEach(func(_, v []byte) error {
		var h wire.Hold
		if err := json.Unmarshal(v, &h); err != nil {
			return fmt.Errorf("decode hold: %w", err)
		}
		hs = append(hs, h)
		return nil
	})
	return hs, err
}

// HoldFor returns the active hold covering sku and batch, if any.
func (tx *Tx) HoldFor(sku, batch string) (*wire.Hold, error) {
	hs, err := tx.ActiveHolds()
	if err != nil {
		return nil, err
	}
	for i := range hs {
		if hs[i].Matches(sku, batch) {
			return &hs[i], nil
		}
	}
	return nil, nil
}

// Notices returns the notices kept for the floor, newest last.
func (tx *Tx) Notices() ([]StoredNotice, error) {
	var ns []StoredNotice
	err := tx.tx.Bucket(bNotices).ForEach(func(_, v []byte) error {
		var n StoredNotice
		if err := json.Unmarshal(v, &n); err != nil {
			return fmt.Errorf("decode notice: %w", err)
		}
		ns = append(ns, n)
		return nil
	})
	return ns, err
}

// StoredNotice is a hub notice with when it arrived.
type StoredNotice struct {
	wire.Notice
	At      time.Time `json:"at"`
	FeedSeq uint64    `json:"feed_seq"`
}

// OpenOrders calls fn for every open order (released or intercepted) until fn
// returns false.
func (tx *Tx) OpenOrders(fn func(*OrderRecord) bool) error {
	c := tx.tx.Bucket(bOpen).Cursor()
	orders := tx.tx.Bucket(bOrders)
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		v := orders.Get(k)
		if v == nil {
			continue
		}
		r, err := decodeOrder(v)
		if err != nil {
			return err
		}
		if !fn(r) {
			return nil
		}
	}
	return nil
}

// FeedCursor is the last applied feed seq.
func (tx *Tx) FeedCursor() uint64 { return readU64(tx.tx.Bucket(bMeta).Get(kFeedCursor)) }

// encodeRecord encodes rec as OrderRecord's JSON. raw, when given, is the order
// document exactly as the hub sent it (already checked by the decoder): it is
// kept as it is instead of being encoded again, which was most of the cost of
// applying the feed.
func encodeRecord(rec *OrderRecord, raw []byte) ([]byte, error) {
	if raw == nil {
		return json.Marshal(rec)
	}
	b := make([]byte, 0, len(raw)+160)
	b = append(b, `{"order":`...)
	b = append(b, raw...)
	if rec.Urgent {
		b = append(b, `,"urgent":true`...)
	}
	if len(rec.Reasons) > 0 {
		rs, err := json.Marshal(rec.Reasons)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"reasons":`...)
		b = append(b, rs...)
	}
	b = append(b, `,"feed_seq":`...)
	b = strconv.AppendUint(b, rec.FeedSeq, 10)
	b = append(b, `,"first_seen":"`...)
	b = rec.FirstSeen.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","updated":"`...)
	b = rec.Updated.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...), nil
}

// putOrder stores rec and keeps every index right. old is the previous version or
// nil; raw is the hub's bytes of rec.Order when they are at hand.
func (tx *Tx) putOrder(rec *OrderRecord, old *OrderRecord, raw []byte) error {
	o := &rec.Order
	id := []byte(o.OrderID)
	if tx.s.opts.Classify != nil {
		rec.Urgent, rec.Reasons = tx.s.opts.Classify(o)
	} else {
		rec.Urgent = o.Priority == wire.PriorityUrgent
		rec.Reasons = o.PriorityReasons
	}
	v, err := encodeRecord(rec, raw)
	if err != nil {
		return fmt.Errorf("encode order %s: %w", o.OrderID, err)
	}
	b := tx.tx.Bucket(bOrders)
	if err := b.Put(id, v); err != nil {
		return err
	}
	wb := tx.tx.Bucket(bByWaybill)
	if old != nil && old.Order.Waybill != nil && (o.Waybill == nil || o.Waybill.No != old.Order.Waybill.No) {
		if err := wb.Delete([]byte(old.Order.Waybill.No)); err != nil {
			return err
		}
	}
	if o.Waybill != nil {
		if err := wb.Put([]byte(o.Waybill.No), id); err != nil {
			return err
		}
	}
	if old == nil {
		tx.count(kNOrders, 1)
		if err := tx.tx.Bucket(bByPlatNo).Put(platKey(o), id); err != nil {
			return err
		}
	}
	bc := tx.tx.Bucket(bByBarcode)
	for _, l := range o.Lines {
		for _, code := range l.Barcodes {
			k := append(append([]byte(BarcodeKey(code)), 0), l.SKU...)
			if bytes.Equal(bc.Get(k), []byte(l.Name)) {
				continue // known already: do not dirty the page
			}
			if err := bc.Put(k, []byte(l.Name)); err != nil {
				return err
			}
		}
	}
	wasOpen := old != nil && old.Open()
	switch {
	case rec.Open() && !wasOpen:
		tx.count(kNOpen, 1)
		if err := tx.tx.Bucket(bOpen).Put(id, nil); err != nil {
			return err
		}
	case !rec.Open() && wasOpen:
		tx.count(kNOpen, -1)
		if err := tx.tx.Bucket(bOpen).Delete(id); err != nil {
			return err
		}
	}
	if !rec.Open() && (old == nil || old.Open()) {
		if err := tx.tx.Bucket(bClosed).Put(closedKey(rec.Updated, o.OrderID), nil); err != nil {
			return err
		}
	}
	tx.change.Orders = append(tx.change.Orders, o.OrderID)
	return nil
}

func closedKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	return append(k, id...)
}

// upsert applies an order document by version; it reports whether it changed
// anything. raw is the document's bytes as the hub sent them, or nil.
func (tx *Tx) upsert(o *wire.Order, raw []byte, seq uint64) (bool, error) {
	now := tx.s.opts.Now()
	var old *OrderRecord
	if v := tx.tx.Bucket(bOrders).Get([]byte(o.OrderID)); v != nil {
		r, err := decodeOrder(v)
		if err != nil {
			return false, err
		}
		if o.Version <= r.Order.Version {
			return false, nil // stale: the seq is still consumed
		}
		old = r
	}
	rec := &OrderRecord{Order: *o, FeedSeq: seq, FirstSeen: now, Updated: now}
	if old != nil {
		rec.FirstSeen = old.FirstSeen
	}
	return true, tx.putOrder(rec, old, raw)
}

// UpsertOrder stores an order document by version outside the feed (sample data
// loading, tests); it reports whether the store changed.
func (tx *Tx) UpsertOrder(o *wire.Order) (bool, error) { return tx.upsert(o, nil, 0) }

// SetOrderStatus changes an order's status locally (e.g. shipped after handover),
// keeping the hub's version so the hub's next version still replaces it.
func (tx *Tx) SetOrderStatus(id, status string) error {
	old, err := tx.Order(id)
	if err != nil {
		return err
	}
	rec := *old
	rec.Order.Status = status
	rec.Updated = tx.s.opts.Now()
	return tx.putOrder(&rec, old, nil)
}

func (tx *Tx) setHold(h *wire.Hold) error {
	v, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode hold %s: %w", h.HoldID, err)
	}
	tx.change.Holds = true
	return tx.tx.Bucket(bHolds).Put([]byte(h.HoldID), v)
}

func (tx *Tx) releaseHold(id string) error {
	tx.change.Holds = true
	return tx.tx.Bucket(bHolds).Delete([]byte(id))
}

func (tx *Tx) addNotice(n *wire.Notice, seq uint64) error {
	sn := StoredNotice{Notice: *n, At: tx.s.opts.Now(), FeedSeq: seq}
	v, err := json.Marshal(sn)
	if err != nil {
		return fmt.Errorf("encode notice %s: %w", n.NoticeID, err)
	}
	tx.change.Notices = append(tx.change.Notices, *n)
	return tx.tx.Bucket(bNotices).Put([]byte(n.NoticeID), v)
}

// applyMsg applies one decoded feed message; it counts into st.
func (tx *Tx) applyMsg(m *wire.FeedMessage, st *wire.ApplyStats) error {
	switch m.Kind {
	case wire.KindOrderUpsert:
		changed, err := tx.upsert(m.Order, m.RawOrder, m.Seq)
		if err != nil {
			return fmt.Errorf("apply order %s: %w", m.Order.OrderID, err)
		}
		if changed {
			st.Applied++
		} else {
			st.Stale++
		}
	case wire.KindHoldSet:
		if err := tx.setHold(m.Hold); err != nil {
			return err
		}
		st.Applied++
	case wire.KindHoldRelease:
		if err := tx.releaseHold(m.Hold.HoldID); err != nil {
			return err
		}
		st.Applied++
	case wire.KindNotice:
		if err := tx.addNotice(m.Notice, m.Seq); err != nil {
			return err
		}
		st.Applied++
	default:
		st.Unknown++
	}
	return nil
}

// ApplyFeed applies feed items in one transaction. Items with seq ≤ the cursor are
// duplicates and skipped; an item with seq > cursor+1 is refused with ErrGap
// (nothing of the call is applied). Bad items are quarantined with their seq
// consumed. The cursor moves to the last item's seq in the same transaction.
func (s *Store) ApplyFeed(items []wire.FeedItem) (wire.ApplyStats, error) {
	var total wire.ApplyStats
	for len(items) > 0 {
		var st wire.ApplyStats
		var done int
		err := s.Group(func(tx *Tx) error {
			st, done = wire.ApplyStats{}, 0
			cur := tx.FeedCursor()
			for _, it := range items {
				if done >= feedYieldAfter && (tx.shared || s.group.waiting()) {
					break // floor steps share or wait for this commit: let them go
				}
				done++
				seq := it.Seq()
				if seq <= cur {
					st.Duplicates++
					continue
				}
				if seq != cur+1 {
					return fmt.Errorf("apply feed seq %d after %d: %w", seq, cur, ErrGap)
				}
				switch {
				case it.Bad != nil:
					if err := tx.quarantine(it.Bad); err != nil {
						return err
					}
					st.Quarantined++
				case it.Msg != nil:
					if err := tx.applyMsg(it.Msg, &st); err != nil {
						return err
					}
				}
				cur = seq
			}
			st.LastSeq = cur
			return tx.tx.Bucket(bMeta).Put(kFeedCursor, u64(cur))
		})
		if err != nil {
			return total, err
		}
		total = total.Add(st)
		items = items[done:]
	}
	return total, nil
}

// feedYieldAfter is how many feed items a transaction applies before it
// gives way to floor steps sharing or waiting for its commit: a catch-up after
// an outage applies hundreds of orders per call, and a packer's scan must not
// wait behind all of them. (Through Group, the feed takes its turn in the same
// queue as the floor.)
const feedYieldAfter = 32

// ApplySnapshot applies a whole snapshot atomically with cursor endSeq: each order
// by version, open orders it does not mention are closed, active holds it does not
// mention are released.
func (s *Store) ApplySnapshot(msgs []wire.FeedMessage, endSeq uint64) (wire.ApplyStats, error) {
	var st wire.ApplyStats
	err := s.Update(func(tx *Tx) error {
		st = wire.ApplyStats{}
		orders := map[string]bool{}
		holds := map[string]bool{}
		for i := range msgs {
			m := &msgs[i]
			switch m.Kind {
			case wire.KindOrderUpsert:
				orders[m.Order.OrderID] = true
			case wire.KindHoldSet:
				holds[m.Hold.HoldID] = true
			}
			if err := tx.applyMsg(m, &st); err != nil {
				return err
			}
		}
		var toClose []string
		if err := tx.OpenOrders(func(r *OrderRecord) bool {
			if !orders[r.Order.OrderID] {
				toClose = append(toClose, r.Order.OrderID)
			}
			return true
		}); err != nil {
			return err
		}
		for _, id := range toClose {
			if err := tx.SetOrderStatus(id, wire.StatusClosed); err != nil {
				return err
			}
			st.Closed++
		}
		hs, err := tx.ActiveHolds()
		if err != nil {
			return err
		}
		for _, h := range hs {
			if !holds[h.HoldID] {
				if err := tx.releaseHold(h.HoldID); err != nil {
					return err
				}
				st.Released++
			}
		}
		st.LastSeq = endSeq
		return tx.tx.Bucket(bMeta).Put(kFeedCursor, u64(endSeq))
	})
	if err != nil {
		return wire.ApplyStats{}, err
	}
	return st, nil
}

// LastFeedSeq is the last applied feed seq.
func (s *Store) LastFeedSeq() (uint64, error) {
	var v uint64
	err := s.View(func(tx *Tx) error { v = tx.FeedCursor(); return nil })
	return v, err
}

// Purge deletes shipped and closed orders that left the floor before cutoff, with
// their indexes; it reports how many went.
func (s *Store) Purge(cutoff time.Time) (int, error) {
	n := 0
	for {
		batch := 0
		err := s.Update(func(tx *Tx) error {
			batch = 0
			c := tx.tx.Bucket(bClosed).Cursor()
			end := u64(uint64(cutoff.UnixNano()))
			var keys [][]byte
			for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) < 0 && len(keys) < 5000; k, _ = c.Next() {
				keys = append(keys, append([]byte(nil), k...))
			}
			for _, k := range keys {
				id := k[8:]
				if err := tx.tx.Bucket(bClosed).Delete(k); err != nil {
					return err
				}
				v := tx.tx.Bucket(bOrders).Get(id)
				if v == nil {
					continue
				}
				r, err := decodeOrder(v)
				if err != nil {
					return err
				}
				if r.Open() {
					continue // reopened by a later version
				}
				if err := tx.deleteOrder(r); err != nil {
					return err
				}
				batch++
			}
			return nil
		})
		n += batch
		if err != nil || batch == 0 {
			return n, err
		}
	}
}

func (tx *Tx) deleteOrder(r *OrderRecord) error {
	o := &r.Order
	id := []byte(o.OrderID)
	if err := tx.tx.Bucket(bOrders).Delete(id); err != nil {
		return err
	}
	if o.Waybill != nil {
		if cur := tx.tx.Bucket(bByWaybill).Get([]byte(o.Waybill.No)); bytes.Equal(cur, id) {
			if err := tx.tx.Bucket(bByWaybill).Delete([]byte(o.Waybill.No)); err != nil {
				return err
			}
		}
	}
	if err := tx.tx.Bucket(bByPlatNo).Delete(platKey(o)); err != nil {
		return err
	}
	tx.count(kNOrders, -1)
	return nil
}
