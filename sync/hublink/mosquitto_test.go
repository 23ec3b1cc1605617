package hublink_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/mosqtest"
	"github.com/dockhand/dockhand/sync/wire"
)

func TestRoundTripMosquitto(t *testing.T) {
	b := mosqtest.Start(t, mosqtest.Options{Persistence: true})
	hub := startHub(t, b.URL(), nil)
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 50)
	l := startLink(t, b.URL(), st, nil)
	feedOrders(t, hub, 200, 1)
	waitFor(t, 15*time.Second, "feed applied up to the hub's seq", func() bool {
		return hub.Queued() == 0 && cursor(t, st) == hub.Seq()
	})
	appendEvents(t, st, 25)
	waitFor(t, 15*time.Second, "outbox emptied by hub acks", func() bool { return pending(t, st) == 0 })
	if n := hub.EventCount(testAgent); n != 75 {
		t.Fatalf("hub stored %d events, want 75", n)
	}
	noViolations(t, hub)
	if got := metric(t, l.reg, "dockhand_hub_outbox_acked_total"); got != 75 {
		t.Fatalf("acked metric = %v, want 75", got)
	}
	if s := l.State(); !s.Connected || s.LastFeedSeq != hub.Seq() || len(s.Problems) > 0 {
		t.Fatalf("state = %+v", s)
	}
}

func TestGapAndReplay(t *testing.T) {
	b := mosqtest.Start(t, mosqtest.Options{})
	hub := startHub(t, b.URL(), nil)
	st := openStore(t, t.TempDir())
	l := startLink(t, b.URL(), st, func(c *hublink.Config) { c.ResyncInterval = time.Hour })
	waitFor(t, 10*time.Second, "the replay asked on connect answered", func() bool { return hub.Replays() >= 1 })
	before := metric(t, l.reg, "dockhand_hub_feed_replays_requested_total")
	msgs := generated(t, 12)
	publishAll(t, hub, msgs[:2])
	hub.Withhold(3) // seq 3-5 never reach the live feed
	publishAll(t, hub, msgs[2:])
	waitFor(t, 10*time.Second, "gap closed by a replay", func() bool { return cursor(t, st) == hub.Seq() })
	if got := metric(t, l.reg, "dockhand_hub_feed_replays_requested_total"); got <= before {
		t.Fatalf("replays requested = %v, want more than %v", got, before)
	}
	if got := metric(t, l.reg, "dockhand_hub_feed_messages_total", "outcome", "applied"); got != 12 {
		t.Fatalf("applied = %v, want 12", got)
	}
}

func TestSnapshotClosesAndReleases(t *testing.T) {
	b := mosqtest.Start(t, mosqtest.Options{Persistence: true})
	hub := startHub(t, b.URL(), nil)
	dir := t.TempDir()
	st := openStore(t, dir)
	l := startLink(t, b.URL(), st, nil)
	feedOrders(t, hub, 30, 7) // includes the sample's quality hold
	waitFor(t, 10*time.Second, "feed applied", func() bool { return hub.Queued() == 0 && cursor(t, st) == hub.Seq() })
	l.stop()

	var gone wire.Order
	var open int
	err := st.View(func(tx *store.Tx) error {
		return tx.OpenOrders(func(r *store.OrderRecord) bool {
			if open == 0 {
				gone = r.Order
			}
			open++
			return true
		})
	})
	if err != nil || open < 2 {
		t.Fatalf("open orders = %d, %v", open, err)
	}
	if holds := activeHolds(t, st); len(holds) != 1 {
		t.Fatalf("active holds before = %v, want the sample's one", holds)
	}
	// While the agent is away the hub closes an order, releases the hold and
	// adds an order, then forgets its history: the agent gets a snapshot.
	gone.Version++
	gone.Status = wire.StatusClosed
	hub.Withhold(3) // and the broker must not hand them over from the agent's session
	mustPublish(t)(hub.PublishOrder(gone))
	mustPublish(t)(hub.ReleaseHold(sample.HoldID))
	fresh := generated(t, 1)[0].Order
	fresh.OrderID = "O-SNAP-NEW"
	mustPublish(t)(hub.PublishOrder(*fresh))
	// Drop the closing message from the hub's state as a hub would (closed
	// orders are not in a snapshot), and forget all history.
	hub.ForgetBefore(hub.Seq() + 1)

	l2 := startLink(t, b.URL(), st, nil)
	waitFor(t, 10*time.Second, "snapshot applied", func() bool { return cursor(t, st) == hub.Seq() })
	if got := metric(t, l2.reg, "dockhand_hub_feed_snapshots_applied_total"); got != 1 {
		t.Fatalf("snapshots applied = %v, want 1", got)
	}
	err = st.View(func(tx *store.Tx) error {
		r, err := tx.Order(gone.OrderID)
		if err != nil {
			return err
		}
		if r.Order.Status != wire.StatusClosed {
			t.Errorf("order %s status = %s, want closed (not in the snapshot)", gone.OrderID, r.Order.Status)
		}
		r, err = tx.Order("O-SNAP-NEW")
		if err != nil {
			return err
		}
		if !r.Open() {
			t.Errorf("new order from the snapshot is not open: %s", r.Order.Status)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if holds := activeHolds(t, st); len(holds) != 0 {
		t.Fatalf("active holds after snapshot = %v, want none", holds)
	}
}

func TestQuarantineKeepsTheFeedMoving(t *testing.T) {
	b := mosqtest.Start(t, mosqtest.Options{})
	hub := startHub(t, b.URL(), nil)
	st := openStore(t, t.TempDir())
	l := startLink(t, b.URL(), st, nil)
	waitFor(t, 10*time.Second, "link connected", func() bool { return l.State().Connected })
	at := `"at": "2026-01-28T09:00:47.000+08:00"`
	bad := map[string]func(seq uint64) []byte{
		"malformed": func(seq uint64) []byte {
			return fmt.Appendf(nil, `{"seq": %d, "kind": "order.upsert", %s, "order": {"order_id": "O-X"}}`, seq, at)
		},
		"wrong type": func(seq uint64) []byte {
			return fmt.Appendf(nil, `{"seq": %d, "kind": "notice", %s, "notice": {"notice_id": 5, "text": "x"}}`, seq, at)
		},
		"oversized": func(seq uint64) []byte {
			return fmt.Appendf(nil, `{"seq": %d, "kind": "notice", %s, "notice": {"notice_id": "N-1", "text": "%s"}}`,
				seq, at, strings.Repeat("顺丰", wire.MaxPayload/6+1))
		},
		"not utf-8": func(seq uint64) []byte {
			return fmt.Appendf(nil, "{\"seq\": %d, \"kind\": \"notice\", %s, \"notice\": {\"notice_id\": \"N-2\", \"text\": \"\xff\xfe\"}}", seq, at)
		},
	}
	msgs := generated(t, 4)
	for _, name := range []string{"malformed", "wrong type", "oversized", "not utf-8"} {
		mustPublish(t)(hub.PublishRaw(bad[name]))
		mustPublish(t)(hub.PublishMsg(msgs[0]))
		msgs = msgs[1:]
	}
	// A payload without any readable seq, straight onto the feed topic.
	c, err := hublink.Connect(t.Context(), hublink.ClientConfig{Broker: b.URL(), ClientID: "garbage", CleanSession: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(0)
	if err := c.PublishWait(t.Context(), l.Topics().Feed, false, []byte("\x00not json at all")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "feed past the bad messages", func() bool { return cursor(t, st) == hub.Seq() })
	waitFor(t, 5*time.Second, "five quarantined", func() bool {
		return metric(t, l.reg, "dockhand_hub_feed_messages_total", "outcome", "quarantined") == 5
	})
	q, err := st.QuarantineList(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 5 {
		t.Fatalf("quarantine holds %d entries, want 5", len(q))
	}
	withSeq := 0
	for _, e := range q {
		if e.HasSeq {
			withSeq++
		}
		if e.Reason == "" || len(e.Raw) == 0 || e.Topic == "" {
			t.Errorf("quarantine entry lacks reason, raw or topic: %+v", e.Quarantined)
		}
	}
	if withSeq != 4 {
		t.Fatalf("%d quarantined entries consumed a seq, want 4", withSeq)
	}
	if got := metric(t, l.reg, "dockhand_hub_feed_messages_total", "outcome", "applied"); got != 4 {
		t.Fatalf("applied = %v, want 4", got)
	}
}

func TestTLSWithClientCertificate(t *testing.T) {
	b := mosqtest.Start(t, mosqtest.Options{TLS: true})
	tc := hublink.TLSConfig{CAFile: b.Certs.CAFile, CertFile: b.Certs.ClientCertFile, KeyFile: b.Certs.ClientKeyFile}
	hub := startHub(t, b.URL(), func(c *hubsim.Config) { c.TLS = tc })
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 10)
	startLink(t, b.URL(), st, func(c *hublink.Config) { c.TLS = tc })
	feedOrders(t, hub, 10, 3)
	waitFor(t, 10*time.Second, "feed over TLS", func() bool { return hub.Queued() == 0 && cursor(t, st) == hub.Seq() })
	waitFor(t, 10*time.Second, "events over TLS", func() bool { return pending(t, st) == 0 })

	t.Run("no client certificate", func(t *testing.T) {
		st := openStore(t, t.TempDir())
		l := startLink(t, b.URL(), st, func(c *hublink.Config) {
			c.Agent = "HZ01-B"
			c.TLS = hublink.TLSConfig{CAFile: b.Certs.CAFile}
		})
		waitFor(t, 10*time.Second, "a connection problem shown", func() bool { return len(l.State().Problems) > 0 })
		if s := l.State(); s.Connected {
			t.Fatalf("connected without a client certificate: %+v", s)
		}
	})
	t.Run("unknown CA", func(t *testing.T) {
		other, err := mosqtest.NewCerts(t.TempDir(), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		st := openStore(t, t.TempDir())
		l := startLink(t, b.URL(), st, func(c *hublink.Config) {
			c.Agent = "HZ01-C"
			c.TLS = hublink.TLSConfig{CAFile: other.CAFile, CertFile: other.ClientCertFile, KeyFile: other.ClientKeyFile}
		})
		waitFor(t, 10*time.Second, "a certificate problem shown", func() bool {
			p := l.State().Problems
			return len(p) > 0 && strings.Contains(p[0], "certificate")
		})
	})
}

// Mosquitto 2.0 with an acl_file grants every subscription (no SUBACK 0x80)
// and closes the connection of an MQTT 3.1.1 client that publishes to a
// denied topic. A refused events topic shows as a connection that keeps
// closing right after it opens; a refused login shows as such. (A SUBACK
// refusal, 0x80, is tested over the embedded broker, which sends one.)
func TestACLRefusalIsShown(t *testing.T) {
	acl := `user hub
topic readwrite oms/#

user HZ01-A
topic read oms/v1/wh/HZ01/feed
topic read oms/v1/wh/HZ01/agents/HZ01-A/feed
topic read oms/v1/wh/HZ01/agents/HZ01-A/acks
topic write oms/v1/wh/HZ01/agents/HZ01-A/replay
topic write oms/v1/wh/HZ01/agents/HZ01-A/status
`
	b := mosqtest.Start(t, mosqtest.Options{Users: map[string]string{"hub": "hub-pw", testAgent: "agent-pw"}, ACL: acl})
	hub := startHub(t, b.URL(), func(c *hubsim.Config) { c.Username, c.Password = "hub", "hub-pw" })
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 5)
	l := startLink(t, b.URL(), st, func(c *hublink.Config) {
		c.Username, c.Password = testAgent, "agent-pw"
		c.AckTimeout = 500 * time.Millisecond
	})
	waitFor(t, 10*time.Second, "the refusal shown", func() bool {
		for _, p := range l.State().Problems {
			if strings.Contains(p, "closed the connection right after connecting") && strings.Contains(p, "ACL") {
				return true
			}
		}
		return false
	})
	if n := hub.EventCount(testAgent); n != 0 {
		t.Fatalf("hub stored %d events the ACL refused", n)
	}
	if pending(t, st) != 5 {
		t.Fatal("events left the outbox without a hub ack")
	}

	t.Run("wrong password", func(t *testing.T) {
		st := openStore(t, t.TempDir())
		l := startLink(t, b.URL(), st, func(c *hublink.Config) { c.Username, c.Password = testAgent, "wrong" })
		waitFor(t, 10*time.Second, "the login refusal shown", func() bool {
			p := l.State().Problems
			return len(p) > 0 && strings.Contains(p[0], "refused by the broker")
		})
		if got := metric(t, l.reg, "dockhand_hub_refused"); got != 1 {
			t.Fatalf("refused metric = %v, want 1", got)
		}
	})
}

func TestBrokerRestartLosesNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		persist bool
		kill    bool
	}{
		{"persistent, stopped", true, false},
		{"persistent, killed", true, true},
		{"no persistence, stopped", false, false},
		{"no persistence, killed", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := mosqtest.Start(t, mosqtest.Options{Persistence: tc.persist})
			hub := startHub(t, b.URL(), func(c *hubsim.Config) { c.Rate = 2000 })
			st := openStore(t, t.TempDir())
			l := startLink(t, b.URL(), st, func(c *hublink.Config) { c.AckTimeout = time.Second })
			feedOrders(t, hub, 600, 11)
			for i := range 10 {
				appendEvents(t, st, 100)
				if i == 4 {
					if tc.kill {
						b.Kill()
					} else {
						b.Stop()
					}
					appendEvents(t, st, 100) // the floor goes on
					b.Restart()
				}
				time.Sleep(10 * time.Millisecond)
			}
			waitFor(t, 30*time.Second, "feed caught up", func() bool { return hub.Queued() == 0 && cursor(t, st) == hub.Seq() })
			waitFor(t, 30*time.Second, "outbox emptied", func() bool { return pending(t, st) == 0 })
			if n, want := hub.EventCount(testAgent), int(lastEventSeq(t, st)); n != want {
				t.Fatalf("hub stored %d events, want %d", n, want)
			}
			noViolations(t, hub)
			if s := l.State(); s.Reconnects < 1 || !s.Connected {
				t.Fatalf("state after the restart = %+v, want connected after a reconnect", s)
			}
		})
	}
}

func TestOutageOf20000Events(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 events")
	}
	b := mosqtest.Start(t, mosqtest.Options{Persistence: true})
	hub := startHub(t, b.URL(), func(c *hubsim.Config) { c.NoSync = true })
	st := openStore(t, t.TempDir())
	l := startLink(t, b.URL(), st, nil)
	waitFor(t, 10*time.Second, "link connected", func() bool { return l.State().Connected })
	b.Stop()
	waitFor(t, 10*time.Second, "link sees the outage", func() bool { return !l.State().Connected })
	appendEvents(t, st, 20000)
	start := time.Now()
	b.Restart()
	waitFor(t, 60*time.Second, "20,000 events drained", func() bool { return pending(t, st) == 0 })
	t.Logf("20,000 queued events drained in %s after the broker came back", time.Since(start).Round(time.Millisecond))
	if n := hub.EventCount(testAgent); n != 20000 {
		t.Fatalf("hub stored %d events, want 20000", n)
	}
	noViolations(t, hub)
}

func generated(t testing.TB, n int) []wire.FeedMessage {
	t.Helper()
	opts := sample.DefaultOptions()
	opts.Count, opts.Seed, opts.Warehouse, opts.NoHold, opts.NoNotice = n, 5, testWH, true, true
	opts.Rates.Intercepted = 0
	var out []wire.FeedMessage
	for m := range sample.Messages(opts) {
		out = append(out, m)
	}
	if len(out) != n {
		t.Fatalf("generated %d messages, want %d", len(out), n)
	}
	return out
}

func publishAll(t testing.TB, hub *runningHub, msgs []wire.FeedMessage) {
	t.Helper()
	for _, m := range msgs {
		mustPublish(t)(hub.PublishMsg(m))
	}
}

func mustPublish(t testing.TB) func(uint64, error) {
	return func(_ uint64, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func activeHolds(t testing.TB, st *store.Store) []wire.Hold {
	t.Helper()
	var hs []wire.Hold
	if err := st.View(func(tx *store.Tx) error {
		var err error
		hs, err = tx.ActiveHolds()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return hs
}
