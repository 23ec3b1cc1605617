//go:build windows

package transport

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

func init() {
	register("winspool", scheme{opaque: true, parse: func(u *url.URL) (Target, error) { return parseWinspool(u) }})
}

var (
	winspoolDLL          = windows.NewLazySystemDLL("winspool.drv")
	procOpenPrinterW     = winspoolDLL.NewProc("OpenPrinterW")
	procClosePrinter     = winspoolDLL.NewProc("ClosePrinter")
	procStartDocPrinterW = winspoolDLL.NewProc("StartDocPrinterW")
	procEndDocPrinter    = winspoolDLL.NewProc("EndDocPrinter")
	procStartPagePrinter = winspoolDLL.NewProc("StartPagePrinter")
	procEndPagePrinter   = winspoolDLL.NewProc("EndPagePrinter")
	procWritePrinter     = winspoolDLL.NewProc("WritePrinter")
)

// docInfo1 is DOC_INFO_1W.
type docInfo1 struct {
	docName    *uint16
	outputFile *uint16
	datatype   *uint16
}

const errorInvalidPrinterName = windows.Errno(1801)

// Open opens the spooler's handle to the printer. The first Write starts
// a RAW document.
func (t *WinspoolTarget) Open(ctx context.Context) (Port, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := winspoolDLL.Load(); err != nil {
		return nil, newErr("open", t.String(), ErrUnsupported, err)
	}
	name, err := windows.UTF16PtrFromString(t.Printer)
	if err != nil {
		return nil, newErr("open", t.String(), ErrBadAddress, err)
	}
	var h windows.Handle
	r, _, callErr := procOpenPrinterW.Call(uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(&h)), 0)
	if r == 0 {
		return nil, spoolErr("open", t.String(), callErr)
	}
	return &winspoolPort{h: h, target: t}, nil
}

func spoolErr(op, addr string, err error) error {
	switch {
	case errors.Is(err, errorInvalidPrinterName):
		return newErrf(op, addr, ErrNotFound, "no printer of that name is installed in Windows")
	case errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return newErr(op, addr, ErrPermission, err)
	}
	return newErr(op, addr, ErrDisconnected, err)
}

type winspoolPort struct {
	mu     sync.Mutex
	h      windows.Handle
	target *WinspoolTarget
	inDoc  bool
	closed bool
}

func (p *winspoolPort) Info() Info { return Info{Kind: "winspool", Address: p.target.Printer} }

func (p *winspoolPort) startDoc() error {
	doc := docInfo1{
		docName:  windows.StringToUTF16Ptr("Dockhand label"),
		datatype: windows.StringToUTF16Ptr("RAW"),
	}
	r, _, err := procStartDocPrinterW.Call(uintptr(p.h), 1, uintptr(unsafe.Pointer(&doc)))
	if r == 0 {
		return spoolErr("start document", p.target.String(), err)
	}
	if r, _, err := procStartPagePrinter.Call(uintptr(p.h)); r == 0 {
		procEndDocPrinter.Call(uintptr(p.h))
		return spoolErr("start page", p.target.String(), err)
	}
	p.inDoc = true
	return nil
}

func (p *winspoolPort) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, newErr("write", p.target.String(), ErrClosed, nil)
	}
	if !p.inDoc {
		if err := p.startDoc(); err != nil {
			return 0, err
		}
	}
	total := 0
	for total < len(b) {
		var n uint32
		chunk := b[total:]
		r, _, err := procWritePrinter.Call(uintptr(p.h), uintptr(unsafe.Pointer(&chunk[0])), uintptr(len(chunk)), uintptr(unsafe.Pointer(&n)))
		if r == 0 {
			return total, spoolErr("write", p.target.String(), err)
		}
		if n == 0 {
			return total, newErrf("write", p.target.String(), ErrTimeout, "the spooler accepted no bytes")
		}
		total += int(n)
	}
	return total, nil
}

// ReadContext fails: the spooler does not pass printer replies back.
func (p *winspoolPort) ReadContext(ctx context.Context, b []byte) (int, error) {
	return 0, newErrf("read", p.target.String(), ErrOneWay, "the Windows spooler does not pass printer replies back")
}

// Flush ends the spooler document so that it prints.
func (p *winspoolPort) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.endDoc()
}

func (p *winspoolPort) endDoc() error {
	if !p.inDoc {
		return nil
	}
	p.inDoc = false
	if r, _, err := procEndPagePrinter.Call(uintptr(p.h)); r == 0 {
		procEndDocPrinter.Call(uintptr(p.h))
		return spoolErr("end page", p.target.String(), err)
	}
	if r, _, err := procEndDocPrinter.Call(uintptr(p.h)); r == 0 {
		return spoolErr("end document", p.target.String(), err)
	}
	return nil
}

// Close ends the current document, if any, and releases the printer handle.
func (p *winspoolPort) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	err := p.endDoc()
	if r, _, cerr := procClosePrinter.Call(uintptr(p.h)); r == 0 && err == nil {
		err = spoolErr("close", p.target.String(), cerr)
	}
	return err
}
