package tspl

import (
	"errors"
	"testing"

	"github.com/dockhand/dockhand/drivers/printer"
)

func TestDecodeStatus(t *testing.T) {
	tests := []struct {
		b      byte
		state  printer.State
		detail string
	}{
		{0x00, printer.Ready, ""},
		{0x01, printer.CoverOpen, "head open"},
		{0x02, printer.Error, "paper jam"},
		{0x04, printer.PaperOut, "paper out"},
		{0x08, printer.RibbonOut, "ribbon out"},
		{0x10, printer.Paused, "paused"},
		{0x20, printer.Printing, "printing"},
		{0x80, printer.Error, "other error"},
		{0x05, printer.CoverOpen, "head open, paper out"},
		{0x24, printer.PaperOut, "paper out, printing"},
		{0x30, printer.Paused, "paused, printing"},
		{0x40, printer.CoverOpen, "cover open"},
		{0x84, printer.PaperOut, "paper out, other error"},
	}
	for _, tt := range tests {
		s, err := DecodeStatus([]byte{tt.b})
		if err != nil {
			t.Fatal(err)
		}
		if s.State != tt.state || s.Detail != tt.detail {
			t.Errorf("0x%02X: got %v, want %s (%s)", tt.b, s, tt.state, tt.detail)
		}
	}
}

func TestDecodeStatusLength(t *testing.T) {
	for _, in := range [][]byte{nil, {0, 0}} {
		if _, err := DecodeStatus(in); !errors.Is(err, ErrBadStatus) {
			t.Errorf("%x: err = %v", in, err)
		}
	}
	if string(StatusQuery) != "\x1b!?" {
		t.Errorf("query = %q", StatusQuery)
	}
}

func TestHubStates(t *testing.T) {
	for b := 0; b < 256; b++ {
		s := StatusOf(byte(b))
		switch s.State.Hub() {
		case printer.Ready, printer.Printing, printer.PaperOut, printer.CoverOpen, printer.Offline, printer.Error:
		default:
			t.Fatalf("0x%02X: %s maps to %s, not a hub state", b, s.State, s.State.Hub())
		}
	}
}

func FuzzDecodeStatus(f *testing.F) {
	for _, s := range [][]byte{{0}, {1}, {0x25}, {0xFF}, {}, {1, 2}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeStatus(b)
		if (err == nil) != (len(b) == 1) {
			t.Fatalf("len %d err %v", len(b), err)
		}
		if err == nil && (s.State == "" || (b[0] != 0 && s.Detail == "")) {
			t.Fatalf("0x%02X decoded to %+v", b[0], s)
		}
	})
}
