package peakday

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/mosqtest"
)

// agentBinary is built once for every test of the package.
var (
	buildOnce sync.Once
	binPath   string
	binErr    error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fix != nil {
		fix.close()
	}
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func agentBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "peakday-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "dockhand")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		binErr = buildAgent(ctx, binPath)
	})
	if binErr != nil {
		t.Fatalf("build the agent: %v", binErr)
	}
	return binPath
}

// floorFixture is one agent with its broker, hub, a printer, a serial scanner
// on a pseudo-terminal and the scan socket, for the security tests.
type floorFixture struct {
	dir    string
	broker *mosqtest.Broker
	hub    *hubsim.Hub
	agent  *AgentProc
	pty    *Pty
	base   string
	sock   string
	mgr    *API
}

var (
	fixOnce sync.Once
	fix     *floorFixture
	fixErr  error
)

// sharedFloor starts the fixture once for the package's tests; it stops when
// the test binary exits (the children die with it: Pdeathsig).
func sharedFloor(t *testing.T) *floorFixture {
	t.Helper()
	bin := agentBinary(t)
	fixOnce.Do(func() { fix, fixErr = startFloor(bin, "", nil) })
	if fixErr != nil {
		t.Fatalf("start the agent: %v", fixErr)
	}
	return fix
}

// startFloor starts a broker (TLS when certs is set), a hub simulator and the
// agent; extraHub is YAML appended under the agent's hub: section.
func startFloor(bin, extraHub string, certs *mosqtest.Certs) (*floorFixture, error) {
	dir, err := os.MkdirTemp("", "peakday-floor-")
	if err != nil {
		return nil, err
	}
	f := &floorFixture{dir: dir}
	if f.broker, err = mosqtest.New(filepath.Join(dir, "broker"), mosqtest.Options{Persistence: true,
		TLS: certs != nil, Certs: certs, ClientCertOptional: true}); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hubCfg := hubsim.Config{Broker: f.broker.URL(), Warehouse: Warehouse, DBPath: filepath.Join(dir, "hub.db"), NoSync: true, Logger: log}
	if certs != nil {
		hubCfg.TLS.CAFile = certs.CAFile
	}
	if f.hub, err = hubsim.New(hubCfg); err != nil {
		return nil, err
	}
	go func() { _ = f.hub.Run(context.Background()) }()
	p, err := StartPrinter("printer-01", nil)
	if err != nil {
		return nil, err
	}
	if f.pty, err = OpenPty(); err != nil {
		return nil, err
	}
	go f.pty.drain()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	f.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	f.sock = filepath.Join(dir, "scan.sock")
	cfg := fmt.Sprintf(`warehouse: %s
agent: %s
data_dir: %s
log:
  level: debug
  format: json
http:
  listen: 127.0.0.1:%d
hub:
  broker: %s
%sprinters:
  - id: printer-01
    url: %s
scanners:
  - id: scanner-01
    url: serial://%s?baud=9600
    terminator: cr
stations:
  - id: PACK-01
    kind: pack
    printer: printer-01
    scanners: [scanner-01]
bootstrap_manager:
  code: %s
  name: 主管
  pin: "%s"
debug:
  scan_socket: %s
`, Warehouse, AgentID, filepath.Join(dir, "data"), port, f.broker.URL(), extraHub, p.URL(), f.pty.Path, ManagerCode, ManagerPIN, f.sock)
	cfgPath := filepath.Join(dir, "dockhand.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	f.agent = &AgentProc{Binary: bin, Config: cfgPath, LogFile: filepath.Join(dir, "agent.log"), Base: f.base}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.agent.Start(ctx); err != nil {
		b, _ := os.ReadFile(f.agent.LogFile)
		return nil, fmt.Errorf("%w\n%s", err, tail(string(b), 3000))
	}
	f.mgr = NewAPI(f.base)
	if err := f.mgr.SignIn(ctx, ManagerCode, ManagerPIN, ""); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *floorFixture) close() {
	f.agent.Close()
	f.broker.Kill()
	os.RemoveAll(f.dir)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// healthy fails the test unless the agent still answers /healthz with the same process.
func (f *floorFixture) healthy(t *testing.T, pid int) {
	t.Helper()
	if got := f.agent.PID(); got != pid {
		b, _ := os.ReadFile(f.agent.LogFile)
		t.Fatalf("the agent process changed or died (pid %d → %d); log:\n%s", pid, got, tail(string(b), 3000))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.agent.WaitReady(ctx, 5*time.Second); err != nil {
		t.Fatalf("the agent stopped answering: %v", err)
	}
}

// addOperator adds an operator through the manager's session (idempotent).
func (f *floorFixture) addOperator(t *testing.T, code, role, pin string) {
	t.Helper()
	err := f.mgr.Do(context.Background(), "POST", "/api/operators", map[string]string{"code": code, "name": "员工" + code, "role": role, "pin": pin}, nil)
	if err != nil && !strings.Contains(err.Error(), "409") {
		t.Fatalf("add operator %s: %v", code, err)
	}
}
