// Package live pushes what happens on the floor to the open pages over one
// websocket per page: verdicts of the page's station, urgent popups, counts and
// device states.
//
// Every message carries an id that only grows. A page that lost its connection
// (a PDA walking out of Wi-Fi range) reconnects with ?since=N and receives exactly
// the messages after N that it missed, from a bounded ring buffer; if they have
// already left the ring it receives a "resync" message and reloads its state
// instead. Subscribing and replaying happen under the same lock as publishing, so
// nothing is lost or sent twice between the two. Each connection has a bounded
// send queue: a client that cannot keep up is dropped (it resumes with ?since=),
// never the publisher blocked. The model is Syncthing's lib/events.
//
// The hub does not authenticate: the caller (package ui) checks the session and
// the Origin, then hands the upgraded request and the viewer to ServeWS.
package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Message types the UI knows. Others may be added; pages ignore what they do not know.
const (
	TypeHello   = "hello"   // first message of a connection: {"last": N, "resumed": bool}
	TypeResync  = "resync"  // the missed messages are gone: reload state, then go on
	TypeVerdict = "verdict" // a scan's verdict at a station
	TypeUrgent  = "urgent"  // an urgent popup to acknowledge
	TypeAck     = "ack"     // an urgent popup was acknowledged
	TypeCounts  = "counts"  // live counts changed
	TypeDevices = "devices" // a device or the hub link changed state
	TypeNotice  = "notice"  // a hub notice for some roles
)

// Message is one push. ID is 0 only for TypeHello and TypeResync, which are
// about the connection and are not kept.
type Message struct {
	ID      uint64          `json:"id"`
	Type    string          `json:"type"`
	At      time.Time       `json:"at"`
	Station string          `json:"station,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`

	aud  Audience
	prep *websocket.PreparedMessage // encoded once, framed once, written to every page
}

// Audience says who receives a message; zero fields match everyone.
type Audience struct {
	Station  string   // only pages following this station (and pages that follow all)
	Roles    []string // only these roles
	Operator string   // only this operator
}

// Viewer is who a connection belongs to.
type Viewer struct {
	Session     string // an opaque id of the sign-in, so signing out can close its pages
	Operator    string
	Role        string
	Station     string
	AllStations bool // a manager console: receives every station's messages
}

// Matches reports whether v receives a message for a.
func (a Audience) Matches(v Viewer) bool {
	if a.Station != "" && a.Station != v.Station && !v.AllStations {
		return false
	}
	if len(a.Roles) > 0 && !slices.Contains(a.Roles, v.Role) {
		return false
	}
	return a.Operator == "" || a.Operator == v.Operator
}

// Options tune a Hub; zero values take the defaults.
type Options struct {
	// Ring is how many messages are kept for resuming pages (default 4096).
	Ring int
	// Queue is each connection's send queue (default 256); a full queue drops the client.
	Queue int
	// StartID is the id before the first message. The default is derived from the
	// clock (Unix ms × 1000), so ids also grow across restarts and a page that
	// resumes with an id from before a restart is told to resync.
	StartID uint64
	// CheckOrigin accepts or refuses the websocket's Origin; nil accepts only an
	// Origin whose host equals the request's Host.
	CheckOrigin func(*http.Request) bool
	// PingEvery sends a ping this often (default 20 s); a peer silent for three
	// periods is dropped.
	PingEvery time.Duration
	// WriteTimeout bounds one write to a peer (default 10 s).
	WriteTimeout time.Duration
	// Now is the clock (tests).
	Now func() time.Time
	// Log receives connection-level problems; nil means slog.Default().
	Log *slog.Logger
}

// Hub fans messages out to subscribers and keeps the last ones for resuming.
type Hub struct {
	opts     Options
	upgrader websocket.Upgrader

	mu     sync.Mutex
	last   uint64
	ring   []Message // circular, len == opts.Ring once full
	start  int       // index of the oldest message in ring
	subs   map[*Sub]struct{}
	closed bool
}

// New returns a Hub.
func New(opts Options) *Hub {
	if opts.Ring <= 0 {
		opts.Ring = 4096
	}
	if opts.Queue <= 0 {
		opts.Queue = 256
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StartID == 0 {
		opts.StartID = uint64(opts.Now().UnixMilli()) * 1000
	}
	if opts.PingEvery <= 0 {
		opts.PingEvery = 20 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	h := &Hub{opts: opts, last: opts.StartID, subs: make(map[*Sub]struct{})}
	h.upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 4096,
		CheckOrigin: opts.CheckOrigin, EnableCompression: false}
	return h
}

// Publish sends a message to every matching subscriber and keeps it for resuming.
// It never blocks on a subscriber. It returns the message's id.
func (h *Hub) Publish(typ string, aud Audience, data any) (uint64, error) {
	var raw json.RawMessage
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return 0, fmt.Errorf("publish %s: %w", typ, err)
		}
		raw = b
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, ErrClosed
	}
	h.last++
	m := Message{ID: h.last, Type: typ, At: h.opts.Now(), Station: aud.Station, Data: raw, aud: aud}
	enc, err := json.Marshal(m)
	if err != nil {
		h.last--
		return 0, fmt.Errorf("publish %s: %w", typ, err)
	}
	if m.prep, err = websocket.NewPreparedMessage(websocket.TextMessage, enc); err != nil {
		h.last--
		return 0, fmt.Errorf("publish %s: %w", typ, err)
	}
	if len(h.ring) < h.opts.Ring {
		h.ring = append(h.ring, m)
	} else {
		h.ring[h.start] = m
		h.start = (h.start + 1) % len(h.ring)
	}
	for s := range h.subs {
		if !m.aud.Matches(s.viewer) {
			continue
		}
		select {
		case s.ch <- m:
		default:
			// Too slow: drop it; it resumes from the ring with ?since=.
			s.dropped = true
			delete(h.subs, s)
			close(s.ch)
		}
	}
	return m.ID, nil
}

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("live hub closed")

// Last is the id of the last message published.
func (h *Hub) Last() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// Sub is one subscriber: a connection or a test.
type Sub struct {
	h       *Hub
	viewer  Viewer
	ch      chan Message
	dropped bool // set under h.mu before ch is closed
}

// C delivers the messages after the replay; it is closed when the subscriber is
// dropped for being slow or the hub closes.
func (s *Sub) C() <-chan Message { return s.ch }

// Close unsubscribes.
func (s *Sub) Close() {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if _, ok := s.h.subs[s]; ok {
		delete(s.h.subs, s)
		close(s.ch)
	}
}

// Subscribe registers v and returns, atomically with the registration, the kept
// messages for v with id > since. resync is true when some messages after since
// are no longer kept (or since is not from this hub's range): the caller must
// reload its state. since == 0 means "only new messages".
func (h *Hub) Subscribe(v Viewer, since uint64) (s *Sub, missed []Message, last uint64, resync bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s = &Sub{h: h, viewer: v, ch: make(chan Message, h.opts.Queue)}
	if h.closed {
		close(s.ch)
		return s, nil, h.last, false
	}
	h.subs[s] = struct{}{}
	if since == 0 || since == h.last {
		return s, nil, h.last, false
	}
	oldest := h.last + 1 // when the ring is empty
	if len(h.ring) > 0 {
		oldest = h.ring[h.start].ID
	}
	if since > h.last || since+1 < oldest {
		return s, nil, h.last, true
	}
	for i := range h.ring {
		m := h.ring[(h.start+i)%len(h.ring)]
		if m.ID > since && m.aud.Matches(v) {
			missed = append(missed, m)
		}
	}
	return s, missed, h.last, false
}

// Close disconnects every subscriber; later publishes fail.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.ch)
	}
}

// Kick disconnects every subscriber whose viewer matches (a session signed out,
// an operator disabled) and returns how many. Their pages reconnect and are
// refused if the session is gone.
func (h *Hub) Kick(match func(Viewer) bool) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for s := range h.subs {
		if match(s.viewer) {
			delete(h.subs, s)
			close(s.ch)
			n++
		}
	}
	return n
}

// Any reports whether a connected subscriber matches (e.g. is a manager's page),
// so costly pushes are skipped when no one would see them.
func (h *Hub) Any(match func(Viewer) bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if match(s.viewer) {
			return true
		}
	}
	return false
}

// Subscribers is how many subscribers are connected.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

type hello struct {
	Last    uint64 `json:"last"`
	Resumed bool   `json:"resumed"`
}

// ServeWS upgrades the request to a websocket for v and serves it until either
// side closes. The caller has authenticated v; the Origin is checked here by
// Options.CheckOrigin. The query parameter since=N resumes after message N.
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request, v Viewer) {
	var since uint64
	if q := r.URL.Query().Get("since"); q != "" {
		n, err := strconv.ParseUint(q, 10, 64)
		if err != nil {
			http.Error(w, "since must be a message id", http.StatusBadRequest)
			return
		}
		since = n
	}
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered (403 for a bad origin)
	}
	sub, missed, last, resync := h.Subscribe(v, since)
	defer sub.Close()
	defer conn.Close()

	done := make(chan struct{})
	go h.readLoop(conn, done)

	write := func(m any) error {
		conn.SetWriteDeadline(time.Now().Add(h.opts.WriteTimeout))
		if pm, ok := m.(Message); ok && pm.prep != nil {
			return conn.WritePreparedMessage(pm.prep)
		}
		return conn.WriteJSON(m)
	}
	first := []any{helloMsg(h.opts.Now(), last, since != 0 && !resync)}
	if resync {
		first = append(first, Message{Type: TypeResync, At: h.opts.Now(), Data: mustJSON(hello{Last: last})})
	}
	for _, m := range missed {
		first = append(first, m)
	}
	for _, m := range first {
		if err := write(m); err != nil {
			return
		}
	}
	ping := time.NewTicker(h.opts.PingEvery)
	defer ping.Stop()
	for {
		select {
		case m, ok := <-sub.C():
			if !ok {
				h.mu.Lock()
				slow := sub.dropped
				h.mu.Unlock()
				reason := "server closing"
				if slow {
					reason = "too slow; resume with since"
				}
				conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseTryAgainLater, reason), time.Now().Add(time.Second))
				return
			}
			if err := write(m); err != nil {
				return
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.opts.WriteTimeout)); err != nil {
				return
			}
		case <-done:
			return
		}
	}
}

func helloMsg(at time.Time, last uint64, resumed bool) Message {
	return Message{Type: TypeHello, At: at, Data: mustJSON(hello{Last: last, Resumed: resumed})}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// readLoop reads (and drops) what the page sends, keeps the read deadline moving
// on pongs, and closes done when the peer goes away.
func (h *Hub) readLoop(conn *websocket.Conn, done chan struct{}) {
	defer close(done)
	conn.SetReadLimit(4096)
	wait := 3 * h.opts.PingEvery
	conn.SetReadDeadline(time.Now().Add(wait))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(wait))
	})
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			return
		}
		conn.SetReadDeadline(time.Now().Add(wait))
	}
}
