package usbvm

import (
	"os"
	"strings"
	"testing"
	"time"
)

func parseFile(t *testing.T, name string) *Report {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ParseReport(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseReportFixtures(t *testing.T) {
	type want struct {
		name   string
		status Status
	}
	for _, tc := range []struct {
		file     string
		finished bool
		exit     int
		setup    string
		tests    []want
	}{
		{
			file: "testdata/console-pass.txt", finished: true, exit: 0,
			tests: []want{
				{"TestGuestKernelUSBLP", Pass}, {"TestGuestUSBLPLabel", Pass}, {"TestGuestUSBLPIdentity", Pass},
				{"TestGuestUSBLPStatus", Pass}, {"TestGuestUSBLPStatus/ready", Pass}, {"TestGuestUSBLPStatus/paper_out", Pass},
				{"TestGuestUSBLPStatus/paper_out,_fault_line", Pass}, {"TestGuestUSBLPStatus/fault", Pass},
				{"TestGuestUSBLPStatus/paused", Pass}, {"TestGuestUSBLPStatus/ready_again", Pass},
				{"TestGuestUSBLPBackChannel", Pass}, {"TestGuestUSBLPUnplug", Pass},
				{"TestGuestSerialScannerReader", Pass}, {"TestGuestSerialScannerReplug", Pass},
				{"TestGuestHidrawScanner", Pass}, {"TestGuestEvdevScanner", Pass}, {"TestGuestUSBHIDScanner", Pass},
			},
		},
		{
			file: "testdata/console-fail.txt", finished: false,
			tests: []want{
				{"TestGuestA", Pass}, {"TestGuestB", Fail}, {"TestGuestB/paper_out", Fail},
				{"TestGuestB/ready", Pass}, {"TestGuestC", Skip}, {"TestGuestD", Unfinished},
			},
		},
		{
			file: "testdata/console-setup.txt", finished: true, exit: 3,
			setup: "load module usblp.ko: exec format error",
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := parseFile(t, tc.file)
			if r.Finished != tc.finished || r.ExitCode != tc.exit || r.SetupError != tc.setup {
				t.Errorf("finished=%v exit=%d setup=%q; want %v %d %q", r.Finished, r.ExitCode, r.SetupError, tc.finished, tc.exit, tc.setup)
			}
			if len(r.Tests) != len(tc.tests) {
				t.Errorf("got %d tests, want %d: %+v", len(r.Tests), len(tc.tests), r.Tests)
			}
			for i, w := range tc.tests {
				if i >= len(r.Tests) {
					break
				}
				if g := r.Tests[i]; g.Name != w.name || g.Status != w.status {
					t.Errorf("test %d = %s %s, want %s %s", i, g.Name, g.Status, w.name, w.status)
				}
			}
		})
	}
}

func TestParseReportOutput(t *testing.T) {
	r := parseFile(t, "testdata/console-fail.txt")
	b := r.Test("TestGuestB")
	if b == nil || b.Elapsed != 80*time.Millisecond {
		t.Fatalf("TestGuestB = %+v", b)
	}
	out := strings.Join(b.Output, "\n")
	for _, s := range []string{"want 0x30", "--- FAIL: TestGuestB/paper_out", "--- FAIL: TestGuestB (0.08s)"} {
		if !strings.Contains(out, s) {
			t.Errorf("TestGuestB output lacks %q:\n%s", s, out)
		}
	}
	if sub := r.Test("TestGuestB/paper_out"); sub == nil || !strings.Contains(strings.Join(sub.Output, "\n"), "want 0x30") {
		t.Errorf("subtest output not kept: %+v", sub)
	}
	d := strings.Join(r.Test("TestGuestD").Output, "\n")
	if !strings.Contains(d, "panic: runtime error") || !strings.Contains(d, "usblp0: nonzero") {
		t.Errorf("the unfinished test lacks the panic and kernel lines:\n%s", d)
	}
	if r.Test("TestGuestZ") != nil {
		t.Error("Test of an unknown name is not nil")
	}
}

func TestReportParserStreaming(t *testing.T) {
	p := NewReportParser()
	p.Line("=== RUN   TestGuestX\r")
	first := p.Report()
	if len(first.Tests) != 1 || first.Tests[0].Status != Unfinished {
		t.Fatalf("after RUN: %+v", first.Tests)
	}
	p.Line("\r--- PASS: TestGuestX (1.50s)\r")
	p.Line("### usbvm exit 0\r")
	r := p.Report()
	if r.Tests[0].Status != Pass || r.Tests[0].Elapsed != 1500*time.Millisecond || !r.Finished {
		t.Fatalf("after PASS: %+v", r)
	}
	if first.Tests[0].Status != Unfinished {
		t.Error("an earlier Report changed when the parser moved on")
	}
}

func FuzzParseReport(f *testing.F) {
	for _, name := range []string{"testdata/console-pass.txt", "testdata/console-fail.txt", "testdata/console-setup.txt"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("=== RUN   A/B/C\n    --- FAIL: A/B/C (1e400s)\n### usbvm exit x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReport(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, tr := range r.Tests {
			if tr.Name == "" || seen[tr.Name] {
				t.Fatalf("bad or repeated test name %q", tr.Name)
			}
			seen[tr.Name] = true
			if tr.Elapsed < 0 {
				t.Fatalf("negative elapsed %v", tr.Elapsed)
			}
		}
	})
}
