// Package printertest runs a network label printer on a loopback TCP port for
// tests, demos and benchmarks: it takes raw jobs the way a JetDirect (port 9100)
// printer does, answers real-time status queries (TSPL <ESC>!?, ESC/POS DLE EOT n
// and GS ( H process-id requests) from its own simulated state, "prints" each
// label for a configurable time, and can be told to run out of paper, open its
// cover, drop the connection in the middle of a job, or vanish altogether.
//
// It speaks the real protocols over a real socket; only the paper is imaginary.
package printertest

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"time"
)

// Printer is one simulated network printer.
type Printer struct {
	// PrintTime is how long one label takes (default 150ms; a real 76×130 mm
	// label takes about a second); while printing the TSPL status says 0x20.
	PrintTime time.Duration

	mu        sync.Mutex
	ln        net.Listener
	addr      string
	conns     map[net.Conn]bool
	data      bytes.Buffer // every job byte received, status queries removed
	labels    int          // TSPL PRINT commands or ESC/POS cuts seen
	tail      []byte       // the last job bytes, for commands split across reads
	paperOut  bool
	coverOpen bool
	busyUntil time.Time
	dropAfter int // close the connection after this many more job bytes (0: never)
	silent    bool
	queries   int // real-time status queries received
	paperLeft int // labels left before the paper runs out (0: never)
	onLabel   func(n int)
}

// Start listens on a free loopback port.
func Start() (*Printer, error) {
	p := &Printer{PrintTime: 150 * time.Millisecond, conns: map[net.Conn]bool{}}
	if err := p.listen("127.0.0.1:0"); err != nil {
		return nil, err
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

// Addr is host:port; URL is the tcp:// address a printer config takes.
func (p *Printer) Addr() string { p.mu.Lock(); defer p.mu.Unlock(); return p.addr }

// URL is the printer's address as a transport URL.
func (p *Printer) URL() string { return "tcp://" + p.Addr() }

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
	// Replies that wait for the paper (process ids) go out in order from
	// their own goroutine, so real-time status keeps being answered meanwhile.
	var wmu sync.Mutex
	later := make(chan delayed, 1024)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case d := <-later:
				select {
				case <-stop:
					return
				case <-time.After(time.Until(d.at)):
				}
				wmu.Lock()
				_, err := c.Write(d.b)
				wmu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	var pending []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			pending = append(pending, buf[:n]...)
			var reply []byte
			var drop bool
			var ds []delayed
			pending, reply, ds, drop = p.consume(pending)
			if len(reply) > 0 {
				wmu.Lock()
				_, err := c.Write(reply)
				wmu.Unlock()
				if err != nil {
					return
				}
			}
			for _, d := range ds {
				later <- d
			}
			if drop {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// delayed is a reply sent once the labels before it are printed.
type delayed struct {
	at time.Time
	b  []byte
}

// consume takes complete commands off b, returning what is left (an incomplete
// tail), the replies to send now and later, and whether to drop the connection now.
func (p *Printer) consume(b []byte) (rest, reply []byte, later []delayed, drop bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(b) > 0 {
		switch {
		case b[0] == 0x1B && len(b) >= 3 && b[1] == '!' && b[2] == '?':
			p.queries++
			if !p.silent {
				reply = append(reply, p.tsplStatus())
			}
			b = b[3:]
			continue
		case b[0] == 0x1B && len(b) < 3 && (len(b) < 2 || b[1] == '!'):
			return b, reply, later, false
		case b[0] == 0x10 && len(b) >= 3 && b[1] == 0x04:
			p.queries++
			if !p.silent {
				reply = append(reply, p.escposStatus(b[2]))
			}
			b = b[3:]
			continue
		case b[0] == 0x10 && len(b) < 3:
			return b, reply, later, false
		case b[0] == 0x1D && len(b) >= 3 && b[1] == '(' && b[2] == 'H':
			if len(b) < 11 {
				return b, reply, later, false
			}
			if !p.silent {
				// Answered once everything before it has printed.
				later = append(later, delayed{at: p.busyUntil, b: []byte{0x37, 0x22, b[7], b[8], b[9], b[10], 0}})
			}
			b = b[11:]
			continue
		}
		// Job bytes up to the next possible command start.
		i := 1
		for i < len(b) && b[i] != 0x1B && b[i] != 0x10 && b[i] != 0x1D {
			i++
		}
		chunk := b[:i]
		if p.dropAfter > 0 {
			if len(chunk) >= p.dropAfter {
				p.data.Write(chunk[:p.dropAfter])
				p.dropAfter = 0
				return nil, reply, later, true
			}
			p.dropAfter -= len(chunk)
		}
		p.data.Write(chunk)
		p.countLabels(chunk)
		b = b[i:]
	}
	return nil, reply, later, false
}

// countLabels counts TSPL PRINT lines and ESC/POS cuts (GS V) in a new chunk of
// job bytes, including ones that straddle the previous chunk.
func (p *Printer) countLabels(chunk []byte) {
	window := append(append([]byte(nil), p.tail...), chunk...)
	count := func(b []byte) int {
		return bytes.Count(b, []byte("\r\nPRINT ")) + bytes.Count(b, []byte("\x1dV"))
	}
	n := count(window) - count(p.tail)
	if len(window) > 7 {
		window = window[len(window)-7:]
	}
	p.tail = window
	for ; n > 0; n-- {
		if p.paperLeft > 0 {
			if p.paperLeft--; p.paperLeft == 0 {
				p.paperOut = true
			}
		}
		p.labels++
		if p.onLabel != nil {
			p.onLabel(p.labels)
		}
		start := time.Now()
		if p.busyUntil.After(start) {
			start = p.busyUntil
		}
		p.busyUntil = start.Add(p.PrintTime)
	}
}

func (p *Printer) tsplStatus() byte {
	var s byte
	if p.coverOpen {
		s |= 0x01
	}
	if p.paperOut {
		s |= 0x04
	}
	if time.Now().Before(p.busyUntil) {
		s |= 0x20
	}
	return s
}

func (p *Printer) escposStatus(n byte) byte {
	s := byte(0x12)
	switch n {
	case 1:
		if p.coverOpen || p.paperOut {
			s |= 0x08 // off-line
		}
	case 2:
		if p.coverOpen {
			s |= 0x04
		}
		if p.paperOut {
			s |= 0x20
		}
	case 4:
		if p.paperOut {
			s |= 0x60
		}
	}
	return s
}

// SetPrintTime sets how long one label takes from now on.
func (p *Printer) SetPrintTime(d time.Duration) { p.mu.Lock(); p.PrintTime = d; p.mu.Unlock() }

// OnLabel calls fn (quickly, under the printer's lock) with the label count
// each time a label's print command (TSPL PRINT, ESC/POS cut) has arrived;
// nil stops it.
func (p *Printer) OnLabel(fn func(n int)) { p.mu.Lock(); p.onLabel = fn; p.mu.Unlock() }

// SetPaperOut makes the printer report paper out (or not).
func (p *Printer) SetPaperOut(v bool) { p.mu.Lock(); p.paperOut = v; p.mu.Unlock() }

// PaperOutAfter makes the printer run out of paper once n more labels have
// arrived (the n-th still prints).
func (p *Printer) PaperOutAfter(n int) { p.mu.Lock(); p.paperLeft = n; p.mu.Unlock() }

// SetCoverOpen makes the printer report its cover open (or not).
func (p *Printer) SetCoverOpen(v bool) { p.mu.Lock(); p.coverOpen = v; p.mu.Unlock() }

// SetSilent makes the printer ignore status queries (a one-way printer).
func (p *Printer) SetSilent(v bool) { p.mu.Lock(); p.silent = v; p.mu.Unlock() }

// DropAfter closes the connection after n more job bytes (a cable pulled mid-job).
func (p *Printer) DropAfter(n int) { p.mu.Lock(); p.dropAfter = n; p.mu.Unlock() }

// Queries is how many real-time status queries the printer received.
func (p *Printer) Queries() int { p.mu.Lock(); defer p.mu.Unlock(); return p.queries }

// Labels is how many labels were printed.
func (p *Printer) Labels() int { p.mu.Lock(); defer p.mu.Unlock(); return p.labels }

// Data returns a copy of every job byte received.
func (p *Printer) Data() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.data.Bytes())
}

// WaitLabels waits until at least n labels were printed or the timeout passed.
func (p *Printer) WaitLabels(n int, timeout time.Duration) bool {
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		if p.Labels() >= n {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return p.Labels() >= n
}

// Vanish closes the listener and every connection: the printer is gone.
func (p *Printer) Vanish() {
	p.mu.Lock()
	ln := p.ln
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
	addr := p.Addr()
	var err error
	for i := 0; i < 50; i++ {
		if err = p.listen(addr); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.Join(errors.New("printertest: cannot listen again"), err)
}

// Close stops the printer for good.
func (p *Printer) Close() { p.Vanish() }
