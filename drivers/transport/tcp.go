package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// TCP defaults. A label printer on the LAN answers a dial in milliseconds;
// a long write timeout leaves room for a printer that pauses to cut or peel.
const (
	DefaultDialTimeout  = 5 * time.Second
	DefaultWriteTimeout = 30 * time.Second
	DefaultKeepAlive    = 15 * time.Second
)

func init() { Register("tcp", parseTCP) }

// TCPTarget is a raw TCP (JetDirect, port 9100) printer:
//
//	tcp://host[:port]?dial_timeout=5s&write_timeout=30s&keepalive=15s
type TCPTarget struct {
	Addr         string // host:port; port 9100 when the URL has none
	DialTimeout  time.Duration
	WriteTimeout time.Duration // per Write call; 0 = none
	KeepAlive    time.Duration // TCP keepalive period; 0 = system default
}

func parseTCP(u *url.URL) (Target, error) {
	raw := u.String()
	if u.Host == "" || u.Hostname() == "" {
		return nil, newErrf("parse", raw, ErrBadAddress, "no host; write tcp://10.0.0.21:9100")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, newErrf("parse", raw, ErrBadAddress, "unexpected path %q after the host", u.Path)
	}
	host, port := u.Hostname(), u.Port()
	if !validHost(host) {
		return nil, newErrf("parse", raw, ErrBadAddress, "%q is neither an IP address nor a host name", host)
	}
	if port == "" {
		port = "9100"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, newErrf("parse", raw, ErrBadAddress, "port %q must be a number from 1 to 65535", port)
	}
	t := &TCPTarget{Addr: net.JoinHostPort(host, port)}
	q := newQuery(u, raw)
	t.DialTimeout = q.duration("dial_timeout", DefaultDialTimeout)
	t.WriteTimeout = q.duration("write_timeout", DefaultWriteTimeout)
	t.KeepAlive = q.duration("keepalive", DefaultKeepAlive)
	if err := q.done(); err != nil {
		return nil, err
	}
	return t, nil
}

func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func (t *TCPTarget) String() string { return "tcp://" + t.Addr }

// Open dials the printer.
func (t *TCPTarget) Open(ctx context.Context) (Port, error) {
	// Keepalive probes find a printer that was switched off without closing
	// the connection: after KeepAlive idle, three probes KeepAlive/3 apart.
	d := net.Dialer{Timeout: t.DialTimeout, KeepAliveConfig: net.KeepAliveConfig{
		Enable: t.KeepAlive > 0, Idle: t.KeepAlive, Interval: max(t.KeepAlive/3, time.Second), Count: 3,
	}}
	if t.KeepAlive == 0 {
		d.KeepAlive = -1
	}
	c, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		var nerr net.Error
		switch {
		case errors.Is(err, context.Canceled):
			return nil, fmt.Errorf("transport: open %s: %w", t, err)
		case errors.As(err, &nerr) && nerr.Timeout():
			return nil, newErrf("open", t.String(), ErrOffline, "no answer within %s", t.DialTimeout)
		default:
			return nil, newErr("open", t.String(), ErrOffline, err)
		}
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return &tcpPort{conn: c, target: t}, nil
}

type tcpPort struct {
	conn    net.Conn
	target  *TCPTarget
	ahead   pending
	readMu  sync.Mutex
	writeMu sync.Mutex
	closed  atomic.Bool
}

func (p *tcpPort) Info() Info { return Info{Kind: "tcp", Address: p.target.Addr} }

func (p *tcpPort) Write(b []byte) (int, error) {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	if p.target.WriteTimeout > 0 {
		_ = p.conn.SetWriteDeadline(time.Now().Add(p.target.WriteTimeout))
	}
	n, err := p.conn.Write(b)
	if err != nil {
		return n, p.classify("write", err, n, len(b))
	}
	return n, nil
}

func (p *tcpPort) ReadContext(ctx context.Context, b []byte) (int, error) {
	if n, ok := p.ahead.take(b); ok {
		return n, nil
	}
	p.readMu.Lock()
	defer p.readMu.Unlock()
	return readContext(ctx, p.conn, b, p.target.String(), func(err error) error {
		return p.classify("read", err, 0, 0)
	})
}

// Check peeks at the connection for a millisecond: a printer that closed
// the connection shows up as EOF or a reset. Bytes that arrive are kept for
// the next ReadContext.
func (p *tcpPort) Check() error {
	if !p.readMu.TryLock() {
		return nil // a reader is active and will see the failure itself
	}
	defer p.readMu.Unlock()
	var buf [256]byte
	_ = p.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	n, err := p.conn.Read(buf[:])
	p.ahead.put(buf[:n])
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	return p.classify("check", err, 0, 0)
}

func (p *tcpPort) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := p.conn.Close(); err != nil {
		return newErr("close", p.target.String(), ErrDisconnected, err)
	}
	return nil
}

func (p *tcpPort) classify(op string, err error, sent, total int) error {
	addr := p.target.String()
	switch {
	case p.closed.Load() || errors.Is(err, net.ErrClosed):
		return newErr(op, addr, ErrClosed, nil)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &opError{Op: op, Addr: addr, Sentinel: ErrTimeout, Err: err,
			Detail: fmt.Sprintf("%d of %d bytes sent in %s", sent, total, p.target.WriteTimeout)}
	case errors.Is(err, io.EOF), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED):
		e := &opError{Op: op, Addr: addr, Sentinel: ErrDisconnected, Err: err, Detail: "the printer closed the connection"}
		if op == "write" {
			e.Detail = fmt.Sprintf("the printer closed the connection after %d of %d bytes", sent, total)
		}
		return e
	default:
		return newErr(op, addr, ErrDisconnected, err)
	}
}

// Flush waits until the printer's TCP stack has acknowledged every byte
// written (on Linux; elsewhere it returns at once), bounded by the write
// timeout. A printer that reset the connection after taking part of the job
// makes Flush fail with [ErrDisconnected], even when every Write succeeded.
func (p *tcpPort) Flush() error {
	if p.closed.Load() {
		return newErr("flush", p.target.String(), ErrClosed, nil)
	}
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	timeout := p.target.WriteTimeout
	if timeout <= 0 {
		timeout = DefaultWriteTimeout
	}
	return p.waitAcked(timeout)
}
