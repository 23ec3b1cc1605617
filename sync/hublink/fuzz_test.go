package hublink_test

import (
	"testing"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/wire"
)

// checkedStore wraps the real store and fails the fuzz run if the inbox ever
// hands it a seq that was already applied, a gap, or a snapshot that would
// move the cursor back.
type checkedStore struct {
	*store.Store
	t       *testing.T
	applied map[uint64]bool
}

func (c *checkedStore) ApplyFeed(items []wire.FeedItem) (wire.ApplyStats, error) {
	cur, err := c.LastFeedSeq()
	if err != nil {
		return wire.ApplyStats{}, err
	}
	for _, it := range items {
		s := it.Seq()
		if s <= cur {
			c.t.Fatalf("inbox passed seq %d again (cursor %d)", s, cur)
		}
		if s != cur+1 {
			c.t.Fatalf("inbox passed a gap: seq %d after %d", s, cur)
		}
		if c.applied[s] {
			c.t.Fatalf("seq %d applied twice", s)
		}
		c.applied[s] = true
		cur = s
	}
	return c.Store.ApplyFeed(items)
}

func (c *checkedStore) ApplySnapshot(msgs []wire.FeedMessage, end uint64) (wire.ApplyStats, error) {
	cur, err := c.LastFeedSeq()
	if err != nil {
		return wire.ApplyStats{}, err
	}
	if end <= cur {
		c.t.Fatalf("snapshot up to %d would move the cursor back from %d", end, cur)
	}
	for s := cur + 1; s <= end; s++ {
		c.applied[s] = true
	}
	return c.Store.ApplySnapshot(msgs, end)
}

// FuzzInbox feeds arbitrary sequences of valid, duplicate, out-of-order,
// snapshot and garbage payloads through the inbox into the real store. It must
// never panic, never apply a seq twice, never pass a gap, and keep the
// store's cursor equal to what the inbox believes.
func FuzzInbox(f *testing.F) {
	valid := feedPayloads(f, 10)
	msgs := generated(f, 3)
	snap := snapshotPayloads(f, msgs, 6)
	f.Add([]byte{0, 1, 2, 3})
	f.Add([]byte{3, 0, 1, 1, 2, 9, 8})
	f.Add([]byte{0, 200, 201, 202, 203, 5, 4})
	f.Add([]byte{255, 5, '{', '"', 's', 'e', 'q', 0, 1, 2})
	f.Add(append([]byte{250, 12}, []byte(`{"seq": 2, "kind": "x", "at": "2026-01-28T09:00:00.000+08:00"}`)...))
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 400 {
			return
		}
		st := &checkedStore{Store: openStore(t, t.TempDir()), t: t, applied: map[uint64]bool{}}
		ib := hublink.NewInbox(st, hublink.Config{BatchMax: 4, EarlyMax: 5, Logger: testLogger(t)}, nil, nil)
		for i := 0; i < len(ops); i++ {
			var p []byte
			switch b := ops[i]; {
			case b < 200:
				p = valid[int(b)%len(valid)]
			case b < 200+4:
				p = snap[int(b-200)%len(snap)]
			default: // a raw payload of the next n bytes
				n := int(b - 203)
				end := min(len(ops), i+1+n)
				p = ops[i+1 : end]
				i = end - 1
			}
			if err := ib.Add("oms/v1/wh/HZ01/feed", p); err != nil {
				t.Fatalf("Add: %v", err)
			}
		}
		if err := ib.Flush(); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		cur, err := st.LastFeedSeq()
		if err != nil {
			t.Fatal(err)
		}
		if cur != ib.LastSeq() {
			t.Fatalf("store cursor %d, inbox believes %d", cur, ib.LastSeq())
		}
		for s := uint64(1); s <= cur; s++ {
			if !st.applied[s] {
				t.Fatalf("cursor %d passed seq %d that was never applied", cur, s)
			}
		}
	})
}
