package hubsim

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// FuzzStoreEvents sends arbitrary payloads to the hub's event store between
// valid events. It must never panic, and the acked seq must only ever cover
// events that are stored, contiguously from 1.
func FuzzStoreEvents(f *testing.F) {
	valid := func(seq uint64) []byte {
		e := wire.Event{EventID: wire.NewEventID(), Seq: seq, Agent: "A1", Warehouse: "HZ01", Type: "custom.thing",
			At: wire.Time{Time: time.Date(2026, 1, 28, 10, 0, 0, 0, time.UTC)}}
		_ = e.SetData(map[string]int{"n": int(seq)})
		b, _ := e.Encode()
		return b
	}
	f.Add([]byte(`{"event_id": "x"}`), uint8(1))
	f.Add(valid(2), uint8(2))
	f.Add([]byte(`{"event_id":"0192f7a8-1c2b-7d3e-9f00-4a5b6c7d8e9f","seq":1,"agent":"A1","warehouse":"HZ01","type":"pack.verified","at":"2026-01-28T10:21:44.310+08:00","order_id":"O","station":null,"operator":null,"data":{"scans":[],"duration_ms":5}}`), uint8(0))
	decoded := func(p []byte) inEvent {
		ev, err := wire.DecodeEvent(p)
		return inEvent{agent: "A1", payload: p, ev: ev, err: err}
	}
	f.Fuzz(func(t *testing.T, payload []byte, at uint8) {
		h, err := New(Config{Broker: "tcp://127.0.0.1:1", Warehouse: "HZ01", DBPath: filepath.Join(t.TempDir(), "h.db"),
			NoSync: true, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		var batch []inEvent
		for seq := uint64(1); seq <= 4; seq++ {
			if uint8(seq) == at%5 {
				batch = append(batch, decoded(payload))
			}
			batch = append(batch, decoded(valid(seq)))
		}
		ack, err := h.store(batch)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := h.Events("A1")
		if err != nil {
			t.Fatal(err)
		}
		stored := map[uint64]bool{}
		for _, e := range evs {
			stored[e.Seq] = true
		}
		for s := uint64(1); s <= ack["A1"]; s++ {
			if !stored[s] {
				t.Fatalf("acked %d but seq %d is not stored", ack["A1"], s)
			}
		}
	})
}
