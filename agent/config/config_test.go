package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestEmptyIsDemo(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.DemoMode() || c.Warehouse != "HZ01" || c.Hub.AckTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
}

// The example shipped in packaging/ must parse; only its files (certificates,
// password) are missing on a test machine.
func TestExampleConfig(t *testing.T) {
	b, err := os.ReadFile("../../packaging/dockhand.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(b)
	ps, _ := err.(Problems)
	for _, p := range ps {
		if !strings.Contains(p.Msg, "cannot read /etc/dockhand/") {
			t.Errorf("example config: %s", p)
		}
	}
	if c == nil || len(c.Stations) != 2 || c.Urgent.EscalateIn != 5*time.Minute || c.Scanners[0].DedupFor != 800*time.Millisecond {
		t.Fatalf("example decoded wrong: %+v", c)
	}
}

func TestProblemsCarryLines(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each must appear in the error
	}{
		{"unknown key", "warehouse: HZ01\nwarehose: X\n", []string{"line 2", "warehose"}},
		{"bad type", "hub:\n  outbox_cap: lots\n", []string{"line 2", "lots"}},
		{"bad warehouse", "warehouse: 'HZ 01'\n", []string{"line 1: warehouse"}},
		{"syntax", "stations: [\n", []string{"line"}},
		{"every problem at once", `log:
  level: loud
printers:
  - id: p1
    url: ftp://x
    dpi: 600
scanners:
  - id: s1
    url: serial:///dev/ttyACM0
    terminator: semicolon
stations:
  - id: PACK-01
    kind: packing
    scanners: [s1, s9]
    printer: p2
  - id: PACK-01
    kind: pick
    scanners: [s1]
`, []string{"line 2: log.level", "line 5: printers[0].url", "line 6: printers[0].dpi", "line 10: scanners[0].terminator",
			"line 13: stations[0].kind", `line 14: stations[0].scanners[1]: no scanner with id "s9"`, "line 15: stations[0].printer",
			"line 16: stations[1].id", `already belongs to station PACK-01`}},
		{"bad duration", "retention:\n  orders: 10m\n", []string{"line 2: retention.orders"}},
		{"gc percent", "memory:\n  gc_percent: -5\n", []string{"line 2: memory.gc_percent"}},
		{"memory limit", "memory:\n  gc_percent: 100\n  limit_mb: 8\n", []string{"line 3: memory.limit_mb"}},
		{"broker url", "hub:\n  broker: localhost\n", []string{"line 2: hub.broker"}},
		{"printer option", "printers:\n  - id: p1\n    url: serial:///dev/ttyUSB0?baud_rate=9600\n", []string{"line 3: printers[0].url", "baud_rate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}
