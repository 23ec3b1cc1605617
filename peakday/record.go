package peakday

import (
	"sync"
	"time"
)

// scanRec is one scan: when, how long until its verdict, over which input.
type scanRec struct {
	At  time.Time
	Dur time.Duration
	Via string
	OK  bool // a verdict came back (accepted or refused)
}

// MistakeRec is one mistake a simulated person made and what the agent said.
type MistakeRec struct {
	Kind, Station, OrderID, Via string
	Want, Got                   string
	OK, Caught                  bool
}

// Unexpected is a verdict the simulated person did not expect.
type Unexpected struct {
	Station, OrderID, Step, Reason, Next string
	OK                                   bool
}

// Sample is one reading of the agent every sampling interval.
type Sample struct {
	At            time.Time
	Up            bool
	RSSBytes      int64   // VmRSS: includes the pages of the mmapped data file
	AnonBytes     int64   // RssAnon: the heap and stacks
	CPU           float64 // share of one core since the last sample
	OutboxPending int
	FeedSeq       uint64
	HubSeq        uint64
	Load1         float64 // the machine's 1-minute load average
}

// FaultRec is one injected fault and how long the floor took to recover.
type FaultRec struct {
	Name     string
	At       time.Time
	Duration time.Duration // how long the fault lasted
	Recovery time.Duration // from the fault's end to recovered (see Detail)
	Detail   string
	OK       bool
}

type recorder struct {
	mu        sync.Mutex
	scans     []scanRec
	mistakes  []MistakeRec
	surprises []Unexpected
	checks    map[string]int
	samples   []Sample
	faults    []FaultRec
}

func newRecorder() *recorder { return &recorder{checks: map[string]int{}} }

func (r *recorder) scan(at time.Time, d time.Duration, via string, ok bool) {
	r.mu.Lock()
	r.scans = append(r.scans, scanRec{At: at, Dur: d, Via: via, OK: ok})
	r.mu.Unlock()
}

func (r *recorder) mistake(kind, station, orderID, via string, v Verdict) {
	want := expectedReason[kind]
	r.mu.Lock()
	r.mistakes = append(r.mistakes, MistakeRec{Kind: kind, Station: station, OrderID: orderID, Via: via, Want: want, Got: v.Reason,
		OK: v.OK, Caught: !v.OK && v.Reason == want})
	r.mu.Unlock()
}

func (r *recorder) unexpected(station, orderID, step string, v Verdict) {
	r.mu.Lock()
	r.surprises = append(r.surprises, Unexpected{Station: station, OrderID: orderID, Step: step, Reason: v.Reason, Next: v.Next, OK: v.OK})
	r.mu.Unlock()
}

func (r *recorder) check(what string) {
	r.mu.Lock()
	r.checks[what]++
	r.mu.Unlock()
}

func (r *recorder) sample(s Sample) {
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

func (r *recorder) fault(f FaultRec) {
	r.mu.Lock()
	r.faults = append(r.faults, f)
	r.mu.Unlock()
}
