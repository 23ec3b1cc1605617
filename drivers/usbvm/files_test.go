package usbvm

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteInitramfsFiles: extra files land at their guest paths, with every parent
// directory, and the archive stays readable by GNU cpio.
func TestWriteInitramfsFiles(t *testing.T) {
	k := fakeKernel(t)
	dir := t.TempDir()
	init := filepath.Join(dir, "guest.test")
	font := filepath.Join(dir, "font.ttf")
	same := filepath.Join(dir, "fixture.txt")
	for name, body := range map[string]string{init: "#!init", font: "glyphs", same: "fixture"} {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var gz bytes.Buffer
	err := WriteInitramfs(&gz, k, init,
		File{Host: font, Guest: "/usr/share/fonts/truetype/droid/Font.ttf"},
		File{Host: same}, // the same path inside
		File{Host: font, Guest: "/usr/share/fonts/other.ttf"})
	if err != nil {
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
	for _, want := range []string{"usr", "usr/share", "usr/share/fonts", "usr/share/fonts/truetype", "usr/share/fonts/truetype/droid",
		"usr/share/fonts/truetype/droid/Font.ttf", "usr/share/fonts/other.ttf", strings.TrimPrefix(same, "/"), "init"} {
		if !strings.Contains(list, want+"\n") {
			t.Errorf("initramfs lacks %s:\n%s", want, list)
		}
	}
	if n := strings.Count(list, "usr/share/fonts\n"); n != 1 {
		t.Errorf("usr/share/fonts is in the archive %d times, want once:\n%s", n, list)
	}
	if got := cpioTool(t, archive, "-i", "--to-stdout", "usr/share/fonts/truetype/droid/Font.ttf"); got != "glyphs" {
		t.Errorf("font = %q", got)
	}
	if got := cpioTool(t, archive, "-i", "--to-stdout", strings.TrimPrefix(same, "/")); got != "fixture" {
		t.Errorf("fixture = %q", got)
	}
}

func TestWriteInitramfsFileErrors(t *testing.T) {
	k := fakeKernel(t)
	dir := t.TempDir()
	init := filepath.Join(dir, "guest.test")
	if err := os.WriteFile(init, []byte("#!init"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		file File
		want string
	}{
		{"relative guest path", File{Host: init, Guest: "usr/x"}, "not absolute"},
		{"missing host file", File{Host: filepath.Join(dir, "nope"), Guest: "/x"}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteInitramfs(io.Discard, k, init, tc.file)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("WriteInitramfs = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestCachedInitramfsFiles: a changed extra file gives a new image; the same one reuses it.
func TestCachedInitramfsFiles(t *testing.T) {
	k := fakeKernel(t)
	cache := t.TempDir()
	dir := t.TempDir()
	init := filepath.Join(dir, "pkg.test")
	font := filepath.Join(dir, "font.ttf")
	write := func(name, s string) {
		if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(init, "v1")
	write(font, "glyphs v1")
	f := File{Host: font, Guest: "/usr/share/fonts/f.ttf"}
	plain, err := CachedInitramfs(cache, k, init)
	if err != nil {
		t.Fatal(err)
	}
	a, err := CachedInitramfs(cache, k, init, f)
	if err != nil || a == plain {
		t.Fatalf("with an extra file: %s, %v; want an image other than %s", a, err, plain)
	}
	if again, err := CachedInitramfs(cache, k, init, f); err != nil || again != a {
		t.Fatalf("same files gave %s, %v; want the cached %s", again, err, a)
	}
	write(font, "glyphs v2")
	b, err := CachedInitramfs(cache, k, init, f)
	if err != nil || b == a {
		t.Fatalf("a changed extra file gave %s, %v; want a new image", b, err)
	}
	moved := File{Host: font, Guest: "/usr/share/fonts/g.ttf"}
	if c, err := CachedInitramfs(cache, k, init, moved); err != nil || c == b {
		t.Fatalf("another guest path gave %s, %v; want a new image", c, err)
	}
}

func TestTestBinaryName(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, want string }{
		{"", filepath.Base(wd) + ".test"},
		{".", filepath.Base(wd) + ".test"},
		{"../../agent/stationvm", "stationvm.test"},
		{"/", "guest.test"},
	} {
		if got := guestBinaryName(tc.dir); got != tc.want {
			t.Errorf("guestBinaryName(%q) = %q, want %q", tc.dir, got, tc.want)
		}
	}
}
