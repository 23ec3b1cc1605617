package peakday

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPeakDayShort is the CI variant of the peak day: the real agent binary,
// a real Mosquitto, every fault, every invariant. It fails if any invariant
// breaks; the performance targets are reported, not enforced (CI machines
// are shared). PEAKDAY_REPORT=dir also writes the report there.
func TestPeakDayShort(t *testing.T) {
	if testing.Short() {
		t.Skip("the peak day runs for minutes; not in -short")
	}
	bin := agentBinary(t)
	opts := ShortOptions(t.TempDir())
	opts.Binary = bin
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	res, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range res.Invariants {
		st := "PASS"
		if !i.Pass() {
			st = "FAIL"
			if i.Target {
				st = "MISS"
			}
		}
		t.Logf("%s %s: checked %d, broken %d. %s", st, i.Name, i.Checked, i.Broken, i.Detail)
	}
	for _, f := range res.Faults {
		t.Logf("fault %s: lasted %s, recovered in %s, ok=%v (%s)", f.Name, f.Duration.Round(time.Millisecond), f.Recovery.Round(time.Millisecond), f.OK, f.Detail)
	}
	if dir := os.Getenv("PEAKDAY_REPORT"); dir != "" {
		if err := WriteReport(filepath.Clean(dir), res, ThisMachine(), "Peak day under fire: the short run"); err != nil {
			t.Error(err)
		}
	}
	for _, e := range res.Errors {
		t.Errorf("run error: %s", e)
	}
	for _, i := range res.Failed() {
		t.Errorf("invariant broken: %s (%d of %d): %s", i.Name, i.Broken, i.Checked, i.Detail)
	}
	if res.Scans < opts.Orders {
		t.Errorf("only %d scans for %d orders: the floor did not work", res.Scans, opts.Orders)
	}
}
