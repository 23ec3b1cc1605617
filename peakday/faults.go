package peakday

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"syscall"
	"time"
)

// sampler reads the agent's health, memory and CPU every 250 ms.
func (r *runner) sampler(ctx context.Context) {
	hc := &http.Client{Timeout: 2 * time.Second}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var lastTicks uint64
	var lastAt time.Time
	lastPID := 0
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := Sample{At: time.Now(), HubSeq: r.hub.Seq(), Load1: loadAvg()}
		if h, err := GetHealth(ctx, hc, r.agent.Base); err == nil {
			// Stamped when the answer is in: the agent had applied FeedSeq by then.
			s.At = time.Now()
			s.Up = h.OK
			s.OutboxPending = h.OutboxPending
			s.FeedSeq = h.FeedSeq
			if h.FeedSeq > r.feedSeq.Load() {
				r.feedSeq.Store(h.FeedSeq)
			}
		}
		if pid := r.agent.PID(); pid > 0 {
			if p, err := ReadProc(pid); err == nil {
				s.RSSBytes, s.AnonBytes = p.RSSBytes, p.AnonBytes
				if pid == lastPID && !lastAt.IsZero() {
					s.CPU = float64(p.CPUTicks-lastTicks) / clockTicks / s.At.Sub(lastAt).Seconds()
				}
				lastTicks, lastAt, lastPID = p.CPUTicks, s.At, pid
			}
		}
		// Keep one sample in two in the record for long runs; the feed seq is always tracked.
		n++
		if r.opts.Orders < 10000 || n%2 == 0 || !s.Up {
			r.rec.sample(s)
		}
	}
}

// faults injects the day's faults at points of the feed's progress.
func (r *runner) faults(ctx context.Context, released *atomic.Int64) {
	total := int64(r.opts.Orders)
	at := func(frac float64) bool {
		for ctx.Err() == nil {
			if released.Load() >= int64(frac*float64(total)) {
				return true
			}
			sleepCtx(ctx, 100*time.Millisecond)
		}
		return false
	}
	steps := []struct {
		frac float64
		fn   func(context.Context)
	}{
		{0.10, r.faultPaperOut},
		{0.15, r.faultPrinterDrop},
		{0.20, r.faultBrokerRestart},
		{0.30, r.faultBrokerOutage},
		{0.50, r.faultAgentKill},
		{0.58, r.faultPrinterVanish},
		{0.66, r.faultDiskFull},
		{0.85, r.faultBrokerKill},
	}
	for _, s := range steps {
		if !at(s.frac) {
			return
		}
		s.fn(ctx)
	}
}

func (r *runner) somePrinter(i int) *Printer {
	ids := make([]string, 0, len(r.printers))
	for id := range r.printers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return r.printers[ids[i%len(ids)]]
}

// nextLabel waits for the printer's next label after since.
func (r *runner) nextLabel(ctx context.Context, p *Printer, since time.Time, within time.Duration) (time.Duration, bool) {
	end := time.Now().Add(within)
	for ctx.Err() == nil && time.Now().Before(end) {
		ls := p.Labels()
		if len(ls) > 0 && ls[len(ls)-1].At.After(since) {
			for _, l := range ls {
				if l.At.After(since) {
					return l.At.Sub(since), true
				}
			}
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
	return 0, false
}

func (r *runner) faultPaperOut(ctx context.Context) {
	p := r.somePrinter(2)
	start := time.Now()
	p.SetPaperOut(true)
	sleepCtx(ctx, 4*time.Second)
	p.SetPaperOut(false)
	back := time.Now()
	d, ok := r.nextLabel(ctx, p, back, 60*time.Second)
	r.rec.fault(FaultRec{Name: "printer paper out (" + p.ID + ")", At: start, Duration: back.Sub(start), Recovery: d, OK: ok,
		Detail: "paper back → the printer's next label"})
}

func (r *runner) faultPrinterDrop(ctx context.Context) {
	p := r.somePrinter(5)
	start := time.Now()
	p.DropAfter(300)
	d, ok := r.nextLabel(ctx, p, start, 90*time.Second)
	r.rec.fault(FaultRec{Name: "printer connection dropped mid-job (" + p.ID + ")", At: start, Recovery: d, OK: ok,
		Detail: "drop → the printer's next whole label"})
}

func (r *runner) faultPrinterVanish(ctx context.Context) {
	p := r.somePrinter(7)
	start := time.Now()
	p.DropAfter(200)
	sleepCtx(ctx, 200*time.Millisecond)
	p.Vanish()
	sleepCtx(ctx, r.opts.PrinterGone)
	err := p.Return()
	back := time.Now()
	d, ok := r.nextLabel(ctx, p, back, 90*time.Second)
	rec := FaultRec{Name: "printer vanished mid-job (" + p.ID + ")", At: start, Duration: back.Sub(start), Recovery: d, OK: ok && err == nil,
		Detail: "printer back → its next label"}
	if err != nil {
		rec.Detail = err.Error()
	}
	r.rec.fault(rec)
}

// outboxBack waits until the outbox is at or below level again.
func (r *runner) outboxBack(ctx context.Context, from time.Time, level int, within time.Duration) (time.Duration, bool) {
	hc := &http.Client{Timeout: time.Second}
	for ctx.Err() == nil && time.Since(from) < within {
		if h, err := GetHealth(ctx, hc, r.agent.Base); err == nil && h.OK && h.OutboxPending <= level {
			return time.Since(from), true
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
	return time.Since(from), false
}

func (r *runner) outboxNow(ctx context.Context) int {
	h, err := GetHealth(ctx, &http.Client{Timeout: time.Second}, r.agent.Base)
	if err != nil {
		return 0
	}
	return h.OutboxPending
}

// backLevel is the outbox depth that counts as recovered: what it was before
// the fault, or 50 (a busy floor always has a few events in flight).
func backLevel(before int) int { return max(before, 50) }

func (r *runner) faultBrokerRestart(ctx context.Context) {
	before := r.outboxNow(ctx)
	start := time.Now()
	r.broker.Stop()
	err := r.broker.Start()
	back := time.Now()
	d, ok := r.outboxBack(ctx, back, backLevel(before), 2*time.Minute)
	r.rec.fault(FaultRec{Name: "broker restart (SIGTERM)", At: start, Duration: back.Sub(start), Recovery: d, OK: ok && err == nil,
		Detail: fmt.Sprintf("broker back → outbox at or below %d", backLevel(before))})
}

func (r *runner) faultBrokerKill(ctx context.Context) {
	before := r.outboxNow(ctx)
	start := time.Now()
	r.broker.Kill()
	sleepCtx(ctx, time.Second)
	err := r.broker.Start()
	back := time.Now()
	d, ok := r.outboxBack(ctx, back, backLevel(before), 2*time.Minute)
	r.rec.fault(FaultRec{Name: "broker killed (SIGKILL) and restarted", At: start, Duration: back.Sub(start), Recovery: d, OK: ok && err == nil,
		Detail: fmt.Sprintf("broker back → outbox at or below %d", backLevel(before))})
}

func (r *runner) faultBrokerOutage(ctx context.Context) {
	before := r.outboxNow(ctx)
	start := time.Now()
	r.broker.Stop()
	sleepCtx(ctx, r.opts.BrokerOutage)
	peak := r.outboxNow(ctx)
	err := r.broker.Start()
	back := time.Now()
	d, ok := r.outboxBack(ctx, back, backLevel(before), 5*time.Minute)
	// Then to an empty outbox: the target is within 60 s of the broker's return.
	r.rec.fault(FaultRec{Name: fmt.Sprintf("broker unreachable for %s", r.opts.BrokerOutage), At: start, Duration: back.Sub(start),
		Recovery: d, OK: ok && err == nil && d <= 60*time.Second,
		Detail: fmt.Sprintf("outbox peaked at %d events; broker back → outbox at or below %d (target ≤ 60 s)", peak, backLevel(before))})
}

func (r *runner) faultAgentKill(ctx context.Context) {
	start := time.Now()
	r.up.Store(false)
	r.agent.Kill()
	err := r.agent.Start(ctx)
	r.up.Store(true)
	back := time.Now()
	// Recovered when a scan is answered again.
	var d time.Duration
	ok := false
	for ctx.Err() == nil && time.Since(back) < time.Minute {
		if t, found := r.firstScanAfter(back); found {
			d, ok = t.Sub(start), true
			break
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
	rec := FaultRec{Name: "agent kill -9 and restart", At: start, Duration: back.Sub(start), Recovery: d, OK: ok && err == nil,
		Detail: "kill → first scan answered by the new process"}
	if err != nil {
		rec.Detail = err.Error()
	}
	r.rec.fault(rec)
}

func (r *runner) firstScanAfter(t time.Time) (time.Time, bool) {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	for i := len(r.rec.scans) - 1; i >= 0 && i >= len(r.rec.scans)-2000; i-- {
		s := r.rec.scans[i]
		if s.OK && s.At.After(t) {
			return s.At.Add(s.Dur), true
		}
	}
	return time.Time{}, false
}

// faultDiskFull fills the data disk, keeps it full for a while, and frees it.
// The agent must refuse new work without dying and take it again once there
// is room; the store's check at the end tells whether the file survived.
func (r *runner) faultDiskFull(ctx context.Context) {
	if !r.mounted {
		r.rec.fault(FaultRec{Name: "data disk full", At: time.Now(), Detail: "skipped: " + r.disk})
		return
	}
	pid := r.agent.PID()
	start := time.Now()
	ballast := filepath.Join(r.dataDir, "ballast")
	f, err := os.Create(ballast)
	if err != nil {
		r.rec.fault(FaultRec{Name: "data disk full", At: start, Detail: "cannot make ballast: " + err.Error()})
		return
	}
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				r.log.Warn("ballast", "err", err)
			}
			break
		}
	}
	// Fill the last partial blocks too.
	for _, n := range []int{64 << 10, 4 << 10, 512} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	f.Close()
	refusedBefore := r.refusals()
	sleepCtx(ctx, r.opts.DiskFullFor)
	refused := r.refusals() - refusedBefore
	alive := r.agent.PID() == pid && pid != 0
	os.Remove(ballast)
	back := time.Now()
	var d time.Duration
	ok := false
	for ctx.Err() == nil && time.Since(back) < time.Minute {
		if t, found := r.firstScanAfter(back); found {
			d, ok = t.Sub(back), true
			break
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
	if !alive {
		// The agent died on a full disk: note it and bring it back so the day goes on.
		r.up.Store(false)
		if r.agent.PID() == 0 {
			_ = r.agent.Start(ctx)
		}
		r.up.Store(true)
	}
	r.rec.fault(FaultRec{Name: "data disk full (" + r.disk + ")", At: start, Duration: back.Sub(start), Recovery: d,
		OK: ok && alive, Detail: fmt.Sprintf("%d scans refused or unanswered while full; agent process stayed up: %v; space back → first scan answered", refused, alive)})
	r.rec.check("disk_full_refused")
}

func (r *runner) refusals() int {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	n := 0
	for _, s := range r.rec.scans {
		if !s.OK {
			n++
		}
	}
	return n
}

func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var l float64
	fmt.Sscanf(string(b), "%f", &l)
	return l
}
