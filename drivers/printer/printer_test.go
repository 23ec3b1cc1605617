package printer

import (
	"errors"
	"reflect"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestAppendGB(t *testing.T) {
	tests := []struct {
		in      string
		cs      Charset
		want    string
		bad     rune
		badByte int
	}{
		{"abc 123", GBK, "abc 123", 0, 0},
		{"中国", GBK, "\xd6\xd0\xb9\xfa", 0, 0},
		{"€5", GBK, "\xa2\xe35", 0, 0}, // GBK's encoder would give the single byte 0x80
		{"彌敦道", GBK, "\x8f\x9b\xb6\xd8\xb5\xc0", 0, 0},
		{"彌敦道", GB2312, "", '彌', 0},
		{"王𠮷", GBK, "", '𠮷', 3},
		{"好😀", GBK, "", '😀', 3},
		{"a\nb", GBK, "", '\n', 1},
		{"\ue000", GBK, "", '\ue000', 0},
	}
	for _, tt := range tests {
		got, err := AppendGB([]byte("X"), tt.in, tt.cs)
		if tt.bad != 0 {
			var ue *UnprintableError
			if !errors.As(err, &ue) || ue.Rune != tt.bad || ue.Offset != tt.badByte || !errors.Is(err, ErrUnprintable) {
				t.Errorf("%q: err = %v, want unprintable %q at %d", tt.in, err, tt.bad, tt.badByte)
			}
			if string(got) != "X" {
				t.Errorf("%q: dst changed on error: %q", tt.in, got)
			}
			continue
		}
		if err != nil || string(got) != "X"+tt.want {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestTableMatchesEncoder checks the cached table against golang.org/x/text
// for every 2-byte code of a sample of the BMP.
func TestTableMatchesEncoder(t *testing.T) {
	enc := simplifiedchinese.GB18030.NewEncoder()
	for r := rune(0x80); r < 0x10000; r += 7 {
		if r >= 0xD800 && r <= 0xF8FF {
			continue
		}
		want, err := enc.String(string(r))
		got, ok := AppendRune(nil, r, GBK)
		if ok != (err == nil && len(want) == 2) {
			t.Fatalf("U+%04X: printable %v, encoder gave %x %v", r, ok, want, err)
		}
		if ok && string(got) != want {
			t.Fatalf("U+%04X: %x, want %x", r, got, want)
		}
	}
}

func TestSplitRuns(t *testing.T) {
	got := SplitRuns("张𠮷三😀😀ok", GBK)
	want := []Run{{"张", true}, {"𠮷", false}, {"三", true}, {"😀😀", false}, {"ok", true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	if SplitRuns("", GBK) != nil {
		t.Error("empty text has runs")
	}
}

func TestBuilder(t *testing.T) {
	var b Builder
	if s := b.Status(); s.State != Ready || s.Detail != "" || !s.OK() {
		t.Fatalf("zero builder: %+v", s)
	}
	b.Add(Printing, "printing")
	b.Add(PaperOut, "paper out")
	b.Add(Error, "cutter error")
	b.NearEnd()
	s := b.Status()
	if s.State != PaperOut || s.Detail != "printing, paper out, cutter error, paper near end" || !s.PaperNearEnd || s.OK() {
		t.Fatalf("got %+v", s)
	}
	if s.String() != "paper_out (printing, paper out, cutter error, paper near end)" {
		t.Errorf("String = %q", s)
	}
}

func TestHub(t *testing.T) {
	for in, want := range map[State]State{Ready: Ready, Paused: Offline, RibbonOut: Error, "weird": Error, CoverOpen: CoverOpen} {
		if got := in.Hub(); got != want {
			t.Errorf("%s.Hub() = %s, want %s", in, got, want)
		}
	}
}

func FuzzAppendGB(f *testing.F) {
	for _, s := range []string{"中文", "𠮷", "😀", "abc", "\xff", "€"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := AppendGB(nil, s, GBK)
		if err != nil {
			return
		}
		back, derr := simplifiedchinese.GB18030.NewDecoder().Bytes(out)
		if derr != nil || string(back) != s {
			t.Fatalf("%q -> %x -> %q, %v", s, out, back, derr)
		}
	})
}
