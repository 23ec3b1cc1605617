//go:build !windows

package transport

import (
	"net/url"
	"runtime"
)

func init() {
	register("winspool", scheme{opaque: true, parse: func(u *url.URL) (Target, error) {
		t, err := parseWinspool(u)
		if err != nil {
			return nil, err
		}
		return nil, newErrf("parse", t.String(), ErrUnsupported, "the Windows print spooler does not exist on %s; use usblp://, tcp:// or serial://", runtime.GOOS)
	}})
}
