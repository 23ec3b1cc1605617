package floor

import (
	"fmt"
	"testing"
)

// TestGroupCommitGroups runs many stations at once and checks that commits
// were shared and every verdict is right.
func TestGroupCommitGroups(t *testing.T) {
	r := newRig(t)
	const n = 40
	for i := range n {
		r.orders(order(fmt.Sprintf("O-%d", i), fmt.Sprintf("SF%d", i), line("X", "米糊", 1, eanMiHu)))
	}
	commits0, steps0 := r.s.GroupStats() // the feed applied through the same committer
	errs := make(chan error, n)
	for i := range n {
		go func() {
			st := fmt.Sprintf("P%d", i)
			for _, code := range []string{fmt.Sprintf("SF%d", i), eanMiHu, fmt.Sprintf("SF%d", i)} {
				v, err := r.e.Scan(ctx, st, "W", code, "")
				if err == nil && !v.OK {
					err = fmt.Errorf("%s %s: %s", st, code, v.Reason)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := len(r.eventsOf("pack.verified")); got != n {
		t.Fatalf("%d verified, want %d", got, n)
	}
	commits, steps := r.s.GroupStats()
	commits, steps = commits-commits0, steps-steps0
	if steps != 3*n || commits < 1 || commits > steps {
		t.Fatalf("%d steps in %d commits, want %d steps", steps, commits, 3*n)
	}
	t.Logf("%d steps in %d commits", steps, commits) // how many shared depends on timing
}
