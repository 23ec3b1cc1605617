package transport

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// pipeTarget opens the real TCP port code over an in-memory net.Pipe, so
// that the supervisor runs inside a synctest bubble. The first fails opens
// fail as an unreachable printer would.
type pipeTarget struct {
	mu     sync.Mutex
	fails  int
	opens  []time.Time
	device chan net.Conn // the printer's end of each opened pipe
}

func newPipeTarget(fails int) *pipeTarget {
	return &pipeTarget{fails: fails, device: make(chan net.Conn, 16)}
}

func (p *pipeTarget) String() string { return "tcp://pipe:9100" }

func (p *pipeTarget) Open(ctx context.Context) (Port, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opens = append(p.opens, time.Now())
	if p.fails > 0 {
		p.fails--
		return nil, newErr("open", p.String(), ErrOffline, errors.New("connection refused"))
	}
	host, dev := net.Pipe()
	p.device <- dev
	return &tcpPort{conn: host, target: &TCPTarget{Addr: "pipe:9100", WriteTimeout: time.Second}}, nil
}

func (p *pipeTarget) setFails(n int) {
	p.mu.Lock()
	p.fails = n
	p.mu.Unlock()
}

func (p *pipeTarget) gaps() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var d []time.Duration
	for i := 1; i < len(p.opens); i++ {
		d = append(d, p.opens[i].Sub(p.opens[i-1]))
	}
	return d
}

type eventLog struct {
	mu sync.Mutex
	ev []Event
}

func (l *eventLog) add(e Event) { l.mu.Lock(); l.ev = append(l.ev, e); l.mu.Unlock() }

func (l *eventLog) states() []State {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s []State
	for _, e := range l.ev {
		s = append(s, e.State)
	}
	return s
}

// last returns the n-th most recent event of state st (0 = the latest).
func (l *eventLog) last(st State, n int) Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.ev) - 1; i >= 0; i-- {
		if l.ev[i].State == st {
			if n == 0 {
				return l.ev[i]
			}
			n--
		}
	}
	return Event{}
}

func startSupervisor(t *testing.T, tg Target, opt SupervisorOptions) (*Supervisor, *eventLog, context.CancelFunc, chan error) {
	log := &eventLog{}
	opt.OnEvent = log.add
	opt.Logger = slog.New(slog.DiscardHandler)
	s := NewTargetSupervisor(tg, opt)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return s, log, cancel, done
}

func TestSupervisorBackoff(t *testing.T) {
	tests := []struct {
		name string
		rand float64
		want []time.Duration
	}{
		{"no jitter", 0, []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}},
		// Jitter 0.2 at the middle of its range takes 10% off each wait.
		{"jitter", 0.5, []time.Duration{90, 180, 360, 720, 900, 900, 900}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tg := newPipeTarget(len(tt.want))
				s, log, cancel, done := startSupervisor(t, tg, SupervisorOptions{Rand: func() float64 { return tt.rand }})
				time.Sleep(10 * time.Second)
				synctest.Wait()

				want := make([]time.Duration, len(tt.want))
				for i, ms := range tt.want {
					want[i] = ms * time.Millisecond
				}
				if got := tg.gaps(); !slices.Equal(got, want) {
					t.Errorf("waits between opens = %v, want %v", got, want)
				}
				// One offline report (the reason did not change), then connected.
				if got := log.states(); !slices.Equal(got, []State{StateOffline, StateConnected}) {
					t.Errorf("events = %v, want [offline connected]", got)
				}
				if st, err := s.State(); st != StateConnected || err != nil {
					t.Errorf("State() = %v, %v", st, err)
				}
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run after cancel = %v, want nil", err)
				}
				if st, _ := s.State(); st != StateOffline {
					t.Errorf("State() after Run ended = %v", st)
				}
				if _, err := s.Port(); !errors.Is(err, ErrOffline) {
					t.Errorf("Port() after Run ended = %v, want ErrOffline", err)
				}
			})
		})
	}
}

func TestSupervisorNoticesUnplugAndReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := newPipeTarget(0)
		s, log, cancel, done := startSupervisor(t, tg, SupervisorOptions{Rand: func() float64 { return 0 }})
		defer func() { cancel(); <-done }()

		p, err := s.Wait(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		dev := <-tg.device
		got := make(chan []byte, 1)
		go func() { b, _ := io.ReadAll(dev); got <- b }()
		if err := s.Do(t.Context(), func(p Port) error {
			_, err := p.Write([]byte("PRINT 1\r\n"))
			return err
		}); err != nil {
			t.Fatalf("Do: %v", err)
		}
		_ = p

		// The printer goes away while idle: the periodic check notices.
		dev.Close()
		if b := <-got; string(b) != "PRINT 1\r\n" {
			t.Errorf("printer got %q", b)
		}
		tg.setFails(3)
		time.Sleep(600 * time.Millisecond) // one check interval (500ms) and change
		synctest.Wait()
		if st, err := s.State(); st != StateOffline || !errors.Is(err, ErrOffline) {
			t.Fatalf("State() after unplug = %v, %v; want offline", st, err)
		}
		if ev := log.last(StateOffline, 1); !errors.Is(ev.Err, ErrDisconnected) {
			t.Errorf("first offline event after the unplug = %+v, want ErrDisconnected", ev)
		}
		err = s.Do(t.Context(), func(Port) error { t.Error("job ran while offline"); return nil })
		if !errors.Is(err, ErrOffline) {
			t.Errorf("Do while offline = %v, want ErrOffline", err)
		}

		// Back after three failed opens: 100+200+400ms of backoff, then 800ms.
		p2, err := s.Wait(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if p2 == nil {
			t.Fatal("no port after reconnect")
		}
		synctest.Wait() // the event is emitted just after waiters are woken
		if want := []State{StateConnected, StateOffline, StateOffline, StateConnected}; !slices.Equal(log.states(), want) {
			t.Errorf("events = %v", log.states())
		}
	})
}

func TestSupervisorJobLosesDevice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := newPipeTarget(0)
		s, _, cancel, done := startSupervisor(t, tg, SupervisorOptions{CheckInterval: -1})
		defer func() { cancel(); <-done }()
		if _, err := s.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		dev := <-tg.device
		dev.Close() // unplugged; no idle checks, so only the job can tell

		err := s.Do(t.Context(), func(p Port) error {
			_, err := p.Write([]byte("PRINT 1\r\n"))
			return err
		})
		if !errors.Is(err, ErrDisconnected) {
			t.Fatalf("Do on an unplugged printer = %v, want ErrDisconnected", err)
		}
		synctest.Wait()
		if _, err := s.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(tg.gaps()); n != 1 {
			t.Errorf("opens after the loss = %d, want 1", n)
		}
		dev2 := <-tg.device
		go io.Copy(io.Discard, dev2)
		if err := s.Do(t.Context(), func(p Port) error {
			_, err := p.Write([]byte("PRINT 1\r\n"))
			return err
		}); err != nil {
			t.Fatalf("Do after reconnect: %v", err)
		}
	})
}

type failingTarget struct{ err error }

func (f failingTarget) String() string                     { return "x://y" }
func (f failingTarget) Open(context.Context) (Port, error) { return nil, f.err }

func TestSupervisorStopsOnConfigErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewTargetSupervisor(failingTarget{newErrf("open", "x://y", ErrUnsupported, "not here")},
			SupervisorOptions{Logger: slog.New(slog.DiscardHandler)})
		if err := s.Run(t.Context()); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Run on an unsupported target = %v, want ErrUnsupported", err)
		}
	})
	if _, err := NewSupervisor("tcp://", SupervisorOptions{}); !errors.Is(err, ErrBadAddress) {
		t.Errorf("NewSupervisor with a bad address = %v, want ErrBadAddress", err)
	}
}

func TestSupervisorWaitTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tg := newPipeTarget(1000)
		s, _, cancel, done := startSupervisor(t, tg, SupervisorOptions{})
		defer func() { cancel(); <-done }()
		ctx, stop := context.WithTimeout(t.Context(), 3*time.Second)
		defer stop()
		_, err := s.Wait(ctx)
		if !errors.Is(err, ErrOffline) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait on a printer that never comes = %v", err)
		}
	})
}
