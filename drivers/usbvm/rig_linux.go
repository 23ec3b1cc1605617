package usbvm

import (
	"context"
	"fmt"
	"time"
)

// buildRig creates the three gadgets, plugs them and waits until the host side has made
// their nodes.
func buildRig() (*Rig, error) {
	r := &Rig{}
	for _, x := range []struct {
		spec GadgetSpec
		dst  **Gadget
		node string
	}{
		{PrinterSpec(), &r.Printer, "usb/lp"},
		{SerialSpec(), &r.Serial, "ttyACM"},
		{KeyboardSpec(), &r.Keyboard, "hidraw"},
	} {
		g, err := CreateGadget(x.spec)
		if err != nil {
			return nil, err
		}
		if err := g.Plug(); err != nil {
			return nil, err
		}
		*x.dst = g
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, x := range []struct {
		g      *Gadget
		prefix string
	}{{r.Printer, "usb/lp"}, {r.Serial, "ttyACM"}, {r.Keyboard, "hidraw"}, {r.Keyboard, "input/event"}} {
		n, err := x.g.WaitHostNode(ctx, x.prefix)
		if err != nil {
			return nil, err
		}
		fmt.Printf("usbvm: %s plugged: %s\n", x.g.Name, n)
	}
	return r, nil
}
