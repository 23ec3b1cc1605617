package peakday

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Machine describes where the run happened.
type Machine struct {
	CPU, Kernel, GoVersion string
	Cores                  int
	MemMB                  int
}

// ThisMachine reads /proc for the CPU model, memory and kernel.
func ThisMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		m.MemMB = kb / 1024
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// WriteReport writes REPORT.md and its charts into dir.
func WriteReport(dir string, res *Result, m Machine, title string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report dir: %w", err)
	}
	if err := res.charts(dir); err != nil {
		return err
	}
	var b strings.Builder
	w := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	o := res.Opts
	w("# %s\n\n", title)
	w("Run on %s UTC on a %d-core %s with %d MB of memory, Linux %s, %s (the machine is shared: other builds and tests ran at the same time).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04"), m.Cores, m.CPU, m.MemMB, m.Kernel, m.GoVersion)
	w("The real `dockhand` binary ran as a child process against a real Mosquitto and the hub simulator. %d orders arrived over %s "+
		"(a compressed promotion day); %d packing benches (%d serial scanners on pseudo-terminals, %d wired scanners on the test scan socket, "+
		"%d PDAs on the HTTP API) and %d handover docks worked them, each bench printing on its own simulated TSPL printer on a TCP port. "+
		"The data directory sat on a %s.\n\n", o.Orders, o.FeedFor, o.Stations, o.SerialStations, o.SocketStations,
		o.Stations-o.SerialStations-o.SocketStations, o.Docks, res.Disk)
	w("The floor worked for %s; the outbox drained %s after the last scan. %d scans, %d events stored at the hub, %d labels printed.\n\n",
		res.Worked.Round(time.Second), res.Drained.Round(time.Millisecond), res.Scans, res.Events, res.Labels)

	w("## Invariants\n\n| result | invariant | checked | broken | detail |\n|---|---|---:|---:|---|\n")
	for _, i := range res.Invariants {
		st := "PASS"
		if !i.Pass() {
			st = "FAIL"
			if i.Target {
				st = "MISSED"
			}
			if i.Note {
				st = "NOTE"
			}
		}
		w("| %s | %s | %d | %d | %s |\n", st, i.Name, i.Checked, i.Broken, mdEscape(i.Detail))
	}
	for _, i := range res.Invariants {
		if len(i.Examples) > 1 {
			w("\nBroken — %s:\n\n", i.Name)
			for _, e := range i.Examples {
				w("- %s\n", mdEscape(e))
			}
		}
	}
	if len(res.Errors) > 0 {
		w("\nErrors during the run:\n\n")
		for _, e := range res.Errors {
			w("- %s\n", mdEscape(e))
		}
	}

	w("\n## Mistakes the people made\n\n| mistake | made | caught with the right reason |\n|---|---:|---:|\n")
	kinds := make([]string, 0, len(res.Mistakes))
	for k := range res.Mistakes {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		c := res.Mistakes[k]
		w("| %s (want `%s`) | %d | %d |\n", k, expectedReason[k], c[1], c[0])
	}
	w("\nOther things the floor met (holds, intercepts found while packing, pulls, set-asides):\n\n")
	ck := make([]string, 0, len(res.Checks))
	for k := range res.Checks {
		ck = append(ck, k)
	}
	sort.Strings(ck)
	for _, k := range ck {
		w("- %s: %d\n", k, res.Checks[k])
	}
	if len(res.Unexpected) > 0 {
		w("\n%d verdicts surprised the simulated people (first ones):\n\n", len(res.Unexpected))
		for i, u := range res.Unexpected {
			if i == 10 {
				break
			}
			w("- %s %s at %s: ok=%v reason=%q next=%q\n", u.OrderID, u.Step, u.Station, u.OK, u.Reason, u.Next)
		}
	}

	w("\n## Scan → verdict latency\n\n| input | scans | p50 | p95 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n")
	vias := make([]string, 0, len(res.ByVia))
	for v := range res.ByVia {
		vias = append(vias, v)
	}
	sort.Strings(vias)
	for _, v := range vias {
		p := res.ByVia[v]
		w("| %s | %d | %s | %s | %s | %s |\n", v, p.N, ms(p.P50), ms(p.P95), ms(p.P99), ms(p.Max))
	}
	p := res.Overall
	w("| all | %d | %s | %s | %s | %s |\n\n", p.N, ms(p.P50), ms(p.P95), ms(p.P99), ms(p.Max))
	if strings.HasPrefix(res.Disk, "tmpfs") {
		w("The data file sat on tmpfs, where fsync costs nothing: on a real disk every commit adds the disk's flush time " +
			"(the engine shares one fsync among the scans that arrive together).\n\n")
	}
	w("The socket is the wired scanner's path (a scan in, the verdict out after the durable commit). Serial scans are timed from the " +
		"bytes written to the pseudo-terminal to the verdict on the websocket; PDA scans are whole HTTP requests.\n\n")
	w("![throughput](throughput.png)\n\n![latency](latency.png)\n\n")

	w("## Faults and recovery\n\n| fault | at (s) | lasted | recovered in | ok | how measured |\n|---|---:|---:|---:|---|---|\n")
	t0 := res.start()
	for _, f := range res.Faults {
		w("| %s | %.0f | %s | %s | %v | %s |\n", f.Name, f.At.Sub(t0).Seconds(), f.Duration.Round(time.Millisecond),
			f.Recovery.Round(time.Millisecond), f.OK, mdEscape(f.Detail))
	}
	w("\n![outbox](outbox.png)\n\n## Memory and CPU of the agent\n\n")
	var maxRSS, maxAnon int64
	var maxCPU, sumCPU float64
	n := 0
	for _, s := range res.Samples {
		maxRSS = max(maxRSS, s.RSSBytes)
		maxAnon = max(maxAnon, s.AnonBytes)
		if s.CPU > 0 {
			maxCPU = max(maxCPU, s.CPU)
			sumCPU += s.CPU
			n++
		}
	}
	var load float64
	for _, s := range res.Samples {
		load += s.Load1
	}
	if len(res.Samples) > 0 {
		load /= float64(len(res.Samples))
	}
	avg := 0.0
	if n > 0 {
		avg = sumCPU / float64(n)
	}
	w("Peak RSS (VmRSS) %.1f MB, of which at most %.1f MB anonymous memory (RssAnon: heap and stacks); the rest is pages of the "+
		"memory-mapped data file, which the kernel can drop and read again. CPU %.0f%% of one core on average, %.0f%% at most "+
		"(from /proc/PID/stat and /proc/PID/status every 250 ms).\n\n",
		float64(maxRSS)/(1<<20), float64(maxAnon)/(1<<20), avg*100, maxCPU*100)
	w("The machine's 1-minute load average during the run was %.1f on average (%d cores): the latency figures include waiting for a core.\n\n", load, m.Cores)
	w("![rss](rss.png)\n\n![cpu](cpu.png)\n")
	return os.WriteFile(filepath.Join(dir, "REPORT.md"), []byte(b.String()), 0o644)
}

func mdEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}

func (r *Result) start() time.Time {
	if len(r.Samples) > 0 {
		return r.Samples[0].At
	}
	if len(r.scans) > 0 {
		return r.scans[0].At
	}
	return time.Now()
}

func (r *Result) charts(dir string) error {
	t0 := r.start()
	var marks []mark
	for _, f := range r.Faults {
		name := f.Name
		if i := strings.IndexAny(name, "(:"); i > 0 {
			name = strings.TrimSpace(name[:i])
		}
		marks = append(marks, mark{X: f.At.Sub(t0).Seconds(), Label: name})
	}
	var tx, ty, p50, p99 []float64
	for _, w := range r.Latency {
		x := w.Start.Sub(t0).Seconds()
		tx = append(tx, x)
		ty = append(ty, w.PerSec)
		p50 = append(p50, float64(w.P50)/1e6)
		p99 = append(p99, float64(w.P99)/1e6)
	}
	var sx, ob, rss, anon, cpu []float64
	for _, s := range r.Samples {
		sx = append(sx, s.At.Sub(t0).Seconds())
		ob = append(ob, float64(s.OutboxPending))
		rss = append(rss, float64(s.RSSBytes)/(1<<20))
		anon = append(anon, float64(s.AnonBytes)/(1<<20))
		cpu = append(cpu, s.CPU*100)
	}
	charts := map[string]chart{
		"throughput.png": {Title: "Scans answered per second", XLabel: "seconds", YLabel: "scans/s", Marks: marks,
			Series: []series{{Name: "scans/s", X: tx, Y: ty}}},
		"latency.png": {Title: "Scan -> verdict latency per window (all inputs)", XLabel: "seconds", YLabel: "ms", Marks: marks, HLine: 10,
			Series: []series{{Name: "p50", X: tx, Y: p50}, {Name: "p99", X: tx, Y: p99}}},
		"outbox.png": {Title: "Outbox depth (events waiting for the hub's ack)", XLabel: "seconds", YLabel: "events", Marks: marks,
			Series: []series{{Name: "pending", X: sx, Y: ob}}},
		"rss.png": {Title: "Agent memory", XLabel: "seconds", YLabel: "MB", Marks: marks, HLine: 150,
			Series: []series{{Name: "VmRSS MB", X: sx, Y: rss}, {Name: "RssAnon MB", X: sx, Y: anon}}},
		"cpu.png": {Title: "Agent CPU (% of one core)", XLabel: "seconds", YLabel: "%", Marks: marks,
			Series: []series{{Name: "CPU %", X: sx, Y: cpu}}},
	}
	for name, c := range charts {
		if err := c.save(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// PrintSummary prints one pass/fail line per invariant with its counts.
func PrintSummary(w io.Writer, res *Result) {
	for _, i := range res.Invariants {
		st := "PASS"
		if !i.Pass() {
			st = "FAIL"
			if i.Target {
				st = "MISS"
			}
			if i.Note {
				st = "NOTE"
			}
		}
		fmt.Fprintf(w, "%s  %-100s checked=%d broken=%d  %s\n", st, i.Name, i.Checked, i.Broken, i.Detail)
		for _, e := range i.Examples {
			fmt.Fprintf(w, "      - %s\n", e)
		}
	}
	for _, f := range res.Faults {
		fmt.Fprintf(w, "fault %-50s lasted %-10s recovered in %-10s ok=%v  %s\n", f.Name, f.Duration.Round(time.Millisecond),
			f.Recovery.Round(time.Millisecond), f.OK, f.Detail)
	}
	for _, e := range res.Errors {
		fmt.Fprintln(w, "error:", e)
	}
}
