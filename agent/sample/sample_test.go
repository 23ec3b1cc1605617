package sample

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/dockhand/dockhand/agent/codes"
	"github.com/dockhand/dockhand/agent/urgent"
	"github.com/dockhand/dockhand/sync/wire"
)

// TestEveryMessageIsContractValid encodes every message and decodes it with the
// contract's strict decoder.
func TestEveryMessageIsContractValid(t *testing.T) {
	opts := DefaultOptions()
	opts.Count = 3000
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, opts); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, wire.MaxPayload)
	var seq uint64
	kinds := map[string]int{}
	waybills := map[string]string{}
	platNos := map[string]string{}
	versions := map[string]int64{}
	for sc.Scan() {
		m, err := wire.DecodeFeed(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v\n%s", seq+1, err, sc.Bytes())
		}
		seq++
		if m.Seq != seq {
			t.Fatalf("seq %d after %d", m.Seq, seq-1)
		}
		kinds[m.Kind]++
		if m.Order == nil {
			continue
		}
		o := m.Order
		if v := versions[o.OrderID]; o.Version != v+1 {
			t.Fatalf("%s: version %d after %d", o.OrderID, o.Version, v)
		}
		versions[o.OrderID] = o.Version
		if o.Version == 2 && (o.Status != wire.StatusIntercepted || o.Intercept == nil) {
			t.Fatalf("%s v2 is not an interception: %s", o.OrderID, o.Status)
		}
		if o.Waybill != nil {
			if prev, ok := waybills[o.Waybill.No]; ok && prev != o.OrderID {
				t.Fatalf("waybill %s used by %s and %s", o.Waybill.No, prev, o.OrderID)
			}
			waybills[o.Waybill.No] = o.OrderID
		}
		key := o.Platform + ":" + o.PlatformOrderNo
		if prev, ok := platNos[key]; ok && prev != o.OrderID {
			t.Fatalf("platform order %s used by %s and %s", key, prev, o.OrderID)
		}
		platNos[key] = o.OrderID
		for _, l := range o.Lines {
			for _, bc := range l.Barcodes {
				if _, err := codes.NormalizeGTIN(bc); err != nil {
					t.Fatalf("%s line %s: %v", o.OrderID, l.LineID, err)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(versions) != opts.Count || kinds[wire.KindHoldSet] != 1 || kinds[wire.KindNotice] != 1 {
		t.Fatalf("orders %d, kinds %v", len(versions), kinds)
	}
}

func TestRates(t *testing.T) {
	opts := DefaultOptions()
	opts.Count = 20000
	opts.Rates = Rates{Gift: 0.2, HubUrgent: 0.1, Remark: 0.1, Platinum: 0.05, Tagged: 0.3, Intercepted: 0.04,
		NoWaybill: 0.07, Unlabelled: 0.06, CaseCode: 0.5, CarPart: 0.25, Overseas: 0.05, RareName: 0.1, MultiLine: 0.5}
	var n, gift, remark, platinum, tagged, intercepted, noWaybill, unlabelled, carPart, overseas, multi, localUrgent float64
	rules := urgent.DefaultRules()
	rules.DueWithin = 0
	for m := range Messages(opts) {
		o := m.Order
		if o == nil {
			continue
		}
		if o.Version == 2 {
			intercepted++
			continue
		}
		n++
		has := func(f func(l wire.Line) bool) bool {
			for _, l := range o.Lines {
				if f(l) {
					return true
				}
			}
			return false
		}
		count := func(c *float64, ok bool) {
			if ok {
				*c++
			}
		}
		count(&gift, has(func(l wire.Line) bool { return l.Gift }))
		count(&remark, strings.Contains(o.Remark, "生日") || strings.Contains(o.Remark, "婚礼") || strings.Contains(o.Remark, "急诊"))
		count(&platinum, o.Customer.Tier == wire.TierPlatinum)
		count(&tagged, len(o.Tags) > 0)
		count(&noWaybill, o.Waybill == nil)
		count(&unlabelled, has(func(l wire.Line) bool { return len(l.Barcodes) == 0 && !l.Gift }))
		count(&carPart, has(func(l wire.Line) bool { return l.Batch != "" }))
		count(&overseas, o.Receiver.Country != "")
		count(&multi, len(o.Lines) > 1 && !(len(o.Lines) == 2 && o.IsGift()))
		count(&localUrgent, rules.Evaluate(o, m.At.Time).Urgent)
	}
	check := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got/n-want) > tol {
			t.Errorf("%s: rate %.3f, want %.3f ± %.3f", name, got/n, want, tol)
		}
	}
	r := opts.Rates
	check("gift", gift, r.Gift, 0.015)
	check("remark", remark, r.Remark, 0.01)
	check("platinum", platinum, r.Platinum, 0.01)
	check("tagged", tagged, r.Tagged, 0.015)
	check("intercepted", intercepted, r.Intercepted, 0.01)
	check("no waybill", noWaybill, r.NoWaybill, 0.01)
	check("unlabelled", unlabelled, r.Unlabelled, 0.01)
	check("car part", carPart, r.CarPart, 0.015)
	check("overseas", overseas, r.Overseas, 0.01)
	if multi/n < r.MultiLine-0.05 {
		t.Errorf("multi-line rate %.3f, want about %.2f", multi/n, r.MultiLine)
	}
	if localUrgent/n < r.Remark+r.Platinum {
		t.Errorf("urgent by local rules %.3f, want at least remark+platinum", localUrgent/n)
	}
}

func TestZeroRatesMeanNever(t *testing.T) {
	opts := Options{Count: 2000, Seed: 7, NoHold: true, NoNotice: true}
	for m := range Messages(opts) {
		o := m.Order
		if o == nil || o.Version != 1 || o.Waybill == nil || len(o.Tags) > 0 || o.IsGift() || o.Priority == wire.PriorityUrgent && o.Customer.Tier != wire.TierPlatinum {
			t.Fatalf("zero rates produced %+v", m)
		}
	}
}

func TestDeterministic(t *testing.T) {
	run := func(seed uint64) []byte {
		var buf bytes.Buffer
		opts := DefaultOptions()
		opts.Count, opts.Seed = 500, seed
		if err := WriteJSONL(&buf, opts); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b, c := run(42), run(42), run(43)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different streams")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same stream")
	}
}

func TestRareNamesAndPlaces(t *testing.T) {
	opts := DefaultOptions()
	opts.Count = 3000
	seen := map[string]bool{}
	for m := range Messages(opts) {
		if m.Order == nil {
			continue
		}
		r := m.Order.Receiver
		for _, s := range []string{"𠮷", "堃", "喆", "赟", "🌸"} {
			if strings.Contains(r.Name, s) {
				seen[s] = true
			}
		}
		seen[r.Province] = true
		seen[m.Order.Platform] = true
		seen[m.Order.Carrier.Code] = true
	}
	for _, want := range []string{"𠮷", "堃", "喆", "赟", "🌸", "香港特别行政区", "澳门特别行政区", "台湾省", "新疆维吾尔自治区",
		"douyin", "taobao", "jd", "pdd", "miniapp", "SF", "ZTO", "YTO", "STO", "YUNDA", "JT", "EMS", "JD", "DBL", "OTHER"} {
		if !seen[want] {
			t.Errorf("%s never appears in 3000 orders", want)
		}
	}
}

func TestCatalogueCodes(t *testing.T) {
	for _, p := range Catalogue() {
		for _, bc := range p.Barcodes(true) {
			if !codes.ValidCheckDigit(bc) {
				t.Errorf("%s: barcode %s has a bad check digit", p.SKU, bc)
			}
		}
		if p.Case != "" && len(p.Case) != 14 {
			t.Errorf("%s: case code %s is not a GTIN-14", p.SKU, p.Case)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	opts := DefaultOptions()
	opts.Count = math.MaxInt32
	g := New(opts)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := g.Next(); !ok {
			b.Fatal("stream ended")
		}
	}
}

func BenchmarkWriteJSONL(b *testing.B) {
	opts := DefaultOptions()
	opts.Count = 10000
	b.ReportAllocs()
	for b.Loop() {
		var n countWriter
		if err := WriteJSONL(&n, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*opts.Count), "ns/order")
}

// BenchmarkBaselineMarshal is the bare operation under WriteJSONL: encoding one
// ready-made feed message.
func BenchmarkBaselineMarshal(b *testing.B) {
	m, _ := New(DefaultOptions()).Next()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// TestWaybillsOfTwoDaysDiffer: feeds generated for two days share no order id
// or waybill number.
func TestWaybillsOfTwoDaysDiffer(t *testing.T) {
	seen := map[string]bool{}
	for _, day := range []int{0, 1} {
		opts := DefaultOptions()
		opts.Count = 300
		opts.Start = opts.Start.AddDate(0, 0, day)
		for m := range Messages(opts) {
			if m.Order == nil || m.Order.Version > 1 {
				continue
			}
			keys := []string{m.Order.OrderID}
			if m.Order.Waybill != nil {
				keys = append(keys, m.Order.Waybill.No)
			}
			for _, k := range keys {
				if seen[k] {
					t.Fatalf("%s appears on two days", k)
				}
				seen[k] = true
			}
		}
	}
}
