package hublink_test

import (
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dockhand/dockhand/sync/broker"
	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/wire"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

func startEmbedded(t testing.TB) *broker.Broker {
	t.Helper()
	b, err := broker.Start("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// The fast path: the whole round trip over the embedded broker, with the
// retained status, the devices update and the offline status on shutdown.
func TestEmbeddedRoundTripAndStatus(t *testing.T) {
	b := startEmbedded(t)
	hub := startHub(t, b.URL(), func(c *hubsim.Config) { c.NoSync = true })
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 30)

	statuses := make(chan wire.Status, 100)
	watcher, err := hublink.Connect(t.Context(), hublink.ClientConfig{Broker: b.URL(), ClientID: "watcher", CleanSession: true,
		OnMessage: func(_ string, p []byte) {
			var s wire.Status
			if json.Unmarshal(p, &s) == nil {
				statuses <- s
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(0)
	topics, _ := wire.TopicsFor(testWH, testAgent)
	if err := watcher.Subscribe(t.Context(), topics.Status); err != nil {
		t.Fatal(err)
	}

	l := startLink(t, b.URL(), st, nil)
	feedOrders(t, hub, 40, 9)
	waitFor(t, 10*time.Second, "feed applied", func() bool { return hub.Queued() == 0 && cursor(t, st) == hub.Seq() })
	waitFor(t, 10*time.Second, "outbox emptied", func() bool { return pending(t, st) == 0 })
	noViolations(t, hub)

	next := func(what string, ok func(wire.Status) bool) wire.Status {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case s := <-statuses:
				if ok(s) {
					return s
				}
			case <-deadline:
				t.Fatalf("no status %s", what)
			}
		}
	}
	s := next("online", func(s wire.Status) bool { return s.State == "online" })
	if s.Agent != testAgent || s.Warehouse != testWH || s.StartedAt == nil || s.Outbox == nil || s.LastFeedSeq == nil {
		t.Fatalf("online status lacks fields: %+v", s)
	}
	l.UpdateDevices([]wire.Device{{ID: "printer-pack-03", Kind: "printer", State: "paper_out"}})
	s = next("with the device", func(s wire.Status) bool { return len(s.Devices) == 1 })
	if s.Devices[0].State != "paper_out" {
		t.Fatalf("device state = %q", s.Devices[0].State)
	}
	l.stop()
	s = next("offline on shutdown", func(s wire.Status) bool { return s.State == "offline" })
	if s.Agent != testAgent || s.Warehouse != testWH || s.Version != "" || s.Devices != nil {
		t.Fatalf("offline status = %+v, want only agent, warehouse and state", s)
	}
}

// A broker whose ACL refuses the warehouse feed answers SUBACK 0x80: the link
// says so in its state and metrics, and keeps what works going.
func TestSubscriptionRefusedShown(t *testing.T) {
	srv := mqtt.New(&mqtt.Options{Logger: slog.New(slog.DiscardHandler)})
	ledger := &auth.Ledger{
		Auth: auth.AuthRules{{Allow: true}},
		ACL: auth.ACLRules{
			{Client: "dockhand-HZ01-HZ01-A", Filters: auth.Filters{"oms/v1/wh/HZ01/feed": auth.Deny, "oms/v1/wh/HZ01/agents/HZ01-A/#": auth.ReadWrite}},
			{Filters: auth.Filters{"#": auth.ReadWrite}},
		},
	}
	if err := srv.AddHook(new(auth.Hook), &auth.Options{Ledger: ledger}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddListener(listeners.NewNet("t", ln)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := "tcp://" + ln.Addr().String()
	hub := startHub(t, url, func(c *hubsim.Config) { c.NoSync = true })
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 3)
	l := startLink(t, url, st, nil)
	waitFor(t, 10*time.Second, "refusal shown", func() bool {
		for _, p := range l.State().Problems {
			if strings.Contains(p, "refused a subscription") && strings.Contains(p, "oms/v1/wh/HZ01/feed") && strings.Contains(p, "0x80") {
				return true
			}
		}
		return false
	})
	if got := metric(t, l.reg, "dockhand_hub_refused"); got != 1 {
		t.Fatalf("refused metric = %v, want 1", got)
	}
	waitFor(t, 10*time.Second, "events still acked", func() bool { return pending(t, st) == 0 })
	_ = hub
}

// With the hub away the outbox grows: the alarm goes up at 80 % of the cap,
// nothing is dropped, and when the hub is back everything drains and the
// alarm clears. Unacked events are re-sent after the ack timeout, byte for
// byte, and the hub stores each once.
func TestOutboxAlarmAndResend(t *testing.T) {
	b := startEmbedded(t)
	hub := startHub(t, b.URL(), func(c *hubsim.Config) { c.NoSync = true })
	hub.Stop()
	waitFor(t, 10*time.Second, "hub off the broker", func() bool { return !hub.Connected() })
	st := openStore(t, t.TempDir())
	l := startLink(t, b.URL(), st, func(c *hublink.Config) {
		c.OutboxCap = 100
		c.AckTimeout = 300 * time.Millisecond
	})
	appendEvents(t, st, 85)
	waitFor(t, 10*time.Second, "outbox alarm", func() bool { return l.State().OutboxAlarm })
	found := false
	for _, p := range l.State().Problems {
		found = found || strings.Contains(p, "85 events wait for the hub")
	}
	if !found {
		t.Fatalf("problems = %q, want the outbox alarm", l.State().Problems)
	}
	if got := metric(t, l.reg, "dockhand_hub_outbox_alarm"); got != 1 {
		t.Fatalf("alarm metric = %v", got)
	}
	waitFor(t, 10*time.Second, "re-sent after the ack timeout", func() bool {
		return metric(t, l.reg, "dockhand_hub_outbox_resent_total") >= 85
	})
	hub.Start()
	waitFor(t, 10*time.Second, "drained once the hub is back", func() bool { return pending(t, st) == 0 })
	waitFor(t, 10*time.Second, "alarm cleared", func() bool { return !l.State().OutboxAlarm })
	if n := hub.EventCount(testAgent); n != 85 {
		t.Fatalf("hub stored %d events, want 85", n)
	}
	noViolations(t, hub)
}
