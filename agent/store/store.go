// Package store is Dockhand's durable memory: one bbolt file holding the
// warehouse's orders and their indexes (waybill, platform order number, barcode),
// active quality holds, floor notices, the feed cursor, the outbox of floor events
// waiting for the hub's ack, an append-only audit log, a quarantine of bad input,
// and keyed collections that other parts of the agent own (sessions, print jobs,
// operators).
//
// It is the only package that imports bbolt. Every change is made in one
// transaction together with its index, cursor and outbox updates, so a crash at any
// instant leaves either all of it or none of it. The file carries a schema version:
// an older file is migrated on open, a newer one is refused with a clear message.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/dockhand/dockhand/sync/wire"
)

// SchemaVersion is the layout this build writes.
const SchemaVersion = 3

// Errors.
var (
	// ErrNotFound means the key asked for is not in the store.
	ErrNotFound = errors.New("not found")
	// ErrNewerSchema means the data file was written by a newer Dockhand.
	ErrNewerSchema = errors.New("data file was written by a newer Dockhand")
	// ErrDiskFull means the disk holding the data file has no room left.
	ErrDiskFull = errors.New("磁盘已满 (disk full): free space on the data disk; nothing was recorded")
	// ErrGap means a feed item was passed out of order.
	ErrGap = errors.New("feed item out of order")
	// ErrOutboxFull means the outbox reached its configured cap.
	ErrOutboxFull = errors.New("事件队列已满 (outbox full): the hub has not acknowledged events for too long; new work is refused until it catches up")
)

// Bucket names.
var (
	bMeta       = []byte("meta")
	bOrders     = []byte("orders")
	bByWaybill  = []byte("idx_waybill")
	bByPlatNo   = []byte("idx_platform_no")
	bByBarcode  = []byte("idx_barcode")
	bOpen       = []byte("idx_open")
	bClosed     = []byte("idx_closed")
	bHolds      = []byte("holds")
	bNotices    = []byte("notices")
	bOutbox     = []byte("outbox")
	bAudit      = []byte("audit")
	bAuditOrder = []byte("idx_audit_order")
	bAuditOper  = []byte("idx_audit_operator")
	bQuarantine = []byte("quarantine")
	bColls      = []byte("collections") // schema ≤ 2: the collections, nested (now top-level, see collPrefix)

	kSchema     = []byte("schema")
	kFeedCursor = []byte("feed_cursor")
	kOutboxSeq  = []byte("outbox_seq") // schema ≤ 2: the last event seq (now the outbox bucket's sequence)
	// kOutboxAcked is the highest event seq the hub acked (the outbox holds the seqs after it).
	kOutboxAcked = []byte("outbox_acked")
	kCreated     = []byte("created_at")
	// kAuditIndexed is the audit seq up to which the audit indexes are written.
	kAuditIndexed = []byte("audit_indexed")
)

var allBuckets = [][]byte{bMeta, bOrders, bByWaybill, bByPlatNo, bByBarcode, bOpen, bClosed,
	bHolds, bNotices, bOutbox, bAudit, bAuditOrder, bAuditOper, bQuarantine}

// Options configure a store.
type Options struct {
	// Agent and Warehouse stamp every event appended to the outbox.
	Agent, Warehouse string
	// Classify marks an order urgent by local rules when it is stored; it may be nil.
	Classify func(*wire.Order) (urgent bool, reasons []string)
	// OutboxCap refuses new events once this many are pending (0: no cap).
	OutboxCap int
	// NoSync skips fsync (benchmarks of bare logic only; never in production).
	NoSync bool
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// Timeout waits this long for the file lock (another agent holding it).
	Timeout time.Duration
}

// Store is the open data file.
type Store struct {
	db   *bolt.DB
	opts Options
	path string

	signal chan struct{}
	group  committer

	mu        sync.RWMutex
	listeners []func(Change)
}

// Change tells listeners what a committed transaction touched.
type Change struct {
	Orders  []string      // ids of orders created or changed
	Floor   []string      // ids of orders whose floor state (CollFloor) was written or removed
	Holds   bool          // holds set or released
	Notices []wire.Notice // new notices
	Events  int           // events appended to the outbox
	Acked   int           // events removed by an ack
}

func (c *Change) empty() bool {
	return len(c.Orders) == 0 && len(c.Floor) == 0 && !c.Holds && len(c.Notices) == 0 && c.Events == 0 && c.Acked == 0
}

// Open opens (creating if needed) the data file at path, migrating an older schema
// and refusing a newer one.
func Open(path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open store: create data directory: %w", diskErr(err))
	}
	db, err := bolt.Open(path, 0o640, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync,
		FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open store %s: the file is locked by another running Dockhand: %w", path, err)
		}
		return nil, fmt.Errorf("open store %s: %w", path, diskErr(err))
	}
	s := &Store{db: db, opts: opts, path: path, signal: make(chan struct{}, 1)}
	if err := s.prepare(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the data file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Path is the data file's path.
func (s *Store) Path() string { return s.path }

// OnChange registers fn to be called after every committed change. fn runs on the
// committing goroutine and must be quick.
func (s *Store) OnChange(fn func(Change)) {
	s.mu.Lock()
	s.listeners = append(s.listeners, fn)
	s.mu.Unlock()
}

func (s *Store) notify(c Change) {
	if c.empty() {
		return
	}
	if c.Events > 0 {
		select {
		case s.signal <- struct{}{}:
		default:
		}
	}
	s.mu.RLock()
	ls := s.listeners
	s.mu.RUnlock()
	for _, fn := range ls {
		fn(c)
	}
}

// OutboxSignal receives a value whenever events are appended.
func (s *Store) OutboxSignal() <-chan struct{} { return s.signal }

// Tx is one transaction over the store, read-only or read-write.
type Tx struct {
	tx     *bolt.Tx
	s      *Store
	change Change
	shared bool // Group: other callers' changes commit in the same transaction
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx, s: s}) })
}

// Update runs fn in a read-write transaction and commits it durably (fsync) before
// returning.
func (s *Store) Update(fn func(*Tx) error) error {
	var ch Change
	err := s.db.Update(func(btx *bolt.Tx) error {
		tx := &Tx{tx: btx, s: s}
		if err := fn(tx); err != nil {
			return err
		}
		ch = tx.change
		return nil
	})
	if err != nil {
		return diskErr(err)
	}
	s.notify(ch)
	return nil
}

// Batch runs fn in a read-write transaction shared with other concurrent Batch
// calls (group commit: one fsync for many callers). fn may be called more than
// once if another call in its group fails, so it must not change anything outside
// the transaction before it returns nil.
func (s *Store) Batch(fn func(*Tx) error) error {
	var ch Change
	err := s.db.Batch(func(btx *bolt.Tx) error {
		tx := &Tx{tx: btx, s: s}
		if err := fn(tx); err != nil {
			return err
		}
		ch = tx.change
		return nil
	})
	if err != nil {
		return diskErr(err)
	}
	s.notify(ch)
	return nil
}

// diskErr turns "no space left" into ErrDiskFull so the floor hears plain words.
func diskErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w (%v)", ErrDiskFull, err)
	}
	return err
}

// IsDiskFull reports whether err means the data disk is full.
func IsDiskFull(err error) bool { return errors.Is(err, ErrDiskFull) }

func (s *Store) prepare() error {
	return s.db.Update(func(btx *bolt.Tx) error {
		meta := btx.Bucket(bMeta)
		if meta == nil {
			// A new file: create everything at the current schema.
			for _, name := range allBuckets {
				if _, err := btx.CreateBucketIfNotExists(name); err != nil {
					return fmt.Errorf("create bucket %s: %w", name, err)
				}
			}
			meta = btx.Bucket(bMeta)
			if err := meta.Put(kSchema, u64(SchemaVersion)); err != nil {
				return err
			}
			return meta.Put(kCreated, []byte(s.opts.Now().UTC().Format(time.RFC3339)))
		}
		have := uint64(1)
		if v := meta.Get(kSchema); v != nil {
			have = binary.BigEndian.Uint64(v)
		}
		if have > SchemaVersion {
			return fmt.Errorf("open store %s: %w (file schema %d, this version knows up to %d): "+
				"install the newer Dockhand again, or restore a backup made for this version", s.path, ErrNewerSchema, have, SchemaVersion)
		}
		for v := have; v < SchemaVersion; v++ {
			if err := migrations[v](btx); err != nil {
				return fmt.Errorf("migrate store from schema %d to %d: %w", v, v+1, err)
			}
		}
		for _, name := range allBuckets {
			if _, err := btx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return meta.Put(kSchema, u64(SchemaVersion))
	})
}

// migrations[v] moves a file from schema v to v+1 inside the opening transaction.
var migrations = map[uint64]func(*bolt.Tx) error{
	// Schema 1 had no index by platform order number: build it.
	1: func(btx *bolt.Tx) error {
		idx, err := btx.CreateBucketIfNotExists(bByPlatNo)
		if err != nil {
			return err
		}
		orders := btx.Bucket(bOrders)
		if orders == nil {
			return nil
		}
		return orders.ForEach(func(k, v []byte) error {
			rec, err := decodeOrder(v)
			if err != nil {
				return fmt.Errorf("order %s: %w", k, err)
			}
			return idx.Put(platKey(&rec.Order), k)
		})
	},
	// Schema 2 indexed every audit record in its own transaction and kept the
	// event seq and the pending count in meta. From 3 the audit indexes follow
	// behind a mark, which starts at the end of the log, and the event seq is
	// the outbox bucket's sequence, with the last acked seq beside it.
	2: func(btx *bolt.Tx) error {
		meta := btx.Bucket(bMeta)
		if audit := btx.Bucket(bAudit); audit != nil {
			if err := meta.Put(kAuditIndexed, u64(audit.Sequence())); err != nil {
				return err
			}
		}
		out, err := btx.CreateBucketIfNotExists(bOutbox)
		if err != nil {
			return err
		}
		last := readU64(meta.Get(kOutboxSeq))
		acked := last
		if k, _ := out.Cursor().First(); k != nil {
			acked = readU64(k) - 1
		}
		if err := out.SetSequence(last); err != nil {
			return err
		}
		if err := meta.Put(kOutboxAcked, u64(acked)); err != nil {
			return err
		}
		if err := meta.Delete(kNOutbox); err != nil {
			return err
		}
		if err := meta.Delete(kOutboxSeq); err != nil {
			return err
		}
		return liftCollections(btx)
	},
}

// liftCollections moves every collection nested in bColls to a top-level
// bucket of its own, records and sequence, and drops bColls.
func liftCollections(btx *bolt.Tx) error {
	root := btx.Bucket(bColls)
	if root == nil {
		return nil
	}
	err := root.ForEachBucket(func(name []byte) error {
		from := root.Bucket(name)
		to, err := btx.CreateBucketIfNotExists(collBucket(string(name)))
		if err != nil {
			return fmt.Errorf("collection %s: %w", name, err)
		}
		if err := from.ForEach(func(k, v []byte) error { return to.Put(k, v) }); err != nil {
			return fmt.Errorf("collection %s: %w", name, err)
		}
		return to.SetSequence(from.Sequence())
	})
	if err != nil {
		return err
	}
	return btx.DeleteBucket(bColls)
}

// SchemaOf reads the schema version of a data file without migrating it.
func SchemaOf(path string) (uint64, error) {
	db, err := bolt.Open(path, 0o640, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, fmt.Errorf("read schema of %s: %w", path, err)
	}
	defer db.Close()
	v := uint64(0)
	err = db.View(func(btx *bolt.Tx) error {
		if m := btx.Bucket(bMeta); m != nil {
			if b := m.Get(kSchema); b != nil {
				v = binary.BigEndian.Uint64(b)
			} else {
				v = 1
			}
		}
		return nil
	})
	return v, err
}

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func readU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// Stats describes the file for metrics and the manager console.
type Stats struct {
	Orders, OpenOrders, Holds, OutboxPending, Quarantined int
	AuditRecords                                          int
	FeedCursor                                            uint64
	FileBytes                                             int64
}

// Stats counts what the store holds.
func (s *Store) Stats() (Stats, error) {
	var st Stats
	err := s.View(func(tx *Tx) error {
		b := tx.tx
		st.Orders = tx.counter(kNOrders)
		st.OpenOrders = tx.counter(kNOpen)
		st.OutboxPending = tx.outboxPending()
		st.Holds = b.Bucket(bHolds).Stats().KeyN
		st.Quarantined = int(b.Bucket(bQuarantine).Sequence())
		st.AuditRecords = int(b.Bucket(bAudit).Sequence())
		st.FeedCursor = tx.FeedCursor()
		st.FileBytes = b.Size()
		return nil
	})
	return st, err
}

// Check runs bbolt's consistency check over the whole file.
func (s *Store) Check() error {
	return s.db.View(func(btx *bolt.Tx) error {
		var errs []error
		for err := range btx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

// PagesWritten counts the pages commits have written since the file was
// opened: what a change costs the disk (benchmarks report it per step).
func (s *Store) PagesWritten() int64 {
	st := s.db.Stats()
	return st.TxStats.GetWrite()
}
