package hublink_test

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/mosqtest"
	"github.com/dockhand/dockhand/sync/wire"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	bolt "go.etcd.io/bbolt"
)

const benchBatch = 512 // the inbox's default BatchMax

// benchFeed makes n order.upsert payloads with seqs 1..n.
func benchFeed(b *testing.B, n int) [][]byte {
	b.Helper()
	opts := sample.DefaultOptions()
	opts.Count, opts.NoHold, opts.NoNotice, opts.Seed = n, true, true, 42
	opts.Rates.Intercepted = 0
	out := make([][]byte, 0, n)
	seq := uint64(0)
	for m := range sample.Messages(opts) {
		seq++
		m.Seq = seq
		p, err := wire.EncodeFeed(m)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// BenchmarkFeedApply: order.upsert payloads through the inbox (decode,
// validate, order, batch) into the agent's store (one fsynced bbolt
// transaction per batch, indexes, cursor). One op is one order.
func BenchmarkFeedApply(b *testing.B) {
	feed := benchFeed(b, b.N)
	st, err := store.Open(filepath.Join(b.TempDir(), "agent.db"), store.Options{Agent: testAgent, Warehouse: testWH})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ib := hublink.NewInbox(st, hublink.Config{BatchMax: benchBatch, Logger: testLogger(b)}, nil, nil)
	b.ResetTimer()
	start := time.Now()
	// As in the link: payloads are decoded on the MQTT client's goroutine
	// and applied in batches on the inbox's.
	ch := make(chan hublink.Decoded, 8192)
	go func() {
		for _, p := range feed {
			ch <- hublink.Decode("oms/v1/wh/HZ01/feed", p)
		}
		close(ch)
	}()
	for d := range ch {
		if err := ib.AddFrom(d, ch, 10*time.Millisecond); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
	b.StopTimer()
	if n, _ := st.LastFeedSeq(); n != uint64(b.N) {
		b.Fatalf("cursor %d, want %d", n, b.N)
	}
}

// BenchmarkFeedApplyBaseline: the bare floor under BenchmarkFeedApply — the
// same payload bytes put into bbolt in fsynced transactions of the same size,
// with nothing decoded or indexed.
func BenchmarkFeedApplyBaseline(b *testing.B) {
	feed := benchFeed(b, b.N)
	db, err := bolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < len(feed); i += benchBatch {
		end := min(i+benchBatch, len(feed))
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("feed"))
			if err != nil {
				return err
			}
			for j := i; j < end; j++ {
				k := make([]byte, 8)
				binary.BigEndian.PutUint64(k, uint64(j+1))
				if err := bk.Put(k, feed[j]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
}

// BenchmarkOutboxDrain: events recorded in the agent's store, published by
// the link to a real Mosquitto on loopback, stored by the hub simulator and
// acked back, until the outbox is empty. One op is one event.
func BenchmarkOutboxDrain(b *testing.B) {
	br := mosqtest.Start(b, mosqtest.Options{})
	hub := startHub(b, br.URL(), func(c *hubsim.Config) { c.NoSync = true })
	st, err := store.Open(filepath.Join(b.TempDir(), "agent.db"), store.Options{Agent: testAgent, Warehouse: testWH})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	l := startLink(b, br.URL(), st, func(c *hublink.Config) { c.Window = 5000; c.AckTimeout = time.Minute })
	waitFor(b, 10*time.Second, "link connected", func() bool { return l.State().Connected })
	appendEvents(b, st, b.N)
	b.ResetTimer()
	start := time.Now()
	waitFor(b, 10*time.Minute, "outbox drained", func() bool { return pending(b, st) == 0 })
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.StopTimer()
	if n := hub.EventCount(testAgent); n != b.N {
		b.Fatalf("hub stored %d, want %d", n, b.N)
	}
}

// BenchmarkOutboxDrainBaseline: the bare floor under BenchmarkOutboxDrain — a
// pipelined paho QoS 1 publish loop of the same bytes to the same kind of
// broker, waiting only for the broker's PUBACKs.
func BenchmarkOutboxDrainBaseline(b *testing.B) {
	br := mosqtest.Start(b, mosqtest.Options{})
	st := openStore(b, b.TempDir())
	appendEvents(b, st, b.N)
	recs, err := st.OutboxAfter(0, b.N)
	if err != nil {
		b.Fatal(err)
	}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(br.URL()).SetClientID("bare").SetCleanSession(true))
	if t := c.Connect(); t.Wait() && t.Error() != nil {
		b.Fatal(t.Error())
	}
	defer c.Disconnect(0)
	topics, _ := wire.TopicsFor(testWH, testAgent)
	b.ResetTimer()
	start := time.Now()
	toks := make([]mqtt.Token, 0, 1000)
	for _, r := range recs {
		toks = append(toks, c.Publish(topics.Events, 1, false, r.Payload))
		if len(toks) == cap(toks) {
			for _, t := range toks {
				t.Wait()
			}
			toks = toks[:0]
		}
	}
	for _, t := range toks {
		t.Wait()
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkCatchUp50k: 50,000 events recorded while the broker was down,
// drained to the hub after it came back. Reports seconds per catch-up.
func BenchmarkCatchUp50k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		br := mosqtest.Start(b, mosqtest.Options{Persistence: true})
		hub := startHub(b, br.URL(), func(c *hubsim.Config) { c.NoSync = true })
		st, err := store.Open(filepath.Join(b.TempDir(), "agent.db"), store.Options{Agent: testAgent, Warehouse: testWH})
		if err != nil {
			b.Fatal(err)
		}
		l := startLink(b, br.URL(), st, func(c *hublink.Config) { c.Window = 5000; c.AckTimeout = time.Minute })
		waitFor(b, 10*time.Second, "link connected", func() bool { return l.State().Connected })
		br.Stop()
		waitFor(b, 10*time.Second, "link sees the outage", func() bool { return !l.State().Connected })
		appendEvents(b, st, 50000)
		b.StartTimer()
		start := time.Now()
		br.Restart()
		waitFor(b, 10*time.Minute, "50,000 events drained", func() bool { return pending(b, st) == 0 })
		b.ReportMetric(time.Since(start).Seconds(), "s/catchup")
		b.StopTimer()
		if n := hub.EventCount(testAgent); n != 50000 {
			b.Fatalf("hub stored %d, want 50000", n)
		}
		l.stop()
		st.Close()
		b.StartTimer()
	}
}
