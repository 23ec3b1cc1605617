package transport_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dockhand/dockhand/drivers/transport"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "labels")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "out.prn")

	p, err := transport.Open(context.Background(), "file://"+filepath.ToSlash(path))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Fprintf(p, "SIZE 76 mm, 130 mm\r\nCLS\r\nPRINT 1\r\n")
	if err := p.Close(); err != nil {
		fmt.Println(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Printf("%s wrote %q\n", p.Info().Kind, b)
	// Output: file wrote "SIZE 76 mm, 130 mm\r\nCLS\r\nPRINT 1\r\n"
}

func ExampleParseURL() {
	for _, addr := range []string{
		"tcp://10.0.0.21",
		"serial:///dev/ttyUSB0?baud=19200&bits=7&parity=even",
		"serial:///dev/ttyUSB0?baud_rate=9600",
	} {
		t, err := transport.ParseURL(addr)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(t)
	}
	// Output:
	// tcp://10.0.0.21:9100
	// serial:///dev/ttyUSB0?baud=19200&bits=7&parity=even
	// transport: parse serial:///dev/ttyUSB0?baud_rate=9600: printer address is not valid (unknown option "baud_rate"; known options: baud, bits, dtr, flow, parity, rts, stop, write_timeout)
}

func ExampleParseDeviceID() {
	id, err := transport.ParseDeviceID("MFG:Xprinter;MDL:XP-470B;CMD:TSPL2,ESC/POS;")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id.Manufacturer, id.Model, id.Languages(), id.Speaks("tspl"))
	// Output: Xprinter XP-470B [TSPL ESCPOS] true
}

func ExampleSupervisor() {
	dir, _ := os.MkdirTemp("", "labels")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "out.prn")

	s, err := transport.NewSupervisor("file://"+filepath.ToSlash(path), transport.SupervisorOptions{
		OnEvent: func(e transport.Event) { fmt.Println("printer", e.State) },
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()

	if _, err := s.Wait(ctx); err != nil {
		fmt.Println(err)
		return
	}
	err = s.Do(ctx, func(p transport.Port) error {
		_, err := p.Write([]byte("PRINT 1\r\n"))
		return err
	})
	fmt.Println("job:", err)
	cancel()
	<-done
	// Output:
	// printer connected
	// job: <nil>
	// printer offline
}
