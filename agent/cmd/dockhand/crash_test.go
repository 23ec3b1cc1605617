//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/floor"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// TestKill9LosesNothing starts the real dockhand binary, packs orders through
// its test scan socket from three benches at once, and kill -9s it at random
// moments, again and again. The simulated packers behave like people after a
// crash: they look at the station screen (the durable session) and carry on
// from what it shows. At the end the store must hold every acknowledged scan,
// an outbox with no gap and no duplicate, and exactly one pack.verified per
// order.
func TestKill9LosesNothing(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	loadStore(t, dir, 80)
	plan := packableOrders(t, dir, 36)
	stations := []string{"PACK-01", "PACK-02", "PACK-03"}
	sock := filepath.Join(dir, "scan.sock")
	cfg := filepath.Join(dir, "crash.yaml")
	conf := fmt.Sprintf(`data_dir: %s
http:
  listen: 127.0.0.1:%d
hub:
  broker: tcp://127.0.0.1:%d
log:
  level: warn
stations:
  - {id: PACK-01, kind: pack}
  - {id: PACK-02, kind: pack}
  - {id: PACK-03, kind: pack}
debug:
  scan_socket: %s
`, dir, freePort(t), freePort(t), sock)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}

	work := map[string][]wire.Order{}
	for i, o := range plan {
		st := stations[i%len(stations)]
		work[st] = append(work[st], o)
	}
	var mu sync.Mutex
	var acked []floor.Verdict
	record := func(v floor.Verdict) { mu.Lock(); acked = append(acked, v); mu.Unlock() }

	rng := rand.New(rand.NewPCG(7, 11))
	kills := 0
	for round := 0; ; round++ {
		cmd := exec.Command(bin, "run", "-config", cfg)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		finished := make([]bool, len(stations))
		for i, st := range stations {
			wg.Add(1)
			go func() {
				defer wg.Done()
				finished[i] = packer(sock, st, work[st], record)
			}()
		}
		last := round >= 30
		if !last {
			time.Sleep(time.Duration(30+rng.IntN(300)) * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
			kills++
			cmd.Wait()
			wg.Wait()
			continue
		}
		wg.Wait()
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		for i, ok := range finished {
			if !ok {
				t.Fatalf("station %s could not finish its orders after the last restart", stations[i])
			}
		}
		break
	}
	t.Logf("%d kill -9s, %d acknowledged verdicts", kills, len(acked))

	s, err := store.Open(filepath.Join(dir, "dockhand.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Check(); err != nil {
		t.Fatalf("store integrity after %d kills: %v", kills, err)
	}
	recs, err := s.OutboxAfter(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	bySeq := map[uint64]wire.Event{}
	verified := map[string]int{}
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("outbox seq %d at position %d: a gap or a duplicate", r.Seq, i)
		}
		e, err := wire.DecodeEvent(r.Payload)
		if err != nil {
			t.Fatalf("outbox event %d breaks the contract: %v", r.Seq, err)
		}
		if ids[e.EventID] {
			t.Fatalf("event id %s recorded twice", e.EventID)
		}
		ids[e.EventID] = true
		bySeq[e.Seq] = e
		if e.Type == wire.EventPackVerified {
			verified[e.OrderID]++
		}
	}
	for _, o := range plan {
		if verified[o.OrderID] != 1 {
			t.Errorf("order %s verified %d times, want exactly once", o.OrderID, verified[o.OrderID])
		}
	}
	for _, v := range acked {
		for _, seq := range v.Events {
			e, ok := bySeq[seq]
			if !ok {
				t.Fatalf("acknowledged verdict (%s %s) named event %d, which is not in the outbox", v.Station, v.Code, seq)
			}
			if v.OrderID != "" && e.OrderID != v.OrderID {
				t.Fatalf("event %d is about %s, the verdict about %s", seq, e.OrderID, v.OrderID)
			}
		}
	}
	audit, err := s.Audit(store.AuditQuery{Limit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range audit {
		if r.Seq != uint64(i+1) {
			t.Fatalf("audit seq %d at position %d: a gap", r.Seq, i)
		}
	}
	if len(audit) < len(acked) {
		t.Fatalf("audit has %d records, fewer than the %d acknowledged verdicts", len(audit), len(acked))
	}
}

// packableOrders picks n orders a packer can finish: released, with a waybill
// and a barcode on every line, nothing on hold.
func packableOrders(t *testing.T, dir string, n int) []wire.Order {
	t.Helper()
	s, err := store.Open(filepath.Join(dir, "dockhand.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []wire.Order
	s.View(func(tx *store.Tx) error {
		return tx.OpenOrders(func(r *store.OrderRecord) bool {
			o := r.Order
			if o.Status != wire.StatusReleased || o.Waybill == nil {
				return true
			}
			for _, l := range o.Lines {
				if len(l.Barcodes) == 0 {
					return true
				}
				if h, _ := tx.HoldFor(l.SKU, l.Batch); h != nil {
					return true
				}
			}
			out = append(out, o)
			return len(out) < n
		})
	})
	if len(out) < n {
		t.Fatalf("only %d packable orders in the sample", len(out))
	}
	return out
}

type sockClient struct {
	c   net.Conn
	r   *bufio.Reader
	enc *json.Encoder
}

type sockReply struct {
	floor.Verdict
	Session *floor.Session    `json:"session"`
	State   *floor.OrderState `json:"state"`
	Error   string            `json:"error"`
}

func (c *sockClient) call(req map[string]string) (sockReply, error) {
	var rep sockReply
	if err := c.enc.Encode(req); err != nil {
		return rep, err
	}
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return rep, err
	}
	err = json.Unmarshal(line, &rep)
	return rep, err
}

// packer packs its orders like a person at a bench, until the agent dies. It
// reports whether it finished them all.
func packer(sock, station string, orders []wire.Order, record func(floor.Verdict)) bool {
	var c *sockClient
	for i := 0; i < 400; i++ { // wait for the agent to listen
		conn, err := net.Dial("unix", sock)
		if err == nil {
			c = &sockClient{c: conn, r: bufio.NewReader(conn), enc: json.NewEncoder(conn)}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if c == nil {
		return false
	}
	defer c.c.Close()
	scan := func(code string) (floor.Verdict, bool) {
		rep, err := c.call(map[string]string{"station": station, "operator": "W1", "code": code})
		if err != nil || rep.Error != "" {
			return rep.Verdict, false
		}
		record(rep.Verdict)
		return rep.Verdict, true
	}
	for _, o := range orders {
		// Look at the screen first: what did the station already do?
		st, err := c.call(map[string]string{"op": "state", "order_id": o.OrderID})
		if err != nil {
			return false
		}
		if st.State != nil && st.State.Verified {
			continue
		}
		sess, err := c.call(map[string]string{"op": "session", "station": station})
		if err != nil {
			return false
		}
		counts := map[string]int{}
		if sess.Session == nil || sess.Session.OrderID != o.OrderID {
			v, ok := scan(o.Waybill.No)
			if !ok {
				return false
			}
			if !v.OK {
				panic(fmt.Sprintf("%s: opening %s refused: %s", station, o.OrderID, v.Reason))
			}
			// A wrong item first, as people do.
			if _, ok := scan("9999999999994"); !ok {
				return false
			}
		} else {
			counts = sess.Session.Counts
		}
		for _, l := range o.Lines {
			for n := counts[l.LineID]; n < l.Qty; n++ {
				v, ok := scan(l.Barcodes[0])
				if !ok {
					return false
				}
				if !v.OK {
					panic(fmt.Sprintf("%s: item of %s refused: %s", station, o.OrderID, v.Reason))
				}
			}
		}
		v, ok := scan(o.Waybill.No)
		if !ok {
			return false
		}
		if !v.OK || !v.Done {
			panic(fmt.Sprintf("%s: closing %s: ok=%v done=%v reason=%s", station, o.OrderID, v.OK, v.Done, v.Reason))
		}
	}
	return true
}
