package floor

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// sameVerdict compares two verdicts as the screen gets them, Replayed aside.
func sameVerdict(t *testing.T, got, want Verdict) {
	t.Helper()
	got.Replayed, want.Replayed = false, false
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("replayed verdict differs:\n got %s\nwant %s", g, w)
	}
}

func (r *rig) scanOnce(id, station, operator, code string) Verdict {
	r.t.Helper()
	v, err := r.e.ScanOnce(ctx, id, station, operator, code, "")
	if err != nil {
		r.t.Fatalf("scan %q (id %s): %v", code, id, err)
	}
	return v
}

func (r *rig) audits() int {
	r.t.Helper()
	recs, err := r.s.Audit(store.AuditQuery{})
	if err != nil {
		r.t.Fatal(err)
	}
	return len(recs)
}

func TestScanOnceReplays(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-1", "SF1", line("A", "米糊", 2, eanMiHu)))
	r.scan("P1", "SF1", "")
	r.scan("P1", eanMiHu, "")
	r.scan("P1", eanMiHu, "")

	audits := r.audits()
	first := r.scanOnce("wb-1", "P1", "W01", "SF1")
	if !first.OK || !first.Done || first.Replayed || len(first.Events) != 1 {
		t.Fatalf("first verify: %+v", first)
	}
	again := r.scanOnce("wb-1", "P1", "W01", "SF1")
	if !again.Replayed {
		t.Fatalf("retry not marked as a replay: %+v", again)
	}
	sameVerdict(t, again, first)
	if n := len(r.eventsOf(wire.EventPackVerified)); n != 1 {
		t.Fatalf("pack.verified ×%d, want 1", n)
	}
	if n := r.audits() - audits; n != 1 {
		t.Fatalf("%d audit lines for one scan and its retry, want 1", n)
	}

	// Another id with the same code is another scan: the order is verified now.
	v := r.scanOnce("wb-2", "P1", "W01", "SF1")
	if v.Replayed || v.OK || v.Reason != ReasonAlreadyVerified {
		t.Fatalf("new id, same code: %+v", v)
	}
	// Another operator's id is their own, even when it is spelled the same.
	v = r.scanOnce("wb-1", "P2", "W02", "SF1")
	if v.Replayed || v.Reason != ReasonAlreadyVerified {
		t.Fatalf("other operator, same id: %+v", v)
	}
	// An id used for a scan is not taken by an action.
	if _, err := r.e.CancelOnce(ctx, "wb-1", "P1", "W01", "oops"); !errors.Is(err, ErrScanIDReused) {
		t.Fatalf("cancel under a scan's id: %v", err)
	}
}

func TestScanOnceCountsAnItemOnce(t *testing.T) {
	tests := []struct {
		name string
		ids  []string
		want int // units counted
	}{
		{"same id twice", []string{"item-1", "item-1"}, 1},
		{"two ids", []string{"item-1", "item-2"}, 2},
		{"same id after another", []string{"item-1", "item-2", "item-1"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.orders(order("O-1", "SF1", line("A", "米糊", 3, eanMiHu)))
			r.scan("P1", "SF1", "")
			for _, id := range tt.ids {
				r.scanOnce(id, "P1", "W01", eanMiHu)
			}
			s, err := r.e.Session(ctx, "P1")
			if err != nil || s == nil {
				t.Fatalf("session: %v %v", s, err)
			}
			if got := s.Counts["1"]; got != tt.want {
				t.Fatalf("counted %d, want %d", got, tt.want)
			}
		})
	}
}

func TestScanOnceConcurrentDuplicates(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-1", "SF1", line("A", "米糊", 1, eanMiHu)))
	r.scan("P1", "SF1", "")
	r.scan("P1", eanMiHu, "")
	const n = 8
	verdicts := make([]Verdict, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			verdicts[i], errs[i] = r.e.ScanOnce(ctx, "dup-1", "P1", "W01", "SF1", "")
		})
	}
	close(start)
	wg.Wait()
	applied := -1
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !verdicts[i].Replayed {
			if applied >= 0 {
				t.Fatalf("applied twice: %+v and %+v", verdicts[applied], verdicts[i])
			}
			applied = i
		}
	}
	if applied < 0 {
		t.Fatal("every call was a replay; none applied")
	}
	for i := range n {
		sameVerdict(t, verdicts[i], verdicts[applied])
	}
	if !verdicts[applied].Done {
		t.Fatalf("not verified: %+v", verdicts[applied])
	}
	if got := len(r.eventsOf(wire.EventPackVerified)); got != 1 {
		t.Fatalf("pack.verified ×%d, want 1", got)
	}
}

// TestScanOnceAcrossRestart is the window the id closes: the agent stopped
// after the scan's commit, before the page got its answer; the page retries
// against a new engine over the same file.
func TestScanOnceAcrossRestart(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-1", "SF1", line("A", "米糊", 1, eanMiHu)))
	r.scan("P1", "SF1", "")
	r.scan("P1", eanMiHu, "")
	first := r.scanOnce("crash-1", "P1", "W01", "SF1")
	if !first.Done {
		t.Fatalf("verify: %+v", first)
	}
	r.restart()
	retry := r.scanOnce("crash-1", "P1", "W01", "SF1")
	if !retry.Replayed {
		t.Fatalf("retry after restart applied again: %+v", retry)
	}
	sameVerdict(t, retry, first)
	if got := len(r.eventsOf(wire.EventPackVerified)); got != 1 {
		t.Fatalf("pack.verified ×%d, want 1", got)
	}
	a, err := r.e.Applied(ctx, "W01", "crash-1")
	if err != nil || a == nil || a.Action != "scan" || a.Station != "P1" || !a.Verdict.Replayed {
		t.Fatalf("applied record: %+v %v", a, err)
	}
}

func TestActionsOnce(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-1", "SF1", line("A", "礼盒", 1)), order("O-2", "SF2", line("B", "米糊", 1, eanMiHu)))
	r.scan("P1", "SF1", "")
	tests := []struct {
		name string
		do   func(id string) (Verdict, error)
	}{
		{"confirm", func(id string) (Verdict, error) { return r.e.ConfirmOnce(ctx, id, "P1", "W01", "1") }},
		{"cancel", func(id string) (Verdict, error) { return r.e.CancelOnce(ctx, id, "P1", "W01", "test") }},
		{"pick", func(id string) (Verdict, error) { return r.e.StartPickOnce(ctx, id, "PDA1", "W01", "") }},
		{"handover", func(id string) (Verdict, error) { return r.e.StartHandoverOnce(ctx, id, "DOCK1", "W01", "CAGE-1") }},
		{"pulled", func(id string) (Verdict, error) { return r.e.PulledOnce(ctx, id, "DOCK1", "W01", "SF2", "拦截区") }},
		{"exception", func(id string) (Verdict, error) {
			return r.e.ReportExceptionOnce(ctx, id, "P1", "W01", Exception{Code: "SF2", Category: wire.ExceptionCategories[0], Text: "x"})
		}},
		{"step", func(id string) (Verdict, error) {
			at := r.clock.Now()
			return r.e.RecordStepOnce(ctx, id, "P1", "W01", TimedStep{Code: "SF2", Step: "gift_check", Started: at.Add(-time.Minute), Ended: at})
		}},
		{"urgent ack", func(id string) (Verdict, error) {
			return r.e.AckUrgentOnce(ctx, id, "P1", "W01", UrgentAck{Subject: "SF2", Role: "packer", Shown: r.clock.Now()})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "act-" + tt.name
			before := len(r.events())
			audits := r.audits()
			first, err := tt.do(id)
			if err != nil || first.Replayed {
				t.Fatalf("first: %+v %v", first, err)
			}
			events := len(r.events()) - before
			again, err := tt.do(id)
			if err != nil || !again.Replayed {
				t.Fatalf("retry: %+v %v", again, err)
			}
			sameVerdict(t, again, first)
			if got := len(r.events()) - before; got != events {
				t.Fatalf("retry recorded %d more events", got-events)
			}
			if got := r.audits() - audits; got != 1 {
				t.Fatalf("%d audit lines, want 1", got)
			}
			if _, err := r.e.ScanOnce(ctx, id, "P1", "W01", "SF2", ""); !errors.Is(err, ErrScanIDReused) {
				t.Fatalf("scan under the id of a %s: %v", tt.name, err)
			}
		})
	}
}

func TestPurgeScanIDs(t *testing.T) {
	r := newRig(t)
	r.orders(order("O-1", "SF1", line("A", "米糊", 5, eanMiHu)))
	r.scan("P1", "SF1", "")
	for i, id := range []string{"old-1", "old-2", "old-3", "new-1"} {
		if i == 3 {
			r.clock.Add(48 * time.Hour)
		}
		r.scanOnce(id, "P1", "W01", eanMiHu)
	}
	cutoff := r.clock.Now().Add(-time.Hour)
	n, err := r.e.PurgeScanIDs(ctx, cutoff)
	if err != nil || n != 3 {
		t.Fatalf("purged %d, %v; want 3", n, err)
	}
	if a, err := r.e.Applied(ctx, "W01", "old-1"); err != nil || a != nil {
		t.Fatalf("old id kept: %+v %v", a, err)
	}
	if v := r.scanOnce("new-1", "P1", "W01", eanMiHu); !v.Replayed {
		t.Fatalf("recent id forgotten: %+v", v)
	}
	// A forgotten id is a new scan.
	if v := r.scanOnce("old-1", "P1", "W01", eanMiHu); v.Replayed || !v.OK {
		t.Fatalf("purged id: %+v", v)
	}
	if n, err := r.e.PurgeScanIDs(ctx, cutoff); err != nil || n != 0 {
		t.Fatalf("second purge: %d, %v", n, err)
	}
	left := 0
	r.s.View(func(tx *store.Tx) error {
		return tx.ForEach(store.CollScanIDs, "", func(string, []byte) error { left++; return nil })
	})
	if left != 4 { // new-1 and old-1 again, each with its time key
		t.Fatalf("%d records left, want 4", left)
	}
}

// TestPurgeScanIDsInBatches purges more ids than one transaction takes.
func TestPurgeScanIDsInBatches(t *testing.T) {
	r := newRig(t)
	const n = 2*purgeBatch + 3
	at := r.clock.Now()
	err := r.s.Update(func(tx *store.Tx) error {
		for i := range n {
			v := Verdict{Station: "P1", OK: true}
			o := once{id: fmt.Sprintf("id-%05d", i), operator: "W01", action: "scan"}
			if err := remember(tx, o, at.Add(time.Duration(i)*time.Millisecond), &v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.e.PurgeScanIDs(ctx, at.Add(time.Duration(n-1)*time.Millisecond))
	if err != nil || got != n-1 {
		t.Fatalf("purged %d, %v; want %d", got, err, n-1)
	}
	if a, _ := r.e.Applied(ctx, "W01", fmt.Sprintf("id-%05d", n-1)); a == nil {
		t.Fatal("the id at the cutoff went too")
	}
}
