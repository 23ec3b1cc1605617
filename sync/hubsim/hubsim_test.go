package hubsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/sync/broker"
	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/wire"
)

const wh, agent = "HZ01", "HZ01-A"

func setup(t *testing.T, mut func(*hubsim.Config)) (*hubsim.Hub, *broker.Broker) {
	t.Helper()
	b, err := broker.Start("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	cfg := hubsim.Config{Broker: b.URL(), Warehouse: wh, DBPath: filepath.Join(t.TempDir(), "hub.db"),
		NoSync: true, Logger: slog.New(slog.DiscardHandler)}
	if mut != nil {
		mut(&cfg)
	}
	h, err := hubsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; h.Close() })
	waitFor(t, "hub connected", h.Connected)
	return h, b
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// agentClient is a raw MQTT client standing in for an agent, to send exactly
// the bytes a test wants.
type agentClient struct {
	c      *hublink.Client
	topics wire.Topics
	mu     sync.Mutex
	acks   []uint64
	feed   [][]byte
}

func newAgent(t *testing.T, b *broker.Broker) *agentClient {
	t.Helper()
	a := &agentClient{}
	a.topics, _ = wire.TopicsFor(wh, agent)
	c, err := hublink.Connect(t.Context(), hublink.ClientConfig{Broker: b.URL(), ClientID: "test-agent", CleanSession: true,
		OnMessage: func(topic string, p []byte) {
			a.mu.Lock()
			defer a.mu.Unlock()
			switch topic {
			case a.topics.Acks:
				ack, err := wire.DecodeAck(p)
				if err == nil {
					a.acks = append(a.acks, ack.AckedSeq)
				}
			case a.topics.AgentFeed:
				a.feed = append(a.feed, append([]byte(nil), p...))
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(0) })
	if err := c.Subscribe(t.Context(), a.topics.Acks, a.topics.AgentFeed); err != nil {
		t.Fatal(err)
	}
	a.c = c
	return a
}

func (a *agentClient) send(t *testing.T, payload []byte) {
	t.Helper()
	if err := a.c.PublishWait(t.Context(), a.topics.Events, false, payload); err != nil {
		t.Fatal(err)
	}
}

func (a *agentClient) lastAck() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.acks) == 0 {
		return 0
	}
	return a.acks[len(a.acks)-1]
}

func (a *agentClient) feedMsgs(t *testing.T) []wire.FeedMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []wire.FeedMessage
	for _, p := range a.feed {
		m, err := wire.DecodeFeed(p)
		if err != nil {
			t.Fatalf("hub sent a bad feed message: %v", err)
		}
		out = append(out, m)
	}
	return out
}

func event(t *testing.T, seq uint64, id string, agentID string) []byte {
	t.Helper()
	e := wire.Event{EventID: id, Seq: seq, Agent: agentID, Warehouse: wh, Type: wire.EventPackRejected,
		At: wire.Time{Time: time.Date(2026, 1, 28, 10, 0, 0, 0, time.UTC)}, OrderID: "O-1",
		Station: wire.OptString("PACK-01"), Operator: nil}
	if err := e.SetData(wire.PackRejectedData{Reason: wire.ReasonWrongItem, Code: "6971234567888"}); err != nil {
		t.Fatal(err)
	}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEventsCheckedStoredAndAcked(t *testing.T) {
	h, b := setup(t, nil)
	a := newAgent(t, b)
	id1, id2, id3, id4 := wire.NewEventID(), wire.NewEventID(), wire.NewEventID(), wire.NewEventID()
	e1, e2 := event(t, 1, id1, agent), event(t, 2, id2, agent)
	a.send(t, e1)
	a.send(t, e2)
	waitFor(t, "ack 2", func() bool { return a.lastAck() == 2 })

	a.send(t, e2)                                                         // a byte-identical re-send: fine
	a.send(t, bytes.Replace(e2, []byte("PACK-01"), []byte("PACK-02"), 1)) // same id, other bytes
	a.send(t, event(t, 2, wire.NewEventID(), agent))                      // seq 2 again with a new id
	a.send(t, []byte(`{"event_id": "x", "seq": 3}`))                      // not a valid event
	a.send(t, event(t, 3, wire.NewEventID(), "HZ01-B"))                   // another agent's event on this topic
	a.send(t, event(t, 4, id4, agent))                                    // early: stored, not acked yet
	waitFor(t, "four violations", func() bool { return len(h.Violations()) == 4 })
	if h.Acked(agent) != 2 {
		t.Fatalf("acked = %d with seq 3 missing, want 2", h.Acked(agent))
	}
	a.send(t, event(t, 3, id3, agent))
	waitFor(t, "ack 4", func() bool { return a.lastAck() == 4 })
	evs, err := h.Events(agent)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 || !bytes.Equal(evs[0].Payload, e1) || evs[3].Event.EventID != id4 {
		t.Fatalf("stored events = %d, first identical %v", len(evs), len(evs) > 0 && bytes.Equal(evs[0].Payload, e1))
	}
	if h.Duplicates() != 1 {
		t.Fatalf("duplicates = %d, want 1", h.Duplicates())
	}
	reasons := ""
	for _, v := range h.Violations() {
		reasons += v.Reason + "\n"
	}
	for _, want := range []string{"not byte-identical", "already belongs to another event", "is missing", "published on the topic of agent"} {
		if !strings.Contains(reasons, want) {
			t.Errorf("violations lack %q:\n%s", want, reasons)
		}
	}
}

func orders(t *testing.T, n int) []wire.FeedMessage {
	opts := sample.DefaultOptions()
	opts.Count, opts.NoHold, opts.NoNotice = n, true, true
	opts.Rates.Intercepted = 0
	var out []wire.FeedMessage
	for m := range sample.Messages(opts) {
		out = append(out, m)
	}
	return out
}

func TestReplayFromHistoryThenSnapshot(t *testing.T) {
	h, b := setup(t, nil)
	a := newAgent(t, b)
	for _, m := range orders(t, 5) {
		if _, err := h.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.SetHold(wire.Hold{HoldID: "H-1", SKU: "SL-BP-0031", Reason: "客诉"}); err != nil {
		t.Fatal(err)
	}
	replay := func(from uint64) {
		a.mu.Lock()
		a.feed = nil
		a.mu.Unlock()
		body, _ := json.Marshal(wire.ReplayRequest{FromSeq: from})
		if err := a.c.PublishWait(t.Context(), a.topics.Replay, false, body); err != nil {
			t.Fatal(err)
		}
	}
	replay(3)
	waitFor(t, "replay of 3-6", func() bool { return len(a.feedMsgs(t)) == 4 })
	for i, m := range a.feedMsgs(t) {
		if m.Seq != uint64(3+i) || m.Snapshot {
			t.Fatalf("replayed message %d has seq %d (snapshot %v), want %d", i, m.Seq, m.Snapshot, 3+i)
		}
	}

	h.ForgetBefore(5)
	replay(2)
	waitFor(t, "snapshot", func() bool {
		ms := a.feedMsgs(t)
		return len(ms) > 0 && ms[len(ms)-1].Kind == wire.KindSnapshotEnd
	})
	ms := a.feedMsgs(t)
	if len(ms) != 7 { // 5 open orders, 1 hold, the end
		t.Fatalf("snapshot has %d messages, want 7", len(ms))
	}
	for _, m := range ms[:6] {
		if !m.Snapshot || m.Seq != 0 {
			t.Fatalf("snapshot message %+v lacks snapshot:true / seq 0", m)
		}
	}
	if end := ms[6]; end.Seq != 6 {
		t.Fatalf("snapshot.end seq = %d, want 6", end.Seq)
	}
}

func TestHistoryWindow(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 28, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h, b := setup(t, func(c *hubsim.Config) { c.HistoryWindow = time.Hour; c.Now = clock })
	a := newAgent(t, b)
	ms := orders(t, 2)
	if _, err := h.PublishMsg(ms[0]); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if _, err := h.PublishMsg(ms[1]); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(wire.ReplayRequest{FromSeq: 1})
	if err := a.c.PublishWait(t.Context(), a.topics.Replay, false, body); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "snapshot for a seq older than the window", func() bool {
		ms := a.feedMsgs(t)
		return len(ms) == 3 && ms[0].Snapshot && ms[2].Kind == wire.KindSnapshotEnd && ms[2].Seq == 2
	})
}

func TestLoadAndPublishJSONL(t *testing.T) {
	h, b := setup(t, func(c *hubsim.Config) { c.Rate = 5000 })
	var buf bytes.Buffer
	opts := sample.DefaultOptions()
	opts.Count = 30
	if err := sample.WriteJSONL(&buf, opts); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(buf.Bytes(), []byte("\n"))
	live := make(chan []byte, 1000)
	c, err := hublink.Connect(t.Context(), hublink.ClientConfig{Broker: b.URL(), ClientID: "listener", CleanSession: true,
		OnMessage: func(_ string, p []byte) { live <- p }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(0)
	if err := c.Subscribe(t.Context(), "oms/v1/wh/HZ01/feed"); err != nil {
		t.Fatal(err)
	}
	n, err := h.Load(&buf)
	if err != nil || n != lines {
		t.Fatalf("Load = %d, %v; want %d lines", n, err, lines)
	}
	for i := 1; i <= n; i++ {
		select {
		case p := <-live:
			m, err := wire.DecodeFeed(p)
			if err != nil || m.Seq != uint64(i) {
				t.Fatalf("live message %d: seq %d, %v", i, m.Seq, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d feed messages published", i-1, n)
		}
	}
	if _, err := h.Load(strings.NewReader(`{"seq": 99, "kind": "notice", "at": "2026-01-28T09:00:00.000+08:00", "notice": {"notice_id": "N", "text": "x"}}`)); err == nil ||
		!strings.Contains(err.Error(), "want") {
		t.Fatalf("a feed that does not continue the seq loaded: %v", err)
	}
	if _, err := h.Load(strings.NewReader("not json\n")); err == nil {
		t.Fatal("a broken line loaded")
	}
}
