package transport

import (
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
)

func init() { Register("file", parseFile) }

// FileTarget appends everything written to a file, creating it when
// missing: for print tests without a printer and for looking at the exact
// bytes a driver produced.
//
//	file:///var/tmp/label.prn      absolute path
//	file:label.prn                 relative to the working directory
type FileTarget struct {
	Path string
}

func parseFile(u *url.URL) (Target, error) {
	raw := u.String()
	if u.Host != "" && u.Host != "localhost" {
		return nil, newErrf("parse", raw, ErrBadAddress, "a file address is file:///absolute/path or file:relative/path, not a host (%q)", u.Host)
	}
	p := u.Path
	if u.Opaque != "" {
		var err error
		if p, err = url.PathUnescape(u.Opaque); err != nil {
			return nil, newErr("parse", raw, ErrBadAddress, err)
		}
	}
	if runtime.GOOS == "windows" && len(p) > 2 && p[0] == '/' && p[2] == ':' {
		p = p[1:] // file:///C:/labels/out.prn
	}
	if badPath(p) {
		return nil, newErrf("parse", raw, ErrBadAddress, "the file name has control characters")
	}
	if p == "" || strings.HasSuffix(p, "/") {
		return nil, newErrf("parse", raw, ErrBadAddress, "no file name")
	}
	if len(u.Query()) > 0 {
		return nil, newErrf("parse", raw, ErrBadAddress, "a file address takes no options")
	}
	return &FileTarget{Path: filepath.FromSlash(p)}, nil
}

func (t *FileTarget) String() string {
	p := filepath.ToSlash(t.Path)
	if !filepath.IsAbs(t.Path) && !strings.HasPrefix(p, "/") {
		return "file:" + escapePath(p)
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // file:///C:/labels/out.prn
	}
	return "file://" + escapePath(p)
}

// Open opens the file for appending, creating it (mode 0644) if needed.
func (t *FileTarget) Open(ctx context.Context) (Port, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(t.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fileErr("open", t.String(), err)
	}
	return &filePort{f: f, target: t}, nil
}

func fileErr(op, addr string, err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return newErr(op, addr, ErrPermission, err)
	case errors.Is(err, fs.ErrNotExist):
		return newErr(op, addr, ErrNotFound, err)
	case errors.Is(err, fs.ErrClosed):
		return newErr(op, addr, ErrClosed, nil)
	default:
		return newErr(op, addr, ErrDisconnected, err)
	}
}

type filePort struct {
	f      *os.File
	target *FileTarget
	closed atomic.Bool
}

func (p *filePort) Info() Info { return Info{Kind: "file", Address: p.target.Path} }

func (p *filePort) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	if err != nil {
		return n, fileErr("write", p.target.String(), err)
	}
	return n, nil
}

// ReadContext fails: a file has no printer behind it to answer.
func (p *filePort) ReadContext(ctx context.Context, b []byte) (int, error) {
	return 0, newErrf("read", p.target.String(), ErrOneWay, "a file cannot answer status queries")
}

func (p *filePort) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := p.f.Close(); err != nil {
		return fileErr("close", p.target.String(), err)
	}
	return nil
}

// Flush writes the file's data to stable storage.
func (p *filePort) Flush() error {
	if err := p.f.Sync(); err != nil {
		return fileErr("flush", p.target.String(), err)
	}
	return nil
}
