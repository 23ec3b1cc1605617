// Command peakday runs the peak-day suite against the real agent binary and
// writes the report: by default the full day (58,000 orders, 50 stations,
// minutes of broker outage) into docs/peakday/; with -short the CI variant.
//
// It needs root (it mounts a small tmpfs for the agent's data directory so it
// can fill it) and Debian's mosquitto.
//
// Usage:
//
//	go run ./peakday/cmd/peakday [-short] [-out docs/peakday] [-work DIR] [-binary bin/dockhand]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dockhand/dockhand/peakday"
)

func main() {
	short := flag.Bool("short", false, "run the short CI variant")
	out := flag.String("out", "docs/peakday", "where REPORT.md and its charts go")
	work := flag.String("work", "", "working directory (default: a new temporary one, removed after)")
	binary := flag.String("binary", "", "the dockhand binary (default: build one)")
	orders := flag.Int("orders", 0, "override the number of orders")
	feedFor := flag.Duration("feed-for", 0, "override how long the orders take to arrive")
	disk := flag.String("disk", "tmpfs", "the data disk: tmpfs, or ext4 (a loop-mounted file: real fsync cost)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := run(*short, *out, *work, *binary, *orders, *feedFor, *disk, log); err != nil {
		fmt.Fprintln(os.Stderr, "peakday:", err)
		os.Exit(1)
	}
}

func run(short bool, out, work, binary string, orders int, feedFor time.Duration, disk string, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	keep := work != ""
	if work == "" {
		d, err := os.MkdirTemp("", "peakday-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	opts := peakday.FullOptions(work)
	title := "Peak day under fire: the full run"
	if short {
		opts = peakday.ShortOptions(work)
		title = "Peak day under fire: the short run"
	}
	if orders > 0 {
		opts.Orders = orders
	}
	if feedFor > 0 {
		opts.FeedFor = feedFor
	}
	if binary != "" {
		abs, err := filepath.Abs(binary)
		if err != nil {
			return err
		}
		opts.Binary = abs
	}
	opts.Log = log
	opts.DataDisk = disk
	opts.KeepData = keep
	start := time.Now()
	res, err := peakday.Run(ctx, opts)
	if err != nil {
		return err
	}
	peakday.PrintSummary(os.Stdout, res)
	if err := peakday.WriteReport(out, res, peakday.ThisMachine(), title); err != nil {
		return err
	}
	fmt.Printf("report written to %s (%s)\n", filepath.Join(out, "REPORT.md"), time.Since(start).Round(time.Second))
	if f := res.Failed(); len(f) > 0 {
		return fmt.Errorf("%d invariant(s) broken", len(f))
	}
	return nil
}
