package hublink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// Outbox is the store's queue of recorded events waiting for the hub's ack.
type Outbox interface {
	// OutboxAfter returns up to limit pending events with seq > afterSeq, ascending.
	OutboxAfter(afterSeq uint64, limit int) ([]wire.OutboxRecord, error)
	// AckOutbox drops every event with seq ≤ ackedSeq.
	AckOutbox(ackedSeq uint64) (removed int, err error)
	OutboxStats() (pending int, oldest time.Time, err error)
	// OutboxSignal gets a value whenever events are appended.
	OutboxSignal() <-chan struct{}
}

// State is what the UI shows about the hub link. Problems are worded for the
// people who run the site.
type State struct {
	Connected      bool      `json:"connected"`
	Broker         string    `json:"broker"`
	ConnectedSince time.Time `json:"connected_since,omitzero"`
	Reconnects     int       `json:"reconnects"`
	LastFeedSeq    uint64    `json:"last_feed_seq"`
	OutboxPending  int       `json:"outbox_pending"`
	OutboxOldest   time.Time `json:"outbox_oldest,omitzero"`
	OutboxAlarm    bool      `json:"outbox_alarm"`
	AckedSeq       uint64    `json:"acked_seq"`
	Problems       []string  `json:"problems,omitempty"`
}

// Link is the agent's hub connection. Create it with New and run it with Run.
type Link struct {
	cfg    Config
	topics wire.Topics
	feed   FeedStore
	out    Outbox
	log    *slog.Logger
	m      *metrics
	dial   func(ctx context.Context, u *url.URL) (net.Conn, error)

	msgs       chan Decoded // feed payloads, decoded on the MQTT client's goroutine
	done       chan struct{}
	ackSeq     atomic.Uint64
	ackKick    chan struct{}
	outKick    chan struct{}
	statusKick chan struct{}
	resyncKick chan struct{}

	mu       sync.Mutex
	sess     *session
	gen      int
	state    State
	problems map[string]string
	devices  []wire.Device
	started  time.Time
}

type session struct {
	c   *Client
	gen int
}

// New checks cfg and makes a link over the store's feed and outbox.
func New(cfg Config, feed FeedStore, out Outbox) (*Link, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("hub link config: %w", err)
	}
	cfg = cfg.withDefaults()
	topics, err := wire.TopicsFor(cfg.Warehouse, cfg.Agent)
	if err != nil {
		return nil, err
	}
	if u, _ := brokerURL(cfg.Broker); usesTLS(u) {
		if _, err := cfg.TLS.tlsConfig(u.Hostname()); err != nil {
			return nil, err
		}
	}
	l := &Link{
		cfg: cfg, topics: topics, feed: feed, out: out, log: cfg.Logger.With("part", "hublink"),
		m:          newMetrics(cfg.Registerer),
		msgs:       make(chan Decoded, 8192),
		done:       make(chan struct{}),
		ackKick:    make(chan struct{}, 1),
		outKick:    make(chan struct{}, 1),
		statusKick: make(chan struct{}, 1),
		resyncKick: make(chan struct{}, 1),
		problems:   make(map[string]string),
	}
	l.state.Broker = cfg.Broker
	return l, nil
}

// Topics are the link's topics.
func (l *Link) Topics() wire.Topics { return l.topics }

// State returns a copy of the link's state.
func (l *Link) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state
	s.Problems = make([]string, 0, len(l.problems))
	for _, p := range l.problems {
		s.Problems = append(s.Problems, p)
	}
	sort.Strings(s.Problems)
	return s
}

// UpdateDevices replaces the device list of the status and republishes it.
func (l *Link) UpdateDevices(devs []wire.Device) {
	l.mu.Lock()
	l.devices = slices.Clone(devs)
	l.mu.Unlock()
	kick(l.statusKick)
}

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (l *Link) setProblem(key, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if text == "" {
		delete(l.problems, key)
	} else {
		l.problems[key] = text
	}
}

func (l *Link) session() *session {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sess
}

// Run keeps the link up until ctx ends: it connects (and reconnects with
// backoff), applies the feed, drains the outbox and publishes the status. On
// the way out it publishes the offline status and disconnects cleanly. It
// returns nil when ctx ends; it does not return on network or broker errors.
func (l *Link) Run(ctx context.Context) error {
	l.started = l.cfg.StartedAt
	if l.started.IsZero() {
		l.started = time.Now()
	}
	if seq, err := l.feed.LastFeedSeq(); err == nil {
		l.mu.Lock()
		l.state.LastFeedSeq = seq
		l.mu.Unlock()
	}
	ctx2, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { l.inboxLoop(ctx2) })
	wg.Go(func() { l.outboxLoop(ctx2) })
	wg.Go(func() { l.statusLoop(ctx2) })
	l.connLoop(ctx)
	close(l.done)
	cancel()
	wg.Wait()
	return nil
}

// shortSession: a session that ends sooner than this counts as refused.
const shortSession = 5 * time.Second

func (l *Link) connLoop(ctx context.Context) {
	attempt, short := 0, 0
	for ctx.Err() == nil {
		lost := make(chan error, 1)
		c, err := Connect(ctx, ClientConfig{
			Broker: l.cfg.Broker, ClientID: wire.ClientID(l.cfg.Warehouse, l.cfg.Agent), CleanSession: false,
			Username: l.cfg.Username, Password: l.cfg.Password, TLS: l.cfg.TLS,
			Will:      &Message{Topic: l.topics.Status, Payload: l.offlineStatus(), Retained: true},
			KeepAlive: l.cfg.KeepAlive, ConnectTimeout: l.cfg.ConnectTimeout,
			OnMessage: l.onMessage,
			OnLost:    func(err error) { lost <- err },
			dial:      l.dial,
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			attempt++
			l.m.connectFail.Inc()
			refused := errors.Is(err, ErrRefused)
			l.m.refused.Set(b2f(refused))
			l.setProblem("connect", "cannot reach the hub broker: "+err.Error())
			d := l.cfg.Backoff.Delay(attempt)
			l.log.Warn("hub broker connection failed", "err", err, "attempt", attempt, "retry_in", d.Round(time.Millisecond))
			if !sleep(ctx, d) {
				return
			}
			continue
		}
		attempt = 0
		l.setProblem("connect", "")
		if err := c.Subscribe(ctx, l.topics.Feed, l.topics.AgentFeed, l.topics.Acks); err != nil {
			// Stay connected: events may still flow; the refusal is shown.
			l.log.Error("hub broker refused a subscription", "err", err)
			l.setProblem("subscribe", "the hub broker refused a subscription (check its ACL for this agent): "+err.Error())
			l.m.refused.Set(b2f(errors.Is(err, ErrRefused)))
		} else {
			l.setProblem("subscribe", "")
			l.m.refused.Set(0)
		}
		l.mu.Lock()
		l.gen++
		l.sess = &session{c: c, gen: l.gen}
		l.state.Connected, l.state.ConnectedSince = true, time.Now()
		if l.gen > 1 {
			l.state.Reconnects++
			l.m.reconnects.Inc()
		}
		l.mu.Unlock()
		l.m.connected.Set(1)
		up := time.Now()
		l.log.Info("hub broker connected", "broker", l.cfg.Broker, "session", l.gen)
		kick(l.resyncKick)
		kick(l.outKick)
		kick(l.statusKick)

		select {
		case <-ctx.Done():
			l.clearSession()
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := c.PublishWait(sctx, l.topics.Status, true, l.offlineStatus()); err != nil {
				l.log.Warn("hub link: offline status not confirmed", "err", err)
			}
			cancel()
			c.Close(500 * time.Millisecond)
			l.log.Info("hub link stopped")
			return
		case err := <-lost:
			l.clearSession()
			c.Close(0)
			// A session that ends right after it began is what a broker does
			// when its ACL refuses what the agent publishes: back off further
			// each time and say so.
			if lived := time.Since(up); lived < shortSession {
				short++
				attempt = short
			} else {
				short, attempt = 0, 1
			}
			if short >= 3 {
				l.setProblem("connect", fmt.Sprintf("the hub broker closed the connection right after connecting, %d times in a row (%v): it may refuse a topic this agent publishes to (check its ACL for this agent)", short, err))
			} else {
				l.setProblem("connect", "lost the hub broker connection: "+err.Error())
			}
			d := l.cfg.Backoff.Delay(attempt)
			l.log.Warn("hub broker connection lost", "err", err, "retry_in", d.Round(time.Millisecond))
			if !sleep(ctx, d) {
				return
			}
		}
	}
}

func (l *Link) clearSession() {
	l.mu.Lock()
	l.sess = nil
	l.state.Connected = false
	l.mu.Unlock()
	l.m.connected.Set(0)
	kick(l.outKick)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// onMessage runs on the MQTT client's goroutine.
func (l *Link) onMessage(topic string, payload []byte) {
	switch topic {
	case l.topics.Acks:
		a, err := wire.DecodeAck(payload)
		if err != nil {
			l.log.Warn("hub sent a bad ack, ignored", "err", err, "payload", fmt.Sprintf("%.200q", payload))
			return
		}
		for {
			cur := l.ackSeq.Load()
			if a.AckedSeq <= cur || l.ackSeq.CompareAndSwap(cur, a.AckedSeq) {
				break
			}
		}
		kick(l.ackKick)
	case l.topics.Feed, l.topics.AgentFeed:
		select {
		case l.msgs <- Decode(topic, payload):
		case <-l.done:
		}
	default:
		l.log.Debug("hub link: message on an unexpected topic ignored", "topic", topic)
	}
}

func (l *Link) replay(from uint64) {
	s := l.session()
	if s == nil {
		return // asked again on connect
	}
	b, _ := json.Marshal(wire.ReplayRequest{FromSeq: from})
	s.c.Publish(l.topics.Replay, false, b)
}

func (l *Link) inboxLoop(ctx context.Context) {
	ib := newInbox(l.feed, l.cfg, l.replay, l.cfg.OnApplied, l.m)
	tick := time.NewTicker(max(min(l.cfg.ReplayRetry, l.cfg.SnapshotTimeout)/4, 10*time.Millisecond))
	defer tick.Stop()
	var lastErr string
	report := func(err error) {
		if err == nil {
			if lastErr != "" {
				l.setProblem("feed", "")
				lastErr = ""
			}
			return
		}
		if err.Error() != lastErr {
			l.log.Error("hub feed: store error", "err", err)
			lastErr = err.Error()
		}
		l.setProblem("feed", "orders from the hub cannot be saved: "+err.Error())
	}
	for {
		select {
		case <-ctx.Done():
			report(ib.Flush())
			return
		case d := <-l.msgs:
			report(ib.AddFrom(d, l.msgs, l.cfg.FlushDelay))
		case <-l.resyncKick:
			report(ib.Resync())
		case <-tick.C:
			report(ib.Tick())
		}
		l.mu.Lock()
		l.state.LastFeedSeq = ib.LastSeq()
		l.mu.Unlock()
	}
}

func (l *Link) offlineStatus() []byte {
	b, _ := json.Marshal(wire.Status{Agent: l.cfg.Agent, Warehouse: l.cfg.Warehouse, State: "offline"})
	return b
}

func (l *Link) statusLoop(ctx context.Context) {
	t := time.NewTicker(l.cfg.StatusInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.statusKick:
		}
		s := l.session()
		if s == nil {
			continue
		}
		b, err := l.statusPayload()
		if err != nil {
			l.log.Warn("hub link: status not built", "err", err)
			continue
		}
		s.c.Publish(l.topics.Status, true, b)
	}
}

func (l *Link) statusPayload() ([]byte, error) {
	now := wire.Time{Time: time.Now()}
	started := wire.Time{Time: l.started}
	pending, oldest, err := l.out.OutboxStats()
	if err != nil {
		return nil, fmt.Errorf("outbox stats: %w", err)
	}
	ob := &wire.OutboxStatus{Pending: pending}
	if !oldest.IsZero() {
		ob.OldestAt = &wire.Time{Time: oldest}
	}
	l.mu.Lock()
	last := l.state.LastFeedSeq
	devs := slices.Clone(l.devices)
	l.mu.Unlock()
	if devs == nil {
		devs = []wire.Device{}
	}
	st := wire.Status{Agent: l.cfg.Agent, Warehouse: l.cfg.Warehouse, State: "online", Version: l.cfg.Version,
		StartedAt: &started, At: &now, LastFeedSeq: &last, Outbox: ob, Devices: devs}
	return json.Marshal(st)
}
