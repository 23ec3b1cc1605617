package usbvm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// QEMU is the emulator binary; the guest is an x86-64 machine.
const QEMU = "qemu-system-x86_64"

// Environment variables the host passes to the guest's init on the kernel command line.
const (
	envGuest    = "DOCKHAND_USBVM"          // "1" inside the VM
	envWatchdog = "DOCKHAND_USBVM_WATCHDOG" // a time.Duration after which the guest powers off
)

// BootConfig says what to boot and how long to let it run.
type BootConfig struct {
	Kernel    *Kernel
	Initramfs string
	// InitArgs are passed to /init as its arguments (for a test binary: -test.v, -test.run=...).
	// They must not contain spaces or quotes.
	InitArgs []string
	// MemoryMB is the guest's memory; 512 if zero.
	MemoryMB int
	// Watchdog powers the guest off from inside after this long; 90 s if zero.
	Watchdog time.Duration
	// Timeout kills QEMU from outside after this long; Watchdog + 60 s if zero.
	Timeout time.Duration
	// Console receives each console line as it arrives, if set.
	Console func(line string)
}

// BootResult is what one boot produced.
type BootResult struct {
	Report  *Report
	Console []string // every console line
	Elapsed time.Duration
}

// CheckQEMU reports whether QEMU can be run here; its error wraps ErrCannotRun.
func CheckQEMU() error {
	if _, err := exec.LookPath(QEMU); err != nil {
		return fmt.Errorf("%s not found (apt-get install qemu-system-x86): %w", QEMU, ErrCannotRun)
	}
	return nil
}

// Boot runs the VM to the end and returns its parsed console. It uses TCG (software
// emulation): KVM is not needed and hangs at boot on some hosts. A guest that ends without
// the exit marker (panic, hang, watchdog) is not an error here: the Report says
// Finished=false and the caller decides. Errors are for QEMU failing to start or the
// outer timeout.
func Boot(ctx context.Context, cfg BootConfig) (*BootResult, error) {
	for _, a := range cfg.InitArgs {
		if a == "" || strings.ContainsAny(a, " \t\n\"'") {
			return nil, fmt.Errorf("boot VM: init argument %q cannot go on a kernel command line", a)
		}
	}
	if cfg.Kernel == nil || cfg.Initramfs == "" {
		return nil, errors.New("boot VM: a kernel and an initramfs are required")
	}
	if err := CheckQEMU(); err != nil {
		return nil, err
	}
	if cfg.MemoryMB == 0 {
		cfg.MemoryMB = 512
	}
	if cfg.Watchdog == 0 {
		cfg.Watchdog = 90 * time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = cfg.Watchdog + 60*time.Second
	}
	// no_timer_check: on a busy host, emulation can be too slow for the kernel's check that
	// the timer interrupt works ("IO-APIC + timer doesn't work!" and a panic at boot).
	kargs := []string{"console=ttyS0", "panic=-1", "quiet", "no_timer_check"}
	kargs = append(kargs, strings.Fields(os.Getenv("DOCKHAND_USBVM_KERNEL_ARGS"))...)
	kargs = append(kargs, envGuest+"=1", envWatchdog+"="+cfg.Watchdog.String(), "--")
	appendLine := strings.Join(append(kargs, cfg.InitArgs...), " ")
	args := []string{
		"-accel", "tcg",
		"-nographic", "-no-reboot",
		"-nic", "none",
		"-m", fmt.Sprint(cfg.MemoryMB),
		"-kernel", cfg.Kernel.ImagePath(),
		"-initrd", cfg.Initramfs,
		"-append", appendLine,
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, QEMU, args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("boot VM: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("boot VM: start %s: %w", QEMU, err)
	}
	res := &BootResult{}
	p := NewReportParser()
	readErr := readLines(out, func(line string) {
		line = strings.TrimRight(line, "\r")
		res.Console = append(res.Console, line)
		p.Line(line)
		if cfg.Console != nil {
			cfg.Console(line)
		}
	})
	waitErr := cmd.Wait()
	res.Elapsed = time.Since(start)
	res.Report = p.Report()
	switch {
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) && !res.Report.Finished:
		return res, fmt.Errorf("boot VM: killed after the outer timeout of %v (the guest watchdog did not end it)", cfg.Timeout)
	case ctx.Err() != nil && !res.Report.Finished:
		return res, fmt.Errorf("boot VM: %w", ctx.Err())
	case waitErr != nil && !res.Report.Finished:
		return res, fmt.Errorf("boot VM: %s: %w: %s", QEMU, waitErr, strings.TrimSpace(stderr.String()))
	case readErr != nil && !res.Report.Finished:
		return res, fmt.Errorf("boot VM: read console: %w", readErr)
	}
	return res, nil
}

func readLines(r io.Reader, f func(string)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			f(strings.TrimSuffix(line, "\n"))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
