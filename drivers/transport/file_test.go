package transport

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

func TestFileAppendsExactBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out dir", "label.prn")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()

	jobs := [][]byte{
		[]byte("SIZE 76 mm, 130 mm\r\nGAP 2 mm, 0 mm\r\nCLS\r\n"),
		{0x1b, 0x40, 0x00, 0xff, 0x1d, 0x76, 0x30, 0x00, '\r', '\n', 0x80},
	}
	for _, job := range jobs { // two opens: the second appends
		p, err := Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Info(); got.Kind != "file" || got.Address != path {
			t.Errorf("Info() = %+v", got)
		}
		if _, err := p.Write(job); err != nil {
			t.Fatal(err)
		}
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, err := p.ReadContext(t.Context(), make([]byte, 1)); !errors.Is(err, ErrOneWay) || !errors.Is(err, ErrUnsupported) {
			t.Errorf("ReadContext on a file = %v, want ErrOneWay", err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Join(jobs, nil); !bytes.Equal(got, want) {
		t.Fatalf("file holds %q, want %q", got, want)
	}
}

func TestFileMissingDirectory(t *testing.T) {
	u := "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "no", "such", "dir", "x.prn"))
	if _, err := Open(t.Context(), u); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open in a missing directory = %v, want ErrNotFound", err)
	}
}
