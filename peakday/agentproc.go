package peakday

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// AgentProc is the real dockhand binary run as a child process.
type AgentProc struct {
	Binary, Config, LogFile string
	Base                    string // http://127.0.0.1:port

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	exit error
	log  *os.File
}

// Start runs the agent and waits until /healthz answers.
func (a *AgentProc) Start(ctx context.Context) error {
	a.mu.Lock()
	if a.log == nil {
		f, err := os.OpenFile(a.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			a.mu.Unlock()
			return fmt.Errorf("agent log: %w", err)
		}
		a.log = f
	}
	cmd := exec.Command(a.Binary, "run", "-config", a.Config)
	cmd.Stdout, cmd.Stderr = a.log, a.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		a.mu.Unlock()
		return fmt.Errorf("start agent: %w", err)
	}
	done := make(chan struct{})
	a.cmd, a.done = cmd, done
	a.mu.Unlock()
	go func() {
		err := cmd.Wait()
		a.mu.Lock()
		a.exit = err
		a.mu.Unlock()
		close(done)
	}()
	return a.WaitReady(ctx, 60*time.Second)
}

// WaitReady waits until /healthz answers OK.
func (a *AgentProc) WaitReady(ctx context.Context, within time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	end := time.Now().Add(within)
	a.mu.Lock()
	done := a.done
	a.mu.Unlock()
	for time.Now().Before(end) {
		select {
		case <-done:
			return fmt.Errorf("agent exited at start (%v); see %s", a.ExitErr(), a.LogFile)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if h, err := GetHealth(ctx, hc, a.Base); err == nil && h.OK {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("agent not ready within %s; see %s", within, a.LogFile)
}

// PID is the running agent's process id, or 0.
func (a *AgentProc) PID() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd == nil || a.cmd.Process == nil {
		return 0
	}
	select {
	case <-a.done:
		return 0
	default:
	}
	return a.cmd.Process.Pid
}

// ExitErr is how the last agent process ended.
func (a *AgentProc) ExitErr() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.exit
}

// Exited is closed when the current process ends.
func (a *AgentProc) Exited() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.done
}

// Kill sends SIGKILL and waits for the process to end.
func (a *AgentProc) Kill() { a.signal(syscall.SIGKILL, 5*time.Second) }

// Stop sends SIGTERM and waits (up to 30 s) for a clean shutdown.
func (a *AgentProc) Stop() error {
	a.signal(syscall.SIGTERM, 60*time.Second)
	err := a.ExitErr()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() != 0 {
		return fmt.Errorf("agent stopped with exit code %d; see %s", ee.ExitCode(), a.LogFile)
	}
	return nil
}

func (a *AgentProc) signal(sig syscall.Signal, wait time.Duration) {
	a.mu.Lock()
	cmd, done := a.cmd, a.done
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Close stops the agent if it runs and closes its log.
func (a *AgentProc) Close() {
	a.Kill()
	a.mu.Lock()
	if a.log != nil {
		a.log.Close()
		a.log = nil
	}
	a.mu.Unlock()
}

// ProcSample is one reading of a process's memory and CPU time.
type ProcSample struct {
	RSSBytes  int64
	AnonBytes int64  // RssAnon
	CPUTicks  uint64 // utime + stime, in clock ticks
}

// ReadProc reads /proc/PID/status (VmRSS) and /proc/PID/stat (utime, stime).
func ReadProc(pid int) (ProcSample, error) {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return ProcSample{}, fmt.Errorf("read process status: %w", err)
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ProcSample{}, fmt.Errorf("read process stat: %w", err)
	}
	return parseProc(string(st), string(stat))
}

// parseProc reads VmRSS from a /proc/PID/status text and utime + stime from a
// /proc/PID/stat line.
func parseProc(status, stat string) (ProcSample, error) {
	var s ProcSample
	found := false
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err != nil || kb < 0 {
					return s, fmt.Errorf("process status: VmRSS %q is not a size", f[0])
				}
				s.RSSBytes, found = kb*1024, true
			}
		}
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			if f := strings.Fields(v); len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				s.AnonBytes = max(kb, 0) * 1024
			}
		}
	}
	if !found {
		return s, errors.New("process status: no VmRSS line")
	}
	// The command name may hold spaces and parentheses; fields count from after its last ')'.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return s, errors.New("process stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is the state (field 3); utime is field 14, stime field 15.
	if len(f) < 13 {
		return s, errors.New("process stat: too few fields")
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	stt, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("process stat: utime %q and stime %q must be numbers", f[11], f[12])
	}
	s.CPUTicks = ut + stt
	return s, nil
}

// clockTicks is USER_HZ; 100 on every Linux this runs on.
const clockTicks = 100
