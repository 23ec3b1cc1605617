// Package mosqtest starts a real Mosquitto broker for tests: on a free loopback port,
// with its own generated configuration in the test's temporary directory
// (persistence on or off, users with passwords, an ACL file, TLS with
// certificates made by the test), and with Stop, Restart and Kill (SIGKILL) so
// tests can take the broker away the way the floor's network does.
//
// It is test support, exported for every package's tests (Start) and for test
// harnesses that run outside `go test`, such as the peak-day suite (New). When
// the mosquitto binary is missing it says how to install it.
package mosqtest

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is where Debian's mosquitto package puts the broker.
const Binary = "/usr/sbin/mosquitto"

// Options shape the broker's configuration.
type Options struct {
	// Persistence keeps sessions and queued messages across a clean restart.
	Persistence bool
	// Users maps user names to passwords. When set, anonymous clients are refused.
	Users map[string]string
	// ACL is the content of an acl_file (pattern and user lines), or "" for none.
	ACL string
	// TLS serves MQTT over TLS on the port with certificates generated for the test
	// and asks every client for a certificate signed by the test CA.
	TLS bool
	// ClientCertOptional, with TLS, lets clients connect without a certificate
	// (the server is still verified by them).
	ClientCertOptional bool
	// Certs, with TLS, are used instead of fresh ones (brokers that must share a CA).
	Certs *Certs
	// Extra configuration lines, appended as they are.
	Extra []string
}

// ErrNoMosquitto means the broker is not installed.
var ErrNoMosquitto = errors.New("mosquitto is not installed: run `apt-get install -y mosquitto`")

// Broker is one running (or stopped) mosquitto.
type Broker struct {
	t    testing.TB // nil outside a test
	dir  string
	port int
	conf string
	opts Options
	// TLS material when Options.TLS is set.
	Certs *Certs

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
}

// Start runs mosquitto for the test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Broker {
	t.Helper()
	b, err := New(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("mosq: %v (the integration tests need a real broker)", err)
	}
	b.t = t
	t.Cleanup(func() {
		b.Kill()
		if t.Failed() {
			t.Logf("mosquitto log:\n%s", tail(b.Log(), 8000))
		}
	})
	return b
}

// New runs mosquitto with its configuration, state and certificates in dir
// (made if missing), on a free loopback port. The caller ends it with Kill or
// Stop.
func New(dir string, opts Options) (*Broker, error) {
	if _, err := os.Stat(Binary); err != nil {
		return nil, ErrNoMosquitto
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("broker dir: %w", err)
	}
	b := &Broker{dir: dir, opts: opts}
	if opts.TLS {
		b.Certs = opts.Certs
		if b.Certs == nil {
			c, err := NewCerts(b.dir, "127.0.0.1")
			if err != nil {
				return nil, fmt.Errorf("make certificates: %w", err)
			}
			b.Certs = c
		}
	}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		b.port = port
		if err := b.writeConfig(); err != nil {
			return nil, fmt.Errorf("write config: %w", err)
		}
		if lastErr = b.start(); lastErr == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("start broker: %w\n%s", lastErr, tail(b.Log(), 2000))
}

// Addr is host:port of the broker.
func (b *Broker) Addr() string { return "127.0.0.1:" + strconv.Itoa(b.port) }

// URL is the broker's address as an MQTT client wants it (tcp:// or ssl://).
func (b *Broker) URL() string {
	if b.opts.TLS {
		return "ssl://" + b.Addr()
	}
	return "tcp://" + b.Addr()
}

// Dir is the broker's working directory (config, persistence, certificates).
func (b *Broker) Dir() string { return b.dir }

// Log returns what the broker logged so far (across restarts).
func (b *Broker) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.log == nil {
		return ""
	}
	return b.log.String()
}

// Stop ends the broker with SIGTERM and waits, so a persistent broker saves its
// state.
func (b *Broker) Stop() { b.signal(syscall.SIGTERM) }

// Kill ends the broker with SIGKILL: nothing since the last autosave survives.
func (b *Broker) Kill() { b.signal(syscall.SIGKILL) }

// Restart starts a stopped broker again on the same port with the same config;
// it fails the test when it cannot.
func (b *Broker) Restart() {
	b.t.Helper()
	if err := b.Start(); err != nil {
		b.t.Fatalf("mosq: restart broker: %v\n%s", err, tail(b.Log(), 2000))
	}
}

// Start runs a stopped broker again on the same port with the same config and
// waits until it accepts connections. A running broker is left as it is.
func (b *Broker) Start() error {
	if b.Running() {
		return nil
	}
	var err error
	for range 100 { // the port may linger briefly after a kill
		if err = b.start(); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

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

type syncBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

// maxLog bounds the kept log; a long run keeps its last part.
const maxLog = 1 << 20

func (s syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buf.Len() > maxLog {
		keep := append([]byte(nil), s.buf.Bytes()[s.buf.Len()-maxLog/2:]...)
		s.buf.Reset()
		s.buf.Write(keep)
	}
	return s.buf.Write(p)
}

func (b *Broker) start() error {
	b.mu.Lock()
	if b.log == nil {
		b.log = new(bytes.Buffer)
	}
	out := syncBuffer{&b.mu, b.log}
	b.mu.Unlock()
	cmd := exec.Command(Binary, "-c", b.conf)
	cmd.Stdout, cmd.Stderr = out, out
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", Binary, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			return errors.New("mosquitto exited at start (port taken or bad config)")
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("mosquitto did not listen on %s within 5s", b.Addr())
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.mu.Lock()
	b.cmd, b.done = cmd, done
	b.mu.Unlock()
	return nil
}

func (b *Broker) writeConfig() error {
	var c strings.Builder
	fmt.Fprintf(&c, "listener %d 127.0.0.1\n", b.port)
	c.WriteString("log_dest stdout\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n")
	c.WriteString("max_queued_messages 0\nmax_inflight_messages 0\n")
	if os.Geteuid() == 0 {
		c.WriteString("user root\n") // keep access to the test's private directory
	}
	if b.opts.Persistence {
		fmt.Fprintf(&c, "persistence true\npersistence_location %s/\n", b.dir)
	} else {
		c.WriteString("persistence false\n")
	}
	if len(b.opts.Users) > 0 {
		pw := filepath.Join(b.dir, "passwd")
		if err := writePasswd(pw, b.opts.Users); err != nil {
			return err
		}
		fmt.Fprintf(&c, "allow_anonymous false\npassword_file %s\n", pw)
	} else {
		c.WriteString("allow_anonymous true\n")
	}
	if b.opts.ACL != "" {
		acl := filepath.Join(b.dir, "acl")
		if err := os.WriteFile(acl, []byte(b.opts.ACL), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(&c, "acl_file %s\n", acl)
	}
	if b.Certs != nil {
		fmt.Fprintf(&c, "cafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate %v\n",
			b.Certs.CAFile, b.Certs.ServerCertFile, b.Certs.ServerKeyFile, !b.opts.ClientCertOptional)
	}
	for _, l := range b.opts.Extra {
		c.WriteString(l + "\n")
	}
	b.conf = filepath.Join(b.dir, "mosquitto.conf")
	return os.WriteFile(b.conf, []byte(c.String()), 0o600)
}

// writePasswd writes a mosquitto 2.0 password file ($7$: PBKDF2-SHA512).
func writePasswd(path string, users map[string]string) error {
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	var buf strings.Builder
	for _, u := range names {
		salt := make([]byte, 12)
		if _, err := rand.Read(salt); err != nil {
			return err
		}
		const iter = 101
		key, err := pbkdf2.Key(sha512.New, users[u], salt, iter, 64)
		if err != nil {
			return err
		}
		fmt.Fprintf(&buf, "%s:$7$%d$%s$%s\n", u, iter,
			base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(key))
	}
	return os.WriteFile(path, []byte(buf.String()), 0o600)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
