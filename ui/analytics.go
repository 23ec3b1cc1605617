package ui

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// SLA alarm kinds.
const (
	AlarmNotPicked     = "not_picked"    // paid more than 2 h ago and not picked
	AlarmDueSoon       = "due_soon"      // promised_ship_by within 1 h and not handed over
	AlarmNotCollected  = "not_collected" // handed over more than 2 h ago, carrier has not collected
	slaNotPickedAfter  = 2 * time.Hour
	slaDueWithin       = time.Hour
	slaCollectedWithin = 2 * time.Hour
)

// Alarm is one order breaking a service-level rule.
type Alarm struct {
	Kind    string    `json:"kind"`
	OrderID string    `json:"order_id"`
	Urgent  bool      `json:"urgent,omitempty"`
	Since   time.Time `json:"since"`   // the time the clock started (paid, promised, handed over)
	Overdue int64     `json:"overdue"` // minutes past the rule's limit (negative: minutes left)
	Carrier string    `json:"carrier,omitempty"`
}

func onFloor(f *OrderFact) bool {
	return f.Status == wire.StatusReleased || f.Status == wire.StatusIntercepted || f.Status == ""
}

// SLAAlarms returns the orders breaking the floor's service levels at now, most
// overdue first.
func SLAAlarms(facts []OrderFact, now time.Time) []Alarm {
	var out []Alarm
	for i := range facts {
		f := &facts[i]
		if f.Status == wire.StatusIntercepted {
			continue // it must not leave: the pull list shows it
		}
		if onFloor(f) && f.PickedAt == nil && f.HandedOverAt == nil && now.Sub(f.PaidAt) > slaNotPickedAfter {
			out = append(out, Alarm{Kind: AlarmNotPicked, OrderID: f.OrderID, Urgent: f.Urgent, Since: f.PaidAt,
				Overdue: int64(now.Sub(f.PaidAt.Add(slaNotPickedAfter)) / time.Minute), Carrier: f.Carrier})
		}
		if onFloor(f) && f.HandedOverAt == nil && f.PromisedShipBy != nil && f.PromisedShipBy.Sub(now) <= slaDueWithin {
			out = append(out, Alarm{Kind: AlarmDueSoon, OrderID: f.OrderID, Urgent: f.Urgent, Since: *f.PromisedShipBy,
				Overdue: int64(now.Sub(*f.PromisedShipBy) / time.Minute), Carrier: f.Carrier})
		}
		if f.HandedOverAt != nil && f.CollectedAt == nil && now.Sub(*f.HandedOverAt) > slaCollectedWithin {
			out = append(out, Alarm{Kind: AlarmNotCollected, OrderID: f.OrderID, Urgent: f.Urgent, Since: *f.HandedOverAt,
				Overdue: int64(now.Sub(f.HandedOverAt.Add(slaCollectedWithin)) / time.Minute), Carrier: f.Carrier})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Overdue != out[j].Overdue {
			return out[i].Overdue > out[j].Overdue
		}
		return out[i].OrderID < out[j].OrderID
	})
	return out
}

// HeatMap is work by hour of day (local time) and pick zone.
type HeatMap struct {
	Zones []string `json:"zones"`
	// Picked[h][z]: orders picked in hour h of the day from zone z.
	Picked [24][]int `json:"picked"`
	// Waiting[h][z]: orders still on the floor (not handed over), by the hour they were paid.
	Waiting [24][]int `json:"waiting"`
	// Over24h[z]: orders of zone z waiting more than 24 h since payment.
	Over24h []int `json:"over_24h"`
}

// ZoneOf is the pick zone of a location: the part before the first '-'
// (A-03-2-07 → A); "?" when there is none.
func ZoneOf(location string) string {
	z, _, _ := strings.Cut(strings.TrimSpace(location), "-")
	if z == "" {
		return "?"
	}
	return z
}

// Heat builds the heat map at now, hours in loc.
func Heat(facts []OrderFact, now time.Time, loc *time.Location) HeatMap {
	var zones []string
	for _, f := range facts {
		z := f.Zone
		if z == "" {
			z = "?"
		}
		if !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
	}
	sort.Strings(zones)
	idx := func(z string) int {
		if z == "" {
			z = "?"
		}
		i, _ := slices.BinarySearch(zones, z)
		return i
	}
	h := HeatMap{Zones: zones, Over24h: make([]int, len(zones))}
	for i := range h.Picked {
		h.Picked[i] = make([]int, len(zones))
		h.Waiting[i] = make([]int, len(zones))
	}
	for _, f := range facts {
		z := idx(f.Zone)
		if f.PickedAt != nil {
			h.Picked[f.PickedAt.In(loc).Hour()][z]++
		}
		if onFloor(&f) && f.HandedOverAt == nil {
			h.Waiting[f.PaidAt.In(loc).Hour()][z]++
			if now.Sub(f.PaidAt) > 24*time.Hour {
				h.Over24h[z]++
			}
		}
	}
	return h
}

// Spread is the delivery-time spread of a day: paid → handed over, the slowest
// 20% against the fastest 20% (the floor's own measure; 1:8 before, 1:2.1 after).
type Spread struct {
	Orders       int     `json:"orders"`
	FastestMin   float64 `json:"fastest20_avg_min"`
	SlowestMin   float64 `json:"slowest20_avg_min"`
	MedianMin    float64 `json:"median_min"`
	Ratio        float64 `json:"ratio"` // slowest / fastest; 0 with fewer than 5 orders
	DayStart     string  `json:"day_start"`
	Distribution []int   `json:"distribution"` // orders per hour of lead time: [0,1h), [1,2h) … last bucket 24h+
}

// DaySpread computes the spread for orders handed over on now's day (in loc).
func DaySpread(facts []OrderFact, now time.Time, loc *time.Location) Spread {
	ln := now.In(loc)
	day := time.Date(ln.Year(), ln.Month(), ln.Day(), 0, 0, 0, 0, loc)
	var mins []float64
	sp := Spread{DayStart: day.Format(time.RFC3339), Distribution: make([]int, 25)}
	for _, f := range facts {
		if f.HandedOverAt == nil || f.HandedOverAt.Before(day) || f.HandedOverAt.After(now) {
			continue
		}
		d := f.HandedOverAt.Sub(f.PaidAt)
		if d < 0 {
			d = 0
		}
		mins = append(mins, d.Minutes())
		sp.Distribution[min(24, int(d/time.Hour))]++
	}
	sp.Orders = len(mins)
	if len(mins) == 0 {
		return sp
	}
	sort.Float64s(mins)
	sp.MedianMin = round1(mins[len(mins)/2])
	if len(mins) < 5 {
		return sp
	}
	k := len(mins) / 5
	avg := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	fast, slow := avg(mins[:k]), avg(mins[len(mins)-k:])
	sp.FastestMin, sp.SlowestMin = round1(fast), round1(slow)
	if fast > 0 {
		sp.Ratio = round1(slow / fast)
	}
	return sp
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }
