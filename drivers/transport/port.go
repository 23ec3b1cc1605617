package transport

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Port is an open byte stream to one device.
//
// Write sends bytes (a label, a status query) and returns an error wrapping
// [ErrDisconnected] when the device went away mid-job or [ErrTimeout] when it
// stopped accepting data. ReadContext reads status replies: it returns as
// soon as at least one byte arrived, or with an error wrapping
// [context.DeadlineExceeded]/[context.Canceled] when ctx ends first, or
// [ErrOneWay] when the device has no back channel. Close releases the
// device; for usblp it first waits until the last bytes have left.
//
// Flush marks the end of a job: it returns once everything written so far
// has been handed to the device as far as the transport can tell (a serial
// line drained, usblp transfers completed, a spooler job closed so that it
// prints). Writes after Flush start the next job.
//
// A Port is safe for one writer and one reader at the same time; jobs from
// several goroutines must be serialised by the caller (see [Supervisor.Do]).
type Port interface {
	Write(p []byte) (int, error)
	ReadContext(ctx context.Context, p []byte) (int, error)
	Flush() error
	Info() Info
	Close() error
}

// Checker is implemented by ports that can tell, without sending anything to
// the printer and without losing its replies, whether the device is still
// there. A nil result means "still connected". The [Supervisor] calls it
// while the port is idle to notice an unplugged printer before the next job.
type Checker interface {
	Check() error
}

// Info describes an open port.
type Info struct {
	// Kind is the transport: "tcp", "serial", "usblp", "winspool" or "file".
	Kind string
	// Address is where the device was found: "10.0.0.21:9100",
	// "/dev/ttyUSB0", "/dev/usb/lp1", a spooler printer name, a file path.
	Address string
	// DeviceID is the raw IEEE-1284 device id when the transport knows it
	// (usblp), else empty. Parse it with [ParseDeviceID].
	DeviceID string
}

// Target is a parsed, validated device address that can be opened, and
// reopened, any number of times.
type Target interface {
	// Open opens the device. ctx bounds the time spent opening
	// (dialling, finding a USB node); it does not bound the port's lifetime.
	Open(ctx context.Context) (Port, error)
	// String returns the address in URL form.
	String() string
}

// ParseFunc turns a URL of its scheme into a Target, or returns an error
// wrapping [ErrBadAddress] or [ErrUnsupported].
type ParseFunc func(u *url.URL) (Target, error)

type scheme struct {
	parse ParseFunc
	// opaque schemes take everything after "://" verbatim (as u.Opaque),
	// for names that are not URL hosts, such as spooler printer names.
	opaque bool
}

var (
	registryMu sync.RWMutex
	registry   = map[string]scheme{}
)

// Register makes a transport available under a URL scheme. It is meant to be
// called from init functions and panics if the scheme is taken.
func Register(name string, parse ParseFunc) {
	register(name, scheme{parse: parse})
}

func register(name string, s scheme) {
	registryMu.Lock()
	defer registryMu.Unlock()
	name = strings.ToLower(name)
	if _, dup := registry[name]; dup {
		panic("transport: scheme registered twice: " + name)
	}
	registry[name] = s
}

// Schemes lists the registered URL schemes, sorted.
func Schemes() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ParseURL validates a device address without opening it. Use it when
// checking a configuration: an error here wraps [ErrBadAddress] or
// [ErrUnsupported] and will not go away by retrying.
func ParseURL(rawURL string) (Target, error) {
	name, rest, ok := strings.Cut(rawURL, ":")
	if !ok || name == "" || strings.ContainsAny(name, "/?#[]@ ") {
		return nil, newErrf("parse", rawURL, ErrBadAddress, "write it as scheme://address, for example tcp://10.0.0.21:9100; known schemes: %s", strings.Join(Schemes(), ", "))
	}
	name = strings.ToLower(name)
	registryMu.RLock()
	s, known := registry[name]
	registryMu.RUnlock()
	if !known {
		return nil, newErrf("parse", rawURL, ErrBadAddress, "unknown scheme %q; known schemes: %s", name, strings.Join(Schemes(), ", "))
	}
	rest, slashes := strings.CutPrefix(rest, "//")
	if s.opaque && !slashes {
		return nil, newErrf("parse", rawURL, ErrBadAddress, "write it as %s://name", name)
	}
	var u *url.URL
	if s.opaque {
		u = &url.URL{Scheme: name, Opaque: rest}
	} else {
		var err error
		u, err = url.Parse(rawURL)
		if err != nil {
			return nil, newErr("parse", rawURL, ErrBadAddress, err)
		}
		u.Scheme = name
	}
	return s.parse(u)
}

// Open parses rawURL and opens the device it names.
func Open(ctx context.Context, rawURL string) (Port, error) {
	t, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return t.Open(ctx)
}

// query reads typed options from a URL query and remembers the first error.
type query struct {
	v    url.Values
	addr string
	err  error
	used map[string]bool
}

func newQuery(u *url.URL, addr string) *query {
	return &query{v: u.Query(), addr: addr, used: map[string]bool{}}
}

func (q *query) str(key, def string) string {
	q.used[key] = true
	if s := q.v.Get(key); s != "" {
		return s
	}
	return def
}

func (q *query) fail(format string, args ...any) {
	if q.err == nil {
		q.err = newErrf("parse", q.addr, ErrBadAddress, format, args...)
	}
}

// done reports unknown options (a typo such as "baud_rate" must not be
// silently ignored) and returns the first error.
func (q *query) done() error {
	if q.err != nil {
		return q.err
	}
	for k := range q.v {
		if !q.used[k] {
			known := make([]string, 0, len(q.used))
			for u := range q.used {
				known = append(known, u)
			}
			slices.Sort(known)
			return newErrf("parse", q.addr, ErrBadAddress, "unknown option %q; known options: %s", k, strings.Join(known, ", "))
		}
	}
	return nil
}

func (q *query) duration(key string, def time.Duration) time.Duration {
	s := q.str(key, "")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		q.fail("option %s=%q is not a duration such as 5s or 500ms", key, s)
		return def
	}
	return d
}

func (q *query) integer(key string, def int) int {
	s := q.str(key, "")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		q.fail("option %s=%q is not a whole number", key, s)
		return def
	}
	return n
}

// badPath reports a device or file path no system accepts (control
// characters, NUL).
func badPath(p string) bool {
	return strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// escapePath writes a path for a URL.
func escapePath(p string) string { return (&url.URL{Path: p}).EscapedPath() }
