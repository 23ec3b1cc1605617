package ui

import (
	"io/fs"
	"strings"
	"testing"
	"time"
)

func tp(t time.Time) *time.Time { return &t }

func TestSLAAlarms(t *testing.T) {
	now := time.Date(2026, 1, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    OrderFact
		want []string
	}{
		{"fresh", OrderFact{OrderID: "a", Status: "released", PaidAt: now.Add(-time.Hour)}, nil},
		{"not picked 2h", OrderFact{OrderID: "a", Status: "released", PaidAt: now.Add(-150 * time.Minute)}, []string{"not_picked:30"}},
		{"picked in time", OrderFact{OrderID: "a", Status: "released", PaidAt: now.Add(-3 * time.Hour), PickedAt: tp(now.Add(-2 * time.Hour))}, nil},
		{"due in 45 min", OrderFact{OrderID: "a", Status: "released", PaidAt: now.Add(-time.Hour), PromisedShipBy: tp(now.Add(45 * time.Minute))}, []string{"due_soon:-45"}},
		{"due in 2h", OrderFact{OrderID: "a", Status: "released", PaidAt: now.Add(-time.Hour), PromisedShipBy: tp(now.Add(2 * time.Hour))}, nil},
		{"due but handed over", OrderFact{OrderID: "a", Status: "released", PaidAt: now.Add(-time.Hour), PickedAt: tp(now), PromisedShipBy: tp(now), HandedOverAt: tp(now)}, nil},
		{"not collected", OrderFact{OrderID: "a", Status: "shipped", PaidAt: now.Add(-5 * time.Hour), PickedAt: tp(now), HandedOverAt: tp(now.Add(-3 * time.Hour))}, []string{"not_collected:60"}},
		{"collected", OrderFact{OrderID: "a", Status: "shipped", PaidAt: now.Add(-5 * time.Hour), PickedAt: tp(now), HandedOverAt: tp(now.Add(-3 * time.Hour)), CollectedAt: tp(now)}, nil},
		{"intercepted is on the pull list instead", OrderFact{OrderID: "a", Status: "intercepted", PaidAt: now.Add(-5 * time.Hour)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, a := range SLAAlarms([]OrderFact{tt.f}, now) {
				got = append(got, a.Kind+":"+itoa(a.Overdue))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func itoa(n int64) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestHeat(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 1, 28, 12, 0, 0, 0, loc)
	facts := []OrderFact{
		{OrderID: "1", Status: "released", Zone: "A", PaidAt: now.Add(-30 * time.Hour)},                                   // waiting > 24 h, paid at 06
		{OrderID: "2", Status: "released", Zone: "A", PaidAt: now.Add(-2 * time.Hour), PickedAt: tp(now.Add(-time.Hour))}, // picked at 11
		{OrderID: "3", Status: "released", Zone: "C", PaidAt: now.Add(-time.Hour), HandedOverAt: tp(now)},                 // gone
		{OrderID: "4", Status: "released", Zone: "", PaidAt: now.Add(-time.Hour)},
	}
	h := Heat(facts, now, loc)
	if strings.Join(h.Zones, ",") != "?,A,C" {
		t.Fatalf("zones %v", h.Zones)
	}
	if h.Waiting[6][1] != 1 || h.Waiting[10][1] != 1 || h.Picked[11][1] != 1 || h.Over24h[1] != 1 || h.Over24h[2] != 0 || h.Waiting[11][0] != 1 {
		t.Fatalf("heat %+v", h)
	}
	for _, z := range []struct{ loc, zone string }{{"A-03-2-07", "A"}, {"", "?"}, {"B12", "B12"}, {" C-1", "C"}} {
		if got := ZoneOf(z.loc); got != z.zone {
			t.Errorf("ZoneOf(%q) = %q", z.loc, got)
		}
	}
}

func TestDaySpread(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 1, 28, 20, 0, 0, 0, loc)
	var facts []OrderFact
	// Ten orders handed over today with lead times 1..10 hours; one from yesterday.
	for i := 1; i <= 10; i++ {
		ho := now.Add(-time.Duration(i) * time.Minute)
		facts = append(facts, OrderFact{OrderID: itoa(int64(i)), PaidAt: ho.Add(-time.Duration(i) * time.Hour), HandedOverAt: tp(ho)})
	}
	facts = append(facts, OrderFact{OrderID: "y", PaidAt: now.Add(-48 * time.Hour), HandedOverAt: tp(now.Add(-24 * time.Hour))})
	sp := DaySpread(facts, now, loc)
	// Fastest 20%: 1 h and 2 h (avg 90 min); slowest: 9 h and 10 h (avg 570 min).
	if sp.Orders != 10 || sp.FastestMin != 90 || sp.SlowestMin != 570 || sp.Ratio != 6.3 || sp.Distribution[1] != 1 {
		t.Fatalf("spread %+v", sp)
	}
	if sp := DaySpread(facts[:3], now, loc); sp.Ratio != 0 || sp.Orders != 3 {
		t.Fatalf("too few orders for a ratio: %+v", sp)
	}
}

func TestAssetsEmbedded(t *testing.T) {
	for _, name := range []string{"index.html", "app.js", "app.css"} {
		b, err := fs.ReadFile(embedded, name)
		if err != nil || len(b) < 100 {
			t.Fatalf("%s not embedded: %v (%d bytes)", name, err, len(b))
		}
	}
	idx, _ := fs.ReadFile(embedded, "index.html")
	if !strings.Contains(string(idx), "/static/{{V}}/app.js") || !strings.Contains(string(idx), `lang="zh-CN"`) {
		t.Fatal("index.html must name its assets by version and default to zh-CN")
	}
	a, err := loadAssets(embedded, false)
	if err != nil || len(a.version) != 12 {
		t.Fatalf("loadAssets: %v %q", err, a.version)
	}
}
