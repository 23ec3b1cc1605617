package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// AppendEvent records a floor event in the outbox: it assigns the agent's next
// event seq (and an event id, agent, warehouse and time where unset), encodes the
// event once, and keeps those exact bytes until the hub acks them. It returns the
// encoded bytes.
func (tx *Tx) AppendEvent(e *wire.Event) ([]byte, error) {
	if cap := tx.s.opts.OutboxCap; cap > 0 && tx.outboxPending() >= cap {
		return nil, ErrOutboxFull
	}
	// The seq lives in the outbox bucket's own header, which every commit
	// rewrites anyway: an event costs the outbox's last leaf and nothing else.
	out := tx.tx.Bucket(bOutbox)
	out.FillPercent = appendFill
	seq, err := out.NextSequence()
	if err != nil {
		return nil, err
	}
	e.Seq = seq
	if e.EventID == "" {
		e.EventID = wire.NewEventID()
	}
	if e.Agent == "" {
		e.Agent = tx.s.opts.Agent
	}
	if e.Warehouse == "" {
		e.Warehouse = tx.s.opts.Warehouse
	}
	now := tx.s.opts.Now()
	if e.At.IsZero() {
		e.At.Time = now
	}
	b, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.Type, err)
	}
	// Value: 8 bytes of the time it was recorded, then the payload.
	v := make([]byte, 8+len(b))
	binary.BigEndian.PutUint64(v, uint64(now.UnixNano()))
	copy(v[8:], b)
	if err := out.Put(u64(seq), v); err != nil {
		return nil, err
	}
	tx.change.Events++
	return b, nil
}

// LastEventSeq is the seq of the last event ever appended.
func (tx *Tx) LastEventSeq() uint64 { return tx.tx.Bucket(bOutbox).Sequence() }

// outboxPending counts the events the hub has not acked: the outbox always
// holds exactly the seqs after the last ack up to the last event.
func (tx *Tx) outboxPending() int {
	return int(tx.LastEventSeq() - readU64(tx.tx.Bucket(bMeta).Get(kOutboxAcked)))
}

// OutboxAfter returns up to limit pending events with seq > afterSeq, ascending.
func (s *Store) OutboxAfter(afterSeq uint64, limit int) ([]wire.OutboxRecord, error) {
	var out []wire.OutboxRecord
	err := s.View(func(tx *Tx) error {
		c := tx.tx.Bucket(bOutbox).Cursor()
		for k, v := c.Seek(u64(afterSeq + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			out = append(out, wire.OutboxRecord{Seq: readU64(k), Payload: append([]byte(nil), v[8:]...)})
		}
		return nil
	})
	return out, err
}

// AckOutbox drops every event with seq ≤ ackedSeq; the hub has stored them.
func (s *Store) AckOutbox(ackedSeq uint64) (int, error) {
	removed := 0
	err := s.Update(func(tx *Tx) error {
		removed = 0
		meta := tx.tx.Bucket(bMeta)
		upTo := min(ackedSeq, tx.LastEventSeq()) // an ack beyond what exists acks what exists
		if upTo <= readU64(meta.Get(kOutboxAcked)) {
			return nil
		}
		b := tx.tx.Bucket(bOutbox)
		c := b.Cursor()
		for k, _ := c.First(); k != nil && readU64(k) <= upTo; k, _ = c.First() {
			if err := b.Delete(k); err != nil {
				return err
			}
			removed++
		}
		tx.change.Acked = removed
		return meta.Put(kOutboxAcked, u64(upTo))
	})
	return removed, err
}

// OutboxStats reports how many events wait for the hub and since when.
func (s *Store) OutboxStats() (pending int, oldest time.Time, err error) {
	err = s.View(func(tx *Tx) error {
		pending = tx.outboxPending()
		if k, v := tx.tx.Bucket(bOutbox).Cursor().First(); k != nil {
			oldest = time.Unix(0, int64(binary.BigEndian.Uint64(v[:8])))
		}
		return nil
	})
	return pending, oldest, err
}

// AuditRecord is one line of the append-only audit log: every scan and every
// decision, with who and where.
type AuditRecord struct {
	Seq      uint64    `json:"seq"`
	At       time.Time `json:"at"`
	Station  string    `json:"station,omitempty"`
	Operator string    `json:"operator,omitempty"`
	Action   string    `json:"action"`
	Code     string    `json:"code,omitempty"`
	OrderID  string    `json:"order_id,omitempty"`
	OK       bool      `json:"ok"`
	Reason   string    `json:"reason,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	EventSeq uint64    `json:"event_seq,omitempty"`
}

// AppendAudit adds a record to the audit log and returns its seq. Only the
// record itself is written in the caller's transaction (one leaf at the end of
// the log): the by-order and by-operator indexes follow behind it (see
// IndexAudit), and queries read the few records not indexed yet directly, so a
// floor step's commit carries no index pages.
func (tx *Tx) AppendAudit(r AuditRecord) (uint64, error) {
	b := tx.tx.Bucket(bAudit)
	b.FillPercent = appendFill
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	r.Seq = seq
	if r.At.IsZero() {
		r.At = tx.s.opts.Now()
	}
	v, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("encode audit record: %w", err)
	}
	if err := b.Put(u64(seq), v); err != nil {
		return 0, err
	}
	return seq, nil
}

// auditIndexed is the seq up to which the audit indexes are written.
func (tx *Tx) auditIndexed() uint64 { return readU64(tx.tx.Bucket(bMeta).Get(kAuditIndexed)) }

// indexAudit writes the index entries of up to limit audit records not indexed
// yet and moves the mark past them. It reports how many it indexed.
func (tx *Tx) indexAudit(limit int) (int, error) {
	from := tx.auditIndexed()
	byOrder, byOper := tx.tx.Bucket(bAuditOrder), tx.tx.Bucket(bAuditOper)
	var r struct {
		OrderID  string `json:"order_id"`
		Operator string `json:"operator"`
	}
	n, last := 0, from
	c := tx.tx.Bucket(bAudit).Cursor()
	for k, v := c.Seek(u64(from + 1)); k != nil && n < limit; k, v = c.Next() {
		r.OrderID, r.Operator = "", ""
		if err := json.Unmarshal(v, &r); err != nil {
			return n, fmt.Errorf("index audit record %d: %w", readU64(k), err)
		}
		if r.OrderID != "" {
			if err := byOrder.Put(append([]byte(r.OrderID+"\x00"), k...), nil); err != nil {
				return n, err
			}
		}
		if r.Operator != "" {
			if err := byOper.Put(append([]byte(r.Operator+"\x00"), k...), nil); err != nil {
				return n, err
			}
		}
		n, last = n+1, readU64(k)
	}
	if n == 0 {
		return 0, nil
	}
	return n, tx.tx.Bucket(bMeta).Put(kAuditIndexed, u64(last))
}

// auditIndexBatch bounds the records one indexing transaction takes.
const auditIndexBatch = 4096

// IndexAudit brings the audit indexes up to the end of the log. It rides along
// with the next floor commit when one comes within wait (so it costs no fsync
// of its own), else it commits alone. It reports how many records it indexed.
func (s *Store) IndexAudit(wait time.Duration) (int, error) {
	total := 0
	for {
		var pending bool
		if err := s.View(func(tx *Tx) error {
			pending = tx.tx.Bucket(bAudit).Sequence() > tx.auditIndexed()
			return nil
		}); err != nil || !pending {
			return total, err
		}
		var n int
		if err := s.GroupSoon(wait, func(tx *Tx) (err error) {
			n, err = tx.indexAudit(auditIndexBatch)
			return err
		}); err != nil {
			return total, fmt.Errorf("index the audit log: %w", err)
		}
		total += n
		if n < auditIndexBatch {
			return total, nil
		}
	}
}

// RunAuditIndexer keeps the audit indexes close behind the log, every interval,
// until ctx ends. A failed round (a full disk) is reported and tried again next
// time: queries read what is not indexed yet, so nothing is missed meanwhile.
func (s *Store) RunAuditIndexer(ctx context.Context, every time.Duration, report func(error)) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.IndexAudit(every); err != nil && report != nil {
				report(err)
			}
		}
	}
}

// AuditQuery selects audit records; empty fields match everything.
type AuditQuery struct {
	OrderID  string
	Operator string
	AfterSeq uint64
	Limit    int
}

// Audit returns audit records matching q, oldest first.
func (s *Store) Audit(q AuditQuery) ([]AuditRecord, error) {
	if q.Limit <= 0 {
		q.Limit = 200
	}
	var out []AuditRecord
	err := s.View(func(tx *Tx) error {
		audit := tx.tx.Bucket(bAudit)
		add := func(v []byte) error {
			var r AuditRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode audit record: %w", err)
			}
			if (q.OrderID == "" || r.OrderID == q.OrderID) && (q.Operator == "" || r.Operator == q.Operator) {
				out = append(out, r)
			}
			return nil
		}
		var idx []byte
		var key string
		switch {
		case q.OrderID != "":
			idx, key = bAuditOrder, q.OrderID
		case q.Operator != "":
			idx, key = bAuditOper, q.Operator
		}
		if idx != nil {
			prefix := []byte(key + "\x00")
			c := tx.tx.Bucket(idx).Cursor()
			for k, _ := c.Seek(append(prefix, u64(q.AfterSeq+1)...)); k != nil && len(out) < q.Limit && len(k) == len(prefix)+8 && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
				if v := audit.Get(k[len(prefix):]); v != nil {
					if err := add(v); err != nil {
						return err
					}
				}
			}
			// Records after the index mark are read one by one: a few seconds' worth.
			c = audit.Cursor()
			for k, v := c.Seek(u64(max(q.AfterSeq, tx.auditIndexed()) + 1)); k != nil && len(out) < q.Limit; k, v = c.Next() {
				if err := add(v); err != nil {
					return err
				}
			}
			return nil
		}
		c := audit.Cursor()
		for k, v := c.Seek(u64(q.AfterSeq + 1)); k != nil && len(out) < q.Limit; k, v = c.Next() {
			if err := add(v); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// quarantine keeps a bad feed payload.
func (tx *Tx) quarantine(q *wire.Quarantined) error {
	b := tx.tx.Bucket(bQuarantine)
	id, err := b.NextSequence()
	if err != nil {
		return err
	}
	if q.At.IsZero() {
		q.At = tx.s.opts.Now()
	}
	v, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("encode quarantined payload: %w", err)
	}
	return b.Put(u64(id), v)
}

// Quarantine keeps a bad payload that has no readable seq (nothing is consumed).
func (s *Store) Quarantine(q wire.Quarantined) error {
	return s.Update(func(tx *Tx) error { return tx.quarantine(&q) })
}

// QuarantineEntry is a kept bad payload with its id.
type QuarantineEntry struct {
	ID uint64 `json:"id"`
	wire.Quarantined
}

// QuarantineList returns up to limit quarantined payloads, newest first.
func (s *Store) QuarantineList(limit int) ([]QuarantineEntry, error) {
	var out []QuarantineEntry
	err := s.View(func(tx *Tx) error {
		c := tx.tx.Bucket(bQuarantine).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var q wire.Quarantined
			if err := json.Unmarshal(v, &q); err != nil {
				return fmt.Errorf("decode quarantined payload: %w", err)
			}
			out = append(out, QuarantineEntry{ID: readU64(k), Quarantined: q})
		}
		return nil
	})
	return out, err
}
