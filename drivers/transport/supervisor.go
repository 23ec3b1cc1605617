package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// State is whether a supervised device is usable.
type State int

// States.
const (
	StateOffline State = iota
	StateConnected
)

func (s State) String() string {
	if s == StateConnected {
		return "connected"
	}
	return "offline"
}

// Event reports a change of a supervised device.
type Event struct {
	Target string    // the device's address
	State  State     // the new state
	Info   Info      // the open port, when connected
	Err    error     // why the device is offline (wraps ErrClosed once Run stopped); nil when connected
	At     time.Time // when the change happened
}

// SupervisorOptions are the knobs of a [Supervisor]. Zero values take the
// defaults shown.
type SupervisorOptions struct {
	// MinBackoff is the wait before the first reopen (100ms); each failure
	// doubles it up to MaxBackoff (1s), so a device that comes back is
	// found within about a second.
	MinBackoff, MaxBackoff time.Duration
	// Jitter takes up to this fraction off each wait (0.2) so that many
	// agents do not hammer a print server in step. Negative disables it.
	Jitter float64
	// Rand returns a number in [0,1) for the jitter (math/rand/v2 by default).
	Rand func() float64
	// CheckInterval is how often an idle port that implements [Checker] is
	// checked for an unplugged device (500ms). Negative disables checks.
	CheckInterval time.Duration
	// OpenTimeout bounds each open attempt (5s).
	OpenTimeout time.Duration
	// OnEvent is called from the supervisor's goroutine on every change of
	// state, and when an offline device's reason changes. It must not block
	// and must not call Do.
	OnEvent func(Event)
	// Logger receives state changes (slog.Default()).
	Logger *slog.Logger
}

func (o *SupervisorOptions) defaults() {
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.Jitter == 0 {
		o.Jitter = 0.2
	}
	o.Jitter = min(max(o.Jitter, 0), 1)
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = 500 * time.Millisecond
	}
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Supervisor keeps one device open: it opens it, notices when it goes away
// (a failed job, or a failed idle [Checker.Check]), and reopens it with
// capped exponential backoff and jitter until it is back. Jobs go through
// [Supervisor.Do], which serialises them and fails fast with [ErrOffline]
// while the device is away.
type Supervisor struct {
	target Target
	opt    SupervisorOptions

	job sync.Mutex // held by Do and by idle checks

	mu      sync.Mutex
	port    Port
	state   State
	lastErr error
	changed chan struct{} // closed and replaced at every change
	lostCh  chan lostReport
}

type lostReport struct {
	port Port
	err  error
}

// NewSupervisor parses rawURL (a bad address is an error now, not a retry
// loop later) and returns a supervisor for it. Call Run to start it.
func NewSupervisor(rawURL string, opt SupervisorOptions) (*Supervisor, error) {
	t, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return NewTargetSupervisor(t, opt), nil
}

// NewTargetSupervisor supervises an already parsed target.
func NewTargetSupervisor(t Target, opt SupervisorOptions) *Supervisor {
	opt.defaults()
	return &Supervisor{
		target:  t,
		opt:     opt,
		lastErr: newErrf("open", t.String(), ErrOffline, "not opened yet"),
		changed: make(chan struct{}),
		lostCh:  make(chan lostReport, 8),
	}
}

// Target returns the supervised address.
func (s *Supervisor) Target() Target { return s.target }

// State returns the current state and, when offline, why.
func (s *Supervisor) State() (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == StateConnected {
		return s.state, nil
	}
	return s.state, s.lastErr
}

// Port returns the open port, or an error wrapping [ErrOffline] (and the
// reason the device is away). Errors from its Write, ReadContext and Flush
// that mean the device is gone make the supervisor reopen it; so does its
// Close. Prefer [Supervisor.Do], which also keeps jobs from interleaving.
func (s *Supervisor) Port() (Port, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.port == nil {
		return nil, s.offlineErr()
	}
	return &supervised{Port: s.port, s: s}, nil
}

func (s *Supervisor) offlineErr() error {
	if errors.Is(s.lastErr, ErrOffline) {
		return s.lastErr
	}
	return &opError{Op: "use", Addr: s.target.String(), Sentinel: ErrOffline, Err: s.lastErr}
}

// Wait blocks until the device is connected or ctx ends, and returns the
// port as [Supervisor.Port] does.
func (s *Supervisor) Wait(ctx context.Context) (Port, error) {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if p, err := s.Port(); err == nil {
			return p, nil
		}
		select {
		case <-ctx.Done():
			s.mu.Lock()
			err := s.offlineErr()
			s.mu.Unlock()
			return nil, fmt.Errorf("%w (waited until: %w)", err, ctx.Err())
		case <-ch:
		}
	}
}

// Do runs one job on the device: fn writes (and may read) through the
// port, and when it succeeds Do flushes the port so that the job is
// complete when Do returns. Jobs never interleave. While the device is
// offline Do fails at once with an error wrapping [ErrOffline]; a job that
// loses the device fails with [ErrDisconnected] and the supervisor starts
// reopening it. The job may have been printed in part: the caller decides
// whether to send it again.
func (s *Supervisor) Do(ctx context.Context, fn func(Port) error) error {
	s.job.Lock()
	defer s.job.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.Port()
	if err != nil {
		return err
	}
	if err := fn(p); err != nil {
		return err
	}
	return p.Flush()
}

// report tells Run that port is dead.
func (s *Supervisor) report(p Port, err error) {
	select {
	case s.lostCh <- lostReport{port: p, err: err}:
	default: // reports are piling up; Run is reopening anyway
	}
}

// Run opens the device and keeps it open until ctx ends; then it closes the
// port and returns nil. It returns an error only when the address can never
// work on this system (an error wrapping [ErrUnsupported] or [ErrBadAddress]
// at open).
func (s *Supervisor) Run(ctx context.Context) error {
	var closing sync.WaitGroup
	defer closing.Wait()
	attempt := 0
	for {
		if err := ctx.Err(); err != nil {
			return nil
		}
		octx, cancel := context.WithTimeout(ctx, s.opt.OpenTimeout)
		p, err := s.target.Open(octx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, ErrUnsupported) || errors.Is(err, ErrBadAddress) {
				s.setOffline(err, false) // Run's caller gets (and logs) the error
				return err               // no retry will make this address work
			}
			s.setOffline(err, true)
			if !s.sleep(ctx, s.backoff(attempt)) {
				return nil
			}
			attempt++
			continue
		}
		attempt = 0
		s.setConnected(p)
		err = s.hold(ctx, p)
		s.mu.Lock()
		s.port = nil
		s.mu.Unlock()
		if ctx.Err() != nil {
			_ = p.Close()
			s.setOffline(&opError{Op: "run", Addr: s.target.String(), Sentinel: ErrClosed, Err: context.Cause(ctx)}, true)
			return nil
		}
		// Close the lost port on the side: closing a usblp port waits (up to
		// its drain timeout) for transfers in flight, and a re-plugged
		// printer must not wait for that.
		closing.Add(1)
		go func() { defer closing.Done(); _ = p.Close() }()
		s.setOffline(err, true)
		// The device just went away: give it a moment before the first retry.
		if !s.sleep(ctx, s.backoff(0)) {
			return nil
		}
		attempt = 1
	}
}

// hold watches an open port until it is reported lost, fails a check, or
// ctx ends.
func (s *Supervisor) hold(ctx context.Context, p Port) error {
	var tick <-chan time.Time
	checker, canCheck := p.(Checker)
	if canCheck && s.opt.CheckInterval > 0 {
		t := time.NewTicker(s.opt.CheckInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r := <-s.lostCh:
			if r.port == p {
				return r.err
			}
		case <-tick:
			if !s.job.TryLock() {
				continue // a job is running; it will report a loss itself
			}
			err := checker.Check()
			s.job.Unlock()
			if err != nil {
				return err
			}
		}
	}
}

func (s *Supervisor) backoff(attempt int) time.Duration {
	d := s.opt.MaxBackoff
	if attempt < 30 {
		d = min(s.opt.MinBackoff<<attempt, s.opt.MaxBackoff)
	}
	return d - time.Duration(float64(d)*s.opt.Jitter*s.opt.Rand())
}

func (s *Supervisor) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (s *Supervisor) setConnected(p Port) {
	// Drop loss reports about older ports before the new one is handed out.
	for drained := false; !drained; {
		select {
		case <-s.lostCh:
		default:
			drained = true
		}
	}
	s.mu.Lock()
	s.port = p
	s.state = StateConnected
	s.lastErr = nil
	s.notifyLocked()
	s.mu.Unlock()
	info := p.Info()
	s.opt.Logger.Info("printer connected", "target", s.target.String(), "kind", info.Kind, "address", info.Address)
	s.emit(Event{Target: s.target.String(), State: StateConnected, Info: info, At: time.Now()})
}

func (s *Supervisor) setOffline(err error, logIt bool) {
	s.mu.Lock()
	same := s.state == StateOffline && s.lastErr != nil && err != nil && s.lastErr.Error() == err.Error()
	s.state = StateOffline
	s.lastErr = err
	if !same {
		s.notifyLocked()
	}
	s.mu.Unlock()
	if same {
		return
	}
	if logIt {
		s.opt.Logger.Info("printer offline", "target", s.target.String(), "reason", err)
	}
	s.emit(Event{Target: s.target.String(), State: StateOffline, Err: err, At: time.Now()})
}

func (s *Supervisor) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Supervisor) emit(e Event) {
	if s.opt.OnEvent != nil {
		s.opt.OnEvent(e)
	}
}

// supervised is the port handed out by a Supervisor: errors that mean the
// device is gone are reported so that it gets reopened.
type supervised struct {
	Port
	s *Supervisor
}

// check reports a lost device. A write that timed out also gets a fresh
// connection (the old one holds half a job); a read that timed out is only
// a printer that did not answer.
func (p *supervised) check(err error, writing bool) error {
	if err != nil && (lost(err) || writing && errors.Is(err, ErrTimeout)) {
		p.s.report(p.Port, err)
	}
	return err
}

func (p *supervised) Write(b []byte) (int, error) {
	n, err := p.Port.Write(b)
	return n, p.check(err, true)
}

func (p *supervised) ReadContext(ctx context.Context, b []byte) (int, error) {
	n, err := p.Port.ReadContext(ctx, b)
	return n, p.check(err, false)
}

func (p *supervised) Flush() error { return p.check(p.Port.Flush(), true) }

// Close hands the device back for a fresh open (a deliberate reset): the
// supervisor closes the port and reopens it.
func (p *supervised) Close() error {
	p.s.report(p.Port, newErrf("close", p.s.target.String(), ErrOffline, "closed by its user for a reset"))
	return nil
}
