// Package hubsim is a small order hub that speaks the hub's side of the
// contract, for tests, demos and benchmarks: it publishes a warehouse feed
// (loaded from JSONL, generated elsewhere, or made by calls from a test),
// keeps a bounded feed history and answers replay requests from it — with a
// snapshot when the history no longer reaches back far enough — and stores
// the agents' events in its own bbolt file, de-duplicated by event_id, checked
// strictly against the contract (wire.DecodeEvent, per-agent seq continuity,
// byte-identical re-sends), acking each agent's highest contiguous seq and
// recording every violation it sees.
//
// It talks MQTT through hublink.Client, so the agent's hub link stays the only
// importer of the MQTT library.
package hubsim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/wire"
	bolt "go.etcd.io/bbolt"
)

// Config shapes a hub simulator.
type Config struct {
	Broker    string
	Warehouse string
	// ClientID defaults to dockhand-hubsim-{wh}; the session is persistent, so
	// events published while the hub is stopped wait at the broker.
	ClientID string
	Username string
	Password string
	TLS      hublink.TLSConfig
	// DBPath is the bbolt file where received events are stored.
	DBPath string
	// Rate is how many queued feed messages (Load, Feed) are published per
	// second; 0 publishes them as fast as the broker takes them.
	Rate float64
	// HistoryWindow drops feed history older than this (default 24h);
	// HistoryMax keeps at most this many messages (default 1,000,000). A
	// replay from before the history is answered with a snapshot.
	HistoryWindow time.Duration
	HistoryMax    int
	// NoSync skips fsync on the event store: for benchmarks and tests that
	// measure the agent, never for a hub whose acks must mean "durable".
	NoSync bool
	Logger *slog.Logger
	// Now is the hub's clock (default time.Now).
	Now func() time.Time
}

// Violation is a contract violation the hub saw.
type Violation struct {
	At     time.Time `json:"at"`
	Agent  string    `json:"agent"`
	Seq    uint64    `json:"seq,omitempty"`
	Reason string    `json:"reason"`
	Raw    []byte    `json:"raw"`
}

// StoredEvent is an event as the hub stored it.
type StoredEvent struct {
	Seq     uint64
	Payload []byte
	Event   wire.Event
}

type histEntry struct {
	seq uint64
	at  time.Time
	raw []byte
}

// Hub is the simulator. Make it with New, run it with Run.
type Hub struct {
	cfg    Config
	log    *slog.Logger
	db     *bolt.DB
	feedT  string
	prefix string // oms/v1/wh/{wh}/agents/

	pubMu    sync.Mutex // serialises seq assignment with the live publish
	mu       sync.Mutex
	seq      uint64
	hist     []histEntry
	orders   map[string]*wire.Order
	holds    map[string]wire.Hold
	queue    [][]byte
	withhold int
	client   *hublink.Client
	online   bool
	acked    map[string]uint64
	dups     int
	replays  int
	stateCh  chan struct{} // online/offline changes, for Run
	feedCh   chan struct{} // queued feed or a new connection, for the feeder
	ackCh    chan struct{} // closed and replaced whenever an ack moves

	events chan inEvent
	work   chan func(c *hublink.Client, gone <-chan struct{})
}

type inEvent struct {
	agent   string
	payload []byte
	// decoded on the MQTT client's goroutine, in parallel with storing
	ev  wire.Event
	err error
}

var (
	bEvents     = []byte("events")
	bIDs        = []byte("ids")
	bViolations = []byte("violations")
	bAcked      = []byte("acked")
)

// New opens the hub's event store and makes a hub (online once Run starts).
func New(cfg Config) (*Hub, error) {
	if !wire.ValidID(cfg.Warehouse) {
		return nil, fmt.Errorf("hubsim: warehouse code %q is not valid", cfg.Warehouse)
	}
	if cfg.DBPath == "" {
		return nil, errors.New("hubsim: DBPath is required (where received events are stored)")
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "dockhand-hubsim-" + cfg.Warehouse
	}
	if cfg.HistoryWindow <= 0 {
		cfg.HistoryWindow = 24 * time.Hour
	}
	if cfg.HistoryMax <= 0 {
		cfg.HistoryMax = 1_000_000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	db, err := bolt.Open(cfg.DBPath, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoSync: cfg.NoSync, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("hubsim: open event store %s: %w", cfg.DBPath, err)
	}
	acked := map[string]uint64{}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bEvents, bIDs, bViolations, bAcked} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bAcked).ForEach(func(k, v []byte) error {
			acked[string(k)] = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("hubsim: prepare event store: %w", err)
	}
	return &Hub{
		cfg: cfg, log: cfg.Logger.With("part", "hubsim"), db: db,
		feedT:   "oms/v1/wh/" + cfg.Warehouse + "/feed",
		prefix:  "oms/v1/wh/" + cfg.Warehouse + "/agents/",
		orders:  map[string]*wire.Order{},
		holds:   map[string]wire.Hold{},
		acked:   acked,
		online:  true,
		stateCh: make(chan struct{}, 1),
		feedCh:  make(chan struct{}, 1),
		ackCh:   make(chan struct{}),
		events:  make(chan inEvent, 65536),
		work:    make(chan func(*hublink.Client, <-chan struct{}), 1024),
	}, nil
}

// Close closes the event store. Call it after Run returned.
func (h *Hub) Close() error { return h.db.Close() }

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Stop takes the hub off the broker (as if it went down); Run keeps going and
// Start brings it back. The feed history and event store stay.
func (h *Hub) Stop() {
	h.mu.Lock()
	h.online = false
	h.mu.Unlock()
	kick(h.stateCh)
}

// Start brings a stopped hub back.
func (h *Hub) Start() {
	h.mu.Lock()
	h.online = true
	h.mu.Unlock()
	kick(h.stateCh)
}

// Connected reports whether the hub has a broker session now.
func (h *Hub) Connected() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.client != nil
}

// Run connects to the broker (reconnecting when it goes), publishes queued
// feed messages, answers replays and stores events until ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { h.eventLoop(ctx) })
	wg.Go(func() { h.feeder(ctx) })
	defer wg.Wait()
	attempt := 0
	bo := hublink.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	for ctx.Err() == nil {
		h.mu.Lock()
		online := h.online
		h.mu.Unlock()
		if !online {
			select {
			case <-ctx.Done():
				return nil
			case <-h.stateCh:
			}
			continue
		}
		lost := make(chan error, 1)
		gone := make(chan struct{})
		c, err := hublink.Connect(ctx, hublink.ClientConfig{
			Broker: h.cfg.Broker, ClientID: h.cfg.ClientID, Username: h.cfg.Username, Password: h.cfg.Password,
			TLS: h.cfg.TLS, KeepAlive: 10 * time.Second, WriteTimeout: time.Second, OnMessage: h.onMessage,
			OnLost: func(err error) { close(gone); lost <- err },
		})
		if err == nil {
			err = c.Subscribe(ctx, h.prefix+"+/events", h.prefix+"+/replay")
			if err != nil {
				c.Close(0)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			attempt++
			h.log.Warn("hubsim: broker connection failed", "err", err)
			sleep(ctx, bo.Delay(attempt))
			continue
		}
		attempt = 0
		h.mu.Lock()
		h.client = c
		h.mu.Unlock()
		kick(h.feedCh)
		h.log.Info("hubsim connected", "broker", h.cfg.Broker)
		h.serve(ctx, c, lost, gone)
		h.mu.Lock()
		h.client = nil
		h.mu.Unlock()
	}
	return nil
}

// serve runs replay work on the connected client until the connection ends,
// the hub is stopped, or ctx ends.
func (h *Hub) serve(ctx context.Context, c *hublink.Client, lost chan error, gone <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			c.Close(200 * time.Millisecond)
			return
		case err := <-lost:
			h.log.Warn("hubsim: broker connection lost", "err", err)
			c.Close(0)
			return
		case <-h.stateCh:
			h.mu.Lock()
			online := h.online
			h.mu.Unlock()
			if !online {
				c.Close(100 * time.Millisecond)
				return
			}
		case fn := <-h.work:
			fn(c, gone)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// onMessage runs on the MQTT client's goroutine: it routes events and replay
// requests by topic.
func (h *Hub) onMessage(topic string, payload []byte) {
	rest, ok := strings.CutPrefix(topic, h.prefix)
	if !ok {
		return
	}
	agent, kind, ok := strings.Cut(rest, "/")
	if !ok {
		return
	}
	switch kind {
	case "events":
		p := append([]byte(nil), payload...)
		ev, err := wire.DecodeEvent(p)
		h.events <- inEvent{agent: agent, payload: p, ev: ev, err: err}
	case "replay":
		r, err := wire.DecodeReplay(payload)
		if err != nil {
			h.violation(agent, 0, err.Error(), payload)
			return
		}
		select {
		case h.work <- func(c *hublink.Client, gone <-chan struct{}) { h.answerReplay(c, gone, agent, r.FromSeq) }:
		default:
			h.log.Warn("hubsim: too many replay requests waiting; one dropped", "agent", agent)
		}
	}
}

// Seq is the hub's current feed seq.
func (h *Hub) Seq() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

// Load queues a JSONL feed (one message per line, as the hub publishes them)
// for publishing at the configured rate. Lines must continue the hub's seq;
// their bytes are published as they are.
func (h *Hub) Load(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*wire.MaxPayload)
	h.mu.Lock()
	next := h.seq + uint64(len(h.queue)) + 1
	h.mu.Unlock()
	var lines [][]byte
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		m, err := wire.DecodeFeed(line)
		if err != nil {
			return 0, fmt.Errorf("hubsim: feed line %d: %w", n, err)
		}
		if m.Seq != next {
			return 0, fmt.Errorf("hubsim: feed line %d has seq %d, want %d (the feed must continue the hub's seq)", n, m.Seq, next)
		}
		next++
		lines = append(lines, append([]byte(nil), line...))
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("hubsim: read feed: %w", err)
	}
	h.mu.Lock()
	h.queue = append(h.queue, lines...)
	h.mu.Unlock()
	kick(h.feedCh)
	return len(lines), nil
}

// Feed queues generated messages for publishing; their seqs are replaced to
// continue the hub's seq.
func (h *Hub) Feed(msgs iter.Seq[wire.FeedMessage]) (int, error) {
	h.mu.Lock()
	next := h.seq + uint64(len(h.queue)) + 1
	h.mu.Unlock()
	var lines [][]byte
	for m := range msgs {
		m.Seq = next
		next++
		b, err := wire.EncodeFeed(m)
		if err != nil {
			return 0, fmt.Errorf("hubsim: encode generated message: %w", err)
		}
		lines = append(lines, b)
	}
	h.mu.Lock()
	h.queue = append(h.queue, lines...)
	h.mu.Unlock()
	kick(h.feedCh)
	return len(lines), nil
}

// Replays is how many replay requests the hub has answered.
func (h *Hub) Replays() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.replays
}

// Queued is how many loaded messages wait to be published.
func (h *Hub) Queued() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.queue)
}

func (h *Hub) feeder(ctx context.Context) {
	var interval time.Duration
	if h.cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) / h.cfg.Rate)
	}
	next := time.Now()
	for ctx.Err() == nil {
		h.mu.Lock()
		var line []byte
		if len(h.queue) > 0 && h.client != nil {
			line = h.queue[0]
			h.queue = h.queue[1:]
		}
		h.mu.Unlock()
		if line == nil {
			select {
			case <-ctx.Done():
				return
			case <-h.feedCh:
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		if _, err := h.publish(func(uint64) []byte { return line }); err != nil {
			h.log.Warn("hubsim: feed message not published", "err", err)
		}
		if interval > 0 {
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				sleep(ctx, d)
			} else if d < -time.Second {
				next = time.Now()
			}
		}
	}
}

// PublishOrder publishes an order.upsert with the next seq.
func (h *Hub) PublishOrder(o wire.Order) (uint64, error) {
	return h.publishMsg(wire.FeedMessage{Kind: wire.KindOrderUpsert, Order: &o})
}

// SetHold publishes a hold.set.
func (h *Hub) SetHold(hd wire.Hold) (uint64, error) {
	return h.publishMsg(wire.FeedMessage{Kind: wire.KindHoldSet, Hold: &hd})
}

// ReleaseHold publishes a hold.release.
func (h *Hub) ReleaseHold(id string) (uint64, error) {
	return h.publishMsg(wire.FeedMessage{Kind: wire.KindHoldRelease, Hold: &wire.Hold{HoldID: id}})
}

// Notice publishes a notice for the floor.
func (h *Hub) Notice(n wire.Notice) (uint64, error) {
	return h.publishMsg(wire.FeedMessage{Kind: wire.KindNotice, Notice: &n})
}

// PublishMsg publishes any feed message (an unknown kind, for one) with the
// next seq and the hub's time.
func (h *Hub) PublishMsg(m wire.FeedMessage) (uint64, error) { return h.publishMsg(m) }

func (h *Hub) publishMsg(m wire.FeedMessage) (uint64, error) {
	var encErr error
	seq, err := h.publish(func(seq uint64) []byte {
		m.Seq, m.At = seq, wire.Time{Time: h.cfg.Now()}
		b, err := wire.EncodeFeed(m)
		encErr = err
		return b
	})
	if encErr != nil {
		return 0, fmt.Errorf("hubsim: encode feed message: %w", encErr)
	}
	return seq, err
}

// PublishRaw publishes the payload build makes for the next seq, as it is: a
// test's way to send malformed, wrong-typed, oversized or non-UTF-8 messages
// that still take a seq of the feed (replays send the same bytes).
func (h *Hub) PublishRaw(build func(seq uint64) []byte) (uint64, error) { return h.publish(build) }

// Withhold records the next n feed messages in the history without sending
// them on the live feed, so agents see a gap and must ask for a replay.
func (h *Hub) Withhold(n int) {
	h.mu.Lock()
	h.withhold = n
	h.mu.Unlock()
}

// ForgetBefore drops feed history before seq: replays from earlier seqs are
// answered with a snapshot.
func (h *Hub) ForgetBefore(seq uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := sort.Search(len(h.hist), func(i int) bool { return h.hist[i].seq >= seq })
	h.hist = append([]histEntry(nil), h.hist[i:]...)
}

// publish assigns the next seq, records the message and sends it live when
// the hub is connected (the history answers replays either way).
func (h *Hub) publish(build func(seq uint64) []byte) (uint64, error) {
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	h.mu.Lock()
	seq := h.seq + 1
	raw := build(seq)
	if raw == nil {
		h.mu.Unlock()
		return 0, errors.New("hubsim: empty message")
	}
	now := h.cfg.Now()
	h.seq = seq
	h.hist = append(h.hist, histEntry{seq: seq, at: now, raw: raw})
	h.trimLocked(now)
	if m, err := wire.DecodeFeed(raw); err == nil {
		h.applyLocked(&m)
	}
	live := h.withhold == 0
	if !live {
		h.withhold--
	}
	c := h.client
	h.mu.Unlock()
	if live && c != nil {
		c.Publish(h.feedT, false, raw)
	}
	return seq, nil
}

func (h *Hub) trimLocked(now time.Time) {
	cut := 0
	for cut < len(h.hist) && (len(h.hist)-cut > h.cfg.HistoryMax || now.Sub(h.hist[cut].at) > h.cfg.HistoryWindow) {
		cut++
	}
	if cut > 0 {
		h.hist = append(h.hist[:0:0], h.hist[cut:]...)
	}
}

func (h *Hub) applyLocked(m *wire.FeedMessage) {
	switch m.Kind {
	case wire.KindOrderUpsert:
		if old, ok := h.orders[m.Order.OrderID]; !ok || m.Order.Version > old.Version {
			h.orders[m.Order.OrderID] = m.Order
		}
	case wire.KindHoldSet:
		h.holds[m.Hold.HoldID] = *m.Hold
	case wire.KindHoldRelease:
		delete(h.holds, m.Hold.HoldID)
	}
}

// answerReplay sends an agent the feed from seq from on, or a snapshot when
// the history does not reach back that far.
func (h *Hub) answerReplay(c *hublink.Client, gone <-chan struct{}, agent string, from uint64) {
	topic := h.prefix + agent + "/feed"
	h.mu.Lock()
	cur := h.seq
	var msgs [][]byte
	snapshot := from <= cur && (len(h.hist) == 0 || h.hist[0].seq > from)
	if snapshot {
		msgs = h.snapshotLocked(cur)
	} else if from <= cur {
		i := sort.Search(len(h.hist), func(i int) bool { return h.hist[i].seq >= from })
		for _, e := range h.hist[i:] {
			msgs = append(msgs, e.raw)
		}
	}
	h.mu.Unlock()
	h.log.Info("hubsim: answering replay", "agent", agent, "from_seq", from, "messages", len(msgs), "snapshot", snapshot)
	defer func() {
		h.mu.Lock()
		h.replays++
		h.mu.Unlock()
	}()
	var window []hublink.Token
	for _, b := range msgs {
		t := c.Publish(topic, false, b)
		window = append(window, t)
		if len(window) >= 1000 {
			select {
			case <-window[0].Done():
			case <-gone: // the connection broke; the agent asks again
				return
			}
			window = window[1:]
		}
	}
}

func (h *Hub) snapshotLocked(cur uint64) [][]byte {
	now := wire.Time{Time: h.cfg.Now()}
	ids := make([]string, 0, len(h.orders))
	for id, o := range h.orders {
		if o.Status != wire.StatusClosed {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var out [][]byte
	add := func(m wire.FeedMessage) {
		b, err := wire.EncodeFeed(m)
		if err == nil {
			out = append(out, b)
		}
	}
	for _, id := range ids {
		add(wire.FeedMessage{Kind: wire.KindOrderUpsert, At: now, Snapshot: true, Order: h.orders[id]})
	}
	hids := make([]string, 0, len(h.holds))
	for id := range h.holds {
		hids = append(hids, id)
	}
	sort.Strings(hids)
	for _, id := range hids {
		hd := h.holds[id]
		add(wire.FeedMessage{Kind: wire.KindHoldSet, At: now, Snapshot: true, Hold: &hd})
	}
	add(wire.FeedMessage{Seq: cur, Kind: wire.KindSnapshotEnd, At: now})
	return out
}
