package hubsim

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
	bolt "go.etcd.io/bbolt"
)

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

// eventLoop stores events in batches (one transaction for many) and then acks
// every agent whose contiguous seq moved or who re-sent what is stored.
func (h *Hub) eventLoop(ctx context.Context) {
	for {
		var batch []inEvent
		select {
		case <-ctx.Done():
			return
		case e := <-h.events:
			batch = append(batch, e)
		}
		// Gather what arrives within a moment: one transaction for many.
		gather := time.NewTimer(2 * time.Millisecond)
	more:
		for len(batch) < 5000 {
			select {
			case e := <-h.events:
				batch = append(batch, e)
			case <-gather.C:
				break more
			}
		}
		gather.Stop()
		t0 := time.Now()
		ack, err := h.store(batch)
		h.log.Debug("hubsim: stored events", "count", len(batch), "took", time.Since(t0))
		if err != nil {
			h.log.Error("hubsim: events not stored", "err", err, "count", len(batch))
			continue
		}
		h.mu.Lock()
		c := h.client
		for a, n := range ack {
			h.acked[a] = n
		}
		close(h.ackCh)
		h.ackCh = make(chan struct{})
		h.mu.Unlock()
		if c == nil {
			continue
		}
		for a, n := range ack {
			if n == 0 {
				continue
			}
			b, _ := json.Marshal(wire.Ack{AckedSeq: n})
			c.Publish(h.prefix+a+"/acks", false, b)
		}
	}
}

// store checks and stores a batch; it returns the acked seq of every agent
// that sent something.
func (h *Hub) store(batch []inEvent) (map[string]uint64, error) {
	ack := map[string]uint64{}
	var viols []Violation
	err := h.db.Update(func(tx *bolt.Tx) error {
		clear(ack)
		viols = viols[:0]
		events, ids, acked := tx.Bucket(bEvents), tx.Bucket(bIDs), tx.Bucket(bAcked)
		now := h.cfg.Now()
		bad := func(in inEvent, seq uint64, reason string) {
			viols = append(viols, Violation{At: now, Agent: in.agent, Seq: seq, Reason: reason, Raw: in.payload})
		}
		for _, in := range batch {
			e, err := in.ev, in.err
			if err != nil {
				bad(in, e.Seq, err.Error())
				continue
			}
			if e.Agent != in.agent || e.Warehouse != h.cfg.Warehouse {
				bad(in, e.Seq, fmt.Sprintf("event of agent %q, warehouse %q published on the topic of agent %q, warehouse %q",
					e.Agent, e.Warehouse, in.agent, h.cfg.Warehouse))
				continue
			}
			ab, err := events.CreateBucketIfNotExists([]byte(in.agent))
			if err != nil {
				return err
			}
			if _, ok := ack[in.agent]; !ok {
				ack[in.agent] = readU64(acked.Get([]byte(in.agent)))
			}
			if loc := ids.Get([]byte(e.EventID)); loc != nil {
				want := in.agent + "/" + strconv.FormatUint(e.Seq, 10)
				if string(loc) != want {
					bad(in, e.Seq, fmt.Sprintf("event_id %s was first sent as %s, now as %s", e.EventID, loc, want))
				} else if !bytes.Equal(ab.Get(u64(e.Seq)), in.payload) {
					bad(in, e.Seq, fmt.Sprintf("re-sent event %s (seq %d) is not byte-identical to its first sending", e.EventID, e.Seq))
				} else {
					h.mu.Lock()
					h.dups++
					h.mu.Unlock()
				}
				continue
			}
			if old := ab.Get(u64(e.Seq)); old != nil {
				bad(in, e.Seq, fmt.Sprintf("seq %d already belongs to another event (event_id %s is new)", e.Seq, e.EventID))
				continue
			}
			if err := ab.Put(u64(e.Seq), in.payload); err != nil {
				return err
			}
			if err := ids.Put([]byte(e.EventID), []byte(in.agent+"/"+strconv.FormatUint(e.Seq, 10))); err != nil {
				return err
			}
			n := ack[in.agent]
			for ab.Get(u64(n+1)) != nil {
				n++
			}
			ack[in.agent] = n
		}
		for a, n := range ack {
			if err := acked.Put([]byte(a), u64(n)); err != nil {
				return err
			}
		}
		vb := tx.Bucket(bViolations)
		for _, v := range viols {
			id, _ := vb.NextSequence()
			b, _ := json.Marshal(v)
			if err := vb.Put(u64(id), b); err != nil {
				return err
			}
		}
		return nil
	})
	for _, v := range viols {
		h.log.Warn("hubsim: contract violation", "agent", v.Agent, "seq", v.Seq, "reason", v.Reason)
	}
	return ack, err
}

func readU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (h *Hub) violation(agent string, seq uint64, reason string, raw []byte) {
	v := Violation{At: h.cfg.Now(), Agent: agent, Seq: seq, Reason: reason, Raw: append([]byte(nil), raw...)}
	h.log.Warn("hubsim: contract violation", "agent", agent, "reason", reason)
	_ = h.db.Update(func(tx *bolt.Tx) error {
		vb := tx.Bucket(bViolations)
		id, _ := vb.NextSequence()
		b, _ := json.Marshal(v)
		return vb.Put(u64(id), b)
	})
}

// Events lists what the hub stored from agent, in seq order.
func (h *Hub) Events(agent string) ([]StoredEvent, error) {
	var out []StoredEvent
	err := h.db.View(func(tx *bolt.Tx) error {
		ab := tx.Bucket(bEvents).Bucket([]byte(agent))
		if ab == nil {
			return nil
		}
		return ab.ForEach(func(k, v []byte) error {
			var e wire.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, StoredEvent{Seq: readU64(k), Payload: append([]byte(nil), v...), Event: e})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("hubsim: list events of %s: %w", agent, err)
	}
	return out, nil
}

// EventCount is how many events of agent the hub stored.
func (h *Hub) EventCount(agent string) int {
	n := 0
	_ = h.db.View(func(tx *bolt.Tx) error {
		if ab := tx.Bucket(bEvents).Bucket([]byte(agent)); ab != nil {
			n = ab.Stats().KeyN
		}
		return nil
	})
	return n
}

// Agents lists the agents that sent events.
func (h *Hub) Agents() []string {
	var out []string
	_ = h.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bEvents).ForEachBucket(func(k []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	sort.Strings(out)
	return out
}

// Violations lists every contract violation recorded, oldest first.
func (h *Hub) Violations() []Violation {
	var out []Violation
	_ = h.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bViolations).ForEach(func(_, v []byte) error {
			var x Violation
			if json.Unmarshal(v, &x) == nil {
				out = append(out, x)
			}
			return nil
		})
	})
	return out
}

// Duplicates is how many byte-identical re-sendings the hub received.
func (h *Hub) Duplicates() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dups
}

// Acked is the highest contiguous seq stored for agent.
func (h *Hub) Acked(agent string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.acked[agent]
}

// WaitAcked waits until the hub stored every event of agent up to seq.
func (h *Hub) WaitAcked(ctx context.Context, agent string, seq uint64) error {
	for {
		h.mu.Lock()
		n, ch := h.acked[agent], h.ackCh
		h.mu.Unlock()
		if n >= seq {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("hubsim: wait for %s acked %d (at %d): %w", agent, seq, n, ctx.Err())
		case <-ch:
		case <-time.After(time.Second):
		}
	}
}
