package usbvm

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// CPIOWriter writes a cpio archive in the "newc" format the kernel unpacks as an
// initramfs. It writes device nodes without needing root, which the cpio tool cannot.
type CPIOWriter struct {
	w   io.Writer
	ino uint32
	err error
}

// NewCPIOWriter returns a writer that appends entries to w; call Close to finish the archive.
func NewCPIOWriter(w io.Writer) *CPIOWriter { return &CPIOWriter{w: w, ino: 1} }

const (
	cpioDir  = 0o040000
	cpioFile = 0o100000
	cpioChar = 0o020000
)

// Dir adds a directory.
func (c *CPIOWriter) Dir(name string, perm fs.FileMode) error {
	return c.entry(name, cpioDir|uint32(perm.Perm()), 2, 0, 0, nil, 0)
}

// File adds a regular file of size bytes read from r.
func (c *CPIOWriter) File(name string, perm fs.FileMode, size int64, r io.Reader) error {
	return c.entry(name, cpioFile|uint32(perm.Perm()), 1, 0, 0, r, size)
}

// CharDev adds a character device node.
func (c *CPIOWriter) CharDev(name string, perm fs.FileMode, major, minor uint32) error {
	return c.entry(name, cpioChar|uint32(perm.Perm()), 1, major, minor, nil, 0)
}

// Close writes the trailer. It does not close the underlying writer.
func (c *CPIOWriter) Close() error {
	if c.err != nil {
		return c.err
	}
	c.ino = 0
	return c.entry("TRAILER!!!", 0, 1, 0, 0, nil, 0)
}

func (c *CPIOWriter) entry(name string, mode, nlink, rmajor, rminor uint32, r io.Reader, size int64) error {
	if c.err != nil {
		return c.err
	}
	name = strings.TrimPrefix(name, "/")
	if name == "" || strings.ContainsRune(name, 0) {
		return fmt.Errorf("cpio: bad entry name %q", name)
	}
	if size < 0 || size > 0xffffffff {
		return fmt.Errorf("cpio: %s: size %d does not fit the newc format", name, size)
	}
	ino := c.ino
	if ino != 0 {
		c.ino++
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, size, 0, 0, rmajor, rminor, len(name)+1, 0)
	buf := append([]byte(hdr), name...)
	buf = append(buf, 0)
	buf = append(buf, make([]byte, pad4(len(buf)))...)
	if _, err := c.w.Write(buf); err != nil {
		c.err = fmt.Errorf("cpio: write %s: %w", name, err)
		return c.err
	}
	if size > 0 {
		n, err := io.CopyN(c.w, r, size)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("file is %d bytes, expected %d", n, size)
			}
			c.err = fmt.Errorf("cpio: write %s: %w", name, err)
			return c.err
		}
		if _, err := c.w.Write(make([]byte, pad4(int(size)))); err != nil {
			c.err = fmt.Errorf("cpio: write %s: %w", name, err)
			return c.err
		}
	}
	return nil
}

func pad4(n int) int { return (4 - n%4) % 4 }
