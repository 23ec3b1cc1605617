package peakday

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// Label is one label a simulated printer printed.
type Label struct {
	Printer string
	Waybill string // the number in the label's BARCODE command, "" if none
	// At is when the label's first bytes were read from the connection (the
	// closest this side gets to when the agent sent it); Done when its PRINT
	// command was parsed.
	At, Done time.Time
}

// Printer is a TSPL label printer on a loopback TCP port (JetDirect, 9100
// style). Unlike drivers/printertest it keeps no job bytes: it parses the
// stream as it comes, so a day of 58,000 labels costs no memory, and it
// records the waybill number of every label it prints. It answers TSPL
// <ESC>!? and ESC/POS DLE EOT status queries from its simulated state, and
// can run out of paper, drop the connection mid-job, or vanish.
type Printer struct {
	ID        string
	PrintTime time.Duration

	mu        sync.Mutex
	ln        net.Listener
	addr      string
	conns     map[net.Conn]bool
	labels    []Label
	partial   int // jobs cut off by a dropped connection
	paperOut  bool
	busyUntil time.Time
	dropAfter int
	onLabel   func(Label)
}

// StartPrinter listens on a free loopback port.
func StartPrinter(id string, onLabel func(Label)) (*Printer, error) {
	p := &Printer{ID: id, PrintTime: 5 * time.Millisecond, conns: map[net.Conn]bool{}, onLabel: onLabel}
	if err := p.listen("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("printer %s: %w", id, err)
	}
	return p, nil
}

func (p *Printer) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go p.accept(ln)
	return nil
}

// URL is the printer's transport URL.
func (p *Printer) URL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "tcp://" + p.addr
}

func (p *Printer) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[c] = true
		p.mu.Unlock()
		go p.serve(c)
	}
}

func (p *Printer) serve(c net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	var t tsplParser
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			t.readAt = time.Now()
			data := buf[:n]
			p.mu.Lock()
			drop := false
			if p.dropAfter > 0 {
				if n >= p.dropAfter {
					data, drop = data[:p.dropAfter], true
					p.dropAfter = 0
				} else {
					p.dropAfter -= n
				}
			}
			p.mu.Unlock()
			reply := t.feed(data, p)
			if drop {
				if t.inLabel() {
					p.mu.Lock()
					p.partial++
					p.mu.Unlock()
				}
				return
			}
			if len(reply) > 0 {
				if _, err := c.Write(reply); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Printer) status() byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	var s byte
	if p.paperOut {
		s |= 0x04
	}
	if time.Now().Before(p.busyUntil) {
		s |= 0x20
	}
	return s
}

func (p *Printer) escposStatus(n byte) byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := byte(0x12)
	if p.paperOut {
		switch n {
		case 1:
			s |= 0x08
		case 2:
			s |= 0x20
		case 4:
			s |= 0x60
		}
	}
	return s
}

func (p *Printer) printed(waybill string, first time.Time) {
	p.mu.Lock()
	now := time.Now()
	if first.IsZero() {
		first = now
	}
	start := now
	if p.busyUntil.After(start) {
		start = p.busyUntil
	}
	p.busyUntil = start.Add(p.PrintTime)
	l := Label{Printer: p.ID, Waybill: waybill, At: first, Done: now}
	p.labels = append(p.labels, l)
	cb := p.onLabel
	p.mu.Unlock()
	if cb != nil {
		cb(l)
	}
}

// Labels returns every label printed so far.
func (p *Printer) Labels() []Label {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Label(nil), p.labels...)
}

// Partial is how many jobs a dropped connection cut off before their PRINT.
func (p *Printer) Partial() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.partial
}

// SetPaperOut makes the printer report paper out (or not).
func (p *Printer) SetPaperOut(v bool) { p.mu.Lock(); p.paperOut = v; p.mu.Unlock() }

// DropAfter closes the connection after n more job bytes (a cable pulled mid-job).
func (p *Printer) DropAfter(n int) { p.mu.Lock(); p.dropAfter = n; p.mu.Unlock() }

// Vanish closes the listener and every connection: the printer is gone.
func (p *Printer) Vanish() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
}

// Return listens again on the same address after Vanish.
func (p *Printer) Return() error {
	p.mu.Lock()
	addr := p.addr
	p.mu.Unlock()
	var err error
	for range 100 {
		if err = p.listen(addr); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.Join(fmt.Errorf("printer %s cannot listen again on %s", p.ID, addr), err)
}

// Close stops the printer for good.
func (p *Printer) Close() { p.Vanish() }

// tsplParser reads a TSPL stream incrementally: command lines ending in CR LF,
// BITMAP commands with binary data of a declared length, and the real-time
// status queries that may come between commands.
type tsplParser struct {
	line    []byte
	skip    int    // binary bytes of a BITMAP still to skip
	waybill string // of the label being built
	cmds    int    // commands since the last PRINT
	readAt  time.Time
	first   time.Time // when the label being built started arriving
}

func (t *tsplParser) inLabel() bool { return t.cmds > 0 }

func (t *tsplParser) feed(b []byte, p *Printer) (reply []byte) {
	for len(b) > 0 {
		if t.skip > 0 {
			n := min(t.skip, len(b))
			t.skip -= n
			b = b[n:]
			continue
		}
		c := b[0]
		// Real-time queries are recognised only between commands.
		if len(t.line) == 0 && c == 0x1B && len(b) >= 3 && b[1] == '!' && b[2] == '?' {
			reply = append(reply, p.status())
			b = b[3:]
			continue
		}
		if len(t.line) == 0 && c == 0x10 && len(b) >= 3 && b[1] == 0x04 {
			reply = append(reply, p.escposStatus(b[2]))
			b = b[3:]
			continue
		}
		t.line = append(t.line, c)
		b = b[1:]
		if bytes.HasPrefix(t.line, []byte("BITMAP ")) && c == ',' {
			if n, ok := bitmapLen(t.line); ok {
				t.skip = n
				t.line = t.line[:0]
				if t.cmds == 0 {
					t.first = t.readAt
				}
				t.cmds++
				continue
			}
		}
		if c == '\n' {
			t.command(bytes.TrimRight(t.line, "\r\n"), p)
			t.line = t.line[:0]
		}
		if len(t.line) > 64<<10 {
			t.line = t.line[:0] // garbage; a real printer would ignore it too
		}
	}
	return reply
}

// bitmapLen reads "BITMAP x,y,wbytes,h,mode," and returns wbytes*h.
func bitmapLen(line []byte) (int, bool) {
	f := bytes.Split(bytes.TrimPrefix(line, []byte("BITMAP ")), []byte(","))
	if len(f) != 6 || len(f[5]) != 0 {
		return 0, false
	}
	w, err1 := strconv.Atoi(string(bytes.TrimSpace(f[2])))
	h, err2 := strconv.Atoi(string(bytes.TrimSpace(f[3])))
	if err1 != nil || err2 != nil || w < 0 || h < 0 {
		return 0, false
	}
	return w * h, true
}

func (t *tsplParser) command(line []byte, p *Printer) {
	if len(line) == 0 {
		return
	}
	if t.cmds == 0 {
		t.first = t.readAt
	}
	t.cmds++
	switch {
	case bytes.HasPrefix(line, []byte("BARCODE ")):
		if i := bytes.LastIndexByte(line[:len(line)-1], '"'); i >= 0 && line[len(line)-1] == '"' {
			t.waybill = string(line[i+1 : len(line)-1])
		}
	case bytes.HasPrefix(line, []byte("PRINT")):
		n := 1
		if f := bytes.Fields(line); len(f) > 1 {
			if v, err := strconv.Atoi(string(bytes.TrimRight(f[1], ","))); err == nil && v > 0 && v < 100 {
				n = v
			}
		}
		for range n {
			p.printed(t.waybill, t.first)
		}
		t.waybill, t.cmds = "", 0
	}
}
