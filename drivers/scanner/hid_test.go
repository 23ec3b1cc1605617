package scanner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// readHexReports reads a fixture: one report per line in hex, # comments.
func readHexReports(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b, err := hex.DecodeString(strings.ReplaceAll(line, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, b)
	}
	return out
}

// reportStream hands out one report per Read, like hidraw does, then EOF.
type reportStream struct{ reports [][]byte }

func (s *reportStream) Read(p []byte) (int, error) {
	if len(s.reports) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.reports[0])
	s.reports = s.reports[1:]
	return n, nil
}

func decoderFor(t testing.TB, name string) ReportDecoder {
	switch {
	case strings.HasPrefix(name, "kbd-us-reportid"):
		d := NewKeyboardDecoder(LayoutUS)
		d.ReportID = 1
		return d
	case strings.HasPrefix(name, "kbd-us"):
		return NewKeyboardDecoder(LayoutUS)
	case strings.HasPrefix(name, "kbd-de"):
		return NewKeyboardDecoder(LayoutDE)
	case strings.HasPrefix(name, "kbd-fr"):
		return NewKeyboardDecoder(LayoutFR)
	case strings.HasPrefix(name, "pos-"):
		d, err := NewPOSDecoder(POSAIMFirst)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Fatalf("no decoder for fixture %s", name)
	return nil
}

// TestHIDFixtures decodes every recorded report fixture through a HIDReader
// and compares the scans and counters with the golden file.
func TestHIDFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/hid/*.hex")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".hex")
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			r, err := NewHIDReader(&reportStream{readHexReports(t, path)}, decoderFor(t, name),
				Options{Source: "hid-1", Logger: quietLogger},
				func(_ context.Context, s Scan) { fmt.Fprintf(&got, "scan sym=%q code=%q\n", s.Symbology, s.Code) })
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Run(context.Background()); !errors.Is(err, ErrDisconnected) {
				t.Fatalf("Run = %v, want ErrDisconnected at end of stream", err)
			}
			fmt.Fprintf(&got, "stats %+v\n", r.Stats())
			golden := strings.TrimSuffix(path, ".hex") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("decoded:\n%s\nwant:\n%s", got.Bytes(), want)
			}
		})
	}
}

func TestKeyboardDecoderTable(t *testing.T) {
	press := func(mod byte, keys ...byte) []byte {
		r := make([]byte, 8)
		r[0] = mod
		copy(r[2:], keys)
		return r
	}
	up := press(0)
	tests := []struct {
		name    string
		layout  *Layout
		reports [][]byte
		want    []Frame
		wantErr bool
	}{
		{"digit and enter", LayoutUS, [][]byte{press(0, 0x1E), up, press(0, 0x28), up}, []Frame{{Data: []byte("1")}}, false},
		{"shift letter", LayoutUS, [][]byte{press(modLShift, 0x04), up, press(0, 0x58)}, []Frame{{Data: []byte("A")}}, false},
		{"right shift", LayoutUS, [][]byte{press(modRShift, 0x38), press(0, 0x2B)}, []Frame{{Data: []byte("?")}}, false},
		{"ctrl ] is GS", LayoutUS, [][]byte{press(modLCtrl, 0x30), up, press(0, 0x28)}, []Frame{{Data: []byte{0x1D}}}, false},
		{"keypad digits", LayoutFR, [][]byte{press(0, 0x59), press(0, 0x62), press(0, 0x63), press(0, 0x28)}, []Frame{{Data: []byte("10.")}}, false},
		{"de altgr q is @", LayoutDE, [][]byte{press(modRAlt, 0x14), up, press(0, 0x28)}, []Frame{{Data: []byte("@")}}, false},
		{"us right alt is alt", LayoutUS, [][]byte{press(modRAlt), press(modRAlt, 0x62), press(modRAlt), press(modRAlt, 0x5E), press(modRAlt, 0x5B), press(0), press(0, 0x28)}, []Frame{{Data: []byte{'?'}}}, false},
		{"alt code out of ascii", LayoutUS, [][]byte{press(modLAlt, 0x5A), press(modLAlt, 0x5D), press(modLAlt), press(modLAlt, 0x5D), press(0), press(0, 0x28)}, []Frame{{Problem: "Alt+keypad code 255 is not an ASCII character"}}, false},
		{"empty enter ignored", LayoutUS, [][]byte{press(0, 0x28), up, press(0, 0x28)}, nil, false},
		{"short report", LayoutUS, [][]byte{{0, 0, 4}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewKeyboardDecoder(tt.layout)
			var got []Frame
			var gotErr error
			for _, r := range tt.reports {
				f, err := d.Decode(r)
				if err != nil {
					gotErr = err
				}
				got = append(got, f...)
			}
			if (gotErr != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", gotErr, tt.wantErr)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Errorf("frames %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLayoutByName(t *testing.T) {
	for _, n := range []string{"us", "DE", "fr"} {
		if _, err := LayoutByName(n); err != nil {
			t.Error(err)
		}
	}
	if _, err := LayoutByName("dvorak"); err == nil || !strings.Contains(err.Error(), "us") {
		t.Errorf("LayoutByName(dvorak) = %v, want an error listing the layouts", err)
	}
}

func TestPOSLayoutValidate(t *testing.T) {
	bad := POSAIMFirst
	bad.DataMax = 100
	if _, err := NewPOSDecoder(bad); err == nil {
		t.Error("a layout whose data area passes the report end was accepted")
	}
	if _, err := POSLayoutByName("zebra-snapi"); err == nil {
		t.Error("unknown layout accepted")
	}
}

func FuzzKeyboardDecoder(f *testing.F) {
	for _, path := range []string{"testdata/hid/kbd-us-mixed.hex", "testdata/hid/kbd-us-altcode.hex", "testdata/hid/kbd-de.hex"} {
		f.Add(bytes.Join(readHexReports(f, path), nil), byte(0))
	}
	f.Add([]byte{1, 0, 0, 0x1e, 0, 0, 0, 0, 0}, byte(1))
	f.Fuzz(func(t *testing.T, data []byte, rid byte) {
		for _, l := range []*Layout{LayoutUS, LayoutDE, LayoutFR} {
			d := NewKeyboardDecoder(l)
			d.ReportID = rid
			size := 8
			if rid != 0 {
				size = 9
			}
			for len(data) > 0 {
				n := min(size, len(data))
				frames, _ := d.Decode(data[:n])
				for _, fr := range frames {
					if fr.Problem == "" && len(fr.Data) == 0 {
						t.Fatal("empty frame without a problem")
					}
				}
				data = data[n:]
			}
		}
	})
}

func FuzzPOSDecoder(f *testing.F) {
	for _, path := range []string{"testdata/hid/pos-aim-first.hex", "testdata/hid/pos-bad.hex"} {
		for _, r := range readHexReports(f, path) {
			f.Add(r)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewPOSDecoder(POSAIMFirst)
		if err != nil {
			t.Fatal(err)
		}
		// Feed the input both as one report and as 64-byte reports.
		d.Decode(data)
		for len(data) > 0 {
			n := min(64, len(data))
			frames, err := d.Decode(data[:n])
			if err != nil && frames != nil {
				t.Fatal("frames returned together with an error")
			}
			data = data[n:]
		}
	})
}
