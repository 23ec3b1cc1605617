package scanner_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/dockhand/dockhand/drivers/scanner"
)

// A serial scanner sending an AIM id and CR after each code. Real code
// passes an open go.bug.st/serial port instead of the strings.Reader.
func ExampleNewSerialReader() {
	line := strings.NewReader("]E05901234123457\r]C10104012345678901\x1d10LOT7\r")
	sr, err := scanner.NewSerialReader(line, scanner.SerialConfig{Terminator: scanner.TermCR, Options: scanner.Options{Source: "bench-1"}},
		func(_ context.Context, s scanner.Scan) { fmt.Printf("%s %s %q\n", s.Source, s.Symbology, s.Code) })
	if err != nil {
		panic(err)
	}
	err = sr.Run(context.Background()) // ends when the stream ends
	fmt.Println(err != nil)
	// Output:
	// bench-1 ]E0 "5901234123457"
	// bench-1 ]C1 "0104012345678901\x1d10LOT7"
	// true
}

// Keeping a keyboard-mode scanner open on Linux, found by its USB ids,
// across unplugs.
func ExampleSupervisor() {
	us, _ := scanner.LayoutByName("us")
	scans := make(chan scanner.Scan, 16)
	sup := &scanner.Supervisor{
		Name: "bench-1",
		Open: scanner.EvdevOpener(scanner.DeviceTarget{Match: scanner.Match{VID: 0x0c2e, PID: 0x0b61}}, us,
			scanner.Options{Source: "bench-1"}, scanner.ChanSink(scans)),
		OnState: func(name string, st scanner.State, err error) { fmt.Println(name, st, err) },
	}
	_ = sup // run with sup.Run(ctx) in its own goroutine
}
