package floor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/agent/urgent"
	"github.com/dockhand/dockhand/sync/wire"
)

// ErrBadStation means a call named no station.
var ErrBadStation = errors.New("station id is empty")

// Options configure an engine.
type Options struct {
	// Rules are the local urgent rules for the pick list and the screens.
	Rules urgent.Rules
	// Now is the clock; nil means the store's clock.
	Now func() time.Time
	// Logger gets a line per refused step at debug level. Default slog.Default().
	Logger *slog.Logger
	// BoltBatch makes every step use the store's Batch (bbolt's group commit,
	// which waits up to its batch delay to gather callers) instead of the
	// store's timer-less Group. For comparison in benchmarks.
	BoltBatch bool
}

// Engine is the scan-twice engine of one agent.
type Engine struct {
	s      *store.Store
	opts   Options
	log    *slog.Logger
	picks  pickCache
	orders orderCache
}

// New returns an engine over an open store.
func New(s *store.Store, opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	e := &Engine{s: s, opts: opts, log: opts.Logger}
	s.OnChange(func(ch store.Change) {
		e.picks.changed(ch)
		e.orders.forget(ch)
	})
	return e
}

// step runs fn in a read-write transaction shared with other concurrent steps
// (the store's group commit, which never waits for a timer). fn may run more
// than once; it must only change the transaction and its own result variables.
// A failing or panicking step fails alone.
//
// When o has an id, a step whose id is stored fills v with the stored verdict
// (Replayed) instead of running fn; otherwise the id and v are stored in fn's
// transaction.
func (e *Engine) step(ctx context.Context, o once, v *Verdict, fn func(*store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	run := fn
	if o.id != "" {
		run = func(tx *store.Tx) error {
			if done, err := replayed(tx, o, v); done || err != nil {
				return err
			}
			if err := fn(tx); err != nil {
				return err
			}
			if o.final != nil && !o.final(v) {
				return nil
			}
			return remember(tx, o, e.now(tx), v)
		}
	}
	if e.opts.BoltBatch {
		return e.s.Batch(run)
	}
	return e.s.Group(run)
}

// now is the engine's clock.
func (e *Engine) now(tx *store.Tx) time.Time {
	if e.opts.Now != nil {
		return e.opts.Now()
	}
	return tx.Now()
}

// txn is one step's work inside a transaction: the session, the events and the
// audit lines it writes.
type txn struct {
	e        *Engine
	tx       *store.Tx
	now      time.Time
	station  string
	operator string
	v        *Verdict
}

func (e *Engine) begin(tx *store.Tx, station, operator string, v *Verdict) *txn {
	now := e.now(tx)
	*v = Verdict{Station: station, At: now}
	return &txn{e: e, tx: tx, now: now, station: station, operator: operator, v: v}
}

func (t *txn) session() (*Session, error) {
	var s Session
	ok, err := t.tx.Get(store.CollSessions, t.station, &s)
	if err != nil || !ok {
		return nil, err
	}
	if s.Counts == nil {
		s.Counts = map[string]int{}
	}
	return &s, nil
}

func (t *txn) saveSession(s *Session) error {
	s.Updated = t.now
	return t.tx.Put(store.CollSessions, s.Station, s)
}

func (t *txn) endSession(s *Session) error {
	if s.OrderID != "" {
		var c Claim
		if ok, _ := t.tx.Get(store.CollClaims, s.OrderID, &c); ok && c.Station == s.Station {
			if err := t.tx.Delete(store.CollClaims, s.OrderID); err != nil {
				return err
			}
		}
	}
	return t.tx.Delete(store.CollSessions, s.Station)
}

func (t *txn) state(orderID string) (OrderState, error) {
	var st OrderState
	_, err := t.tx.Get(store.CollFloor, orderID, &st)
	return st, err
}

func (t *txn) saveState(orderID string, st OrderState) error {
	return t.tx.Put(store.CollFloor, orderID, st)
}

// event records a floor event in the outbox.
func (t *txn) event(typ string, o *wire.Order, data any) (uint64, error) {
	ev := wire.Event{Type: typ, At: wire.Time{Time: t.now}, Station: wire.OptString(t.station), Operator: wire.OptString(t.operator)}
	if o != nil {
		ev.OrderID = o.OrderID
		if o.Waybill != nil {
			ev.WaybillNo = o.Waybill.No
		}
	}
	if err := ev.SetData(data); err != nil {
		return 0, err
	}
	if _, err := t.tx.AppendEvent(&ev); err != nil {
		return 0, fmt.Errorf("record %s: %w", typ, err)
	}
	t.v.Events = append(t.v.Events, ev.Seq)
	return ev.Seq, nil
}

// audit writes the step's audit line from the verdict.
func (t *txn) audit(action, code string) error {
	var ev uint64
	if n := len(t.v.Events); n > 0 {
		ev = t.v.Events[n-1]
	}
	detail := t.v.Message.EN
	if t.v.Expected != "" && !strings.Contains(detail, t.v.Expected) {
		detail += " | expected: " + t.v.Expected
	}
	_, err := t.tx.AppendAudit(store.AuditRecord{At: t.now, Station: t.station, Operator: t.operator, Action: action,
		Code: code, OrderID: t.v.OrderID, OK: t.v.OK, Reason: t.v.Reason, Detail: detail, EventSeq: ev})
	return err
}

// reject fills the verdict with a refusal and records pack.rejected when the
// reason is the contract's and an order is concerned.
func (t *txn) reject(o *wire.Order, reason, step, code string, m Message) error {
	t.v.OK, t.v.Reason, t.v.Message = false, reason, m
	if o != nil && contractReason(reason) {
		if _, err := t.event(wire.EventPackRejected, o, wire.PackRejectedData{Reason: reason, Code: code,
			Expected: t.v.Expected, Step: step}); err != nil {
			return err
		}
	}
	return nil
}

// Session returns a station's open session, or nil.
func (e *Engine) Session(ctx context.Context, station string) (*Session, error) {
	var s *Session
	err := e.s.View(func(tx *store.Tx) error {
		var v Session
		ok, err := tx.Get(store.CollSessions, station, &v)
		if ok {
			s = &v
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read session of %s: %w", station, err)
	}
	return s, nil
}

// Sessions returns every open session (the manager's view of the benches).
func (e *Engine) Sessions(ctx context.Context) ([]Session, error) {
	var out []Session
	err := e.s.View(func(tx *store.Tx) error {
		return tx.ForEach(store.CollSessions, "", func(_ string, raw []byte) error {
			var s Session
			if err := jsonUnmarshal(raw, &s); err != nil {
				return err
			}
			out = append(out, s)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// State returns what the floor did with an order.
func (e *Engine) State(ctx context.Context, orderID string) (OrderState, error) {
	var st OrderState
	err := e.s.View(func(tx *store.Tx) error {
		_, err := tx.Get(store.CollFloor, orderID, &st)
		return err
	})
	if err != nil {
		return st, fmt.Errorf("read floor state of %s: %w", orderID, err)
	}
	return st, nil
}

// VerifiedSince calls fn for every order verified at or after since that was
// neither handed over nor pulled, until fn returns false.
func (e *Engine) VerifiedSince(ctx context.Context, since time.Time, fn func(orderID string, st OrderState) bool) error {
	err := e.s.View(func(tx *store.Tx) error {
		return tx.ForEach(store.CollFloor, "", func(id string, raw []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var st OrderState
			if err := jsonUnmarshal(raw, &st); err != nil {
				return fmt.Errorf("floor state of %s: %w", id, err)
			}
			if st.Verified && !st.HandedOver && !st.Pulled && !st.VerifiedAt.Before(since) && !fn(id, st) {
				return store.ErrStop
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("list verified parcels: %w", err)
	}
	return nil
}
