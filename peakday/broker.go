package peakday

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MosquittoBinary is where Debian's mosquitto package puts the broker.
const MosquittoBinary = "/usr/sbin/mosquitto"

// ErrNoMosquitto means the broker is not installed.
var ErrNoMosquitto = errors.New("mosquitto is not installed: run `apt-get install -y mosquitto`")

// Broker is a real Mosquitto run as a child process on a fixed loopback port,
// so it can be stopped (an outage), restarted and killed.
type Broker struct {
	dir  string
	port int
	tls  *Certs

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  bytes.Buffer
}

// BrokerOptions shape the broker.
type BrokerOptions struct {
	// Certs, when set, serves MQTT over TLS with them (no client certificate asked).
	Certs *Certs
}

// StartBroker writes a configuration into dir and starts mosquitto on a free
// port with persistence on (a SIGTERM restart keeps queued messages).
func StartBroker(dir string, opts BrokerOptions) (*Broker, error) {
	if _, err := os.Stat(MosquittoBinary); err != nil {
		return nil, ErrNoMosquitto
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("broker dir: %w", err)
	}
	b := &Broker{dir: dir, tls: opts.Certs}
	var err error
	for range 5 {
		if b.port, err = freePort(); err != nil {
			return nil, fmt.Errorf("broker: free port: %w", err)
		}
		if err = b.writeConfig(); err != nil {
			return nil, err
		}
		if err = b.Start(); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("start mosquitto: %w\n%s", err, b.Log())
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (b *Broker) writeConfig() error {
	lines := []string{
		"listener " + strconv.Itoa(b.port) + " 127.0.0.1",
		"allow_anonymous true",
		"user root", // keep access to the private work dir (no privilege drop when run as root)
		"persistence true",
		"persistence_location " + b.dir + "/",
		"autosave_interval 30",
		"max_queued_messages 1000000",
		"max_inflight_messages 1000",
		"log_dest stderr",
		"log_type error",
		"log_type warning",
	}
	if b.tls != nil {
		lines = append(lines, "cafile "+b.tls.CAFile, "certfile "+b.tls.ServerCertFile, "keyfile "+b.tls.ServerKeyFile, "require_certificate false")
	}
	err := os.WriteFile(filepath.Join(b.dir, "mosquitto.conf"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	if err != nil {
		return fmt.Errorf("broker config: %w", err)
	}
	return nil
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return "127.0.0.1:" + strconv.Itoa(b.port) }

// URL is the broker's address as an MQTT client takes it.
func (b *Broker) URL() string {
	if b.tls != nil {
		return "ssl://" + b.Addr()
	}
	return "tcp://" + b.Addr()
}

// Log is what the broker wrote so far.
func (b *Broker) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.log.String()
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() > 1<<20 {
		w.buf.Reset()
	}
	return w.buf.Write(p)
}

// Start runs the broker (again) and waits until it accepts connections.
func (b *Broker) Start() error {
	b.mu.Lock()
	if b.cmd != nil {
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()
	var err error
	for range 100 { // the port may linger for a moment after a kill
		if err = b.start(); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

func (b *Broker) start() error {
	cmd := exec.Command(MosquittoBinary, "-c", filepath.Join(b.dir, "mosquitto.conf"))
	w := lockedWriter{&b.mu, &b.log}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mosquitto: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return errors.New("mosquitto exited at start")
		default:
		}
		if c, err := net.DialTimeout("tcp", b.Addr(), 100*time.Millisecond); err == nil {
			c.Close()
			b.mu.Lock()
			b.cmd, b.done = cmd, done
			b.mu.Unlock()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-done
	return errors.New("mosquitto did not listen within 5s")
}

// Stop ends the broker with SIGTERM (it saves its state) and waits.
func (b *Broker) Stop() { b.signal(syscall.SIGTERM) }

// Kill ends the broker with SIGKILL: what it had not saved is lost.
func (b *Broker) Kill() { b.signal(syscall.SIGKILL) }

// Running reports whether the broker process is up.
func (b *Broker) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cmd != nil
}

func (b *Broker) signal(sig syscall.Signal) {
	b.mu.Lock()
	cmd, done := b.cmd, b.done
	b.cmd = nil
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
