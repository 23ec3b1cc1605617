package peakday

import (
	"fmt"
	"slices"
	"time"
)

// Percentiles of scan → verdict latency.
type Percentiles struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return Percentiles{N: len(d), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: d[len(d)-1]}
}

// LatencyWindow is one slice of the day: scans answered per second and
// their latency.
type LatencyWindow struct {
	Start  time.Time
	PerSec float64
	Percentiles
}

func (r *Result) window() time.Duration {
	if r.Opts.Orders >= 10000 {
		return 15 * time.Second
	}
	return 5 * time.Second
}

func (r *Result) latency() {
	if len(r.scans) == 0 {
		return
	}
	w := r.window()
	t0 := r.scans[0].At
	for _, s := range r.scans {
		if s.At.Before(t0) {
			t0 = s.At
		}
	}
	buckets := map[int][]time.Duration{}
	var all []time.Duration
	by := map[string][]time.Duration{}
	maxB := 0
	for _, s := range r.scans {
		if !s.OK {
			continue
		}
		b := int(s.At.Sub(t0) / w)
		buckets[b] = append(buckets[b], s.Dur)
		maxB = max(maxB, b)
		all = append(all, s.Dur)
		by[s.Via] = append(by[s.Via], s.Dur)
	}
	for b := 0; b <= maxB; b++ {
		p := percentiles(buckets[b])
		r.Latency = append(r.Latency, LatencyWindow{Start: t0.Add(time.Duration(b) * w), PerSec: float64(p.N) / w.Seconds(), Percentiles: p})
	}
	r.Overall = percentiles(all)
	r.ByVia = map[string]Percentiles{}
	for v, d := range by {
		r.ByVia[v] = percentiles(d)
	}
}

// peak is the p99 over the busiest tenth of the windows.
func (r *Result) peak() (Percentiles, float64) {
	if len(r.Latency) == 0 {
		return Percentiles{}, 0
	}
	ws := slices.Clone(r.Latency)
	slices.SortFunc(ws, func(a, b LatencyWindow) int {
		switch {
		case a.PerSec > b.PerSec:
			return -1
		case a.PerSec < b.PerSec:
			return 1
		}
		return 0
	})
	n := max(1, len(ws)/10)
	w := r.window()
	var all []time.Duration
	var rate float64
	for _, lw := range ws[:n] {
		rate += lw.PerSec
		for _, s := range r.scans {
			if s.OK && !s.At.Before(lw.Start) && s.At.Before(lw.Start.Add(w)) {
				all = append(all, s.Dur)
			}
		}
	}
	return percentiles(all), rate / float64(n)
}

// targets adds the performance targets of the full run.
func (r *runner) targets(res *Result) {
	pk, rate := res.peak()
	lat := Invariant{Name: "target: scan → verdict p99 < 10 ms at peak load (socket and serial inputs)", Target: true, Checked: pk.N,
		Detail: fmt.Sprintf("busiest tenth of the day: %.0f scans/s, p50 %s, p99 %s, max %s (all inputs, HTTP included)", rate, ms(pk.P50), ms(pk.P99), ms(pk.Max))}
	var wired []time.Duration
	for _, s := range res.scans {
		if s.OK && s.Via == "socket" {
			wired = append(wired, s.Dur)
		}
	}
	wp := percentiles(wired)
	if wp.P99 >= 10*time.Millisecond {
		lat.Broken = 1
	}
	lat.Detail += fmt.Sprintf("; scan socket over the whole day: p99 %s", ms(wp.P99))
	res.Invariants = append(res.Invariants, lat)

	var maxRSS, maxAnon int64
	for _, s := range res.Samples {
		maxRSS = max(maxRSS, s.RSSBytes)
		maxAnon = max(maxAnon, s.AnonBytes)
	}
	rss := Invariant{Name: "target: agent RSS < 150 MB throughout", Target: true, Checked: len(res.Samples),
		Detail: fmt.Sprintf("peak VmRSS %.1f MB (anonymous %.1f MB; the rest is the mmapped data file)", float64(maxRSS)/(1<<20), float64(maxAnon)/(1<<20))}
	if maxRSS >= 150<<20 {
		rss.Broken = 1
	}
	res.Invariants = append(res.Invariants, rss)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
