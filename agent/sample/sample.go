// Package sample generates realistic, contract-valid warehouse feeds for the
// demo, for tests and for benchmarks.
//
// A Generator is seeded and deterministic: the same Options give the same
// messages, byte for byte. It streams (one message at a time, memory does not
// grow with Count), so a benchmark can load a million orders. The orders look
// like the floor's real ones: Chinese names with rare characters and emoji,
// addresses across the provinces and in Hong Kong, Macau and Taiwan, masked
// phones, five sales channels, the ten carriers with plausible waybill
// numbers, sort codes and package centres, a catalogue of mother-and-baby,
// home, car-part (with batches) and pet goods whose EAN-13 and GTIN-14 codes
// carry valid check digits, gifts, urgent remarks, tags, platinum customers,
// orders intercepted after release, orders still waiting for a waybill, goods
// without a barcode, a quality hold on a car-part batch and a floor notice.
package sample

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// Rates are the share of orders (0 to 1) that show each feature.
type Rates struct {
	Gift        float64 // a free gift line (赠品)
	HubUrgent   float64 // marked urgent by the hub
	Remark      float64 // an urgent remark (生日, 婚礼, 急诊)
	Platinum    float64 // a platinum customer
	Tagged      float64 // a tag (重点复核, 易碎, 同城急单)
	Intercepted float64 // intercepted by the hub after release (a later version)
	NoWaybill   float64 // no waybill assigned yet
	Unlabelled  float64 // a line of goods without a barcode
	CaseCode    float64 // lines that also list a GTIN-14 case code
	CarPart     float64 // a car-part line (with a batch)
	Overseas    float64 // a receiver in Hong Kong, Macau or Taiwan
	RareName    float64 // a receiver name with rare characters or emoji
	MultiLine   float64 // more than one line of goods
}

// Options control a generated feed.
type Options struct {
	// Count is the number of orders (each brings one order.upsert, and an
	// intercepted one a second). Default 200.
	Count int
	// Seed makes the stream deterministic.
	Seed uint64
	// Start is the time of the first message. Default 2026-01-28 09:00 +08:00.
	Start time.Time
	// Interval is the mean time between orders. Default 30 s.
	Interval time.Duration
	// Warehouse is the warehouse code. Default HZ01.
	Warehouse string
	// Rates of each feature. Start from DefaultRates: a zero rate means never.
	Rates Rates
	// NoHold leaves out the quality hold on a car-part batch; NoNotice the
	// floor notice.
	NoHold, NoNotice bool
}

// DefaultRates are shares close to a normal day on a busy floor.
func DefaultRates() Rates {
	return Rates{Gift: 0.15, HubUrgent: 0.05, Remark: 0.06, Platinum: 0.04, Tagged: 0.15, Intercepted: 0.03,
		NoWaybill: 0.05, Unlabelled: 0.05, CaseCode: 0.3, CarPart: 0.2, Overseas: 0.03, RareName: 0.08, MultiLine: 0.4}
}

// DefaultOptions returns the options of the demo feed.
func DefaultOptions() Options {
	return Options{Count: 200, Seed: 1, Start: defaultStart, Interval: 30 * time.Second, Warehouse: "HZ01", Rates: DefaultRates()}
}

var defaultStart = time.Date(2026, 1, 28, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// HeldSKU and HeldBatch are what the generated quality hold covers.
const (
	HeldSKU   = "SL-BP-0031"
	HeldBatch = "B20251102"
	HoldID    = "H-Q-0001"
)

// Generator produces one feed message at a time.
type Generator struct {
	opts   Options
	rng    *rand.Rand
	seq    uint64
	orders int // orders emitted
	at     time.Time
	date   string // yyyymmdd of Start, for order ids
	day    string // day of the year of Start, 3 digits: waybills of two days never meet
	hold   int    // order count after which the hold is set; -1 when done
	notice int

	later []pending // intercepted versions waiting for their turn
}

type pending struct {
	due   int // emit once this many orders are out
	order *wire.Order
}

// New returns a generator. Zero Count, Start, Interval and Warehouse take their
// defaults; rates are used as given.
func New(opts Options) *Generator {
	d := DefaultOptions()
	if opts.Count <= 0 {
		opts.Count = d.Count
	}
	if opts.Start.IsZero() {
		opts.Start = d.Start
	}
	if opts.Interval <= 0 {
		opts.Interval = d.Interval
	}
	if opts.Warehouse == "" {
		opts.Warehouse = d.Warehouse
	}
	g := &Generator{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		at: opts.Start, date: opts.Start.Format("20060102"), day: pad(opts.Start.YearDay(), 3), hold: -1, notice: -1}
	if !opts.NoHold {
		g.hold = opts.Count / 3
	}
	if !opts.NoNotice {
		g.notice = opts.Count / 2
	}
	return g
}

// Next returns the next message, or false when the stream is over.
func (g *Generator) Next() (wire.FeedMessage, bool) {
	// Special messages and due interceptions go before the next order.
	if g.hold >= 0 && g.orders >= g.hold {
		g.hold = -1
		return g.msg(wire.KindHoldSet, func(m *wire.FeedMessage) {
			m.Hold = &wire.Hold{HoldID: HoldID, SKU: HeldSKU, Batch: HeldBatch, Reason: "该批次3次客诉,质量部暂停出库"}
		}), true
	}
	if g.notice >= 0 && g.orders >= g.notice {
		g.notice = -1
		text := notices[g.rng.IntN(len(notices))]
		return g.msg(wire.KindNotice, func(m *wire.FeedMessage) {
			m.Notice = &wire.Notice{NoticeID: "N-" + strconv.FormatUint(g.seq+1, 10), Level: "urgent",
				Roles: []string{"manager", "picker", "packer"}, Text: text}
		}), true
	}
	if len(g.later) > 0 && (g.later[0].due <= g.orders || g.orders >= g.opts.Count) {
		p := g.later[0]
		g.later = g.later[1:]
		return g.msg(wire.KindOrderUpsert, func(m *wire.FeedMessage) { m.Order = p.order }), true
	}
	if g.orders >= g.opts.Count {
		return wire.FeedMessage{}, false
	}
	g.at = g.at.Add(time.Duration(g.rng.ExpFloat64() * float64(g.opts.Interval)))
	o := g.order()
	g.orders++
	return g.msg(wire.KindOrderUpsert, func(m *wire.FeedMessage) { m.Order = o }), true
}

func (g *Generator) msg(kind string, fill func(*wire.FeedMessage)) wire.FeedMessage {
	g.seq++
	m := wire.FeedMessage{Seq: g.seq, Kind: kind, At: wire.Time{Time: g.at}}
	fill(&m)
	return m
}

// Messages returns the whole stream as an iterator.
func Messages(opts Options) iter.Seq[wire.FeedMessage] {
	return func(yield func(wire.FeedMessage) bool) {
		g := New(opts)
		for {
			m, ok := g.Next()
			if !ok || !yield(m) {
				return
			}
		}
	}
}

// WriteJSONL writes the stream as JSON Lines, one feed message per line, as the
// hub publishes them (the format of the shared fixtures).
func WriteJSONL(w io.Writer, opts Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for m := range Messages(opts) {
		if err := enc.Encode(m); err != nil {
			return fmt.Errorf("write sample feed: message %d: %w", m.Seq, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write sample feed: %w", err)
	}
	return nil
}

func (g *Generator) chance(p float64) bool { return p > 0 && g.rng.Float64() < p }

func pick[T any](g *Generator, list []T) T { return list[g.rng.IntN(len(list))] }

func weighted(g *Generator, w []int) int {
	total := 0
	for _, v := range w {
		total += v
	}
	n := g.rng.IntN(total)
	for i, v := range w {
		if n < v {
			return i
		}
		n -= v
	}
	return len(w) - 1
}

func (g *Generator) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	if b[0] == '0' {
		b[0] = '1' + byte(g.rng.IntN(9))
	}
	return string(b)
}

// order builds order number g.orders+1.
func (g *Generator) order() *wire.Order {
	r := &g.opts.Rates
	n := g.orders + 1
	id := "O-" + g.date + "-" + pad(n, 6)
	platform := platformList[weighted(g, platformWeights)]
	o := &wire.Order{OrderID: id, Version: 1, Platform: platform, PlatformOrderNo: g.platformNo(platform, n),
		Warehouse: g.opts.Warehouse, Status: wire.StatusReleased, Priority: wire.PriorityNormal}

	tier := wire.TierRegular
	switch {
	case g.chance(r.Platinum):
		tier = wire.TierPlatinum
	case g.rng.IntN(6) == 0:
		tier = wire.TierGold
	}
	o.Customer = &wire.Customer{CustomerID: "C" + g.digits(7), Tier: tier}

	pl := pick(g, places)
	name := pick(g, surnames) + pick(g, givenNames)
	if g.chance(r.Overseas) {
		pl = pick(g, overseas)
		if g.rng.IntN(2) == 0 {
			name = pick(g, hkNames)
		}
	}
	if g.chance(r.RareName) {
		name = pick(g, surnames) + pick(g, rareGiven)
	}
	o.Receiver = &wire.Party{Name: name, Phone: "1" + pick(g, mobilePrefixes) + "****" + g.digits(4), Province: pl.province,
		City: pl.city, District: pl.district, Address: pl.street, Postcode: pl.postcode, Country: pl.country}
	o.Sender = &wire.Party{Name: senderName, Phone: senderPhone, Province: sender.province, City: sender.city,
		District: sender.district, Address: sender.street, Postcode: sender.postcode}

	// Tags, and the carrier that goes with a same-city order.
	ci := weighted(g, carrierWeights)
	if g.chance(r.Tagged) {
		t := pick(g, tagList)
		o.Tags = []string{t}
		if t == "同城急单" {
			ci = 0 // SF same-city
		}
	}
	c := carrierList[ci]
	o.Carrier = &wire.Carrier{Code: c.code, Name: c.name, Service: c.service}
	if len(o.Tags) == 1 && o.Tags[0] == "同城急单" {
		o.Carrier.Service = c.sameDay
	}
	if !g.chance(r.NoWaybill) {
		o.Waybill = &wire.Waybill{No: c.prefix + g.day + pad(n, c.digits-3), SortCode: g.sortCode(), PackageCenter: pl.centre}
	}

	// Remarks and urgency.
	switch {
	case g.chance(r.Remark):
		u := pick(g, urgentRemarks)
		o.Remark = u.text
		if g.rng.IntN(2) == 0 { // the hub knew too
			o.Priority, o.PriorityReasons = wire.PriorityUrgent, []string{"remark:" + u.keyword}
		}
	case g.rng.IntN(3) == 0:
		o.Remark = pick(g, plainRemarks)
	}
	if g.rng.IntN(20) == 0 {
		o.SellerNote = pick(g, sellerNotes)
	}
	if g.chance(r.HubUrgent) {
		o.Priority = wire.PriorityUrgent
		o.PriorityReasons = appendNew(o.PriorityReasons, "hub:加急")
	}
	if tier == wire.TierPlatinum && g.rng.IntN(2) == 0 {
		o.Priority = wire.PriorityUrgent
		o.PriorityReasons = appendNew(o.PriorityReasons, "tier:platinum")
	}

	o.Lines = g.lines()
	paid := g.at.Add(-time.Duration(g.rng.IntN(6*3600)) * time.Second)
	o.PaidAt = wire.Time{Time: paid}
	due := paid.Add(48 * time.Hour)
	if o.Priority == wire.PriorityUrgent || g.rng.IntN(10) == 0 {
		due = g.at.Add(time.Duration(1+g.rng.IntN(6)) * time.Hour)
	}
	o.PromisedShipBy = &wire.Time{Time: due}

	if g.chance(r.Intercepted) {
		v2 := *o
		v2.Version = 2
		v2.Status = wire.StatusIntercepted
		why := pick(g, interceptReasons)
		at := wire.Time{Time: g.at.Add(time.Duration(1+g.rng.IntN(20)) * g.opts.Interval)}
		v2.Intercept = &wire.Intercept{Reason: why.reason, At: &at, Note: why.note}
		g.later = append(g.later, pending{due: g.orders + 1 + g.rng.IntN(20), order: &v2})
	}
	return o
}

func (g *Generator) lines() []wire.Line {
	r := &g.opts.Rates
	n := 1
	if g.chance(r.MultiLine) {
		n = 2 + g.rng.IntN(3)
	}
	lines := make([]wire.Line, 0, n+1)
	used := make(map[int]bool, n+1)
	add := func(pi int, qty int) {
		if used[pi] {
			return
		}
		used[pi] = true
		p := &catalogue[pi]
		l := wire.Line{LineID: strconv.Itoa(len(lines) + 1), SKU: p.SKU, Name: p.Name, Spec: p.Spec,
			Barcodes: p.Barcodes(g.chance(r.CaseCode)), Qty: qty, Gift: p.Gift, Location: p.Location, UnitWeightG: p.WeightG}
		if len(p.Batches) > 0 {
			l.Batch = pick(g, p.Batches)
		}
		lines = append(lines, l)
	}
	qty := func() int {
		if g.rng.IntN(4) == 0 {
			return 2 + g.rng.IntN(3)
		}
		return 1
	}
	if g.chance(r.CarPart) {
		add(pick(g, carParts), qty())
	}
	if g.chance(r.Unlabelled) {
		add(pick(g, unlabelled), qty())
	}
	for len(lines) < n {
		add(pick(g, labelled), qty())
	}
	if g.chance(r.Gift) {
		add(pick(g, gifts), 1)
	}
	return lines
}

var mobilePrefixes = []string{"30", "35", "38", "39", "50", "58", "59", "66", "77", "86", "88", "89", "91", "99"}

// platformNo makes a channel order number; the order's own number in it keeps
// every one unique.
func (g *Generator) platformNo(p string, n int) string {
	switch p {
	case "douyin":
		return g.digits(11) + pad(n, 8)
	case "taobao", "tmall":
		return g.digits(10) + pad(n, 8)
	case "jd":
		return "3" + g.digits(3) + pad(n, 8)
	case "pdd":
		return g.date[2:] + "-" + g.digits(7) + pad(n, 8)
	}
	return "WX" + g.date + g.digits(2) + pad(n, 8)
}

func (g *Generator) sortCode() string {
	b := make([]byte, 0, 10)
	b = append(b, byte('1'+g.rng.IntN(9)), byte('0'+g.rng.IntN(10)), byte('0'+g.rng.IntN(10)), '-')
	b = append(b, "NESW"[g.rng.IntN(4)], byte('0'+g.rng.IntN(3)), byte('0'+g.rng.IntN(10)), ' ')
	b = append(b, byte('0'+g.rng.IntN(10)), byte('0'+g.rng.IntN(10)))
	return string(b)
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func appendNew(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}
