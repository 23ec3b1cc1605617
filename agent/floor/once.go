package floor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dockhand/dockhand/agent/store"
)

// A caller that retries (a PDA page whose answer was lost on the Wi-Fi) names
// each call with its own id: the *Once methods store the id and the verdict in
// the same transaction as the step itself, and a call whose id is already
// stored returns that verdict, marked Replayed, without doing anything. So a
// retry is never applied twice, even when the agent stopped between the
// commit and the answer.
//
// Ids belong to an operator (two people's pages may pick the same id) and are
// kept until PurgeScanIDs forgets them. The collection holds two records per
// id: "id/<operator>\x00<id>" → Applied, and "at/<time>/<operator>\x00<id>" →
// the id key, in time order for the purge.

// ErrScanIDReused means a caller's id was already used for another kind of
// step (a page bug or a reused id); nothing was done.
var ErrScanIDReused = errors.New("扫描编号已用于别的操作,请刷新页面 (scan id already used for another action; reload the page)")

// Applied is a step the engine did under a caller's id.
type Applied struct {
	ID       string    `json:"id"`
	Operator string    `json:"operator"`
	Station  string    `json:"station"`
	Action   string    `json:"action"` // the audit action: scan, confirm, cancel, pick.start…
	At       time.Time `json:"at"`
	Verdict  Verdict   `json:"verdict"`
}

// once says how a step is deduplicated: id "" means not at all.
type once struct {
	id, operator, action string
	// final reports whether the verdict is the call's answer (StartPick tries
	// several orders in turn; only the answer is kept). nil means always.
	final func(*Verdict) bool
}

func idKey(operator, id string) string { return "id/" + operator + "\x00" + id }

func atKey(at time.Time, key string) string {
	return atPrefix(at) + "/" + key
}

// atPrefix is "at/" and the time as 16 hex digits, so keys sort by time.
func atPrefix(at time.Time) string {
	n := max(at.UnixNano(), 0)
	s := strconv.FormatUint(uint64(n), 16)
	return "at/" + zeros[:16-len(s)] + s
}

const zeros = "0000000000000000"

// replayed fills v from the record of o's id and reports whether there was one.
func replayed(tx *store.Tx, o once, v *Verdict) (bool, error) {
	var a Applied
	found, err := tx.Get(store.CollScanIDs, idKey(o.operator, o.id), &a)
	if err != nil || !found {
		return false, err
	}
	if a.Action != o.action {
		return true, fmt.Errorf("scan id %s (%s, was %s): %w", o.id, o.action, a.Action, ErrScanIDReused)
	}
	*v = a.Verdict
	v.Replayed = true
	return true, nil
}

// remember stores o's id with the verdict, in the step's transaction.
func remember(tx *store.Tx, o once, now time.Time, v *Verdict) error {
	key := idKey(o.operator, o.id)
	if err := tx.Put(store.CollScanIDs, key, Applied{ID: o.id, Operator: o.operator, Station: v.Station,
		Action: o.action, At: now, Verdict: *v}); err != nil {
		return fmt.Errorf("keep scan id: %w", err)
	}
	if err := tx.PutRaw(store.CollScanIDs, atKey(now, key), []byte(key)); err != nil {
		return fmt.Errorf("keep scan id: %w", err)
	}
	return nil
}

// Applied returns what the engine did under an operator's id, with the
// verdict marked Replayed, or nil when the id was never used (or purged). It
// lets a caller answer a retry before checks of its own that the first call
// changed the ground for (the session it ended, for one).
func (e *Engine) Applied(ctx context.Context, operator, id string) (*Applied, error) {
	if id == "" {
		return nil, nil
	}
	var a Applied
	var found bool
	err := e.s.View(func(tx *store.Tx) (err error) {
		found, err = tx.Get(store.CollScanIDs, idKey(operator, id), &a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("look up scan id %s: %w", id, err)
	}
	if !found {
		return nil, nil
	}
	a.Verdict.Replayed = true
	return &a, nil
}

// purgeBatch bounds one purge transaction, so scans wait little for it.
const purgeBatch = 2000

// PurgeScanIDs forgets the ids of steps done before cutoff and reports how
// many went. After it a retry of such an id is applied as new, so cutoff
// should lie well beyond any retry (the agent keeps 48 h).
func (e *Engine) PurgeScanIDs(ctx context.Context, cutoff time.Time) (int, error) {
	end := atPrefix(cutoff)
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		batch := 0
		err := e.s.Update(func(tx *store.Tx) error {
			batch = 0
			var keys []string
			var ids []string
			if err := tx.ForEach(store.CollScanIDs, "at/", func(k string, raw []byte) error {
				if k >= end || len(keys) == purgeBatch {
					return store.ErrStop
				}
				keys, ids = append(keys, k), append(ids, string(raw))
				return nil
			}); err != nil {
				return err
			}
			for i, k := range keys {
				if err := tx.Delete(store.CollScanIDs, ids[i]); err != nil {
					return err
				}
				if err := tx.Delete(store.CollScanIDs, k); err != nil {
					return err
				}
			}
			batch = len(keys)
			return nil
		})
		n += batch
		if err != nil {
			return n, fmt.Errorf("purge scan ids: %w", err)
		}
		if batch < purgeBatch {
			return n, nil
		}
	}
}
