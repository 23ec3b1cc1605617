package transport

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSchemesRegistered(t *testing.T) {
	// Every scheme is registered on every OS; missing backends are stubs
	// that explain themselves.
	want := []string{"file", "serial", "tcp", "usblp", "winspool"}
	if got := Schemes(); !slices.Equal(got, want) {
		t.Fatalf("Schemes() = %v, want %v", got, want)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url  string
		want string // Target.String(); empty when an error is expected
		err  error
	}{
		{"tcp://10.0.0.21:9100", "tcp://10.0.0.21:9100", nil},
		{"tcp://printer-3", "tcp://printer-3:9100", nil},
		{"TCP://[fe80::1]:9100?dial_timeout=2s&write_timeout=1m&keepalive=0s", "tcp://[fe80::1]:9100", nil},
		{"tcp://", "", ErrBadAddress},
		{"tcp://host:9100/path", "", ErrBadAddress},
		{"tcp://host?dial_timeout=fast", "", ErrBadAddress},
		{"tcp://host?dial_timeout=-1s", "", ErrBadAddress},
		{"tcp://host?timeout=1s", "", ErrBadAddress},
		{"serial:///dev/ttyUSB0", "serial:///dev/ttyUSB0?baud=9600", nil},
		{"serial:///dev/ttyUSB0?baud=9600&bits=8&parity=none&stop=1&flow=none", "serial:///dev/ttyUSB0?baud=9600", nil},
		{"serial:///dev/ttyS1?baud=19200&bits=7&parity=even&stop=2&dtr=on", "serial:///dev/ttyS1?baud=19200&bits=7&parity=even&stop=2&dtr=on", nil},
		{"serial://COM3?baud=115200", "serial://COM3?baud=115200", nil},
		{"serial://", "", ErrBadAddress},
		{"serial:///dev/ttyUSB0?baud=fast", "", ErrBadAddress},
		{"serial:///dev/ttyUSB0?baud=0", "", ErrBadAddress},
		{"serial:///dev/ttyUSB0?bits=9", "", ErrBadAddress},
		{"serial:///dev/ttyUSB0?parity=maybe", "", ErrBadAddress},
		{"serial:///dev/ttyUSB0?stop=3", "", ErrBadAddress},
		{"serial:///dev/ttyUSB0?dtr=maybe", "", ErrBadAddress},
		{"serial:///dev/ttyUSB0?baud_rate=9600", "", ErrBadAddress},
		{"serial:///dev/ttyUSB0?flow=rtscts", "", ErrUnsupported},
		{"file:///var/tmp/out.prn", "file:///var/tmp/out.prn", nil},
		{"file://localhost/var/tmp/out.prn", "file:///var/tmp/out.prn", nil},
		{"file:out.prn", "file:out.prn", nil},
		{"file:///var/tmp/a%20b.prn", "file:///var/tmp/a%20b.prn", nil},
		{"file://server/out.prn", "", ErrBadAddress},
		{"file:///var/tmp/", "", ErrBadAddress},
		{"file:///var/tmp/x?append=1", "", ErrBadAddress},
		{"lpt://1", "", ErrBadAddress},
		{"10.0.0.21:9100", "", ErrBadAddress},
		{"", "", ErrBadAddress},
		{"winspool://", "", ErrBadAddress},
		{"usblp://host/dev/usb/lp0", "", ErrBadAddress},
		{"usblp:///dev/usb/lp0?vid=0483&pid=5743", "", ErrBadAddress},
		{"usblp://?vid=0483", "", ErrBadAddress},
		{"usblp://?vid=zz&pid=5743", "", ErrBadAddress},
		{"usblp://?vid=04830&pid=5743", "", ErrBadAddress},
		{"usblp://?vid=0483&pid=5743&colour=red", "", ErrBadAddress},
	}
	if runtime.GOOS == "linux" {
		tests = append(tests, []struct {
			url  string
			want string
			err  error
		}{
			{"usblp:///dev/usb/lp0", "usblp:///dev/usb/lp0", nil},
			{"usblp://?vid=0483&pid=5743&serial=XYZ", "usblp://?pid=5743&serial=XYZ&vid=0483", nil},
			{"usblp://?vid=0x1FC9&pid=2016&port=1-1.2&write_timeout=5s&drain_timeout=1m", "usblp://?pid=2016&port=1-1.2&vid=1fc9", nil},
		}...)
	}
	if runtime.GOOS == "windows" {
		tests = append(tests, struct {
			url  string
			want string
			err  error
		}{"winspool://Xprinter XP-470B", "winspool://Xprinter XP-470B", nil})
	} else {
		tests = append(tests, struct {
			url  string
			want string
			err  error
		}{"winspool://Xprinter XP-470B", "", ErrUnsupported})
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := ParseURL(tt.url)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ParseURL(%q) = %v, %v; want an error wrapping %q", tt.url, got, err, tt.err)
				}
				if Retryable(err) {
					t.Errorf("a bad address must not be retryable: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.url, err)
			}
			if got.String() != tt.want {
				t.Errorf("ParseURL(%q).String() = %q, want %q", tt.url, got.String(), tt.want)
			}
			// The canonical form parses to itself.
			again, err := ParseURL(got.String())
			if err != nil || again.String() != got.String() {
				t.Errorf("re-parse of %q = %v, %v", got, again, err)
			}
		})
	}
}

func TestTCPOptions(t *testing.T) {
	tg, err := ParseURL("tcp://h?dial_timeout=2s&write_timeout=1m&keepalive=0s")
	if err != nil {
		t.Fatal(err)
	}
	got := tg.(*TCPTarget)
	want := TCPTarget{Addr: "h:9100", DialTimeout: 2 * time.Second, WriteTimeout: time.Minute}
	if *got != want {
		t.Errorf("options = %+v, want %+v", *got, want)
	}
}

func TestErrorsNameTheOperation(t *testing.T) {
	_, err := ParseURL("serial:///dev/ttyUSB0?parity=maybe")
	for _, want := range []string{"transport: parse", "/dev/ttyUSB0", "printer address is not valid", "parity"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{ErrOffline, true}, {ErrDisconnected, true}, {ErrBusy, true}, {ErrTimeout, true},
		{ErrNotFound, true}, {ErrAmbiguous, true}, {ErrPermission, true},
		{ErrBadAddress, false}, {ErrUnsupported, false}, {ErrOneWay, false}, {ErrClosed, false},
		{newErr("write", "tcp://x", ErrDisconnected, errors.New("broken pipe")), true},
		{errors.New("something else"), false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// FuzzParseURL: a printer address comes from a config file or the web UI;
// no input may panic, and every accepted address has a canonical form that
// parses to itself.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"tcp://10.0.0.21:9100", "tcp://[::1]:9100?dial_timeout=1s", "serial:///dev/ttyUSB0?baud=9600&bits=8&parity=none&stop=1&flow=none",
		"serial://COM3", "usblp:///dev/usb/lp0", "usblp://?vid=0483&pid=5743&serial=XYZ", "winspool://Printer Name",
		"file:///tmp/x.prn", "file:x", "tcp://%zz", "serial:///dev/x?baud=%", "://", "usblp://?vid=&pid=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseURL(s)
		if err != nil {
			if !errors.Is(err, ErrBadAddress) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("ParseURL(%q) error %v wraps neither ErrBadAddress nor ErrUnsupported", s, err)
			}
			return
		}
		again, err := ParseURL(tg.String())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", tg, s, err)
		}
		if again.String() != tg.String() {
			t.Fatalf("canonical form unstable: %q -> %q", tg, again)
		}
	})
}
