package escpos

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/dockhand/dockhand/drivers/printer"
)

func TestDecodeStatus(t *testing.T) {
	tests := []struct {
		n       int
		b       byte
		state   printer.State
		detail  string
		nearEnd bool
	}{
		{1, 0x12, printer.Ready, "", false},
		{1, 0x1A, printer.Offline, "offline", false},
		{1, 0x32, printer.Offline, "waiting for online recovery", false},
		{2, 0x12, printer.Ready, "", false},
		{2, 0x16, printer.CoverOpen, "cover open", false},
		{2, 0x32, printer.PaperOut, "stopped at paper end", false},
		{2, 0x72, printer.PaperOut, "stopped at paper end, error", false},
		{2, 0x52, printer.Error, "error", false},
		{3, 0x12, printer.Ready, "", false},
		{3, 0x1A, printer.Error, "cutter error", false},
		{3, 0x52, printer.Error, "auto-recoverable error (e.g. head too hot)", false},
		{4, 0x12, printer.Ready, "", false},
		{4, 0x1E, printer.Ready, "paper near end", true},
		{4, 0x72, printer.PaperOut, "paper out", false},
		{4, 0x7E, printer.PaperOut, "paper near end, paper out", true},
	}
	for _, tt := range tests {
		s, err := DecodeStatus(tt.n, tt.b)
		if err != nil {
			t.Fatalf("n=%d 0x%02X: %v", tt.n, tt.b, err)
		}
		if s.State != tt.state || s.Detail != tt.detail || s.PaperNearEnd != tt.nearEnd {
			t.Errorf("n=%d 0x%02X: got %+v, want %s (%s)", tt.n, tt.b, s, tt.state, tt.detail)
		}
	}
	// 0x00 is not "all clear": the fixed bits are missing.
	for _, b := range []byte{0x00, 0x10, 0x02, 0x13, 0x92} {
		if _, err := DecodeStatus(1, b); !errors.Is(err, ErrBadReply) {
			t.Errorf("0x%02X: err = %v", b, err)
		}
	}
	if _, err := DecodeStatus(5, 0x12); !errors.Is(err, ErrBadArgument) {
		t.Errorf("kind 5: err = %v", err)
	}
	if q, err := StatusRequest(2); err != nil || !bytes.Equal(q, []byte{0x10, 0x04, 2}) {
		t.Errorf("request = % X, %v", q, err)
	}
	if _, err := StatusRequest(0); err == nil {
		t.Error("request 0 accepted")
	}
}

func TestDecodeASB(t *testing.T) {
	tests := []struct {
		in      []byte
		state   printer.State
		nearEnd bool
	}{
		{[]byte{0x10, 0, 0, 0}, printer.Ready, false},
		{[]byte{0x18, 0, 0, 0}, printer.Offline, false},
		{[]byte{0x38, 0, 0, 0}, printer.CoverOpen, false},
		{[]byte{0x10, 0x08, 0, 0}, printer.Error, false},
		{[]byte{0x10, 0, 0x03, 0}, printer.Ready, true},
		{[]byte{0x18, 0, 0x0F, 0}, printer.PaperOut, true},
	}
	for _, tt := range tests {
		s, err := DecodeASB(tt.in)
		if err != nil || s.State != tt.state || s.PaperNearEnd != tt.nearEnd {
			t.Errorf("% X: got %+v, %v; want %s", tt.in, s, err, tt.state)
		}
	}
	for _, bad := range [][]byte{{0x10, 0, 0}, {0x12, 0, 0, 0}, {0x10, 0x10, 0, 0}, {0x90, 0, 0, 0}} {
		if _, err := DecodeASB(bad); !errors.Is(err, ErrBadReply) {
			t.Errorf("% X: err = %v", bad, err)
		}
	}
}

func TestProcessID(t *testing.T) {
	req, err := ProcessIDRequest("0042")
	if err != nil || !bytes.Equal(req, []byte{0x1D, 0x28, 0x48, 6, 0, 0x30, 0x30, '0', '0', '4', '2'}) {
		t.Fatalf("request = % X, %v", req, err)
	}
	for _, bad := range []string{"42", "00a2", "12345"} {
		if _, err := ProcessIDRequest(bad); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	id, err := DecodeProcessID([]byte{0x37, 0x22, '0', '0', '4', '2', 0})
	if err != nil || id != "0042" {
		t.Fatalf("decode = %q, %v", id, err)
	}
	for _, bad := range [][]byte{{0x37, 0x22, '0', '0', '4', '2'}, {0x37, 0x23, '0', '0', '4', '2', 0}, {0x37, 0x22, '0', 'x', '4', '2', 0}, {0x37, 0x22, '0', '0', '4', '2', 1}} {
		if _, err := DecodeProcessID(bad); !errors.Is(err, ErrBadReply) {
			t.Errorf("% X: err = %v", bad, err)
		}
	}
}

func TestNextReply(t *testing.T) {
	stream := []byte{0x12, 0x10, 0, 0x03, 0, 0x37, 0x22, '9', '9', '0', '1', 0, 0xFF, 0x16}
	var kinds []ReplyKind
	var ids []string
	skipped := 0
	for len(stream) > 0 {
		r, n, err := NextReply(stream)
		switch {
		case errors.Is(err, ErrBadReply):
			skipped++
		case err != nil:
			t.Fatalf("at % X: %v", stream, err)
		default:
			kinds = append(kinds, r.Kind)
			ids = append(ids, r.ProcessID)
		}
		stream = stream[n:]
	}
	want := []ReplyKind{ReplyStatus, ReplyASB, ReplyProcessID, ReplyStatus}
	if len(kinds) != len(want) || skipped != 1 {
		t.Fatalf("kinds %v skipped %d", kinds, skipped)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("kinds %v, want %v", kinds, want)
		}
	}
	if ids[2] != "9901" {
		t.Errorf("id %q", ids[2])
	}
	for _, partial := range [][]byte{nil, {0x10, 0}, {0x37, 0x22, '1'}} {
		if _, n, err := NextReply(partial); !errors.Is(err, io.ErrUnexpectedEOF) || n != 0 {
			t.Errorf("% X: n=%d err=%v", partial, n, err)
		}
	}
}

func FuzzDecodeStatus(f *testing.F) {
	for _, s := range []struct {
		n int
		b byte
	}{{1, 0x12}, {2, 0x16}, {3, 0x7E}, {4, 0x7E}, {1, 0x00}, {9, 0x12}} {
		f.Add(s.n, s.b)
	}
	f.Fuzz(func(t *testing.T, n int, b byte) {
		s, err := DecodeStatus(n, b)
		if err == nil && (s.State == "" || !IsStatusByte(b)) {
			t.Fatalf("n=%d 0x%02X: %+v", n, b, s)
		}
	})
}

func FuzzDecodeASB(f *testing.F) {
	f.Add([]byte{0x10, 0, 0, 0})
	f.Add([]byte{0x38, 0x48, 0x0F, 0})
	f.Add([]byte{0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeASB(b)
		if err == nil && (len(b) != 4 || s.State == "") {
			t.Fatalf("% X: %+v", b, s)
		}
	})
}

func FuzzDecodeProcessID(f *testing.F) {
	f.Add([]byte{0x37, 0x22, '0', '0', '4', '2', 0})
	f.Add([]byte{0x37, 0x22})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := DecodeProcessID(b)
		if err == nil {
			req, rerr := ProcessIDRequest(id)
			if rerr != nil || !bytes.Equal(req[7:], b[2:6]) {
				t.Fatalf("% X: id %q does not round-trip", b, id)
			}
		}
	})
}

func FuzzNextReply(f *testing.F) {
	f.Add([]byte{0x12, 0x10, 0, 0x03, 0, 0x37, 0x22, '9', '9', '0', '1', 0, 0xFF})
	f.Add([]byte{0x37})
	f.Add([]byte{0x10, 0x90, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			r, n, err := NextReply(b)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				if n != 0 {
					t.Fatalf("need more with n=%d", n)
				}
				return
			}
			if n < 1 || n > len(b) {
				t.Fatalf("n=%d of %d", n, len(b))
			}
			if err == nil && len(r.Bytes) != n {
				t.Fatalf("reply %d bytes, used %d", len(r.Bytes), n)
			}
			b = b[n:]
		}
	})
}
