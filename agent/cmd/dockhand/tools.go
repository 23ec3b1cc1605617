package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/drivers/scanner"
	"github.com/dockhand/dockhand/drivers/transport"
	"github.com/dockhand/dockhand/sync/hubsim"
)

func init() {
	register(command{"devices", "list scanners, printers and serial ports to copy into the config: dockhand devices [-json]", cmdDevices})
	register(command{"print-test", "print a sample waybill: dockhand print-test [-to tcp://h:9100|serial:///dev/ttyUSB0|usblp:///dev/usb/lp0|FILE] [-model M] [-size 100x150] [-dpi 300] [-png FILE]", cmdPrintTest})
	register(command{"hubsim", "run the hub simulator against a broker: dockhand hubsim -broker URL [-warehouse HZ01] [-feed FILE.jsonl | -orders N] [-rate N] [-db FILE] [-events]", cmdHubsim})
}

func cmdDevices(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("devices", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	serials, serr := transport.ListSerialPorts()
	printers, perr := transport.ListUSBPrinters()
	scanners, cerr := scanner.ListDevices(scanner.DefaultSysfs)
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"serial_ports": serials, "usb_printers": printers,
			"scanners": scanners, "usb_hid_support": scanner.USBHIDSupported()})
	}
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USB PRINTERS (usblp)\tVID:PID\tSERIAL\tLANGUAGES\tCONFIG URL")
	for _, p := range printers {
		fmt.Fprintf(w, "%s %s %s\t%04x:%04x\t%s\t%s\t%s\n", p.Node, p.Manufacturer, p.Product, p.VID, p.PID, p.Serial,
			strings.Join(p.DeviceID.Commands, ","), p.URL())
	}
	fmt.Fprintln(w, "\nSERIAL PORTS\tVID:PID\tSERIAL\t\tCONFIG URL")
	for _, p := range serials {
		fmt.Fprintf(w, "%s %s %s\t%04x:%04x\t%s\t\t%s\n", p.Path, p.Manufacturer, p.Product, p.VID, p.PID, p.Serial, p.URL())
	}
	fmt.Fprintln(w, "\nPOSSIBLE SCANNERS\tVID:PID\tSERIAL\tKIND\tPATH")
	for _, d := range scanners {
		fmt.Fprintf(w, "%s %s\t%04x:%04x\t%s\t%s\t%s\n", d.Manufacturer, d.Product, d.VID, d.PID, d.Serial, d.Kind, d.Path)
	}
	w.Flush()
	if !scanner.USBHIDSupported() {
		fmt.Println("\nnote: this build has no USB HID support (built without cgo); HID scanners are read through /dev/input instead")
	}
	for _, err := range []error{serr, perr, cerr} {
		if err != nil {
			fmt.Println("note:", err)
		}
	}
	return nil
}

// sampleWaybill is the label print-test prints: rare characters, an emoji, a
// Hong Kong address, a gift and the urgent mark, so one test shows them all.
func sampleWaybill() label.Waybill {
	return label.Waybill{
		CarrierCode: "SF", CarrierName: "顺丰速运", Service: "标准快递", SortCode: "755W-K10 03", PackageCenter: "深圳转运中心",
		No: "SF1404958372615", OrderID: "O-20261122-000001", Urgent: true, Tags: []string{"易碎", "重点复核"},
		Receiver: label.Party{Name: "𠮷田 陳嘉欣 🐼", Phone: "852-9123****", Province: "香港特别行政区", City: "香港",
			District: "九龙城区", Address: "土瓜湾道 82 号 翔龙湾广场 3 座 18 楼 B 室(请放管理处)", Country: "HK"},
		Sender: label.Party{Name: "贝优童官方旗舰店", Phone: "0571-8888****", Province: "浙江省", City: "杭州市",
			District: "余杭区", Address: "仓前街道良睦路1399号2号仓"},
		Items:     []label.Item{{Name: "有机米糊礼盒", Spec: "南瓜味 6盒装", Qty: 2}, {Name: "婴儿湿巾", Spec: "80抽", Qty: 3}},
		Gifts:     []label.Item{{Name: "围兜", Qty: 1}},
		Remark:    "生日礼物,请包装好",
		PrintedAt: time.Now(),
	}
}

func cmdPrintTest(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("print-test", flag.ContinueOnError)
	to := fs.String("to", "sample-waybill.prn", "where to print: tcp://host:9100, serial:///dev/ttyUSB0?baud=9600, usblp:///dev/usb/lp0, or a file")
	model := fs.String("model", "xprinter-xp-470b", "printer model: "+strings.Join(label.Models(), ", "))
	size := fs.String("size", "", "label size in mm, e.g. 100x150 (default: the model's)")
	dpi := fs.Int("dpi", 0, "203 or 300 (default: the model's)")
	png := fs.String("png", "", "also write a PNG preview to this file")
	font := fs.String("font", "", "CJK font file (default: searched)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	p, ok := label.ProfileFor(*model)
	if !ok {
		return fmt.Errorf("unknown model %q; known: %s", *model, strings.Join(label.Models(), ", "))
	}
	if *size != "" {
		var w, h float64
		if _, err := fmt.Sscanf(*size, "%gx%g", &w, &h); err != nil {
			return fmt.Errorf("size %q must look like 100x150", *size)
		}
		p = p.WithSize(w, h)
	}
	if *dpi != 0 {
		p.DPI = *dpi
	}
	p.FontPath = *font
	fonts, err := label.FontsFor(p.FontPath)
	if err != nil {
		return err
	}
	wb := sampleWaybill()
	var buf strings.Builder
	if err := label.WriteWaybill(&buf, &wb, p, fonts); err != nil {
		return err
	}
	if *png != "" {
		l, err := label.LayoutWaybill(&wb, p)
		if err != nil {
			return err
		}
		f, err := os.Create(*png)
		if err != nil {
			return err
		}
		if err := label.Preview(f, l, fonts); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Println("preview written to", *png)
	}
	target := *to
	if !strings.Contains(target, "://") {
		abs, err := filepath.Abs(target)
		if err != nil {
			return err
		}
		target = "file://" + filepath.ToSlash(abs)
	}
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	port, err := transport.Open(octx, target)
	if err != nil {
		return err
	}
	if _, err := port.Write([]byte(buf.String())); err != nil {
		port.Close()
		return err
	}
	if err := port.Flush(); err != nil {
		port.Close()
		return err
	}
	if err := port.Close(); err != nil {
		return err
	}
	fmt.Printf("sample waybill (%s, %s, %d dpi, %gx%g mm, %d bytes) sent to %s\n", p.Model, p.Language, p.DPI, p.WidthMM, p.HeightMM, buf.Len(), target)
	return nil
}

func cmdHubsim(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("hubsim", flag.ContinueOnError)
	brokerURL := fs.String("broker", "tcp://127.0.0.1:1883", "broker URL")
	wh := fs.String("warehouse", "HZ01", "warehouse code")
	feed := fs.String("feed", "", "JSONL feed to publish (the hub's feed format)")
	orders := fs.Int("orders", 200, "generated sample orders when no -feed is given")
	seed := fs.Uint64("seed", 1, "seed of the generated orders")
	rate := fs.Float64("rate", 0, "feed messages per second (0: as fast as the broker takes them)")
	db := fs.String("db", "hubsim.db", "where received events are stored")
	user := fs.String("user", "", "broker username")
	pass := fs.String("password", os.Getenv("DOCKHAND_HUBSIM_PASSWORD"), "broker password (or $DOCKHAND_HUBSIM_PASSWORD)")
	events := fs.Bool("events", false, "print every event received, then go on")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := hubsim.New(hubsim.Config{Broker: *brokerURL, Warehouse: *wh, DBPath: *db, Rate: *rate,
		Username: *user, Password: *pass, Logger: log})
	if err != nil {
		return err
	}
	defer h.Close()
	if h.Seq() == 0 {
		if *feed != "" {
			f, err := os.Open(*feed)
			if err != nil {
				return err
			}
			n, err := h.Load(bufio.NewReader(f))
			f.Close()
			if err != nil {
				return err
			}
			log.Info("feed loaded", "file", *feed, "messages", n)
		} else {
			opts := sample.DefaultOptions()
			opts.Count, opts.Seed, opts.Warehouse = *orders, *seed, *wh
			n, err := h.Feed(sample.Messages(opts))
			if err != nil {
				return err
			}
			log.Info("sample orders generated", "messages", n)
		}
	}
	if *events {
		go printEvents(ctx, h)
	}
	err = h.Run(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	for _, v := range h.Violations() {
		fmt.Fprintf(os.Stderr, "contract violation: %+v\n", v)
	}
	return err
}

// printEvents prints the events the hub stored, as they arrive.
func printEvents(ctx context.Context, h *hubsim.Hub) {
	seen := map[string]int{}
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, ag := range h.Agents() {
			evs, err := h.Events(ag)
			if err != nil {
				continue
			}
			for _, e := range evs[seen[ag]:] {
				b, _ := json.Marshal(e)
				fmt.Println(string(b))
			}
			seen[ag] = len(evs)
		}
	}
}
