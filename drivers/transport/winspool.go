package transport

import (
	"net/url"
	"strings"
)

// WinspoolTarget is a printer installed in the Windows spooler, fed in the
// RAW data type so that TSPL or ESC/POS bytes reach it untouched:
//
//	winspool://Xprinter XP-470B
//	winspool://\\print-server\Label 3
//
// The name is everything after "://", exactly as Windows shows it (%XX
// escapes are decoded). Each job (the bytes written up to Flush or Close)
// becomes one spooler document.
type WinspoolTarget struct {
	Printer string
}

func parseWinspool(u *url.URL) (*WinspoolTarget, error) {
	name := u.Opaque
	if s, err := url.PathUnescape(name); err == nil {
		name = s
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, newErrf("parse", "winspool://", ErrBadAddress, "no printer name; write winspool://Printer Name as shown in Windows' printer list")
	}
	return &WinspoolTarget{Printer: name}, nil
}

func (t *WinspoolTarget) String() string { return "winspool://" + t.Printer }
