package hublink

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// FeedStore is where the feed lands. The agent's store satisfies it: ApplyFeed
// and ApplySnapshot each run in one transaction that also moves the cursor.
type FeedStore interface {
	LastFeedSeq() (uint64, error)
	ApplyFeed(items []wire.FeedItem) (wire.ApplyStats, error)
	ApplySnapshot(msgs []wire.FeedMessage, endSeq uint64) (wire.ApplyStats, error)
	Quarantine(q wire.Quarantined) error
}

// maxAsks is how many replays in a row for the same seq the inbox asks for
// before it lets the held messages go.
const maxAsks = 5

// inboxConfig is the part of Config the inbox uses.
type inboxConfig struct {
	BatchMax        int
	EarlyMax        int
	SnapshotMax     int
	ReplayRetry     time.Duration
	SnapshotTimeout time.Duration
	ResyncInterval  time.Duration
}

// Inbox puts feed payloads in seq order and applies each seq exactly once. It
// is not safe for concurrent use: the link drives it from one goroutine.
//
// Payloads go in with Add; contiguous items are collected into a batch that
// goes to the store in one call when it is full or on Flush. A gap holds the
// early items in memory (bounded) and asks the hub for a replay. Snapshot
// messages are collected until snapshot.end and applied at once.
type Inbox struct {
	store     FeedStore
	cfg       inboxConfig
	replay    func(fromSeq uint64) // asks the hub; may be called often, it is rate-limited here
	onApplied func(wire.ApplyStats)
	m         *metrics
	log       *slog.Logger
	now       func() time.Time

	loaded bool
	last   uint64 // the store's cursor as far as we know
	batch  []wire.FeedItem
	early  map[uint64]wire.FeedItem

	snapOn      bool
	snap        []wire.FeedMessage
	snapStarted time.Time
	snapTainted bool

	askedFrom uint64
	askedAt   time.Time
	askCount  int  // replays asked for the same seq in a row
	mustAsk   bool // a store error or dropped snapshot: ask again on the next tick
	resyncing bool // Resync was called: ask again every ResyncInterval
}

// NewInbox makes an inbox over store. replay is how it asks the hub to resend
// the feed from a seq; onApplied (may be nil) hears about applied changes.
func NewInbox(store FeedStore, cfg Config, replay func(fromSeq uint64), onApplied func(wire.ApplyStats)) *Inbox {
	cfg = cfg.withDefaults()
	return newInbox(store, cfg, replay, onApplied, nil)
}

func newInbox(store FeedStore, cfg Config, replay func(uint64), onApplied func(wire.ApplyStats), m *metrics) *Inbox {
	return &Inbox{
		store: store,
		cfg: inboxConfig{BatchMax: cfg.BatchMax, EarlyMax: cfg.EarlyMax, SnapshotMax: cfg.SnapshotMax,
			ReplayRetry: cfg.ReplayRetry, SnapshotTimeout: cfg.SnapshotTimeout, ResyncInterval: cfg.ResyncInterval},
		replay:    replay,
		onApplied: onApplied,
		m:         m,
		log:       cfg.Logger,
		now:       time.Now,
		early:     make(map[uint64]wire.FeedItem),
	}
}

// LastSeq is the last seq applied (0 before the first store read).
func (ib *Inbox) LastSeq() uint64 { return ib.last }

func (ib *Inbox) load() error {
	if ib.loaded {
		return nil
	}
	seq, err := ib.store.LastFeedSeq()
	if err != nil {
		return fmt.Errorf("read feed cursor: %w", err)
	}
	ib.last, ib.loaded = seq, true
	ib.m.lastSeq(seq)
	return nil
}

// next is the seq the inbox waits for.
func (ib *Inbox) next() uint64 { return ib.last + uint64(len(ib.batch)) + 1 }

// Decoded is a feed payload decoded ahead of the inbox, so that decoding (on
// the MQTT client's goroutine) and applying (on the inbox's) run in parallel.
type Decoded struct {
	Topic   string
	Payload []byte
	Msg     wire.FeedMessage
	Err     error // from wire.DecodeFeed
}

// Decode decodes one feed payload for AddDecoded.
func Decode(topic string, payload []byte) Decoded {
	m, err := wire.DecodeFeed(payload)
	return Decoded{Topic: topic, Payload: payload, Msg: m, Err: err}
}

// Add takes one payload as it came from topic. It returns an error only when
// the store failed; bad payloads are quarantined, never returned.
func (ib *Inbox) Add(topic string, payload []byte) error {
	return ib.AddDecoded(Decode(topic, payload))
}

// AddDecoded is Add for a payload already decoded with Decode.
func (ib *Inbox) AddDecoded(d Decoded) error {
	if err := ib.load(); err != nil {
		return err
	}
	topic, payload, m, err := d.Topic, d.Payload, d.Msg, d.Err
	if err != nil {
		return ib.addBad(topic, payload, err)
	}
	switch {
	case m.Kind == wire.KindSnapshotEnd:
		return ib.endSnapshot(m.Seq)
	case m.Snapshot:
		ib.addSnapshot(&m)
		return nil
	}
	return ib.addItem(wire.FeedItem{Msg: &m})
}

func (ib *Inbox) addBad(topic string, payload []byte, err error) error {
	reason := err.Error()
	var de *wire.DecodeError
	seq, has := uint64(0), false
	if errors.As(err, &de) {
		reason, seq, has = de.Reason, de.Seq, de.HasSeq
	}
	if !has {
		seq, has = wire.SalvageSeq(payload)
	}
	q := &wire.Quarantined{Topic: topic, Reason: reason, Raw: truncate(payload), At: ib.now()}
	ib.log.Warn("hub feed: bad message quarantined", "topic", topic, "seq", seq, "has_seq", has, "reason", reason)
	if !has || seq == 0 {
		// Nothing to consume: keep it for a person and go on.
		if ib.snapOn && seq == 0 && has {
			ib.snapTainted = true
		}
		if err := ib.store.Quarantine(*q); err != nil {
			return fmt.Errorf("quarantine feed message: %w", err)
		}
		ib.m.quarantined(1)
		return nil
	}
	q.Seq, q.HasSeq = seq, true
	return ib.addItem(wire.FeedItem{Bad: q})
}

// truncate keeps quarantined payloads to the size limit (plus a little), so an
// oversized message cannot fill the disk.
func truncate(p []byte) []byte {
	if len(p) > wire.MaxPayload {
		p = p[:wire.MaxPayload]
	}
	return append([]byte(nil), p...)
}

func (ib *Inbox) addItem(it wire.FeedItem) error {
	seq := it.Seq()
	next := ib.next()
	switch {
	case seq < next:
		ib.m.duplicates(1)
		return nil
	case seq > next:
		if _, ok := ib.early[seq]; !ok && len(ib.early) < ib.cfg.EarlyMax {
			ib.early[seq] = it
		}
		ib.askReplay(next, false)
		return nil
	}
	ib.batch = append(ib.batch, it)
	ib.drainEarly()
	if len(ib.batch) >= ib.cfg.BatchMax {
		return ib.Flush()
	}
	return nil
}

// drainEarly moves held items that are now contiguous into the batch.
func (ib *Inbox) drainEarly() {
	for len(ib.early) > 0 {
		it, ok := ib.early[ib.next()]
		if !ok {
			break
		}
		delete(ib.early, it.Seq())
		ib.batch = append(ib.batch, it)
	}
}

// AddFrom adds first and then whatever arrives on more within linger (or
// until a full batch is collected), and applies the batch: one store
// transaction, and one disk sync, for many messages when they come fast, and
// at most linger of delay when they come one by one.
func (ib *Inbox) AddFrom(first Decoded, more <-chan Decoded, linger time.Duration) error {
	if err := ib.AddDecoded(first); err != nil {
		return err
	}
	t := time.NewTimer(linger)
	defer t.Stop()
	for len(ib.batch) > 0 && len(ib.batch) < ib.cfg.BatchMax {
		select {
		case d, ok := <-more:
			if !ok {
				return ib.Flush()
			}
			if err := ib.AddDecoded(d); err != nil {
				return err
			}
		case <-t.C:
			return ib.Flush()
		}
	}
	return ib.Flush()
}

// Flush applies the collected batch.
func (ib *Inbox) Flush() error {
	for len(ib.batch) > 0 {
		n := min(len(ib.batch), ib.cfg.BatchMax)
		items := ib.batch[:n]
		st, err := ib.store.ApplyFeed(items)
		if err != nil {
			// Drop the batch; the items come again with a replay.
			ib.batch = ib.batch[:0]
			ib.mustAsk = true
			ib.loaded = false
			return fmt.Errorf("apply feed seq %d-%d: %w", items[0].Seq(), items[n-1].Seq(), err)
		}
		end := items[n-1].Seq()
		ib.last = max(ib.last, end, st.LastSeq)
		ib.batch = append(ib.batch[:0], ib.batch[n:]...)
		ib.applied(st)
	}
	if len(ib.early) == 0 && ib.askedFrom != 0 && ib.askedFrom <= ib.last+1 {
		ib.askedFrom = 0 // the gap is closed
	}
	return nil
}

func (ib *Inbox) applied(st wire.ApplyStats) {
	ib.m.apply(st)
	ib.m.lastSeq(ib.last)
	if ib.onApplied != nil {
		ib.onApplied(st)
	}
}

func (ib *Inbox) addSnapshot(m *wire.FeedMessage) {
	if !ib.snapOn {
		ib.snapOn, ib.snap, ib.snapStarted, ib.snapTainted = true, nil, ib.now(), false
	}
	if len(ib.snap) >= ib.cfg.SnapshotMax {
		ib.log.Error("hub feed: snapshot too large, dropped; asking again", "max_messages", ib.cfg.SnapshotMax)
		ib.dropSnapshot()
		return
	}
	ib.snap = append(ib.snap, *m)
}

func (ib *Inbox) dropSnapshot() {
	ib.snapOn, ib.snap, ib.snapTainted = false, nil, false
	ib.mustAsk = true
}

func (ib *Inbox) endSnapshot(seq uint64) error {
	if err := ib.Flush(); err != nil {
		return err
	}
	msgs, tainted := ib.snap, ib.snapTainted
	ib.snapOn, ib.snap, ib.snapTainted = false, nil, false
	if seq <= ib.last {
		ib.log.Info("hub feed: snapshot older than what is applied, ignored", "snapshot_seq", seq, "last_seq", ib.last)
		return nil
	}
	if tainted {
		ib.log.Error("hub feed: snapshot held bad messages (quarantined); applying the rest", "snapshot_seq", seq)
	}
	st, err := ib.store.ApplySnapshot(msgs, seq)
	if err != nil {
		ib.mustAsk = true
		ib.loaded = false
		return fmt.Errorf("apply snapshot up to seq %d (%d messages): %w", seq, len(msgs), err)
	}
	ib.log.Info("hub feed: snapshot applied", "seq", seq, "messages", len(msgs), "closed", st.Closed, "released", st.Released)
	ib.m.snapshot()
	ib.last = max(seq, st.LastSeq)
	for s := range ib.early {
		if s <= ib.last {
			delete(ib.early, s)
		}
	}
	ib.applied(st)
	ib.drainEarly()
	if len(ib.early) > 0 {
		ib.askReplay(ib.next(), true)
	}
	return ib.Flush()
}

// askReplay asks the hub for the feed from seq on, at most once per
// ReplayRetry for the same seq unless forced.
func (ib *Inbox) askReplay(from uint64, force bool) {
	now := ib.now()
	// A replay asked for recently from an earlier seq covers this one: the hub
	// sends everything from that seq on.
	if !force && ib.askedFrom != 0 && from >= ib.askedFrom && now.Sub(ib.askedAt) < ib.cfg.ReplayRetry {
		return
	}
	if from == ib.askedFrom {
		ib.askCount++
	} else {
		ib.askCount = 1
	}
	ib.askedFrom, ib.askedAt, ib.mustAsk = from, now, false
	ib.m.replay()
	ib.log.Info("hub feed: asking for a replay", "from_seq", from)
	if ib.replay != nil {
		ib.replay(from)
	}
}

// resync asks for everything after the cursor without a known gap (on
// connect and periodically). Its answer may come before later messages
// exist, so it does not stand in for the ask of a gap found afterwards.
func (ib *Inbox) resync() {
	ib.askReplay(ib.next(), true)
	if len(ib.early) == 0 {
		ib.askedFrom, ib.askCount = 0, 0
	}
}

// Resync asks for everything after the last applied seq; the link calls it on
// every (re)connect.
func (ib *Inbox) Resync() error {
	if err := ib.Flush(); err != nil {
		return err
	}
	if err := ib.load(); err != nil {
		return err
	}
	ib.resyncing = true
	ib.resync()
	return nil
}

// Tick handles the inbox's timeouts: a gap not closed by a replay, a snapshot
// that never ended, a store error that dropped a batch.
func (ib *Inbox) Tick() error {
	if err := ib.Flush(); err != nil {
		return err
	}
	now := ib.now()
	if ib.snapOn && now.Sub(ib.snapStarted) >= ib.cfg.SnapshotTimeout {
		ib.log.Warn("hub feed: snapshot did not end in time, dropped; asking again",
			"messages", len(ib.snap), "timeout", ib.cfg.SnapshotTimeout)
		ib.dropSnapshot()
	}
	if err := ib.load(); err != nil {
		return err
	}
	switch {
	case ib.mustAsk:
		ib.askReplay(ib.next(), true)
	case len(ib.early) > 0 && !ib.snapOn && now.Sub(ib.askedAt) >= ib.cfg.ReplayRetry:
		if ib.askedFrom == ib.next() && ib.askCount >= maxAsks {
			// The hub answered and the gap is still there: what we hold is
			// not (yet) part of its feed. Let it go; real messages come back.
			ib.log.Warn("hub feed: replays did not close the gap; dropping held messages",
				"from_seq", ib.next(), "held", len(ib.early))
			clear(ib.early)
			ib.askCount = 0
			return nil
		}
		ib.askReplay(ib.next(), true)
	case ib.resyncing && !ib.snapOn && now.Sub(ib.askedAt) >= ib.cfg.ResyncInterval:
		ib.resync()
	}
	return nil
}

// Pending reports what the inbox holds in memory: early items after a gap and
// snapshot messages waiting for their end.
func (ib *Inbox) Pending() (early, snapshot int) { return len(ib.early), len(ib.snap) }
