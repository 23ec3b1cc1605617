// Package signal drives the station outputs that tell a packer, without
// looking at a screen, whether a scan was good: a light tower (green, red,
// buzzer) or a buzzer switched by a USB serial relay board.
//
// Relays are driven over an io.Writer (an open serial port), so tests hand
// them a pseudo-terminal. The protocol supported is that of the common CH340
// "LCUS-1" relay boards and their 2/4/8-channel variants: four bytes per
// switch, A0 channel state checksum (A0 01 01 A2 turns relay 1 on,
// A0 01 00 A1 turns it off), at 9600 baud 8N1.
package signal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Verdict is what the station has to tell the packer.
type Verdict int

// Verdicts.
const (
	Good  Verdict = iota + 1 // the scan was right: short green
	Bad                      // wrong item, unknown code: red and beeps
	Alarm                    // must stop (intercepted parcel, quality hold): long red and buzzer
)

func (v Verdict) String() string {
	switch v {
	case Good:
		return "good"
	case Bad:
		return "bad"
	case Alarm:
		return "alarm"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// ParseVerdict reads "good", "bad" or "alarm".
func ParseVerdict(s string) (Verdict, error) {
	for _, v := range []Verdict{Good, Bad, Alarm} {
		if strings.EqualFold(strings.TrimSpace(s), v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown verdict %q: use good, bad or alarm", s)
}

// Switcher turns numbered outputs (relay channels, from 1) on and off.
type Switcher interface {
	Set(channel int, on bool) error
}

// LCUSCommand returns the 4-byte LCUS relay command for channel ch.
func LCUSCommand(ch int, on bool) [4]byte {
	var st byte
	if on {
		st = 1
	}
	c := byte(ch)
	return [4]byte{0xA0, c, st, 0xA0 + c + st}
}

// LCUS drives a CH340 LCUS relay board through an open serial port.
type LCUS struct {
	w        io.Writer
	channels int
	mu       sync.Mutex
}

// NewLCUS returns a driver for a board with the given number of channels
// (1, 2, 4 or 8) writing to w.
func NewLCUS(w io.Writer, channels int) (*LCUS, error) {
	if w == nil {
		return nil, errors.New("new LCUS relay: no port")
	}
	if channels < 1 || channels > 8 {
		return nil, fmt.Errorf("new LCUS relay: %d channels; boards have 1 to 8", channels)
	}
	return &LCUS{w: w, channels: channels}, nil
}

// Set switches one relay.
func (r *LCUS) Set(ch int, on bool) error {
	if ch < 1 || ch > r.channels {
		return fmt.Errorf("relay channel %d: the board has channels 1 to %d", ch, r.channels)
	}
	cmd := LCUSCommand(ch, on)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.w.Write(cmd[:]); err != nil {
		return fmt.Errorf("switch relay %d: %w", ch, err)
	}
	return nil
}

// Step is one part of a signal pattern: which lights are on, for how long.
type Step struct {
	Green, Red, Buzzer bool
	For                time.Duration
}

// Pattern is a sequence of steps; everything is switched off at the end.
type Pattern []Step

// DefaultPatterns are short enough not to hold up the next scan: Good is a
// 400 ms green flash, Bad three red flashes with beeps, Alarm two seconds of
// red with the buzzer.
var DefaultPatterns = map[Verdict]Pattern{
	Good: {{Green: true, For: 400 * time.Millisecond}},
	Bad: {
		{Red: true, Buzzer: true, For: 250 * time.Millisecond}, {Red: true, For: 150 * time.Millisecond},
		{Red: true, Buzzer: true, For: 250 * time.Millisecond}, {Red: true, For: 150 * time.Millisecond},
		{Red: true, Buzzer: true, For: 250 * time.Millisecond},
	},
	Alarm: {{Red: true, Buzzer: true, For: 2 * time.Second}},
}

// Tower is a light tower (or any set of lamps and a buzzer) wired to relay
// channels. A channel of 0 means that output is not wired.
type Tower struct {
	Out                  Switcher
	Green, Red, Buzzer   int
	Patterns             map[Verdict]Pattern // nil: DefaultPatterns
	mu                   sync.Mutex
	green, red, buzzerOn bool
	synced               bool // the outputs are known to match the fields above
}

// Signal plays the pattern for v. Calls are serialised: a second signal
// waits for the first. When ctx ends mid-pattern, all outputs are switched
// off and ctx.Err() is returned.
func (t *Tower) Signal(ctx context.Context, v Verdict) error {
	pats := t.Patterns
	if pats == nil {
		pats = DefaultPatterns
	}
	p, ok := pats[v]
	if !ok {
		return fmt.Errorf("signal %s: no pattern for this verdict", v)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var err error
	for _, s := range p {
		if err = t.apply(s.Green, s.Red, s.Buzzer); err != nil {
			break
		}
		if err = sleep(ctx, s.For); err != nil {
			break
		}
	}
	if offErr := t.apply(false, false, false); err == nil {
		err = offErr
	}
	if err != nil {
		return fmt.Errorf("signal %s: %w", v, err)
	}
	return nil
}

// apply switches the outputs whose state changes (all of them the first
// time and after a failed write).
func (t *Tower) apply(green, red, buzzer bool) error {
	for _, o := range []struct {
		ch    int
		want  bool
		state *bool
	}{{t.Green, green, &t.green}, {t.Red, red, &t.red}, {t.Buzzer, buzzer, &t.buzzerOn}} {
		if o.ch == 0 || t.synced && *o.state == o.want {
			continue
		}
		if err := t.Out.Set(o.ch, o.want); err != nil {
			t.synced = false // unknown now: write every output next time
			return err
		}
		*o.state = o.want
	}
	t.synced = true
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
