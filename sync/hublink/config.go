package hublink

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is everything the hub link needs. The agent maps its YAML config onto
// it; zero values take the defaults listed on each field.
type Config struct {
	// Broker is the broker's URL: tcp://host:1883, or ssl://host:8883 for TLS
	// (mqtts:// and tls:// work too).
	Broker string
	// Warehouse and Agent are the contract's {wh} and {agent}.
	Warehouse string
	Agent     string
	// Username and Password, when the broker asks for them.
	Username string
	Password string
	// TLS settings; used when the broker URL asks for TLS.
	TLS TLSConfig

	// Version is the agent's version, put into the status.
	Version string
	// StartedAt is when the agent started (default: when Run starts).
	StartedAt time.Time

	KeepAlive      time.Duration // default 30s
	ConnectTimeout time.Duration // default 10s
	Backoff        Backoff       // reconnect delays; default 500ms doubling to 60s, ±20%
	StatusInterval time.Duration // retained status at least this often; default 60s

	// Window is how many events may be published and not yet acked by the hub
	// (default 1000; at most 30000).
	Window int
	// AckTimeout: unacked events are published again when the hub has not
	// acked anything for this long (default 30s).
	AckTimeout time.Duration
	// OutboxCap is the outbox size the site is sized for (default 200000
	// events). Nothing is ever dropped; at OutboxAlarmRatio of it (default 0.8)
	// the link raises a loud alarm in the log, the metrics and State.
	OutboxCap        int
	OutboxAlarmRatio float64

	// BatchMax is the most feed items applied in one store call (default 512).
	BatchMax int
	// FlushDelay is how long the feed waits for more messages before it
	// applies a batch smaller than BatchMax (default 10ms): one transaction
	// and one disk sync for many messages.
	FlushDelay time.Duration
	// EarlyMax is how many messages after a gap are kept in memory while the
	// replay comes (default 10000); later ones are dropped and come again with
	// the replay.
	EarlyMax int
	// SnapshotMax bounds the messages of one snapshot (default 500000).
	SnapshotMax int
	// ReplayRetry: a replay request that has not closed the gap is sent again
	// after this long (default 10s).
	ReplayRetry time.Duration
	// ResyncInterval: the link asks for a replay from its cursor this often
	// even without a gap (default 2m), so that a lost replay request or a lost
	// last message of the feed is noticed; the hub answers with nothing when
	// the agent is up to date.
	ResyncInterval time.Duration
	// SnapshotTimeout: a snapshot without its snapshot.end is dropped and
	// asked for again after this long (default 60s).
	SnapshotTimeout time.Duration

	// Registerer receives the link's metrics (nil: not registered).
	Registerer prometheus.Registerer
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// OnApplied is called (from the link's feed goroutine) after feed changes
	// were applied to the store, so the UI can push updates. Keep it quick.
	OnApplied func(wire.ApplyStats)
}

// TLSConfig says how to talk TLS to the broker. Verification is never turned
// off by default.
type TLSConfig struct {
	CAFile     string // PEM CA bundle; empty: the system's roots
	CertFile   string // client certificate (PEM), if the broker asks for one
	KeyFile    string // its key (PEM)
	ServerName string // name to verify in the broker's certificate; default: the URL's host
	// InsecureSkipVerify turns off certificate checks. Only for a lab.
	InsecureSkipVerify bool
}

// Backoff is capped exponential backoff with jitter.
type Backoff struct {
	Min    time.Duration // first delay (default 500ms)
	Max    time.Duration // cap (default 60s)
	Factor float64       // growth per attempt (default 2)
	Jitter float64       // ± fraction of each delay (0: the default 0.2; negative: none)
	// Rand returns a number in [0,1); default math/rand/v2.
	Rand func() float64
}

// Delay is the wait before reconnect attempt n (n = 1 after the first failure).
func (b Backoff) Delay(n int) time.Duration {
	b = b.withDefaults()
	d := float64(b.Min)
	for i := 1; i < n && d < float64(b.Max); i++ {
		d *= b.Factor
	}
	d = min(d, float64(b.Max))
	if b.Jitter > 0 {
		d *= 1 + b.Jitter*(2*b.Rand()-1)
	}
	return time.Duration(d)
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = 500 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 60 * time.Second
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	if b.Factor < 1 {
		b.Factor = 2
	}
	switch {
	case b.Jitter == 0 || b.Jitter >= 1:
		b.Jitter = 0.2
	case b.Jitter < 0:
		b.Jitter = 0
	}
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
	return b
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	def(&c.KeepAlive, 30*time.Second)
	def(&c.ConnectTimeout, 10*time.Second)
	def(&c.StatusInterval, 60*time.Second)
	def(&c.AckTimeout, 30*time.Second)
	def(&c.ReplayRetry, 10*time.Second)
	def(&c.SnapshotTimeout, 60*time.Second)
	def(&c.ResyncInterval, 2*time.Minute)
	def(&c.FlushDelay, 10*time.Millisecond)
	defInt(&c.Window, 1000)
	c.Window = min(c.Window, 30000) // MQTT packet ids are 16 bits
	defInt(&c.OutboxCap, 200000)
	defInt(&c.BatchMax, 512)
	defInt(&c.EarlyMax, 10000)
	defInt(&c.SnapshotMax, 500000)
	if c.OutboxAlarmRatio <= 0 || c.OutboxAlarmRatio > 1 {
		c.OutboxAlarmRatio = 0.8
	}
	c.Backoff = c.Backoff.withDefaults()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports a config the link cannot run with, in words for whoever
// edits the config file.
func (c Config) Validate() error {
	var errs []error
	if !wire.ValidID(c.Warehouse) {
		errs = append(errs, fmt.Errorf("hub warehouse %q: must be 1-32 letters, digits, '_' or '-'", c.Warehouse))
	}
	if !wire.ValidID(c.Agent) {
		errs = append(errs, fmt.Errorf("hub agent id %q: must be 1-32 letters, digits, '_' or '-'", c.Agent))
	}
	if _, err := brokerURL(c.Broker); err != nil {
		errs = append(errs, err)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("hub TLS: give both a client certificate and its key, or neither"))
	}
	return errors.Join(errs...)
}

func brokerURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("hub broker %q: want a URL like tcp://host:1883 or ssl://host:8883", s)
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	default:
		return nil, fmt.Errorf("hub broker %q: scheme %q is not one of tcp, ssl, mqtts, ws, wss", s, u.Scheme)
	}
	return u, nil
}

func usesTLS(u *url.URL) bool {
	switch u.Scheme {
	case "ssl", "tls", "mqtts", "wss":
		return true
	}
	return false
}

// tlsConfig builds the TLS client config from files.
func (t TLSConfig) tlsConfig(host string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("hub TLS: read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("hub TLS: CA file %s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("hub TLS: load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
