package scanner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Scan is one barcode read by one scanner.
type Scan struct {
	// Code is the scanned content without the AIM symbology identifier,
	// the configured prefix/suffix and the terminator. The GS1 group
	// separator (0x1D) is kept.
	Code string
	// Symbology is the AIM symbology identifier such as "]C1" (GS1-128),
	// "]E0" (EAN-13), "]Q3" (QR), "]d2" (GS1 DataMatrix), or "" when the
	// scanner sent none.
	Symbology string
	// Raw holds the bytes of the frame as received, before any stripping
	// (for HID and evdev scanners: the decoded characters).
	Raw []byte
	// At is when the frame was complete.
	At time.Time
	// Source names the scanner (from the reader's Options.Source).
	Source string
}

// Errors returned by the readers, the openers and the supervisor.
var (
	// ErrDisconnected means the scanner went away (unplugged, port closed,
	// end of stream). It is retryable: a supervisor reopens the scanner.
	ErrDisconnected = errors.New("scanner disconnected")
	// ErrNotFound means no matching scanner is plugged in right now.
	ErrNotFound = errors.New("scanner not found")
	// ErrUnsupported means this build or operating system cannot do what
	// was asked (for example USB HID without cgo, or evdev off Linux).
	ErrUnsupported = errors.New("not supported on this system")
	// ErrNoUSBHID is returned by the USB HID functions when this build has
	// no USB HID support (built without cgo, or an unsupported OS).
	ErrNoUSBHID = fmt.Errorf("this build has no USB HID support (it needs cgo): %w", ErrUnsupported)
)

// Sink receives every accepted scan. It is called from the reader's Run
// goroutine, one scan at a time; it should not block for long.
type Sink func(ctx context.Context, s Scan)

// ChanSink returns a Sink that sends scans to ch, giving up when ctx ends.
func ChanSink(ch chan<- Scan) Sink {
	return func(ctx context.Context, s Scan) {
		select {
		case ch <- s:
		case <-ctx.Done():
		}
	}
}

// Options are the settings shared by every reader.
type Options struct {
	// Source names the scanner; it is copied into every Scan.
	Source string
	// Prefix and Suffix are stripped from a frame when present (scanners
	// can be set to add, for example, STX and ETX around each code).
	Prefix, Suffix []byte
	// MaxLen rejects longer frames (after stripping). Default 1024.
	MaxLen int
	// DedupWindow drops a scan whose Code and Symbology equal those of the
	// last delivered scan from the same reader when it comes less than
	// DedupWindow after it. Zero turns suppression off.
	DedupWindow time.Duration
	// Logger receives rejected frames with their reason. Default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Counters receives the reader's counts; default a new one per reader.
	Counters *Counters
}

// DefaultMaxLen is the frame length limit when Options.MaxLen is zero.
const DefaultMaxLen = 1024

func (o *Options) setDefaults() {
	if o.MaxLen <= 0 {
		o.MaxLen = DefaultMaxLen
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Counters == nil {
		o.Counters = new(Counters)
	}
}

// Stats counts what a reader did with the frames it saw.
type Stats struct {
	Delivered  uint64 // scans handed to the sink
	Duplicates uint64 // scans dropped by the dedup window
	Noise      uint64 // frames rejected for control bytes or line noise
	TooLong    uint64 // frames rejected for exceeding MaxLen
	Incomplete uint64 // partial frames dropped (no terminator, bad report)
}

// Counters accumulate Stats. Pass the same Counters in Options to every
// reader a Supervisor opens for one scanner to keep counting across
// re-plugs. Safe for concurrent use.
type Counters struct {
	delivered, duplicates, noise, tooLong, incomplete atomic.Uint64
}

// Snapshot returns the current counts.
func (c *Counters) Snapshot() Stats {
	return Stats{
		Delivered:  c.delivered.Load(),
		Duplicates: c.duplicates.Load(),
		Noise:      c.noise.Load(),
		TooLong:    c.tooLong.Load(),
		Incomplete: c.incomplete.Load(),
	}
}

// pipeline applies the shared frame rules: strip prefix/suffix, split the
// AIM identifier, reject noise and over-long frames, suppress duplicates and
// deliver.
type pipeline struct {
	opts  Options
	sink  Sink
	stats *Counters

	lastCode string
	lastSym  string
	lastAt   time.Time
	haveLast bool
}

func newPipeline(opts Options, sink Sink) *pipeline {
	opts.setDefaults()
	return &pipeline{opts: opts, sink: sink, stats: opts.Counters}
}

// reject logs and counts a frame that is not delivered.
func (p *pipeline) reject(c *atomic.Uint64, reason string, raw []byte) {
	c.Add(1)
	p.opts.Logger.Warn("scanner frame rejected", "source", p.opts.Source, "reason", reason, "raw", fmt.Sprintf("%q", truncate(raw, 64)))
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// tooLong records a frame that overflowed while it was being assembled.
func (p *pipeline) tooLong(n int, raw []byte) {
	p.reject(&p.stats.tooLong, fmt.Sprintf("frame longer than %d bytes (%d or more)", p.opts.MaxLen, n), raw)
}

// incomplete records a partial frame that was dropped.
func (p *pipeline) incomplete(reason string, raw []byte) {
	p.reject(&p.stats.incomplete, reason, raw)
}

// frame handles one complete frame that was complete at time at. sym is the
// symbology identifier if the transport carried it separately (HID POS);
// otherwise it is looked for at the start of the frame.
func (p *pipeline) frame(ctx context.Context, raw []byte, sym string, at time.Time) {
	body := raw
	if len(p.opts.Prefix) > 0 && hasPrefix(body, p.opts.Prefix) {
		body = body[len(p.opts.Prefix):]
	}
	if len(p.opts.Suffix) > 0 && hasSuffix(body, p.opts.Suffix) {
		body = body[:len(body)-len(p.opts.Suffix)]
	}
	if sym == "" {
		sym, body = SplitAIM(body)
	}
	if len(body) == 0 {
		return // an empty line or a lone terminator: nothing was scanned
	}
	if len(body) > p.opts.MaxLen {
		p.tooLong(len(body), raw)
		return
	}
	if i, c, bad := findNoise(body); bad {
		p.reject(&p.stats.noise, fmt.Sprintf("line noise: byte 0x%02X at position %d", c, i), raw)
		return
	}
	code := string(body)
	if p.opts.DedupWindow > 0 && p.haveLast && code == p.lastCode && sym == p.lastSym && at.Sub(p.lastAt) < p.opts.DedupWindow {
		p.stats.duplicates.Add(1)
		p.opts.Logger.Debug("duplicate scan suppressed", "source", p.opts.Source, "code", code)
		return
	}
	p.lastCode, p.lastSym, p.lastAt, p.haveLast = code, sym, at, true
	p.stats.delivered.Add(1)
	p.sink(ctx, Scan{
		Code:      code,
		Symbology: sym,
		Raw:       append([]byte(nil), raw...),
		At:        at,
		Source:    p.opts.Source,
	})
}

func hasPrefix(b, p []byte) bool { return len(b) >= len(p) && string(b[:len(p)]) == string(p) }
func hasSuffix(b, s []byte) bool { return len(b) >= len(s) && string(b[len(b)-len(s):]) == string(s) }

// findNoise reports the first byte that cannot be part of a scanned code:
// control bytes other than GS (0x1D, GS1 separator), RS (0x1E) and EOT (0x04)
// used by ISO/IEC 15434 envelopes, DEL (0x7F) and 0xFF, which is never valid
// in UTF-8 or GB18030 text. Other high bytes are allowed: QR codes on Chinese
// waybills carry UTF-8 or GBK text.
func findNoise(b []byte) (int, byte, bool) {
	for i, c := range b {
		switch {
		case c == 0x1D || c == 0x1E || c == 0x04:
		case c < 0x20 || c == 0x7F || c == 0xFF:
			return i, c, true
		}
	}
	return 0, 0, false
}

// aimCodes are the symbology characters of ISO/IEC 15424 (AIM identifiers).
const aimCodes = "ABCDEFGHIKLMNOPQRSTUXYZcdeghopsz"

// SplitAIM splits a leading AIM symbology identifier ("]" + symbology
// character + modifier character, e.g. "]C1") from b. It returns "" and b
// unchanged when b does not start with one.
func SplitAIM(b []byte) (sym string, rest []byte) {
	if len(b) < 3 || b[0] != ']' {
		return "", b
	}
	if !isAIMCode(b[1]) || !isAIMModifier(b[2]) {
		return "", b
	}
	if s, ok := aimInterned[string(b[:3])]; ok {
		return s, b[3:]
	}
	return string(b[:3]), b[3:]
}

// aimInterned holds the common identifiers so splitting them does not
// allocate.
var aimInterned = func() map[string]string {
	m := map[string]string{}
	for _, c := range aimCodes {
		for _, d := range "0123456789" {
			s := "]" + string(c) + string(d)
			m[s] = s
		}
	}
	return m
}()

func isAIMCode(c byte) bool {
	for i := 0; i < len(aimCodes); i++ {
		if aimCodes[i] == c {
			return true
		}
	}
	return false
}

func isAIMModifier(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
