package ui

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/dockhand/dockhand/agent/store"
)

// collScanResults keeps each page request's scan id with its HTTP answer, so a
// retried request (Wi-Fi dropped before the answer arrived) gets the same answer
// without asking the floor again.
//
// It is a front, written after the floor applied the request, riding along
// with a later commit (the answer does not wait for it): the durable truth is
// the floor's. EngineFloor passes the scan id
// to agent/floor's engine, which keeps it in the same transaction as the step;
// so when the agent stops between the two commits, the retry finds nothing
// here and the engine answers with its stored verdict, marked replayed,
// instead of applying the step again.
const collScanResults = store.CollUIScanResults

var scanIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

type scanRecord struct {
	Operator string          `json:"operator"`
	Kind     string          `json:"kind"`
	Status   int             `json:"status"`
	Body     json.RawMessage `json:"body"`
	At       time.Time       `json:"at"`
}

type scanLog struct {
	s        *store.Store
	log      *slog.Logger
	mu       sync.Mutex
	inflight map[string]chan struct{}
}

// frontWait is how long a kept answer waits for a floor commit to ride along
// with before it commits on its own.
const frontWait = 250 * time.Millisecond

func scanKey(operator, id string) string { return operator + "\x00" + id }

// once runs fn for (operator, id) at most once: a concurrent duplicate waits for
// the first, a later duplicate gets the stored result. fn returns the HTTP status
// and body to keep; errors are not kept (nothing was applied, a retry may apply).
func (l *scanLog) once(operator, kind, id string, fn func() (int, any, error)) (status int, body json.RawMessage, replayed bool, err error) {
	key := scanKey(operator, id)
	for {
		l.mu.Lock()
		wait, busy := l.inflight[key]
		if !busy {
			l.inflight[key] = make(chan struct{})
		}
		l.mu.Unlock()
		if !busy {
			break
		}
		<-wait
	}
	defer func() {
		l.mu.Lock()
		close(l.inflight[key])
		delete(l.inflight, key)
		l.mu.Unlock()
	}()
	var rec scanRecord
	var found bool
	if err := l.s.View(func(tx *store.Tx) (err error) {
		found, err = tx.Get(collScanResults, key, &rec)
		return err
	}); err != nil {
		return 0, nil, false, fmt.Errorf("look up scan id: %w", err)
	}
	if found {
		if rec.Kind != kind {
			return 0, nil, false, &FloorError{Status: 409, Code: "scan_id_reused",
				ZH: "扫描编号重复,请刷新页面", EN: "scan id already used for something else; reload the page"}
		}
		return rec.Status, rec.Body, true, nil
	}
	st, v, err := fn()
	if err != nil {
		return 0, nil, false, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return 0, nil, false, fmt.Errorf("encode result: %w", err)
	}
	rec = scanRecord{Operator: operator, Kind: kind, Status: st, Body: b, At: time.Now()}
	go func() {
		if err := l.s.GroupSoon(frontWait, func(tx *store.Tx) error { return tx.Put(collScanResults, key, &rec) }); err != nil {
			// Applied but not remembered here: a retry asks the floor, which replays it.
			l.log.Warn("scan answer not kept", "scan_id", id, "err", err)
		}
	}()
	return st, b, false, nil
}

// purge forgets scan ids older than cutoff.
func (l *scanLog) purge(cutoff time.Time) (int, error) {
	n := 0
	err := l.s.Update(func(tx *store.Tx) error {
		var old []string
		if err := tx.ForEach(collScanResults, "", func(k string, raw []byte) error {
			var r scanRecord
			if json.Unmarshal(raw, &r) != nil || r.At.Before(cutoff) {
				old = append(old, k)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range old {
			if err := tx.Delete(collScanResults, k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}
