package usbvm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// InGuest reports whether this process is the init of the USB VM.
func InGuest() bool { return os.Getpid() == 1 && os.Getenv(envGuest) == "1" }

// Main is the TestMain of a package with guest tests. On the host it runs the tests as
// usual. Inside the VM it mounts the pseudo file systems, loads the USB modules, builds and
// plugs the gadgets (see [Guest]), runs the tests selected on the kernel command line,
// prints the exit marker and powers the VM off; it never returns there.
func Main(m *testing.M) {
	if InGuest() {
		guestMain(m)
	}
	os.Exit(m.Run())
}

// Options tune RunTests.
type Options struct {
	// Run selects the guest tests (a -test.run pattern); "^TestGuest" if empty. The
	// environment variable DOCKHAND_USBVM_RUN overrides it.
	Run string
	// Dir is the package to build and boot; the current directory (the package under
	// test) if empty.
	Dir string
	// CGO builds the guest binary with cgo, linked statically (needed by packages using
	// github.com/karalabe/usb, which is a stub without cgo).
	CGO bool
	// CacheDir holds the kernel and initramfs images; DefaultCacheDir() if empty.
	CacheDir string
	// Watchdog and Timeout as in BootConfig.
	Watchdog, Timeout time.Duration
	// Files are copied from this machine into the guest (e.g. a CJK font for label
	// rendering); the guest has nothing but its test binary otherwise.
	Files []File
}

// RunTests builds the test binary of the package under test, boots it in the USB VM and
// reports every guest test as a subtest of t with the guest's output. It skips t, saying
// why, only when this machine cannot run the VM (no QEMU, no access to Debian's packages);
// any other problem is a failure.
func RunTests(t *testing.T, opt Options) {
	t.Helper()
	if InGuest() {
		t.Skip("usbvm: RunTests does nothing inside the VM")
	}
	if r := os.Getenv("DOCKHAND_USBVM_RUN"); r != "" {
		opt.Run = r // run chosen guest tests alone, e.g. DOCKHAND_USBVM_RUN=USBLPUnplug
	}
	if opt.Run == "" {
		opt.Run = "^TestGuest"
	}
	if err := CheckQEMU(); err != nil {
		t.Skipf("SKIPPING USB VM TESTS: %v", err)
	}
	cache := opt.CacheDir
	if cache == "" {
		var err error
		if cache, err = DefaultCacheDir(); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()
	start := time.Now()
	k, err := PrepareKernel(ctx, cache, t.Logf)
	if errors.Is(err, ErrCannotRun) {
		t.Skipf("SKIPPING USB VM TESTS: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	// Named after the package, so that packages booting the VM at the same time (go test
	// runs packages in parallel) keep their own cached images.
	bin := filepath.Join(t.TempDir(), guestBinaryName(opt.Dir))
	if err := buildTestBinary(ctx, opt, bin); err != nil {
		t.Fatal(err)
	}
	img, err := CachedInitramfs(cache, k, bin, opt.Files...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("usbvm: kernel %s (%s), initramfs %s, prepared in %v", k.Release, k.Image, filepath.Base(img), time.Since(start).Round(time.Millisecond))

	res, err := Boot(ctx, BootConfig{
		Kernel:    k,
		Initramfs: img,
		InitArgs:  []string{"-test.v", "-test.run=" + opt.Run},
		Watchdog:  opt.Watchdog,
		Timeout:   opt.Timeout,
		Console:   func(line string) { t.Log("guest| " + line) },
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Report
	t.Logf("usbvm: guest ran %d tests in %v (boot included)", len(rep.Tests), res.Elapsed.Round(time.Millisecond))
	if rep.SetupError != "" {
		t.Fatalf("usbvm: the guest could not set up its USB devices: %s", rep.SetupError)
	}
	ranAny := false
	for _, tr := range rep.Tests {
		if strings.Contains(tr.Name, "/") {
			continue
		}
		ranAny = true
		t.Run(tr.Name, func(t *testing.T) {
			switch tr.Status {
			case Pass:
				t.Logf("passed in the guest in %v", tr.Elapsed)
			case Skip:
				t.Skipf("skipped in the guest:\n%s", quote(tr.Output))
			case Fail:
				t.Errorf("failed in the guest:\n%s", quote(tr.Output))
			default:
				t.Errorf("did not finish in the guest (panic, hang or watchdog); its output:\n%s\nconsole tail:\n%s",
					quote(tr.Output), tail(res.Console, 30))
			}
		})
	}
	switch {
	case !rep.Finished:
		t.Errorf("usbvm: the guest ended without reporting its exit status; console tail:\n%s", tail(res.Console, 40))
	case !ranAny:
		t.Errorf("usbvm: the guest ran no test matching %q", opt.Run)
	case rep.ExitCode != 0 && !t.Failed():
		t.Errorf("usbvm: the guest test binary exited with status %d; console tail:\n%s", rep.ExitCode, tail(res.Console, 30))
	}
}

// guestBinaryName is the guest test binary's file name: the package directory's name
// ("usbvm.test"), which names its cached initramfs images.
func guestBinaryName(dir string) string {
	if dir == "" {
		dir = "."
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	name := filepath.Base(dir)
	if name == "" || name == "." || name == string(filepath.Separator) {
		name = "guest"
	}
	return name + ".test"
}

func buildTestBinary(ctx context.Context, opt Options, out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("build guest test binary: %w", err)
	}
	dir := opt.Dir
	if dir == "" {
		dir = "."
	}
	args := []string{"test", "-c", "-o", out}
	env := os.Environ()
	if opt.CGO {
		args = append(args, "-ldflags=-extldflags=-static")
		env = append(env, "CGO_ENABLED=1")
	} else {
		env = append(env, "CGO_ENABLED=0")
	}
	args = append(args, ".")
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(env, "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build guest test binary: go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// tail returns the last n lines, quoted.
func tail(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return quote(lines)
}

// quote prefixes guest lines so that the host's own test output parsers (go test -json,
// CI) never take a guest's "--- FAIL" or "ok" line for one of the host's.
func quote(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("guest| ")
		b.WriteString(l)
	}
	return b.String()
}
