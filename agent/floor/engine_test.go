package floor

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dockhand/dockhand/agent/store"
)

// TestGroupCommitIsolatesFailures commits a group in which one step fails and
// one panics: the others are committed, those two are not.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	r := newRig(t)
	c := &r.e.c
	boom := errors.New("boom")
	var group []*pendingStep
	for i := range 10 {
		key := fmt.Sprint(i)
		group = append(group, &pendingStep{done: make(chan struct{}), fn: func(tx *store.Tx) error {
			if err := tx.PutRaw("test", key, []byte("x")); err != nil {
				return err
			}
			switch i {
			case 3:
				return boom
			case 6:
				panic("bad step")
			}
			return nil
		}})
	}
	c.commit(group)
	for i, p := range group {
		<-p.done
		switch i {
		case 3:
			if !errors.Is(p.err, boom) {
				t.Errorf("step 3: err %v, want boom", p.err)
			}
		case 6:
			if p.err == nil {
				t.Error("panicking step did not fail")
			}
		default:
			if p.err != nil {
				t.Errorf("step %d: %v", i, p.err)
			}
		}
	}
	_ = r.s.View(func(tx *store.Tx) error {
		for i := range 10 {
			got := tx.GetRaw("test", fmt.Sprint(i)) != nil
			if want := i != 3 && i != 6; got != want {
				t.Errorf("key %d stored = %v, want %v", i, got, want)
			}
		}
		return nil
	})
}

// TestGroupCommitGroups runs many stations at once and checks that commits
// were shared and every verdict is right.
func TestGroupCommitGroups(t *testing.T) {
	r := newRig(t)
	const n = 40
	for i := range n {
		r.orders(order(fmt.Sprintf("O-%d", i), fmt.Sprintf("SF%d", i), line("X", "米糊", 1, eanMiHu)))
	}
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
	steps, commits := r.e.c.steps.Load(), r.e.c.commits.Load()
	if steps != 3*n || commits < 1 || commits > steps {
		t.Fatalf("%d steps in %d commits, want %d steps", steps, commits, 3*n)
	}
	t.Logf("%d steps in %d commits", steps, commits) // how many shared depends on timing
}
