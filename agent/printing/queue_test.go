package printing

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/drivers/printer"
	"github.com/dockhand/dockhand/drivers/printertest"
	"github.com/dockhand/dockhand/drivers/tspl"
	"github.com/dockhand/dockhand/sync/wire"
)

// smallLabel renders a minimal but real TSPL label with the real encoder; the
// full waybill layout has its own golden tests in drivers/label.
type smallLabel struct{}

func (smallLabel) RenderWaybill(rec *store.OrderRecord, p Profile) ([]byte, error) {
	e := tspl.NewEncoder()
	e.Size(p.WidthMM, p.HeightMM)
	e.Gap(2, 0)
	e.Cls()
	e.Text(20, 20, "3", 0, 1, 1, rec.Order.OrderID)
	e.Barcode128(20, 80, 100, tspl.HRICenter, 0, 2, 2, rec.Order.Waybill.No)
	e.Print(1, 1)
	return e.Bytes(), e.Err()
}

type rig struct {
	t     *testing.T
	st    *store.Store
	q     *Queue
	pr    *printertest.Printer
	mu    sync.Mutex
	state []printer.State
}

func newRig(t *testing.T, lang string, tune ...func(*Options)) *rig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "d.db"), store.Options{Agent: "HZ01-A", Warehouse: "HZ01"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pr, err := printertest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pr.Close)
	r := &rig{t: t, st: st, pr: pr}
	opts := Options{Store: st, Renderer: smallLabel{}, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		IdlePoll: 50 * time.Millisecond, ConfirmTimeout: 3 * time.Second,
		OnPrinter: func(_ string, s printer.Status) { r.mu.Lock(); r.state = append(r.state, s.State); r.mu.Unlock() }}
	for _, f := range tune {
		f(&opts)
	}
	q, err := New(opts,
		[]PrinterConfig{{ID: "P1", URL: pr.URL(), Profile: Profile{Language: label.Language(lang), DPI: 203, WidthMM: 76, HeightMM: 130}}})
	if err != nil {
		t.Fatal(err)
	}
	r.q = q
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	r.addOrder("O-1", "SF100", wire.StatusReleased, "")
	return r
}

func (r *rig) addOrder(id, waybill, status, batch string) {
	o := &wire.Order{OrderID: id, Version: 1, Platform: "jd", PlatformOrderNo: "P" + id, Warehouse: "HZ01", Status: status,
		Priority: "normal", Receiver: &wire.Party{Name: "𠮷"}, Carrier: &wire.Carrier{Code: "SF"},
		Lines: []wire.Line{{LineID: "1", SKU: "S1", Name: "刹车片", Barcodes: []string{"6958841200315"}, Qty: 1, Batch: batch}}}
	if waybill != "" {
		o.Waybill = &wire.Waybill{No: waybill}
	}
	if err := r.st.Update(func(tx *store.Tx) error { _, err := tx.UpsertOrder(o); return err }); err != nil {
		r.t.Fatal(err)
	}
}

// waitReported waits until the printer has reported state s: a status answer
// younger than Options.StatusFresh may still be trusted before that.
func (r *rig) waitReported(s printer.State) {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		n := len(r.state)
		last := printer.State("")
		if n > 0 {
			last = r.state[n-1]
		}
		r.mu.Unlock()
		if last == s {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.t.Fatalf("the printer never reported %s", s)
}

func (r *rig) wait(id string) Job {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := r.q.Wait(ctx, id)
	if err != nil {
		r.t.Fatalf("wait for job %s: %v (state %s %s)", id, err, j.State, j.Detail)
	}
	return j
}

func (r *rig) events() []wire.Event {
	recs, err := r.st.OutboxAfter(0, 100)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []wire.Event
	for _, rec := range recs {
		e, err := wire.DecodeEvent(rec.Payload)
		if err != nil {
			r.t.Fatalf("event breaks the contract: %v", err)
		}
		out = append(out, e)
	}
	return out
}

func TestPrintOnceConfirmed(t *testing.T) {
	for _, lang := range []string{"tspl", "escpos"} {
		t.Run(lang, func(t *testing.T) {
			r := newRig(t, lang)
			j, err := r.q.PrintWaybill(context.Background(), "O-1", "P1", "PACK-01", "W1")
			if err != nil {
				t.Fatal(err)
			}
			j = r.wait(j.ID)
			if lang == "tspl" && (j.State != StatePrinted || j.Confirmed != wire.ConfirmedPrinted) {
				t.Fatalf("tspl job = %s/%s (%s), want printed (status went printing → ready)", j.State, j.Confirmed, j.Detail)
			}
			if lang == "escpos" && j.Confirmed != wire.ConfirmedPrinted {
				t.Fatalf("escpos job = %s/%s, want printed (process id answered)", j.State, j.Confirmed)
			}
			if !bytes.Contains(r.pr.Data(), []byte("SF100")) {
				t.Fatalf("printer did not get the label: %q", r.pr.Data())
			}
			// A second print is refused; nothing more reaches the printer.
			if _, err := r.q.PrintWaybill(context.Background(), "O-1", "P1", "PACK-01", "W1"); !errors.Is(err, ErrAlreadyPrinted) {
				t.Fatalf("second print: %v, want ErrAlreadyPrinted", err)
			}
			// An authorised reprint goes through and is recorded as such.
			if _, err := r.q.Reprint(context.Background(), "O-1", "P1", "PACK-01", "W1", "", "M001"); !errors.Is(err, ErrNeedReason) {
				t.Fatalf("reprint without reason: %v", err)
			}
			rj, err := r.q.Reprint(context.Background(), "O-1", "P1", "PACK-01", "W1", "标签被撕坏", "M001")
			if err != nil {
				t.Fatal(err)
			}
			r.wait(rj.ID)
			ev := r.events()
			if len(ev) != 2 || ev[0].Type != wire.EventWaybillPrinted || ev[1].Type != wire.EventWaybillReprinted || ev[0].WaybillNo != "SF100" {
				t.Fatalf("events = %+v", ev)
			}
			if got := bytes.Count(r.pr.Data(), []byte("SF100")); got < 2 {
				t.Fatalf("label bytes seen %d times, want the print and the reprint", got)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	r := newRig(t, "tspl")
	r.addOrder("O-int", "SF2", wire.StatusIntercepted, "")
	r.addOrder("O-nowb", "", wire.StatusReleased, "")
	r.addOrder("O-held", "SF3", wire.StatusReleased, "B1")
	r.st.ApplyFeed([]wire.FeedItem{{Msg: &wire.FeedMessage{Seq: 1, Kind: wire.KindHoldSet, Hold: &wire.Hold{HoldID: "H", SKU: "S1", Batch: "B1"}}}})
	tests := []struct {
		order string
		want  error
	}{
		{"O-int", ErrIntercepted},
		{"O-nowb", ErrNoWaybill},
		{"O-held", ErrOnHold},
		{"O-missing", store.ErrNotFound},
	}
	for _, tt := range tests {
		if _, err := r.q.PrintWaybill(context.Background(), tt.order, "P1", "", ""); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.order, err, tt.want)
		}
	}
	if _, err := r.q.PrintWaybill(context.Background(), "O-1", "nope", "", ""); !errors.Is(err, ErrUnknownPrinter) {
		t.Errorf("unknown printer: %v", err)
	}
	if len(r.events()) != 0 {
		t.Fatal("a refused print recorded an event")
	}
}

func TestPaperOutHoldsThenPrints(t *testing.T) {
	r := newRig(t, "tspl")
	r.pr.SetPaperOut(true)
	r.waitReported(printer.PaperOut)
	j, err := r.q.PrintWaybill(context.Background(), "O-1", "P1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	j = r.wait(j.ID)
	if j.State != StateHeld {
		t.Fatalf("job with paper out = %s, want held", j.State)
	}
	if r.pr.Labels() != 0 {
		t.Fatal("printed while out of paper")
	}
	r.pr.SetPaperOut(false)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if j, _ = r.q.Job(j.ID); j.Done() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if j.State != StatePrinted {
		t.Fatalf("after loading paper job = %s", j.State)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sawPaperOut := false
	for _, s := range r.state {
		sawPaperOut = sawPaperOut || s == printer.PaperOut
	}
	if !sawPaperOut {
		t.Fatalf("printer states %v never said paper_out", r.state)
	}
}

func TestInterceptAfterQueueCancels(t *testing.T) {
	r := newRig(t, "tspl")
	r.pr.SetCoverOpen(true)
	r.waitReported(printer.CoverOpen)
	j, err := r.q.PrintWaybill(context.Background(), "O-1", "P1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	r.wait(j.ID) // held: cover open
	// The hub intercepts the order while the job waits.
	o := &wire.Order{OrderID: "O-1", Version: 2, Platform: "jd", PlatformOrderNo: "PO-1", Warehouse: "HZ01", Status: wire.StatusIntercepted,
		Priority: "normal", Receiver: &wire.Party{Name: "𠮷"}, Carrier: &wire.Carrier{Code: "SF"}, Waybill: &wire.Waybill{No: "SF100"},
		Lines: []wire.Line{{LineID: "1", SKU: "S1", Name: "刹车片", Barcodes: []string{}, Qty: 1}}}
	r.st.Update(func(tx *store.Tx) error { _, err := tx.UpsertOrder(o); return err })
	r.pr.SetCoverOpen(false)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if j, _ = r.q.Job(j.ID); j.Done() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if j.State != StateCancelled || r.pr.Labels() != 0 {
		t.Fatalf("intercepted job = %s (%s), labels %d; want cancelled and nothing printed", j.State, j.Detail, r.pr.Labels())
	}
}

func TestDropMidJobIsUncertain(t *testing.T) {
	r := newRig(t, "tspl")
	r.pr.DropAfter(30)
	j, err := r.q.PrintWaybill(context.Background(), "O-1", "P1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if j, _ = r.q.Job(j.ID); j.State == StateUncertain || j.Done() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if j.State != StateUncertain {
		t.Fatalf("job cut mid-send = %s (%s), want uncertain", j.State, j.Detail)
	}
	if len(r.events()) != 0 {
		t.Fatal("an uncertain job recorded waybill.printed")
	}
	// A person checks the label and asks for it again; meanwhile the printer was
	// swapped for a one-way model that cannot confirm.
	r.pr.SetSilent(true)
	if _, err := r.q.Resolve(context.Background(), j.ID, "resend", "M001"); err != nil {
		t.Fatal(err)
	}
	j = r.wait(j.ID)
	for time.Now().Before(deadline) && !j.Done() {
		time.Sleep(20 * time.Millisecond)
		j, _ = r.q.Job(j.ID)
	}
	if j.State != StateSent || j.Confirmed != wire.ConfirmedAccepted {
		t.Fatalf("resent one-way job = %s/%s, want sent/accepted", j.State, j.Confirmed)
	}
	if ev := r.events(); len(ev) != 1 {
		t.Fatalf("events = %d, want one waybill.printed", len(ev))
	}
}

func TestRawJobsDeduplicated(t *testing.T) {
	r := newRig(t, "tspl")
	data := []byte("SIZE 76 mm, 130 mm\r\nCLS\r\nTEXT 10,10,\"3\",0,1,1,\"RAW\"\r\nPRINT 1,1\r\n")
	a, err := r.q.SubmitRaw(context.Background(), "P1", "tspl", data, "erp-42", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.q.SubmitRaw(context.Background(), "P1", "tspl", data, "erp-42", "")
	if err != nil || b.ID != a.ID {
		t.Fatalf("retried raw job: %v, id %s vs %s", err, b.ID, a.ID)
	}
	r.wait(a.ID)
	if !r.pr.WaitLabels(1, 2*time.Second) || r.pr.Labels() != 1 {
		t.Fatalf("labels = %d, want exactly 1", r.pr.Labels())
	}
	if _, err := r.q.SubmitRaw(context.Background(), "P1", "escpos", data, "", ""); err == nil {
		t.Fatal("a job in the wrong language was accepted")
	}
}

// A label marked "sending" whose bytes have not gone out yet (waiting behind
// earlier labels) is stopped when the order's intercept arrives meanwhile.
func TestInterceptBeforeFirstByteStopsLabel(t *testing.T) {
	r := newRig(t, "tspl")
	job := Job{ID: "PJ-test", Kind: KindWaybill, Printer: "P1", OrderID: "O-1", WaybillNo: "SF100",
		Language: "tspl", Data: []byte("SIZE 76 mm, 130 mm\r\nCLS\r\nPRINT 1,1\r\n"), State: StateSending}
	if err := r.st.Update(func(tx *store.Tx) error { return tx.Put(store.CollPrintJobs, job.ID, &job) }); err != nil {
		t.Fatal(err)
	}
	o := &wire.Order{OrderID: "O-1", Version: 2, Platform: "jd", PlatformOrderNo: "PO-1", Warehouse: "HZ01", Status: wire.StatusIntercepted,
		Priority: "normal", Receiver: &wire.Party{Name: "𠮷"}, Carrier: &wire.Carrier{Code: "SF"}, Waybill: &wire.Waybill{No: "SF100"},
		Lines: []wire.Line{{LineID: "1", SKU: "S1", Name: "刹车片", Barcodes: []string{}, Qty: 1}}}
	if err := r.st.Update(func(tx *store.Tx) error { _, err := tx.UpsertOrder(o); return err }); err != nil {
		t.Fatal(err)
	}
	d := r.q.printers["P1"]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := d.sup.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	r.q.write(ctx, d, []Job{job}, true)
	j, err := r.q.Job(job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != StateCancelled || bytes.Contains(r.pr.Data(), job.Data) {
		t.Fatalf("job = %s (%s); printer got %d bytes — want cancelled and nothing sent", j.State, j.Detail, len(r.pr.Data()))
	}
}

// A finished job keeps no printer bytes, and purging past the retention takes
// finished jobs with their print-once and client-key entries, never a held one.
func TestFinishedJobsSlimAndPurged(t *testing.T) {
	r := newRig(t, "tspl")
	ctx := context.Background()
	wb, err := r.q.PrintWaybill(ctx, "O-1", "P1", "PACK-01", "W1")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := r.q.SubmitRaw(ctx, "P1", "tspl", []byte("SIZE 76 mm, 130 mm\r\nCLS\r\nPRINT 1,1\r\n"), "erp-7", "")
	if err != nil {
		t.Fatal(err)
	}
	r.wait(wb.ID)
	r.wait(raw.ID)
	stored := func(id string) (Job, bool) {
		t.Helper()
		var j Job
		var ok bool
		if err := r.st.View(func(tx *store.Tx) (err error) { ok, err = tx.Get(store.CollPrintJobs, id, &j); return err }); err != nil {
			t.Fatal(err)
		}
		return j, ok
	}
	for _, id := range []string{wb.ID, raw.ID} {
		if j, ok := stored(id); !ok || !j.Done() || j.Data != nil {
			t.Fatalf("job %s stored as %s with %d bytes of data (found %v)", id, j.State, len(j.Data), ok)
		}
	}
	// A held job, old as it may be, waits for a person.
	held := Job{ID: "held-1", Kind: KindRaw, Printer: "P1", Language: "tspl", Data: []byte("x"), State: StateHeld,
		Updated: time.Now().Add(-30 * 24 * time.Hour)}
	if err := r.st.Update(func(tx *store.Tx) error { return putJob(tx, &held) }); err != nil {
		t.Fatal(err)
	}
	if n, err := r.q.Purge(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("purge of fresh jobs: %d, %v", n, err)
	}
	if n, err := r.q.Purge(ctx, time.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("purge: %d, %v; want the 2 finished jobs", n, err)
	}
	for _, id := range []string{wb.ID, raw.ID} {
		if _, ok := stored(id); ok {
			t.Errorf("job %s still stored", id)
		}
	}
	if j, ok := stored("held-1"); !ok || j.Data == nil {
		t.Errorf("the held job was purged or lost its bytes: %+v %v", j, ok)
	}
	r.st.View(func(tx *store.Tx) error {
		for _, k := range []string{"SF100", "raw:erp-7"} {
			if tx.GetRaw(store.CollPrintByWB, k) != nil {
				t.Errorf("entry %s still there", k)
			}
		}
		return nil
	})
}
