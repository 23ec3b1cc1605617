package usbvm

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cpioTool runs the system's GNU cpio on an archive: the reference reader for newc.
func cpioTool(t *testing.T, archive []byte, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("SKIPPING: GNU cpio (apt-get install cpio) is needed to check the archive independently")
	}
	cmd := exec.Command("cpio", append([]string{"--quiet"}, args...)...)
	cmd.Stdin = bytes.NewReader(archive)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestCPIOWriterReadByGNUcpio(t *testing.T) {
	var buf bytes.Buffer
	w := NewCPIOWriter(&buf)
	odd := strings.Repeat("x", 4097) // not a multiple of 4: padding must be right
	steps := []error{
		w.Dir("dev", 0o755),
		w.CharDev("/dev/console", 0o600, 5, 1),
		w.File("init", 0o755, 3, strings.NewReader("abc")),
		w.File("lib/odd", 0o644, int64(len(odd)), strings.NewReader(odd)),
		w.File("empty", 0o644, 0, nil),
		w.Close(),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	list := cpioTool(t, buf.Bytes(), "-itv")
	for _, want := range []string{"drwxr-xr-x", " dev\n", "crw-------", "5,   1", "dev/console", "-rwxr-xr-x", "init", "lib/odd", "empty"} {
		if !strings.Contains(list, want) {
			t.Errorf("cpio -itv lacks %q:\n%s", want, list)
		}
	}
	if got := cpioTool(t, buf.Bytes(), "-i", "--to-stdout", "lib/odd"); got != odd {
		t.Errorf("lib/odd came back as %d bytes, want %d", len(got), len(odd))
	}
	if got := cpioTool(t, buf.Bytes(), "-i", "--to-stdout", "init"); got != "abc" {
		t.Errorf("init = %q", got)
	}
}

func TestCPIOWriterErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(w *CPIOWriter) error
		want string
	}{
		{"empty name", func(w *CPIOWriter) error { return w.Dir("/", 0o755) }, "bad entry name"},
		{"NUL in name", func(w *CPIOWriter) error { return w.Dir("a\x00b", 0o755) }, "bad entry name"},
		{"short file", func(w *CPIOWriter) error { return w.File("f", 0o644, 10, strings.NewReader("abc")) }, "file is 3 bytes, expected 10"},
		{"negative size", func(w *CPIOWriter) error { return w.File("f", 0o644, -1, nil) }, "does not fit"},
		{"sticky error", func(w *CPIOWriter) error {
			w.File("f", 0o644, 10, strings.NewReader("abc"))
			return w.Close()
		}, "file is 3 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do(NewCPIOWriter(io.Discard))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// fakeKernel makes a Kernel whose files are small stand-ins.
func fakeKernel(t *testing.T) *Kernel {
	t.Helper()
	dir := t.TempDir()
	k := &Kernel{Format: kernelFormat, Package: "linux-image-test", Release: "6.1.0-test", Image: "vmlinuz", Dir: dir,
		Modules: []Module{{Name: "usbcore", File: "usbcore.ko"}, {Name: "dummy_hcd", File: "dummy_hcd.ko", Params: "num=9"}}}
	for _, f := range []string{"vmlinuz", "usbcore.ko", "dummy_hcd.ko"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("content of "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func TestWriteInitramfs(t *testing.T) {
	k := fakeKernel(t)
	init := filepath.Join(t.TempDir(), "guest.test")
	if err := os.WriteFile(init, []byte("#!init"), 0o755); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	if err := WriteInitramfs(&gz, k, init); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&gz)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	list := cpioTool(t, archive, "-it")
	for _, want := range []string{"init", "dev/console", "proc", "sys", "lib/modules/usbvm/usbcore.ko", "lib/modules/usbvm/dummy_hcd.ko", "lib/modules/usbvm/load.order"} {
		if !strings.Contains(list, want+"\n") {
			t.Errorf("initramfs lacks %s:\n%s", want, list)
		}
	}
	if got := cpioTool(t, archive, "-i", "--to-stdout", "lib/modules/usbvm/load.order"); got != "usbcore.ko \ndummy_hcd.ko num=9\n" {
		t.Errorf("load.order = %q", got)
	}
	if got := cpioTool(t, archive, "-i", "--to-stdout", "init"); got != "#!init" {
		t.Errorf("init = %q", got)
	}
}

func TestCachedInitramfs(t *testing.T) {
	k := fakeKernel(t)
	cache := t.TempDir()
	init := filepath.Join(t.TempDir(), "pkg.test")
	write := func(s string) {
		if err := os.WriteFile(init, []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("v1")
	a, err := CachedInitramfs(cache, k, init)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(a)
	again, err := CachedInitramfs(cache, k, init)
	if err != nil || again != a {
		t.Fatalf("same binary gave %s, %v; want the cached %s", again, err, a)
	}
	if st2, _ := os.Stat(again); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the cached image was rebuilt")
	}
	write("v2")
	b, err := CachedInitramfs(cache, k, init)
	if err != nil || b == a {
		t.Fatalf("a changed binary gave %s, %v", b, err)
	}
	if _, err := os.Stat(a); !os.IsNotExist(err) {
		t.Errorf("the image of the old binary was kept: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(cache, "initramfs", "*"))
	if len(left) != 1 {
		t.Errorf("cache holds %q, want only the new image", left)
	}
}

func TestLoadKernelManifest(t *testing.T) {
	k := fakeKernel(t)
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(k.Dir, kernelManifest), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var mods []string
	for _, w := range WantedModules {
		os.WriteFile(filepath.Join(k.Dir, w.Name+".ko"), nil, 0o644)
		mods = append(mods, fmt.Sprintf(`{"name":%q,"file":"%s.ko","params":"stale=1"}`, w.Name, w.Name))
	}
	write(`{"format":2,"package":"p","release":"r","image":"vmlinuz","modules":[` + strings.Join(mods, ",") + `]}`)
	got, err := loadKernel(k.Dir)
	if err != nil || got.ImagePath() != filepath.Join(k.Dir, "vmlinuz") || len(got.Modules) != len(WantedModules) {
		t.Fatalf("loadKernel = %+v, %v", got, err)
	}
	for i, m := range got.Modules {
		if m.Params != WantedModules[i].Params {
			t.Errorf("module %s has params %q, want today's %q", m.Name, m.Params, WantedModules[i].Params)
		}
	}
	for _, bad := range []string{
		`{"format":2,"image":"vmlinuz","modules":[{"name":"x","file":"missing.ko"}]}`,
		`{"format":2,"image":"vmlinuz","modules":[{"name":"usbcore","file":"usbcore.ko"}]}`, // wanted modules missing
		`{"format":2,"image":"../vmlinuz"}`,
		`{"format":2,"image":""}`,
		`{"format":1,"image":"vmlinuz"}`,
		`not json`,
	} {
		write(bad)
		if _, err := loadKernel(k.Dir); err == nil {
			t.Errorf("loadKernel accepted %s", bad)
		}
	}
}
