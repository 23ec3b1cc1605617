package usbvm

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Status is the outcome of one guest test.
type Status string

// Test outcomes. Unfinished means the test started but its result line never came (the
// guest panicked, hung or lost power).
const (
	Pass       Status = "PASS"
	Fail       Status = "FAIL"
	Skip       Status = "SKIP"
	Unfinished Status = "UNFINISHED"
)

// Markers the guest prints on its console around the test run.
const (
	exitMarker  = "### usbvm exit "          // followed by the test binary's exit code
	setupMarker = "### usbvm setup failed: " // followed by the reason
)

// TestResult is one guest test as reported by `go test -v`.
type TestResult struct {
	Name    string // full name, subtests as Parent/child
	Status  Status
	Elapsed time.Duration
	Output  []string // lines printed while the test ran (for a top-level test, its subtests' too)
}

// Report is what the guest said on its console.
type Report struct {
	Tests      []TestResult // in the order they started
	Finished   bool         // the exit marker was seen
	ExitCode   int          // the guest test binary's exit code, if Finished
	SetupError string       // why the guest could not set up its USB devices, if it said so
}

// Test returns the result for name, or nil.
func (r *Report) Test(name string) *TestResult {
	for i := range r.Tests {
		if r.Tests[i].Name == name {
			return &r.Tests[i]
		}
	}
	return nil
}

// ReportParser reads a guest console line by line, as it streams in.
type ReportParser struct {
	rep     Report
	index   map[string]int
	current string
}

// NewReportParser returns an empty parser.
func NewReportParser() *ReportParser { return &ReportParser{index: map[string]int{}} }

var resultRE = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (\S+) \(([0-9.]+)s\)$`)

// Line feeds one console line (without its line ending).
func (p *ReportParser) Line(line string) {
	line = strings.TrimRight(line, "\r\n")
	line = strings.TrimLeft(line, "\r")
	trimmed := strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(trimmed, exitMarker):
		if code, err := strconv.Atoi(strings.TrimSpace(trimmed[len(exitMarker):])); err == nil {
			p.rep.Finished, p.rep.ExitCode = true, code
		}
		return
	case strings.HasPrefix(trimmed, setupMarker):
		p.rep.SetupError = strings.TrimSpace(trimmed[len(setupMarker):])
		return
	case strings.HasPrefix(line, "=== RUN "), strings.HasPrefix(line, "=== CONT "), strings.HasPrefix(line, "=== NAME "):
		f := strings.Fields(line)
		if len(f) == 3 {
			p.current = f[2]
			p.test(f[2])
		}
		return
	case strings.HasPrefix(line, "=== PAUSE "):
		return
	}
	if !strings.HasPrefix(trimmed, "--- ") {
		if p.current != "" {
			p.addOutput(p.current, line)
		}
		return
	}
	if m := resultRE.FindStringSubmatch(trimmed); m != nil {
		t := p.test(m[2])
		t.Status = Status(m[1])
		if secs, err := strconv.ParseFloat(m[3], 64); err == nil && secs < 1e7 {
			t.Elapsed = time.Duration(secs * float64(time.Second))
		}
		p.addOutput(m[2], line)
		return
	}
	if p.current != "" {
		p.addOutput(p.current, line)
	}
}

func (p *ReportParser) test(name string) *TestResult {
	i, ok := p.index[name]
	if !ok {
		i = len(p.rep.Tests)
		p.index[name] = i
		p.rep.Tests = append(p.rep.Tests, TestResult{Name: name, Status: Unfinished})
	}
	return &p.rep.Tests[i]
}

// addOutput gives a line to the test and, for a subtest, to its top-level test.
func (p *ReportParser) addOutput(name, line string) {
	t := p.test(name)
	t.Output = append(t.Output, line)
	if top, _, ok := strings.Cut(name, "/"); ok && top != "" {
		p.test(top).Output = append(p.test(top).Output, line)
	}
}

// Report returns the report so far. The result shares no memory with the parser.
func (p *ReportParser) Report() *Report {
	r := p.rep
	r.Tests = make([]TestResult, len(p.rep.Tests))
	for i, t := range p.rep.Tests {
		t.Output = append([]string(nil), t.Output...)
		r.Tests[i] = t
	}
	return &r
}

// ParseReport parses a whole guest console log.
func ParseReport(r io.Reader) (*Report, error) {
	p := NewReportParser()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.Line(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return p.Report(), fmt.Errorf("parse guest console: %w", err)
	}
	return p.Report(), nil
}
