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

// WriteInitramfs writes a gzip-compressed newc cpio archive to w holding init as /init, the
// kernel's modules under /lib/modules/usbvm with a load.order file ("file params" per
// line, dependencies first), /dev/console and empty mount points.
func WriteInitramfs(w io.Writer, k *Kernel, init string) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	bw := bufio.NewWriterSize(zw, 1<<20)
	c := NewCPIOWriter(bw)
	for _, d := range []string{"dev", "proc", "sys", "tmp", "run", "lib", "lib/modules", guestModuleDir} {
		if err := c.Dir(d, 0o755); err != nil {
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

// CachedInitramfs returns the path of an initramfs for init and k under cacheDir, building
// it only when no image for the same binary and kernel exists. Images built for older
// binaries with the same name are removed.
func CachedInitramfs(cacheDir string, k *Kernel, init string) (string, error) {
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
	if err := WriteInitramfs(tmp, k, init); err != nil {
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
