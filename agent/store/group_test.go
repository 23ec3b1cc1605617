package store

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// TestGroupIsolatesFailures commits a group in which one call fails and one
// panics: the others are committed, those two are not.
func TestGroupIsolatesFailures(t *testing.T) {
	s := openTest(t, Options{})
	boom := errors.New("boom")
	var group []*pendingCall
	for i := range 10 {
		key := fmt.Sprint(i)
		group = append(group, &pendingCall{done: make(chan struct{}), fn: func(tx *Tx) error {
			if err := tx.PutRaw("test", key, []byte("x")); err != nil {
				return err
			}
			switch i {
			case 3:
				return boom
			case 6:
				panic("bad call")
			}
			return nil
		}})
	}
	s.group.commit(s, group)
	for i, p := range group {
		<-p.done
		switch i {
		case 3:
			if !errors.Is(p.err, boom) {
				t.Errorf("call 3: err %v, want boom", p.err)
			}
		case 6:
			if p.err == nil {
				t.Error("panicking call did not fail")
			}
		default:
			if p.err != nil {
				t.Errorf("call %d: %v", i, p.err)
			}
		}
	}
	_ = s.View(func(tx *Tx) error {
		for i := range 10 {
			got := tx.GetRaw("test", fmt.Sprint(i)) != nil
			if want := i != 3 && i != 6; got != want {
				t.Errorf("key %d stored = %v, want %v", i, got, want)
			}
		}
		return nil
	})
}

// TestGroupShares runs many callers at once: every call is committed, and the
// commits carry them all.
func TestGroupShares(t *testing.T) {
	s := openTest(t, Options{})
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Group(func(tx *Tx) error { return tx.PutRaw("test", fmt.Sprint(i), []byte("x")) })
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	commits, calls := s.GroupStats()
	if calls != n || commits < 1 || commits > calls {
		t.Fatalf("%d calls in %d commits, want %d calls", calls, commits, n)
	}
	_ = s.View(func(tx *Tx) error {
		for i := range n {
			if tx.GetRaw("test", fmt.Sprint(i)) == nil {
				t.Errorf("key %d lost", i)
			}
		}
		return nil
	})
	t.Logf("%d calls in %d commits", calls, commits)
}

// TestGroupSoonRidesAlong: a lazy change waits for the next Group call and
// commits with it; with no such call it commits on its own after its wait.
func TestGroupSoonRidesAlong(t *testing.T) {
	s := openTest(t, Options{})
	lazy := make(chan error, 1)
	go func() {
		lazy <- s.GroupSoon(time.Hour, func(tx *Tx) error { return tx.PutRaw("test", "lazy", []byte("x")) })
	}()
	// Wait until the lazy call is queued, then make a commit that waits.
	for {
		s.group.mu.Lock()
		n := len(s.group.queue)
		s.group.mu.Unlock()
		if n == 1 {
			break
		}
		runtime.Gosched()
	}
	c0, _ := s.GroupStats()
	if err := s.Group(func(tx *Tx) error { return tx.PutRaw("test", "eager", []byte("x")) }); err != nil {
		t.Fatal(err)
	}
	if err := <-lazy; err != nil {
		t.Fatal(err)
	}
	if c1, _ := s.GroupStats(); c1-c0 != 1 {
		t.Fatalf("%d commits, want the lazy change in the eager one's commit", c1-c0)
	}
	// Alone, it commits after its wait.
	start := time.Now()
	if err := s.GroupSoon(20*time.Millisecond, func(tx *Tx) error { return tx.PutRaw("test", "alone", []byte("x")) }); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Fatalf("committed after %v, before its wait", waited)
	}
	_ = s.View(func(tx *Tx) error {
		for _, k := range []string{"lazy", "eager", "alone"} {
			if tx.GetRaw("test", k) == nil {
				t.Errorf("%s lost", k)
			}
		}
		return nil
	})
}

// A long feed apply gives way to floor steps that queue behind it: the step
// commits after the first few items, not after all of them, and every item is
// still applied in order with the cursor at the end.
func TestApplyFeedYieldsToFloor(t *testing.T) {
	s := openTest(t, Options{})
	var items []wire.FeedItem
	for i := range 400 {
		o := &wire.Order{OrderID: fmt.Sprintf("Y-%03d", i), Version: 1, Warehouse: "HZ01", Status: wire.StatusReleased,
			Lines: []wire.Line{{LineID: "1", SKU: "S1", Qty: 1, Barcodes: []string{"6901234567892"}}}}
		items = append(items, wire.FeedItem{Msg: &wire.FeedMessage{Seq: uint64(i + 1), Kind: wire.KindOrderUpsert, Order: o}})
	}
	queued := func(n int) {
		for {
			s.group.mu.Lock()
			l := len(s.group.queue)
			s.group.mu.Unlock()
			if l == n {
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	// Hold the writer with a step, queue the feed apply, then a floor step.
	release := make(chan struct{})
	holding := make(chan struct{})
	go s.Group(func(*Tx) error { close(holding); <-release; return nil })
	<-holding
	applied := make(chan error, 1)
	go func() {
		st, err := s.ApplyFeed(items)
		if err == nil && (st.Applied != 400 || st.LastSeq != 400) {
			err = fmt.Errorf("stats = %+v", st)
		}
		applied <- err
	}()
	queued(1)
	seen := make(chan uint64, 1)
	go s.Group(func(tx *Tx) error {
		c := tx.FeedCursor()
		select {
		case seen <- c:
		default:
		}
		return nil
	})
	queued(2)
	close(release)
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	if c := <-seen; c >= 400 || c < feedYieldAfter {
		t.Errorf("the floor step saw cursor %d: want it to commit after the first %d items, before the whole feed", c, feedYieldAfter)
	}
	var cur uint64
	s.View(func(tx *Tx) error { cur = tx.FeedCursor(); return nil })
	if cur != 400 {
		t.Fatalf("cursor = %d", cur)
	}
}
