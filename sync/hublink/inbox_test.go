package hublink_test

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/wire"
)

// feedPayloads encodes n generated messages with seqs 1..n.
func feedPayloads(t testing.TB, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i, m := range generated(t, n) {
		m.Seq = uint64(i + 1)
		b, err := wire.EncodeFeed(m)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func snapshotPayloads(t testing.TB, msgs []wire.FeedMessage, end uint64) [][]byte {
	t.Helper()
	var out [][]byte
	for _, m := range msgs {
		m.Seq, m.Snapshot = 0, true
		b, err := wire.EncodeFeed(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return append(out, fmt.Appendf(nil, `{"seq": %d, "kind": "snapshot.end", "at": "2026-01-28T09:00:00.000+08:00"}`, end))
}

type inboxRun struct {
	st      *store.Store
	ib      *hublink.Inbox
	replays []uint64
	stats   wire.ApplyStats
}

func newInboxRun(t testing.TB, cfg hublink.Config) *inboxRun {
	r := &inboxRun{st: openStore(t, t.TempDir())}
	cfg.Logger = testLogger(t)
	r.ib = hublink.NewInbox(r.st, cfg,
		func(from uint64) { r.replays = append(r.replays, from) },
		func(s wire.ApplyStats) { r.stats = r.stats.Add(s) })
	return r
}

func (r *inboxRun) add(t testing.TB, payloads ...[]byte) {
	t.Helper()
	for _, p := range payloads {
		if err := r.ib.Add("oms/v1/wh/HZ01/feed", p); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.ib.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestInboxOrdering(t *testing.T) {
	p := feedPayloads(t, 8)
	tests := []struct {
		name       string
		order      []int // indexes into p (seq-1)
		earlyMax   int
		wantCursor uint64
		wantApply  int
		replays    []uint64
	}{
		{"in order", []int{0, 1, 2, 3}, 0, 4, 4, nil},
		{"duplicates ignored", []int{0, 1, 1, 0, 2, 2}, 0, 3, 3, nil},
		{"gap held then closed", []int{0, 1, 4, 5, 2, 3}, 0, 6, 6, []uint64{3}},
		{"gap still open", []int{0, 3, 4}, 0, 1, 1, []uint64{2}},
		{"early messages beyond the bound are dropped", []int{0, 3, 4, 5, 1, 2}, 2, 5, 5, []uint64{2}},
		{"reversed", []int{7, 6, 5, 4, 3, 2, 1, 0}, 0, 8, 8, []uint64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newInboxRun(t, hublink.Config{EarlyMax: tt.earlyMax, BatchMax: 3})
			for _, i := range tt.order {
				r.add(t, p[i])
			}
			if got := cursor(t, r.st); got != tt.wantCursor {
				t.Fatalf("cursor = %d, want %d", got, tt.wantCursor)
			}
			if r.ib.LastSeq() != tt.wantCursor {
				t.Fatalf("inbox LastSeq = %d, want %d", r.ib.LastSeq(), tt.wantCursor)
			}
			if r.stats.Applied != tt.wantApply {
				t.Fatalf("applied = %d, want %d (stats %+v)", r.stats.Applied, tt.wantApply, r.stats)
			}
			if !slices.Equal(r.replays, tt.replays) {
				t.Fatalf("replays asked = %v, want %v", r.replays, tt.replays)
			}
		})
	}
}

func TestInboxSnapshot(t *testing.T) {
	p := feedPayloads(t, 3)
	msgs := generated(t, 3)
	t.Run("applied with its cursor, then held messages", func(t *testing.T) {
		r := newInboxRun(t, hublink.Config{})
		r.add(t, p[0])
		snap := snapshotPayloads(t, msgs[1:], 20)
		early := feedPayloads(t, 22)[20:] // seq 21 and 22 arrive before the snapshot ends
		r.add(t, snap[0], early[0], early[1])
		r.add(t, snap[1:]...)
		if got := cursor(t, r.st); got != 22 {
			t.Fatalf("cursor = %d, want 22", got)
		}
	})
	t.Run("older than the cursor is ignored", func(t *testing.T) {
		r := newInboxRun(t, hublink.Config{})
		r.add(t, p...)
		r.add(t, snapshotPayloads(t, msgs[:1], 2)...)
		if got := cursor(t, r.st); got != 3 {
			t.Fatalf("cursor = %d, want 3", got)
		}
		if r.stats.Closed != 0 {
			t.Fatalf("an old snapshot closed %d orders", r.stats.Closed)
		}
	})
	t.Run("never ending is dropped and asked again", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newInboxRun(t, hublink.Config{SnapshotTimeout: time.Minute, ReplayRetry: time.Hour})
			r.add(t, p[0])
			snap := snapshotPayloads(t, msgs, 9)
			r.add(t, snap[:2]...)
			if early, held := r.ib.Pending(); held != 2 || early != 0 {
				t.Fatalf("pending = %d early, %d snapshot; want 0, 2", early, held)
			}
			time.Sleep(59 * time.Second)
			if err := r.ib.Tick(); err != nil {
				t.Fatal(err)
			}
			if len(r.replays) != 0 {
				t.Fatalf("asked again too early: %v", r.replays)
			}
			time.Sleep(time.Second)
			if err := r.ib.Tick(); err != nil {
				t.Fatal(err)
			}
			if _, held := r.ib.Pending(); held != 0 {
				t.Fatalf("snapshot still held after its timeout")
			}
			if !slices.Equal(r.replays, []uint64{2}) {
				t.Fatalf("replays = %v, want [2]", r.replays)
			}
			if got := cursor(t, r.st); got != 1 {
				t.Fatalf("cursor = %d, want 1 (nothing of the snapshot applied)", got)
			}
		})
	})
}

func TestInboxGapRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := feedPayloads(t, 4)
		r := newInboxRun(t, hublink.Config{ReplayRetry: 10 * time.Second})
		r.add(t, p[0], p[3])
		r.add(t, p[3]) // same gap again: not asked twice
		if !slices.Equal(r.replays, []uint64{2}) {
			t.Fatalf("replays = %v, want [2]", r.replays)
		}
		for i := range 6 {
			time.Sleep(10 * time.Second)
			if err := r.ib.Tick(); err != nil {
				t.Fatal(err)
			}
			_ = i
		}
		// Five asks for the same seq, then the held message is let go.
		if want := []uint64{2, 2, 2, 2, 2}; !slices.Equal(r.replays, want) {
			t.Fatalf("replays = %v, want %v", r.replays, want)
		}
		if early, _ := r.ib.Pending(); early != 0 {
			t.Fatalf("%d early messages still held after the hub did not fill the gap", early)
		}
	})
}

func TestInboxQuarantine(t *testing.T) {
	r := newInboxRun(t, hublink.Config{})
	p := feedPayloads(t, 3)
	r.add(t, p[0],
		[]byte(`{"seq": 2, "kind": "notice", "at": "2026-01-28T09:00:00.000+08:00", "notice": {"notice_id": 7}}`),
		[]byte(`garbage without a seq`),
		p[2])
	if got := cursor(t, r.st); got != 3 {
		t.Fatalf("cursor = %d, want 3", got)
	}
	q, err := r.st.QuarantineList(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 2 {
		t.Fatalf("quarantined %d, want 2", len(q))
	}
}
