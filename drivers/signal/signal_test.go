package signal

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestLCUSCommand(t *testing.T) {
	tests := []struct {
		ch   int
		on   bool
		want string
	}{
		{1, true, "a00101a2"},
		{1, false, "a00100a1"},
		{2, true, "a00201a3"},
		{4, false, "a00400a4"},
		{8, true, "a00801a9"},
	}
	for _, tt := range tests {
		c := LCUSCommand(tt.ch, tt.on)
		if got := hex.EncodeToString(c[:]); got != tt.want {
			t.Errorf("LCUSCommand(%d, %v) = %s, want %s", tt.ch, tt.on, got, tt.want)
		}
	}
}

// stampWriter records when each command arrives (fake time under synctest).
type stampWriter struct {
	mu    sync.Mutex
	start time.Time
	log   []string
}

func (w *stampWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = append(w.log, fmt.Sprintf("%v:%x", time.Since(w.start), p))
	return len(p), nil
}

func TestTowerTimingAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &stampWriter{start: time.Now()}
		relay, _ := NewLCUS(w, 2)
		tower := &Tower{Out: relay, Red: 1, Buzzer: 2}
		if err := tower.Signal(context.Background(), Bad); err != nil {
			t.Fatal(err)
		}
		want := "[0s:a00101a2 0s:a00201a3 250ms:a00200a2 400ms:a00201a3 650ms:a00200a2 800ms:a00201a3 1.05s:a00100a1 1.05s:a00200a2]"
		if got := fmt.Sprint(w.log); got != want {
			t.Errorf("default Bad pattern:\n got %s\nwant %s", got, want)
		}

		// Cancelled in the middle of an alarm: everything goes off at once.
		w.log = nil
		w.start = time.Now()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(500*time.Millisecond, cancel)
		err := tower.Signal(ctx, Alarm)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Signal = %v, want context.Canceled", err)
		}
		want = "[0s:a00101a2 0s:a00201a3 500ms:a00100a1 500ms:a00200a2]"
		if got := fmt.Sprint(w.log); got != want {
			t.Errorf("cancelled alarm:\n got %s\nwant %s", got, want)
		}
	})
}

func TestTowerErrors(t *testing.T) {
	if _, err := NewLCUS(&bytes.Buffer{}, 9); err == nil {
		t.Error("a 9-channel LCUS board was accepted")
	}
	relay, _ := NewLCUS(&bytes.Buffer{}, 1)
	if err := relay.Set(2, true); err == nil {
		t.Error("channel 2 on a 1-channel board was accepted")
	}
	tower := &Tower{Out: relay, Green: 1, Patterns: map[Verdict]Pattern{Good: nil}}
	if err := tower.Signal(context.Background(), Bad); err == nil {
		t.Error("a verdict without a pattern was accepted")
	}
}

func TestParseVerdict(t *testing.T) {
	for _, v := range []Verdict{Good, Bad, Alarm} {
		got, err := ParseVerdict(strings.ToUpper(v.String()))
		if err != nil || got != v {
			t.Errorf("ParseVerdict(%s) = %v %v", v, got, err)
		}
	}
	if _, err := ParseVerdict("ok"); err == nil {
		t.Error("ParseVerdict(ok) accepted")
	}
}
