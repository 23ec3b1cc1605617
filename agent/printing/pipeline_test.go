package printing

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/escpos"
	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/drivers/printertest"
	"github.com/dockhand/dockhand/sync/wire"
)

// rawLabel is a small real label in the printer's language, marked with n.
func rawLabel(lang string, n int) []byte {
	mark := fmt.Sprintf("RAW-%04d", n)
	if lang == "escpos" {
		e := escpos.NewEncoder()
		e.Init()
		e.Text(mark)
		e.Newline()
		e.Cut(false)
		return e.Bytes()
	}
	return []byte("SIZE 76 mm, 130 mm\r\nCLS\r\nTEXT 10,10,\"3\",0,1,1,\"" + mark + "\"\r\nPRINT 1,1\r\n")
}

// submitAll submits n raw jobs at once and returns their ids in order of n.
func submitAll(t *testing.T, q *Queue, lang string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := q.SubmitRaw(context.Background(), "P1", lang, rawLabel(lang, i), "", "")
			ids[i] = j.ID
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// waitDone waits until every job is done or uncertain.
func (r *rig) waitDone(ids []string) []Job {
	r.t.Helper()
	out := make([]Job, len(ids))
	for i, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for {
			j, err := r.q.Wait(ctx, id)
			if err != nil {
				cancel()
				r.t.Fatalf("job %s: %v (%s %s)", id, err, j.State, j.Detail)
			}
			if j.Done() || j.State == StateUncertain {
				out[i] = j
				break
			}
			select { // held: wait for the printer to come back
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
		cancel()
	}
	return out
}

// countMarks checks every job's bytes reached the printer exactly once.
func countMarks(t *testing.T, data []byte, n int) {
	t.Helper()
	for i := range n {
		if c := bytes.Count(data, []byte(fmt.Sprintf("RAW-%04d", i))); c != 1 {
			t.Errorf("job %d reached the printer %d times", i, c)
		}
	}
}

// TestBurstPipelined sends a burst through both languages: every job is
// confirmed printed by the printer itself, reaches it once and in order, and
// the queue asks for status and commits far less often than once per job.
func TestBurstPipelined(t *testing.T) {
	for _, lang := range []string{"tspl", "escpos"} {
		t.Run(lang, func(t *testing.T) {
			r := newRig(t, lang)
			// Long enough that a status poll sees it print even on a busy machine.
			r.pr.SetPrintTime(10 * time.Millisecond)
			const n = 40
			c0, _ := r.st.GroupStats()
			ids := submitAll(t, r.q, lang, n)
			jobs := r.waitDone(ids)
			for _, j := range jobs {
				if j.State != StatePrinted || j.Confirmed != wire.ConfirmedPrinted {
					t.Fatalf("job %s = %s/%s (%s), want printed by the printer's word", j.ID, j.State, j.Confirmed, j.Detail)
				}
			}
			if !r.pr.WaitLabels(n, 2*time.Second) || r.pr.Labels() != n {
				t.Fatalf("labels = %d, want %d", r.pr.Labels(), n)
			}
			countMarks(t, r.pr.Data(), n)
			c1, _ := r.st.GroupStats()
			asked := r.q.printers["P1"].asked.Load()
			t.Logf("%d jobs: %d commits, %d status questions before sending, %d in all", n, c1-c0, asked, r.pr.Queries())
			if c1-c0 >= 3*n {
				t.Errorf("%d commits for %d jobs: the sending marks and finishes are not grouped", c1-c0, n)
			}
			if asked >= n/2 {
				t.Errorf("%d status questions before sending %d jobs: asked before every job", asked, n)
			}
		})
	}
}

// TestPaperOutMidBurst runs out of paper in the middle of a burst (after the
// fourth label): the jobs in flight become uncertain, the remaining ones are held and print once paper is
// loaded, and no job reaches the printer twice.
func TestPaperOutMidBurst(t *testing.T) {
	var mu sync.Mutex
	held := map[string]bool{}
	r := newRig(t, "tspl", func(o *Options) {
		o.Window = 3
		o.OnJob = func(j Job) {
			if j.State == StateHeld {
				mu.Lock()
				held[j.ID] = true
				mu.Unlock()
			}
		}
	})
	r.pr.SetPrintTime(30 * time.Millisecond)
	r.pr.PaperOutAfter(4)
	const n = 12
	var ids []string
	for i := range n { // in order, so that the first ones go first
		j, err := r.q.SubmitRaw(context.Background(), "P1", "tspl", rawLabel("tspl", i), "", "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		h := len(held)
		mu.Unlock()
		if h > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.pr.SetPaperOut(false)
	jobs := r.waitDone(ids)
	uncertain := 0
	for i, j := range jobs {
		switch {
		case j.State == StateUncertain:
			uncertain++
		case j.State != StatePrinted:
			t.Errorf("job %d = %s (%s)", i, j.State, j.Detail)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(held) == 0 {
		t.Fatal("no job was held while the paper was out")
	}
	if uncertain > 3 {
		t.Fatalf("%d jobs uncertain; at most the 3 in flight may be", uncertain)
	}
	countMarks(t, r.pr.Data(), n)
	t.Logf("%d held, %d uncertain", len(held), uncertain)
}

// TestDirectIsOneCommit: with the printer idle and just heard from, a new job
// is committed once as "sending" and goes straight out; its finish is the
// second and last commit.
func TestDirectIsOneCommit(t *testing.T) {
	var mu sync.Mutex
	var states []string
	record := false
	r := newRig(t, "tspl", func(o *Options) {
		o.StatusFresh = 5 * time.Second // the lane's condition, not the clock, is under test
		o.OnJob = func(j Job) {
			mu.Lock()
			if record {
				states = append(states, j.State)
			}
			mu.Unlock()
		}
	})
	r.pr.SetPrintTime(2 * time.Millisecond)
	first, err := r.q.SubmitRaw(context.Background(), "P1", "tspl", rawLabel("tspl", 0), "", "")
	if err != nil {
		t.Fatal(err)
	}
	r.wait(first.ID) // the confirmer's polls leave a fresh status
	mu.Lock()
	record = true
	mu.Unlock()
	c0, _ := r.st.GroupStats()
	j, err := r.q.SubmitRaw(context.Background(), "P1", "tspl", rawLabel("tspl", 1), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if j = r.wait(j.ID); j.State != StatePrinted {
		t.Fatalf("job = %s", j.State)
	}
	c1, _ := r.st.GroupStats()
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(states, []string{StateSending, StatePrinted}) || c1-c0 != 2 {
		t.Fatalf("states %v in %d commits, want [sending printed] in 2", states, c1-c0)
	}
}

// TestCrashWhileSendingIsUncertain: a job left "sending" by a crash is not
// sent again on restart; it waits for a person.
func TestCrashWhileSendingIsUncertain(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "d.db"), store.Options{Agent: "HZ01-A", Warehouse: "HZ01"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j := Job{ID: jobKey(1), Kind: KindRaw, Printer: "P1", Language: "tspl", Data: rawLabel("tspl", 0), State: StateSending, Attempts: 1}
	if err := st.Update(func(tx *store.Tx) error {
		if err := tx.Put(store.CollPrintJobs, j.ID, &j); err != nil {
			return err
		}
		return tx.PutRaw(store.CollPrintQueue, "P1/"+j.ID, []byte{1})
	}); err != nil {
		t.Fatal(err)
	}
	pr, err := printertest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	q, err := New(Options{Store: st, Log: slog.New(slog.DiscardHandler), IdlePoll: 20 * time.Millisecond},
		[]PrinterConfig{{ID: "P1", URL: pr.URL(), Profile: Profile{Language: label.Language("tspl"), DPI: 203, WidthMM: 76, HeightMM: 130}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	got, err := q.Wait(wctx, j.ID)
	if err != nil || got.State != StateUncertain {
		t.Fatalf("after restart: %s, %v; want uncertain", got.State, err)
	}
	// The worker has had several idle rounds: it still sent nothing.
	for range 5 {
		if _, err := q.next(q.printers["P1"], 10); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(pr.Data()) != 0 {
		t.Fatalf("an interrupted job was sent again: %q", pr.Data())
	}
}

// TestOrder: jobs submitted one after the other reach the printer in that
// order, whichever lane (queue or direct) each took.
func TestOrder(t *testing.T) {
	r := newRig(t, "tspl")
	r.pr.SetPrintTime(time.Millisecond)
	const n = 40
	var ids []string
	for i := range n {
		j, err := r.q.SubmitRaw(context.Background(), "P1", "tspl", rawLabel("tspl", i), "", "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
		if i%10 == 5 {
			r.wait(j.ID) // let the printer go idle now and then: the direct lane opens
		}
	}
	r.waitDone(ids)
	data := r.pr.Data()
	last := -1
	for i := range n {
		at := bytes.Index(data, []byte(fmt.Sprintf("RAW-%04d", i)))
		if at <= last {
			t.Fatalf("job %d went out before job %d", i, i-1)
		}
		last = at
	}
}
