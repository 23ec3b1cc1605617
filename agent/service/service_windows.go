//go:build windows

package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kardianos/service"
	"golang.org/x/sys/windows"
)

// maxLogSize is the size beyond which the log is set aside at service start.
const maxLogSize = 10 << 20

// stopTimeout bounds how long a stop request waits for the agent to finish;
// the service manager's own limit is about 20 s by default.
const stopTimeout = 15 * time.Second

// DataDir is where the agent keeps its store and logs:
// %ProgramData%\Dockhand.
func DataDir() string {
	base := os.Getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData`
	}
	return filepath.Join(base, "Dockhand")
}

// DefaultConfigPath is the configuration file the installed service reads.
func DefaultConfigPath() string {
	return filepath.Join(DataDir(), "dockhand.yaml")
}

// Control installs, uninstalls, starts, stops or restarts the Windows
// service. install registers this executable to run "run -config
// configPath" at boot, restarting it after a failure; configPath must exist.
func Control(action, configPath string) error {
	if err := checkAction(action); err != nil {
		return err
	}
	cfg, err := serviceConfig(configPath, action == "install")
	if err != nil {
		return fmt.Errorf("service %s: %w", action, err)
	}
	s, err := service.New(noop{}, cfg)
	if err != nil {
		return fmt.Errorf("service %s: %w", action, err)
	}
	if action == "install" {
		if err := os.MkdirAll(DataDir(), 0o750); err != nil {
			return fmt.Errorf("service install: data folder: %w", err)
		}
	}
	if err := service.Control(s, action); err != nil {
		return fmt.Errorf("service %s: %w", action, err)
	}
	return nil
}

// serviceConfig describes the service; for install the configuration file
// must exist and is recorded by its absolute path, because a service starts in
// the system folder.
func serviceConfig(configPath string, install bool) (*service.Config, error) {
	cfg := &service.Config{
		Name:        Name,
		DisplayName: DisplayName,
		Description: Description,
		Option: service.KeyValue{
			service.StartType:              service.ServiceStartAutomatic,
			service.OnFailure:              "restart",
			service.OnFailureDelayDuration: "5s",
			service.OnFailureResetPeriod:   86400,
		},
	}
	if !install {
		return cfg, nil
	}
	if configPath == "" {
		configPath = DefaultConfigPath()
	}
	abs, err := filepath.Abs(configPath)
	if err != nil {
		return nil, fmt.Errorf("config path %q: %w", configPath, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("config file %s not found: copy dockhand.example.yaml there and edit it first: %w", abs, err)
	}
	cfg.Arguments = []string{"run", "-config", abs}
	return cfg, nil
}

// RunService runs run under the Windows service manager until the manager
// asks it to stop, which cancels run's context. It returns ErrNotService at
// once when the process was started from a console. When run fails on its own
// the process exits with status 1 so the manager's recovery restarts it.
func RunService(name string, run func(ctx context.Context) error) error {
	if service.Interactive() {
		return ErrNotService
	}
	p := &program{run: run}
	s, err := service.New(p, &service.Config{Name: name})
	if err != nil {
		return fmt.Errorf("service run: %w", err)
	}
	p.log, _ = s.SystemLogger(nil)
	if err := redirectStderr(); err != nil && p.log != nil {
		_ = p.log.Warningf("dockhand keeps no log file: %v", err)
	}
	if err := s.Run(); err != nil {
		return fmt.Errorf("service run: %w", err)
	}
	return nil
}

// redirectStderr sends standard error, where the agent logs and where a
// crash is reported, to dockhand.log in the data folder: a service has no
// console. A log over maxLogSize is renamed dockhand.log.1 first.
func redirectStderr() error {
	if err := os.MkdirAll(DataDir(), 0o750); err != nil {
		return fmt.Errorf("log folder: %w", err)
	}
	path := filepath.Join(DataDir(), "dockhand.log")
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogSize {
		_ = os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	if err := windows.SetStdHandle(windows.STD_ERROR_HANDLE, windows.Handle(f.Fd())); err != nil {
		f.Close()
		return fmt.Errorf("log file: %w", err)
	}
	os.Stderr = f
	return nil
}

// program adapts a Run(ctx) function to the service manager's start and
// stop calls.
type program struct {
	run    func(ctx context.Context) error
	log    service.Logger
	cancel context.CancelFunc
	done   chan error
}

func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.done = make(chan error, 1)
	go func() {
		err := p.run(ctx)
		if ctx.Err() == nil {
			// Ended without being asked to: report and fail, so the
			// service manager applies its restart policy.
			if p.log != nil {
				_ = p.log.Errorf("dockhand stopped unexpectedly: %v", err)
			}
			os.Exit(1)
		}
		p.done <- err
	}()
	return nil
}

func (p *program) Stop(service.Service) error {
	p.cancel()
	select {
	case err := <-p.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("agent did not stop within %s", stopTimeout)
	}
}

// noop is the program for Control, which never runs the agent itself.
type noop struct{}

func (noop) Start(service.Service) error { return nil }
func (noop) Stop(service.Service) error  { return nil }
