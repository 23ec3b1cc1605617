package hublink

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dockhand/dockhand/agent/store"
)

func TestBackoffDelay(t *testing.T) {
	half := func() float64 { return 0.5 } // no jitter
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second, Rand: half}
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second},
		{50, time.Second},
	}
	for _, tt := range tests {
		if got := b.Delay(tt.attempt); got != tt.want {
			t.Errorf("Delay(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
	lo, hi := b, b
	lo.Rand = func() float64 { return 0 }
	hi.Rand = func() float64 { return 0.999999 }
	if got := lo.Delay(5); got != 800*time.Millisecond {
		t.Errorf("lowest jitter at the cap = %v, want 800ms (-20%%)", got)
	}
	if got := hi.Delay(5); got < 1199*time.Millisecond || got > 1200*time.Millisecond {
		t.Errorf("highest jitter at the cap = %v, want just under 1.2s (+20%%)", got)
	}
}

// TestReconnectBackoff runs the link against a broker that refuses every
// connection, in a bubble with a fake clock: the attempts must come at the
// backoff's times exactly, and cancelling must end Run.
func TestReconnectBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := store.Open(filepath.Join(t.TempDir(), "a.db"), store.Options{Agent: "A1", Warehouse: "HZ01", NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		cfg := Config{Broker: "tcp://hub.invalid:1883", Warehouse: "HZ01", Agent: "A1", Logger: slog.New(slog.DiscardHandler),
			Backoff: Backoff{Min: time.Second, Max: 8 * time.Second, Rand: func() float64 { return 0.5 }}}
		l, err := New(cfg, st, st)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var at []time.Duration
		start := time.Now()
		l.dial = func(context.Context, *url.URL) (net.Conn, error) {
			mu.Lock()
			at = append(at, time.Since(start))
			mu.Unlock()
			return nil, errors.New("connection refused")
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- l.Run(ctx) }()
		time.Sleep(40 * time.Second)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v, want nil after cancel", err)
		}
		want := []time.Duration{0, 1, 3, 7, 15, 23, 31, 39}
		mu.Lock()
		defer mu.Unlock()
		if len(at) != len(want) {
			t.Fatalf("attempts at %v, want %v seconds", at, want)
		}
		for i := range want {
			if at[i] != want[i]*time.Second {
				t.Fatalf("attempt %d at %v, want %v (all: %v)", i+1, at[i], want[i]*time.Second, at)
			}
		}
		s := l.State()
		if s.Connected || len(s.Problems) != 1 {
			t.Fatalf("state = %+v, want not connected with one problem", s)
		}
	})
}
