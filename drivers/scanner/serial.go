package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Terminator says how a serial scanner marks the end of a code.
type Terminator int

// Terminators a serial scanner can be set to send after each code.
const (
	TermCR   Terminator = iota + 1 // carriage return 0x0D
	TermLF                         // line feed 0x0A (a CR before it is dropped)
	TermCRLF                       // CR LF; a lone LF also ends the frame
	TermTab                        // horizontal tab 0x09
	TermNone                       // no terminator: a frame ends after IdleGap of silence
)

var termNames = map[Terminator]string{TermCR: "cr", TermLF: "lf", TermCRLF: "crlf", TermTab: "tab", TermNone: "none"}

func (t Terminator) String() string {
	if s, ok := termNames[t]; ok {
		return s
	}
	return fmt.Sprintf("Terminator(%d)", int(t))
}

// ParseTerminator reads a terminator name as written in configuration:
// "cr", "lf", "crlf", "tab" or "none".
func ParseTerminator(s string) (Terminator, error) {
	for t, n := range termNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown scanner terminator %q: use cr, lf, crlf, tab or none", s)
}

// Port is a byte stream with a read timeout, as go.bug.st/serial.Port and
// this package's test pseudo-terminals provide. On timeout, Read returns
// 0, nil.
type Port interface {
	io.Reader
	SetReadTimeout(t time.Duration) error
}

// SerialConfig configures a SerialReader.
type SerialConfig struct {
	Options
	// Terminator ends each frame. Default TermCR.
	Terminator Terminator
	// IdleGap ends a frame in TermNone mode after this much silence.
	// Default 50 ms (at 9600 baud a byte takes about 1 ms).
	IdleGap time.Duration
	// Poll is the read timeout used in terminator modes so that
	// cancellation and stale partial frames are noticed. Default 200 ms.
	Poll time.Duration
	// StaleAfter drops a partial frame (no terminator yet) when no byte
	// arrived for this long. Default 2 s. Needs a Port.
	StaleAfter time.Duration
}

// SerialReader frames scans from a serial byte stream.
type SerialReader struct {
	r    io.Reader
	port Port // nil when r has no read timeout
	cfg  SerialConfig
	p    *pipeline
	f    framer
}

// NewSerialReader returns a reader of scans from r, delivered to sink. If r
// is a Port, Run sets its read timeout; TermNone framing requires a Port.
// Without a Port, Run notices cancellation only when a read returns: the
// owner of r stops it by closing r.
func NewSerialReader(r io.Reader, cfg SerialConfig, sink Sink) (*SerialReader, error) {
	if sink == nil {
		return nil, errors.New("new serial scanner reader: no sink")
	}
	if cfg.Terminator == 0 {
		cfg.Terminator = TermCR
	}
	if _, ok := termNames[cfg.Terminator]; !ok {
		return nil, fmt.Errorf("new serial scanner reader: unknown terminator %d", int(cfg.Terminator))
	}
	if cfg.IdleGap <= 0 {
		cfg.IdleGap = 50 * time.Millisecond
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = 2 * time.Second
	}
	sr := &SerialReader{r: r, cfg: cfg}
	sr.port, _ = r.(Port)
	if cfg.Terminator == TermNone && sr.port == nil {
		return nil, errors.New("new serial scanner reader: framing by silence (terminator none) needs a port with a read timeout")
	}
	sr.p = newPipeline(cfg.Options, sink)
	sr.f = framer{term: cfg.Terminator, max: sr.p.opts.MaxLen + len(cfg.Prefix) + len(cfg.Suffix) + 3}
	return sr, nil
}

// Stats returns the reader's counters; safe to call while Run runs.
func (sr *SerialReader) Stats() Stats { return sr.p.stats.Snapshot() }

// Run reads until ctx ends (returning ctx.Err()) or the stream fails. A
// scanner that disappears gives an error wrapping ErrDisconnected.
func (sr *SerialReader) Run(ctx context.Context) error {
	if sr.port != nil {
		t := sr.cfg.Poll
		if sr.cfg.Terminator == TermNone {
			t = sr.cfg.IdleGap
		}
		if err := sr.port.SetReadTimeout(t); err != nil {
			return fmt.Errorf("scanner %s: set read timeout: %w", sr.p.opts.Source, err)
		}
	}
	buf := make([]byte, 512)
	var last time.Time
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := sr.r.Read(buf)
		now := sr.p.opts.Now() // one clock read per read: frames in it arrived together
		if n > 0 {
			last = now
			sr.feed(ctx, buf[:n], now)
		}
		if err != nil {
			sr.flushEnd()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("scanner %s: read: %w: %w", sr.p.opts.Source, ErrDisconnected, err)
		}
		if n == 0 && sr.f.pending() {
			// Read timeout: silence on the line.
			if sr.cfg.Terminator == TermNone {
				frame, over := sr.f.take()
				sr.emit(ctx, frame, over, now)
			} else if now.Sub(last) >= sr.cfg.StaleAfter {
				sr.p.incomplete("partial frame without terminator dropped after silence", sr.f.buf)
				sr.f.take()
			}
		}
	}
}

func (sr *SerialReader) feed(ctx context.Context, b []byte, at time.Time) {
	sr.f.feed(b, func(frame []byte, over bool) { sr.emit(ctx, frame, over, at) })
}

func (sr *SerialReader) emit(ctx context.Context, frame []byte, over bool, at time.Time) {
	if over {
		sr.p.tooLong(sr.f.overflowN, frame)
		return
	}
	sr.p.frame(ctx, frame, "", at)
}

// flushEnd handles a partial frame when the stream ends.
func (sr *SerialReader) flushEnd() {
	if sr.f.pending() {
		sr.p.incomplete("stream ended inside a frame", sr.f.buf)
		sr.f.take()
	}
}

// framer splits a byte stream into frames at terminators. It is not safe for
// concurrent use.
type framer struct {
	term      Terminator
	max       int
	buf       []byte
	over      bool // current frame exceeded max; bytes are being skipped
	overflowN int  // length the overflowing frame reached
}

func (f *framer) pending() bool { return len(f.buf) > 0 || f.over }

// take ends the current frame and returns it (for silence framing).
func (f *framer) take() ([]byte, bool) {
	b, over := f.buf, f.over
	f.buf, f.over = f.buf[:0], false
	return b, over
}

// feed adds bytes and calls fn for each complete frame. The frame slice is
// only valid during the call.
func (f *framer) feed(b []byte, fn func(frame []byte, over bool)) {
	for len(b) > 0 {
		end := f.index(b)
		chunk := b
		if end >= 0 {
			chunk = b[:end]
		}
		if f.term == TermCR && len(f.buf) == 0 && !f.over {
			// A scanner sending CR LF to a reader set to CR: the LF
			// starts the next frame; drop it.
			for len(chunk) > 0 && chunk[0] == '\n' {
				chunk = chunk[1:]
			}
		}
		f.add(chunk)
		if end < 0 {
			return
		}
		frame := f.buf
		if (f.term == TermCRLF || f.term == TermLF) && len(frame) > 0 && frame[len(frame)-1] == '\r' {
			frame = frame[:len(frame)-1]
		}
		fn(frame, f.over)
		f.buf, f.over = f.buf[:0], false
		b = b[end+1:]
	}
}

func (f *framer) add(chunk []byte) {
	if f.over {
		f.overflowN += len(chunk)
		return
	}
	if len(f.buf)+len(chunk) > f.max {
		f.over = true
		f.overflowN = len(f.buf) + len(chunk)
		return
	}
	f.buf = append(f.buf, chunk...)
}

// index returns the position of the first terminator byte in b, or -1.
func (f *framer) index(b []byte) int {
	var t byte
	switch f.term {
	case TermCR:
		t = '\r'
	case TermLF, TermCRLF:
		t = '\n'
	case TermTab:
		t = '\t'
	default:
		return -1
	}
	return bytes.IndexByte(b, t)
}
