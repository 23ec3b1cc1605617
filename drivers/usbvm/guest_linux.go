package usbvm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Rig is the guest's set of gadgets, each a separate USB device on its own UDC.
type Rig struct {
	Printer  *Gadget // usb_f_printer: a label printer speaking TSPL and ESC/POS
	Serial   *Gadget // usb_f_acm: a scanner in USB-serial (CDC-ACM) mode
	Keyboard *Gadget // usb_f_hid: a scanner in HID boot-keyboard mode
}

var rig *Rig

// Guest returns the gadgets built by Main inside the VM, or ErrNotGuest on the host.
func Guest() (*Rig, error) {
	if !InGuest() || rig == nil {
		return nil, ErrNotGuest
	}
	return rig, nil
}

func guestMain(m *testing.M) {
	watchdog := 90 * time.Second
	if d, err := time.ParseDuration(os.Getenv(envWatchdog)); err == nil && d > 0 {
		watchdog = d
	}
	time.AfterFunc(watchdog, func() {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		fmt.Printf("\nusbvm: guest watchdog fired after %v; goroutines:\n%s\n", watchdog, buf[:n])
		dumpKernelLog(40)
		powerOff()
	})
	start := time.Now()
	r, err := setupGuest()
	if up, err := os.ReadFile("/proc/uptime"); err == nil {
		fmt.Printf("usbvm: guest up %ss at init start\n", strings.Fields(string(up))[0])
	}
	if err != nil {
		fmt.Printf("%s%v\n", setupMarker, err)
		dumpKernelLog(40)
		fmt.Printf("%s%d\n", exitMarker, 3)
		powerOff()
	}
	rig = r
	fmt.Printf("usbvm: guest USB devices ready in %v\n", time.Since(start).Round(time.Millisecond))
	code := m.Run()
	if code != 0 {
		dumpKernelLog(40)
	}
	fmt.Printf("%s%d\n", exitMarker, code)
	powerOff()
}

func powerOff() {
	unix.Sync()
	err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	// Reaching here means power-off failed; exiting PID 1 panics the kernel, and panic=-1
	// with QEMU's -no-reboot ends the VM all the same.
	fmt.Printf("usbvm: power off failed: %v\n", err)
	os.Exit(1)
}

func setupGuest() (*Rig, error) {
	mounts := []struct{ src, dst, fstype string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
		{"tmpfs", "/run", "tmpfs"},
	}
	for _, mt := range mounts {
		if err := unix.Mount(mt.src, mt.dst, mt.fstype, 0, ""); err != nil {
			return nil, fmt.Errorf("mount %s on %s: %w", mt.fstype, mt.dst, err)
		}
	}
	if err := loadModules(guestModuleDir, guestLoadOrder); err != nil {
		return nil, err
	}
	if err := unix.Mount("configfs", "/sys/kernel/config", "configfs", 0, ""); err != nil {
		return nil, fmt.Errorf("mount configfs: %w", err)
	}
	return buildRig()
}

// loadModules loads the modules listed in order ("file params" per line) from dir.
func loadModules(dir, order string) error {
	b, err := os.ReadFile(order)
	if err != nil {
		return fmt.Errorf("load modules: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		file, params, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if file == "" {
			continue
		}
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			return fmt.Errorf("load module %s: %w", file, err)
		}
		err = unix.FinitModule(int(f.Fd()), params, 0)
		f.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("load module %s: %w", file, err)
		}
	}
	return nil
}

// dumpKernelLog prints the last n kernel log lines, so a failure shows what the kernel
// said (the console is quiet).
func dumpKernelLog(n int) {
	size, err := unix.Klogctl(unix.SYSLOG_ACTION_SIZE_BUFFER, nil)
	if err != nil || size <= 0 {
		return
	}
	buf := make([]byte, size)
	m, err := unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(buf[:m])), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	fmt.Println("usbvm: kernel log tail:")
	for _, l := range lines {
		fmt.Println("kmsg| " + l)
	}
}
