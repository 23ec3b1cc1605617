package escpos

import (
	"errors"
	"fmt"
	"io"

	"github.com/dockhand/dockhand/drivers/printer"
)

// Real-time status request kinds for DLE EOT n.
const (
	StatusPrinter = 1 // online/offline
	StatusOffline = 2 // cause of offline: cover, paper end, error
	StatusError   = 3 // cause of error: cutter, unrecoverable, auto-recoverable
	StatusPaper   = 4 // roll paper sensor: near end, end
)

// ErrBadReply is matched by errors about bytes that are not a valid reply.
var ErrBadReply = errors.New("escpos: not a valid printer reply")

// StatusRequest returns DLE EOT n, the real-time status request (n 1–4).
func StatusRequest(n int) ([]byte, error) {
	if n < StatusPrinter || n > StatusPaper {
		return nil, fmt.Errorf("escpos: status request: kind %d is not 1–4: %w", n, ErrBadArgument)
	}
	return []byte{DLE, EOT, byte(n)}, nil
}

// IsStatusByte reports whether b has the fixed bits of a DLE EOT reply:
// bits 1 and 4 set, bits 0 and 7 clear (all-clear is 0x12, not 0x00).
func IsStatusByte(b byte) bool { return b&0x93 == 0x12 }

// DecodeStatus decodes the one-byte reply to DLE EOT n.
func DecodeStatus(n int, b byte) (printer.Status, error) {
	if !IsStatusByte(b) {
		return printer.Status{}, fmt.Errorf("escpos: decode DLE EOT %d reply 0x%02X: fixed bits 1 and 4 are not set: %w", n, b, ErrBadReply)
	}
	var s printer.Builder
	switch n {
	case StatusPrinter:
		if b&0x08 != 0 {
			s.Add(printer.Offline, "offline")
		}
		if b&0x20 != 0 {
			s.Add(printer.Offline, "waiting for online recovery")
		}
		if b&0x40 != 0 {
			s.Add(printer.Ready, "feed button pressed")
		}
	case StatusOffline:
		if b&0x04 != 0 {
			s.Add(printer.CoverOpen, "cover open")
		}
		if b&0x08 != 0 {
			s.Add(printer.Ready, "paper fed by feed button")
		}
		if b&0x20 != 0 {
			s.Add(printer.PaperOut, "stopped at paper end")
		}
		if b&0x40 != 0 {
			s.Add(printer.Error, "error")
		}
	case StatusError:
		errorBits(&s, b)
	case StatusPaper:
		if b&0x0C != 0 {
			s.NearEnd()
		}
		if b&0x60 != 0 {
			s.Add(printer.PaperOut, "paper out")
		}
	default:
		return printer.Status{}, fmt.Errorf("escpos: decode DLE EOT reply: kind %d is not 1–4: %w", n, ErrBadArgument)
	}
	return s.Status(), nil
}

func errorBits(s *printer.Builder, b byte) {
	if b&0x04 != 0 {
		s.Add(printer.Error, "mechanical error")
	}
	if b&0x08 != 0 {
		s.Add(printer.Error, "cutter error")
	}
	if b&0x20 != 0 {
		s.Add(printer.Error, "unrecoverable error")
	}
	if b&0x40 != 0 {
		s.Add(printer.Error, "auto-recoverable error (e.g. head too hot)")
	}
}

// Automatic status back (ASB) masks for EnableASB.
const (
	ASBDrawer  = 0x01
	ASBOnline  = 0x02
	ASBError   = 0x04
	ASBPaper   = 0x08
	ASBAll     = ASBDrawer | ASBOnline | ASBError | ASBPaper
	asbLen     = 4
	processLen = 7
)

// EnableASB asks the printer to send its 4-byte status unasked whenever a
// condition in mask changes: GS a n (0 turns it off).
func (e *Encoder) EnableASB(mask byte) {
	if mask&^ASBAll != 0 {
		e.fail("GS a", "mask 0x%02X", mask)
		return
	}
	e.raw(GS, 'a', mask)
}

// IsASB reports whether b starts like an automatic status: first byte
// 0xx1xx00 (bits 0, 1, 7 clear, bit 4 set).
func IsASB(first byte) bool { return first&0x93 == 0x10 }

// DecodeASB decodes a 4-byte automatic status back message.
func DecodeASB(b []byte) (printer.Status, error) {
	if len(b) != asbLen {
		return printer.Status{}, fmt.Errorf("escpos: decode automatic status: got %d bytes, want 4: %w", len(b), ErrBadReply)
	}
	if !IsASB(b[0]) || b[1]&0x90 != 0 || b[2]&0x90 != 0 || b[3]&0x90 != 0 {
		return printer.Status{}, fmt.Errorf("escpos: decode automatic status % X: fixed bits wrong: %w", b, ErrBadReply)
	}
	var s printer.Builder
	if b[0]&0x08 != 0 {
		s.Add(printer.Offline, "offline")
	}
	if b[0]&0x20 != 0 {
		s.Add(printer.CoverOpen, "cover open")
	}
	if b[0]&0x40 != 0 {
		s.Add(printer.Ready, "paper fed by feed button")
	}
	errorBits(&s, b[1])
	if b[2]&0x03 != 0 {
		s.NearEnd()
	}
	if b[2]&0x0C != 0 {
		s.Add(printer.PaperOut, "paper out")
	}
	return s.Status(), nil
}

// ProcessIDRequest returns GS ( H fn=48 with a 4-digit id: the printer
// answers with DecodeProcessID's message once everything sent before it
// has been printed, which confirms a label was physically printed.
func ProcessIDRequest(id string) ([]byte, error) {
	if !validID(id) {
		return nil, fmt.Errorf("escpos: process id request: id %q is not 4 digits: %w", id, ErrBadArgument)
	}
	return []byte{GS, '(', 'H', 6, 0, '0', '0', id[0], id[1], id[2], id[3]}, nil
}

func validID(id string) bool {
	if len(id) != 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// DecodeProcessID decodes the process-id response 37h 22h d1 d2 d3 d4 00h
// and returns the 4-digit id.
func DecodeProcessID(b []byte) (string, error) {
	if len(b) != processLen || b[0] != 0x37 || b[1] != 0x22 || b[6] != 0 || !validID(string(b[2:6])) {
		return "", fmt.Errorf("escpos: decode process id response % X: %w", b, ErrBadReply)
	}
	return string(b[2:6]), nil
}

// ReplyKind tells what NextReply found.
type ReplyKind int

// Reply kinds.
const (
	ReplyStatus    ReplyKind = iota + 1 // one DLE EOT byte; decode with DecodeStatus and the n asked
	ReplyASB                            // 4-byte automatic status
	ReplyProcessID                      // process-id response
)

// Reply is one message from the printer's back channel.
type Reply struct {
	Kind      ReplyKind
	Bytes     []byte // the message's bytes (aliasing the input)
	ProcessID string // for ReplyProcessID
}

// NextReply cuts the first message off a back-channel byte stream, where
// unasked automatic status can arrive between answers. It returns the
// message and how many bytes it used; io.ErrUnexpectedEOF when more bytes
// are needed; ErrBadReply with n == 1 for a byte that starts nothing known
// (skip it and go on).
func NextReply(b []byte) (Reply, int, error) {
	if len(b) == 0 {
		return Reply{}, 0, io.ErrUnexpectedEOF
	}
	switch {
	case b[0] == 0x37:
		if len(b) < processLen {
			if len(b) >= 2 && b[1] != 0x22 {
				break
			}
			return Reply{}, 0, io.ErrUnexpectedEOF
		}
		id, err := DecodeProcessID(b[:processLen])
		if err != nil {
			break
		}
		return Reply{Kind: ReplyProcessID, Bytes: b[:processLen], ProcessID: id}, processLen, nil
	case IsStatusByte(b[0]):
		return Reply{Kind: ReplyStatus, Bytes: b[:1]}, 1, nil
	case IsASB(b[0]):
		if len(b) < asbLen {
			return Reply{}, 0, io.ErrUnexpectedEOF
		}
		if _, err := DecodeASB(b[:asbLen]); err != nil {
			break
		}
		return Reply{Kind: ReplyASB, Bytes: b[:asbLen]}, asbLen, nil
	}
	return Reply{}, 1, fmt.Errorf("escpos: back channel byte 0x%02X starts no known reply: %w", b[0], ErrBadReply)
}
