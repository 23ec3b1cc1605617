package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Collections are keyed JSON records that other parts of the agent own (floor
// sessions and order claims, print jobs, operators, sign-in sessions). They live in
// the same file and the same transactions as everything else, so a floor step, its
// events and its audit line commit together.

// Collection names in use. A new part of the agent adds its name here.
const (
	CollSessions   = "floor_sessions"   // station → scan-twice session
	CollClaims     = "floor_claims"     // order id → station verifying it
	CollFloor      = "floor_orders"     // order id → local floor state (verified, handed over…)
	CollHandovers  = "handovers"        // handover (cage/manifest) id → its parcels
	CollPrintJobs  = "print_jobs"       // job id → print job
	CollPrintByWB  = "print_by_waybill" // waybill no → job id (print once)
	CollPrintQueue = "print_queue"      // printer/job id → pending job
	CollOperators  = "operators"        // operator code → operator
	CollLogins     = "logins"           // session token hash → sign-in session
	CollUrgentAck  = "urgent_acks"      // order or notice id → acknowledgement
	CollPrintKeys  = "print_api_keys"   // key hash → local print API key
	CollScanIDs    = "floor_scan_ids"   // operator and caller's scan id → the verdict it got (apply once)

	CollUIScanResults = "ui_scan_results" // operator and page's scan id → the HTTP answer it got
	CollUISteps       = "ui_timed_steps"  // station/step → start of a timed manual step
)

// collPrefix names a collection's bucket. Collections are top-level buckets
// (schema 3): a small one (the stations' sessions, the claims) then lives inside
// the file's root page, which every commit rewrites anyway, so a floor step that
// touches it writes no page of its own for it.
const collPrefix = "coll:"

func collBucket(name string) []byte { return []byte(collPrefix + name) }

// appendMostly are the collections whose new keys mostly sort after the old
// ones (job numbers, times): their pages are filled before they split instead
// of split half full, which halves the file they take.
var appendMostly = map[string]bool{CollPrintJobs: true, CollScanIDs: true}

// appendFill is how full a page of an append-mostly bucket gets before it
// splits (bbolt's default, 0.5, suits random inserts).
const appendFill = 0.95

func (tx *Tx) coll(name string, create bool) (*bolt.Bucket, error) {
	key := collBucket(name)
	if b := tx.tx.Bucket(key); b != nil {
		if appendMostly[name] {
			b.FillPercent = appendFill
		}
		return b, nil
	}
	if !create {
		return nil, nil
	}
	b, err := tx.tx.CreateBucket(key)
	if err != nil {
		return nil, fmt.Errorf("create collection %s: %w", name, err)
	}
	return b, nil
}

// Put stores v (as JSON) under key in a collection.
func (tx *Tx) Put(coll, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", coll, key, err)
	}
	return tx.PutRaw(coll, key, raw)
}

// PutRaw stores raw bytes under key in a collection.
func (tx *Tx) PutRaw(coll, key string, raw []byte) error {
	b, err := tx.coll(coll, true)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(key), raw); err != nil {
		return fmt.Errorf("store %s/%s: %w", coll, key, err)
	}
	tx.touched(coll, key)
	return nil
}

// touched notes a change the listeners follow: an order's floor state.
func (tx *Tx) touched(coll, key string) {
	if coll == CollFloor {
		tx.change.Floor = append(tx.change.Floor, key)
	}
}

// Get decodes the record under key into v; it reports whether one was there.
func (tx *Tx) Get(coll, key string, v any) (bool, error) {
	raw := tx.GetRaw(coll, key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("decode %s/%s: %w", coll, key, err)
	}
	return true, nil
}

// GetRaw returns the bytes under key (valid only inside the transaction), or nil.
func (tx *Tx) GetRaw(coll, key string) []byte {
	b, _ := tx.coll(coll, false)
	if b == nil {
		return nil
	}
	return b.Get([]byte(key))
}

// Delete removes key from a collection.
func (tx *Tx) Delete(coll, key string) error {
	b, _ := tx.coll(coll, false)
	if b == nil {
		return nil
	}
	if err := b.Delete([]byte(key)); err != nil {
		return err
	}
	tx.touched(coll, key)
	return nil
}

// ForEach calls fn for every record whose key starts with prefix, in key order,
// until fn returns an error (ErrStop ends early without error).
func (tx *Tx) ForEach(coll, prefix string, fn func(key string, raw []byte) error) error {
	b, _ := tx.coll(coll, false)
	if b == nil {
		return nil
	}
	p := []byte(prefix)
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(string(k), v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// NextID returns the next number of a collection's own sequence.
func (tx *Tx) NextID(coll string) (uint64, error) {
	b, err := tx.coll(coll, true)
	if err != nil {
		return 0, err
	}
	return b.NextSequence()
}

// Now is the store's clock.
func (tx *Tx) Now() time.Time { return tx.s.opts.Now() }

// ErrStop ends a ForEach early.
var ErrStop = errors.New("stop")
