package usbvm

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Paths inside the initramfs.
const (
	guestModuleDir = "/lib/modules/usbvm"
	guestLoadOrder = guestModuleDir + "/load.order"
)

// File is a file of this machine that the guest tests need inside the VM (a font, a
// fixture), copied into the initramfs.
type File struct {
	Host  string // path on this machine
	Guest string // absolute path inside the VM; the same as Host if empty
}

func (f File) guestPath() string {
	if f.Guest != "" {
		return f.Guest
	}
	return f.Host
}

// WriteInitramfs writes a gzip-compressed newc cpio archive to w holding init as /init, the
// kernel's modules under /lib/modules/usbvm with a load.order file ("file params" per
// line, dependencies first), /dev/console, empty mount points and the extra files (with
// their parent directories).
func WriteInitramfs(w io.Writer, k *Kernel, init string, files ...File) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	bw := bufio.NewWriterSize(zw, 1<<20)
	c := NewCPIOWriter(bw)
	made := map[string]bool{".": true, "/": true}
	mkdir := func(d string) error {
		d = strings.TrimPrefix(path.Clean(d), "/")
		if made[d] {
			return nil
		}
		made[d] = true
		return c.Dir(d, 0o755)
	}
	for _, d := range []string{"dev", "proc", "sys", "tmp", "run", "lib", "lib/modules", guestModuleDir} {
		if err := mkdir(d); err != nil {
			return fmt.Errorf("write initramfs: %w", err)
		}
	}
	// The kernel opens /dev/console for init's stdin/out/err before init runs, before
	// anything could mount devtmpfs.
	if err := c.CharDev("dev/console", 0o600, 5, 1); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	addFile := func(name, src string, perm os.FileMode) error {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		return c.File(name, perm, st.Size(), f)
	}
	if err := addFile("init", init, 0o755); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	var order strings.Builder
	for _, m := range k.Modules {
		if err := addFile(path.Join(guestModuleDir, m.File), filepath.Join(k.Dir, m.File), 0o644); err != nil {
			return fmt.Errorf("write initramfs: %w", err)
		}
		fmt.Fprintf(&order, "%s %s\n", m.File, m.Params)
	}
	if err := c.File(guestLoadOrder, 0o644, int64(order.Len()), strings.NewReader(order.String())); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	for _, f := range files {
		g := f.guestPath()
		if !path.IsAbs(g) {
			return fmt.Errorf("write initramfs: guest path %q of %s is not absolute", g, f.Host)
		}
		var parents []string
		for d := path.Dir(g); d != "/"; d = path.Dir(d) {
			parents = append(parents, d)
		}
		for i := len(parents) - 1; i >= 0; i-- {
			if err := mkdir(parents[i]); err != nil {
				return fmt.Errorf("write initramfs: %w", err)
			}
		}
		if err := addFile(strings.TrimPrefix(path.Clean(g), "/"), f.Host, 0o644); err != nil {
			return fmt.Errorf("write initramfs: extra file: %w", err)
		}
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	return nil
}

// CachedInitramfs returns the path of an initramfs for init, k and the extra files under
// cacheDir, building it only when no image for the same binary, kernel and files exists.
// Images built for older binaries with the same name are removed.
func CachedInitramfs(cacheDir string, k *Kernel, init string, files ...File) (string, error) {
	f, err := os.Open(init)
	if err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	fmt.Fprintf(h, "\x00%s", k.Package)
	for _, m := range k.Modules {
		fmt.Fprintf(h, "\x00%s %s", m.File, m.Params)
	}
	for _, x := range files {
		fmt.Fprintf(h, "\x00file %s\x00", x.guestPath())
		f, err := os.Open(x.Host)
		if err != nil {
			return "", fmt.Errorf("initramfs: extra file: %w", err)
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("initramfs: extra file: %w", err)
		}
	}
	dir := filepath.Join(cacheDir, "initramfs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	prefix := strings.TrimSuffix(filepath.Base(init), ".test") + "-"
	out := filepath.Join(dir, prefix+hex.EncodeToString(h.Sum(nil))[:16]+".cpio.gz")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	tmp, err := os.CreateTemp(dir, "build-*")
	if err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := WriteInitramfs(tmp, k, init, files...); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, prefix+"*.cpio.gz"))
	for _, o := range old {
		if o != out {
			os.Remove(o)
		}
	}
	return out, nil
}
