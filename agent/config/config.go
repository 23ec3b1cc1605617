// Package config is the agent's configuration: the YAML schema, its defaults, and
// Validate, which reports every problem at once with the line and key where it is,
// in words the person editing the file understands.
//
// An empty file is a valid configuration: it runs the self-contained demo (an
// embedded broker, the hub simulator with generated sample orders, the agent and
// its web UI on loopback). The commented example in packaging/ is golden-tested
// against this package.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/drivers/transport"
)

// Config is the whole configuration file.
type Config struct {
	Warehouse string    `yaml:"warehouse"`
	Agent     string    `yaml:"agent"`
	DataDir   string    `yaml:"data_dir"`
	Log       Log       `yaml:"log"`
	HTTP      HTTP      `yaml:"http"`
	Hub       Hub       `yaml:"hub"`
	Demo      Demo      `yaml:"demo"`
	Urgent    Urgent    `yaml:"urgent"`
	Retention Retention `yaml:"retention"`
	Memory    Memory    `yaml:"memory"`
	Printers  []Printer `yaml:"printers"`
	Scanners  []Scanner `yaml:"scanners"`
	Stations  []Station `yaml:"stations"`
	// BootstrapManager is the first manager account, created only while no manager
	// exists. Change the PIN after the first sign-in.
	BootstrapManager Operator `yaml:"bootstrap_manager"`
	// Debug holds settings for tests and benchmarks; leave it out in production.
	Debug Debug `yaml:"debug"`

	// positions maps a key path (e.g. "stations[1].printer") to its line.
	positions map[string]int
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// HTTP configures the web UI and API.
type HTTP struct {
	Listen         string   `yaml:"listen"`
	AllowedOrigins []string `yaml:"allowed_origins"`
	// AssetsDir serves the UI from disk instead of the embedded copy (development).
	AssetsDir string `yaml:"assets_dir"`
	// PrintAPIKeyFile holds the first API key of the local print API (for the
	// seller's ERP); managers add more in the console.
	PrintAPIKeyFile string `yaml:"print_api_key_file"`
}

// Hub configures the MQTT link to the order hub. An empty Broker runs the demo.
type Hub struct {
	Broker       string        `yaml:"broker"` // tcp://host:1883, ssl://host:8883
	Username     string        `yaml:"username"`
	Password     string        `yaml:"password"`
	PasswordFile string        `yaml:"password_file"`
	TLS          TLS           `yaml:"tls"`
	OutboxCap    int           `yaml:"outbox_cap"`
	AckTimeout   time.Duration `yaml:"ack_timeout"`
	Window       int           `yaml:"window"`
}

// TLS configures the broker connection's TLS.
type TLS struct {
	CAFile     string `yaml:"ca_file"`
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	ServerName string `yaml:"server_name"`
}

// Demo configures the self-contained demo used when no broker is set.
type Demo struct {
	Orders     int    `yaml:"orders"`      // generated sample orders
	FeedFile   string `yaml:"feed_file"`   // or a JSONL feed to publish instead
	BrokerPort int    `yaml:"broker_port"` // 0: a free port
	Seed       int64  `yaml:"seed"`
}

// Urgent configures the agent's own urgent rules (besides the hub's priority).
type Urgent struct {
	Keywords   []string      `yaml:"keywords"`
	Tiers      []string      `yaml:"tiers"`
	DueWithin  time.Duration `yaml:"due_within"`
	Carriers   []string      `yaml:"carriers"`
	Tags       []string      `yaml:"tags"`
	EscalateIn time.Duration `yaml:"escalate_after"`
}

// Retention says how long finished things are kept.
type Retention struct {
	Orders time.Duration `yaml:"orders"` // shipped/closed orders
}

// Memory tunes the Go garbage collector. The agent's live heap is small (tens
// of MB) and every scan waits on it: collecting less often, under a hard ceiling,
// keeps collections out of the scans' way without letting memory grow. The
// GOGC and GOMEMLIMIT environment variables, when set, win over this.
type Memory struct {
	// GCPercent is the heap growth that starts a collection (GOGC); 400 means a
	// collection when the heap is five times what was live after the last one.
	GCPercent int `yaml:"gc_percent"`
	// LimitMB is the soft ceiling of the Go runtime's memory (GOMEMLIMIT), in
	// MiB: near it the collector runs as often as it must. 0: no ceiling.
	LimitMB int `yaml:"limit_mb"`
}

// Apply sets the collector as m says, unless the GOGC or GOMEMLIMIT
// environment variables were given. It returns what it set, for the log.
func (m Memory) Apply() string {
	var set []string
	if os.Getenv("GOGC") == "" && m.GCPercent > 0 {
		debug.SetGCPercent(m.GCPercent)
		set = append(set, fmt.Sprintf("gc_percent=%d", m.GCPercent))
	}
	if os.Getenv("GOMEMLIMIT") == "" && m.LimitMB > 0 {
		debug.SetMemoryLimit(int64(m.LimitMB) << 20)
		set = append(set, fmt.Sprintf("limit=%dMiB", m.LimitMB))
	}
	return strings.Join(set, " ")
}

// Printer is one label or receipt printer.
type Printer struct {
	ID       string  `yaml:"id"`
	URL      string  `yaml:"url"`   // tcp://h:9100, serial:///dev/ttyUSB0?baud=9600, usblp:///dev/usb/lp0, file:///tmp/out.prn
	Model    string  `yaml:"model"` // a known profile name; fields below override it
	Language string  `yaml:"language"`
	DPI      int     `yaml:"dpi"`
	WidthMM  float64 `yaml:"width_mm"`
	HeightMM float64 `yaml:"height_mm"`
	GapMM    float64 `yaml:"gap_mm"`
	Darkness int     `yaml:"darkness"`
}

// Scanner is one wired barcode scanner.
type Scanner struct {
	ID         string        `yaml:"id"`
	URL        string        `yaml:"url"`        // serial:///dev/ttyACM0?baud=9600, hid://?vid=0c2e&pid=0b61, evdev:///dev/input/event3
	Terminator string        `yaml:"terminator"` // cr, lf, crlf, tab, none
	Prefix     string        `yaml:"prefix"`
	Suffix     string        `yaml:"suffix"`
	DedupFor   time.Duration `yaml:"dedup_window"`
	Keymap     string        `yaml:"keymap"` // us, de, fr
}

// Station is one packing bench, pick PDA group or handover dock.
type Station struct {
	ID       string   `yaml:"id"`
	Kind     string   `yaml:"kind"` // pack, pick, handover
	Scanners []string `yaml:"scanners"`
	Printer  string   `yaml:"printer"`
	Signal   string   `yaml:"signal"` // a relay or light tower: serial:///dev/ttyUSB1?baud=9600
}

// Debug holds test and benchmark inputs.
type Debug struct {
	// ScanSocket is a unix socket taking one JSON scan per line and answering
	// with the verdict after its durable commit (tests that kill the agent, and
	// benchmarks of scan → verdict). Empty: off.
	ScanSocket string `yaml:"scan_socket"`
	// Pprof serves Go's profiler under /debug/pprof/ on the web listener (to
	// find where the agent's time goes). Off unless set.
	Pprof bool `yaml:"pprof"`
}

// Operator is an account given in the file.
type Operator struct {
	Code string `yaml:"code"`
	Name string `yaml:"name"`
	PIN  string `yaml:"pin"`
}

// Default returns the configuration an empty file means.
func Default() Config {
	return Config{
		Warehouse: "HZ01",
		Agent:     "HZ01-A",
		DataDir:   "./data",
		Log:       Log{Level: "info", Format: "text"},
		HTTP:      HTTP{Listen: "127.0.0.1:8080"},
		Hub:       Hub{OutboxCap: 500000, AckTimeout: 30 * time.Second, Window: 256},
		Demo:      Demo{Orders: 200, Seed: 1},
		Urgent: Urgent{Keywords: []string{"生日", "婚礼", "急诊"}, Tiers: []string{"platinum"},
			DueWithin: 4 * time.Hour, Tags: []string{"同城急单"}, EscalateIn: 5 * time.Minute},
		Retention:        Retention{Orders: 7 * 24 * time.Hour},
		Memory:           Memory{GCPercent: 400, LimitMB: 96},
		BootstrapManager: Operator{Code: "M001", Name: "主管", PIN: "1234"},
	}
}

// DemoMode reports whether the agent runs the self-contained demo.
func (c *Config) DemoMode() bool { return c.Hub.Broker == "" }

// Load reads and validates a configuration file. An empty path means defaults.
func Load(path string) (*Config, error) {
	if path == "" {
		c := Default()
		return &c, c.Validate()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Problem is one thing wrong with a configuration.
type Problem struct {
	Line int
	Key  string
	Msg  string
}

func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.Key != "":
		return fmt.Sprintf("line %d: %s: %s", p.Line, p.Key, p.Msg)
	case p.Key != "":
		return fmt.Sprintf("%s: %s", p.Key, p.Msg)
	case p.Line > 0:
		return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
	}
	return p.Msg
}

// Problems lists every problem found.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return fmt.Sprintf("%d problem(s):\n  %s", len(ps), strings.Join(s, "\n  "))
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// Parse decodes a configuration over the defaults and validates it.
func Parse(b []byte) (*Config, error) {
	c := Default()
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, yamlProblems(err)
	}
	c.positions = map[string]int{}
	walk(&root, "", c.positions)
	if len(bytes.TrimSpace(b)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return nil, yamlProblems(err)
		}
	}
	if err := c.Validate(); err != nil {
		return &c, err
	}
	return &c, nil
}

func yamlProblems(err error) error {
	var ps Problems
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, e := range te.Errors {
			ps = append(ps, lineProblem(e))
		}
		return ps
	}
	return Problems{lineProblem(err.Error())}
}

func lineProblem(s string) Problem {
	s = strings.TrimPrefix(s, "yaml: ")
	if m := yamlLine.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		msg := m[2]
		msg = strings.Replace(msg, "not found in type config.", "is not a known setting in ", 1)
		return Problem{Line: n, Msg: msg}
	}
	return Problem{Msg: s}
}

// walk records the line of every key path in the YAML tree.
func walk(n *yaml.Node, path string, pos map[string]int) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walk(c, path, pos)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			pos[p] = k.Line
			walk(n.Content[i+1], p, pos)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			pos[p] = c.Line
			walk(c, p, pos)
		}
	}
}

// Line returns the line of a key path in the file, or 0.
func (c *Config) Line(key string) int {
	for k := key; k != ""; {
		if n, ok := c.positions[k]; ok {
			return n
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Validate checks every setting and returns Problems listing all that are wrong.
func (c *Config) Validate() error {
	var ps Problems
	bad := func(key, format string, args ...any) {
		ps = append(ps, Problem{Line: c.Line(key), Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if !idRe.MatchString(c.Warehouse) {
		bad("warehouse", "%q must be 1-32 letters, digits, '_' or '-' (the hub's warehouse code)", c.Warehouse)
	}
	if !idRe.MatchString(c.Agent) {
		bad("agent", "%q must be 1-32 letters, digits, '_' or '-'", c.Agent)
	}
	if c.DataDir == "" {
		bad("data_dir", "is empty: say where the data file lives, e.g. /var/lib/dockhand")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q must be debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q must be text or json", c.Log.Format)
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		bad("http.listen", "%q is not host:port (e.g. 0.0.0.0:8080): %v", c.HTTP.Listen, err)
	}
	if f := c.HTTP.PrintAPIKeyFile; f != "" {
		if _, err := os.Stat(f); err != nil {
			bad("http.print_api_key_file", "cannot read %s: %v", f, err)
		}
	}
	for i, o := range c.HTTP.AllowedOrigins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" {
			bad(fmt.Sprintf("http.allowed_origins[%d]", i), "%q must be an origin like http://192.168.1.10:8080", o)
		}
	}
	if c.Hub.Broker != "" {
		u, err := url.Parse(c.Hub.Broker)
		if err != nil || u.Host == "" || !oneOf(u.Scheme, "tcp", "ssl", "tls", "mqtt", "mqtts", "ws", "wss") {
			bad("hub.broker", "%q must be a broker URL such as tcp://broker:1883 or ssl://broker:8883", c.Hub.Broker)
		}
		if c.Hub.Password != "" && c.Hub.PasswordFile != "" {
			bad("hub.password_file", "set password or password_file, not both")
		}
		for key, f := range map[string]string{"hub.password_file": c.Hub.PasswordFile, "hub.tls.ca_file": c.Hub.TLS.CAFile,
			"hub.tls.cert_file": c.Hub.TLS.CertFile, "hub.tls.key_file": c.Hub.TLS.KeyFile} {
			if f == "" {
				continue
			}
			if _, err := os.Stat(f); err != nil {
				bad(key, "cannot read %s: %v", f, err)
			}
		}
		if (c.Hub.TLS.CertFile == "") != (c.Hub.TLS.KeyFile == "") {
			bad("hub.tls", "cert_file and key_file go together")
		}
	}
	if c.Hub.OutboxCap < 1000 {
		bad("hub.outbox_cap", "%d is too small; keep at least 1000 events for a day offline", c.Hub.OutboxCap)
	}
	if c.Hub.AckTimeout < time.Second {
		bad("hub.ack_timeout", "%v is too short (at least 1s)", c.Hub.AckTimeout)
	}
	if c.Hub.Window < 1 || c.Hub.Window > 65535 {
		bad("hub.window", "%d must be 1-65535 events in flight", c.Hub.Window)
	}
	if c.Demo.Orders < 0 {
		bad("demo.orders", "must not be negative")
	}
	if c.Retention.Orders < time.Hour {
		bad("retention.orders", "%v is too short (at least 1h)", c.Retention.Orders)
	}
	if c.Memory.GCPercent < 0 || c.Memory.GCPercent > 10000 {
		bad("memory.gc_percent", "%d must be 0 (Go's default) to 10000", c.Memory.GCPercent)
	}
	if c.Memory.LimitMB != 0 && c.Memory.LimitMB < 32 {
		bad("memory.limit_mb", "%d MiB is too little for the agent (at least 32, or 0 for no ceiling)", c.Memory.LimitMB)
	}
	if c.Urgent.DueWithin < 0 {
		bad("urgent.due_within", "must not be negative")
	}
	for i, t := range c.Urgent.Tiers {
		if !oneOf(t, "regular", "gold", "platinum") {
			bad(fmt.Sprintf("urgent.tiers[%d]", i), "%q must be regular, gold or platinum", t)
		}
	}

	printers := map[string]bool{}
	for i, p := range c.Printers {
		key := fmt.Sprintf("printers[%d]", i)
		if !idRe.MatchString(p.ID) {
			bad(key+".id", "%q must be 1-32 letters, digits, '_' or '-'", p.ID)
		} else if printers[p.ID] {
			bad(key+".id", "%q is used by another printer", p.ID)
		}
		printers[p.ID] = true
		if !schemeOneOf(p.URL, "tcp", "serial", "usblp", "winspool", "file") {
			bad(key+".url", "%q must be tcp://host:9100, serial:///dev/ttyUSB0?baud=9600, usblp:///dev/usb/lp0, winspool://Name or file:///path", p.URL)
		} else if _, err := transport.ParseURL(p.URL); err != nil {
			bad(key+".url", "%v", err)
		}
		if p.Model != "" {
			if _, ok := label.ProfileFor(p.Model); !ok {
				bad(key+".model", "%q is not a known model; known: %s", p.Model, strings.Join(label.Models(), ", "))
			}
		}
		if p.Language != "" && !oneOf(p.Language, "tspl", "escpos") {
			bad(key+".language", "%q must be tspl or escpos", p.Language)
		}
		if p.DPI != 0 && p.DPI != 203 && p.DPI != 300 {
			bad(key+".dpi", "%d must be 203 or 300", p.DPI)
		}
		if p.WidthMM < 0 || p.WidthMM > 120 || p.HeightMM < 0 || p.HeightMM > 300 {
			bad(key, "label size %gx%g mm is out of range", p.WidthMM, p.HeightMM)
		}
	}
	scanners := map[string]bool{}
	for i, s := range c.Scanners {
		key := fmt.Sprintf("scanners[%d]", i)
		if !idRe.MatchString(s.ID) {
			bad(key+".id", "%q must be 1-32 letters, digits, '_' or '-'", s.ID)
		} else if scanners[s.ID] {
			bad(key+".id", "%q is used by another scanner", s.ID)
		}
		scanners[s.ID] = true
		if !schemeOneOf(s.URL, "serial", "hid", "hidraw", "evdev") {
			bad(key+".url", "%q must be serial:///dev/ttyACM0?baud=9600, hid://?vid=0c2e&pid=0b61, hidraw:///dev/hidraw0 or evdev:///dev/input/event3", s.URL)
		}
		if s.Terminator != "" && !oneOf(s.Terminator, "cr", "lf", "crlf", "tab", "none") {
			bad(key+".terminator", "%q must be cr, lf, crlf, tab or none", s.Terminator)
		}
		if s.Keymap != "" && !oneOf(s.Keymap, "us", "de", "fr") {
			bad(key+".keymap", "%q must be us, de or fr", s.Keymap)
		}
	}
	stations := map[string]bool{}
	usedBy := map[string]string{}
	for i, s := range c.Stations {
		key := fmt.Sprintf("stations[%d]", i)
		if !idRe.MatchString(s.ID) {
			bad(key+".id", "%q must be 1-32 letters, digits, '_' or '-'", s.ID)
		} else if stations[s.ID] {
			bad(key+".id", "%q is used by another station", s.ID)
		}
		stations[s.ID] = true
		if !oneOf(s.Kind, "pack", "pick", "handover") {
			bad(key+".kind", "%q must be pack, pick or handover", s.Kind)
		}
		for j, sc := range s.Scanners {
			k := fmt.Sprintf("%s.scanners[%d]", key, j)
			if !scanners[sc] {
				bad(k, "no scanner with id %q is configured", sc)
			} else if other, ok := usedBy[sc]; ok {
				bad(k, "scanner %q already belongs to station %s", sc, other)
			}
			usedBy[sc] = s.ID
		}
		if s.Printer != "" && !printers[s.Printer] {
			bad(key+".printer", "no printer with id %q is configured", s.Printer)
		}
		if s.Kind == "pack" && s.Printer == "" && len(c.Printers) > 0 {
			bad(key+".printer", "a pack station needs a printer for the waybill")
		}
		if s.Signal != "" && !schemeOneOf(s.Signal, "serial") {
			bad(key+".signal", "%q must be serial:///dev/ttyUSB1?baud=9600", s.Signal)
		}
	}
	if c.BootstrapManager.Code != "" && len(c.BootstrapManager.PIN) < 4 {
		bad("bootstrap_manager.pin", "must have at least 4 digits")
	}
	if len(ps) == 0 {
		return nil
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
	return ps
}

func oneOf(s string, opts ...string) bool {
	for _, o := range opts {
		if s == o {
			return true
		}
	}
	return false
}

func schemeOneOf(raw string, schemes ...string) bool {
	u, err := url.Parse(raw)
	return err == nil && oneOf(u.Scheme, schemes...)
}

// BrokerPassword returns the broker password, reading password_file if set.
func (c *Config) BrokerPassword() (string, error) {
	if c.Hub.PasswordFile == "" {
		return c.Hub.Password, nil
	}
	b, err := os.ReadFile(c.Hub.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("read hub.password_file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
