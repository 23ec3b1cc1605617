// Command dockhand is the warehouse-floor agent: it drives the bench's scanners and
// label printers, enforces the scan-twice check, prints waybills once, keeps the
// warehouse's orders offline and syncs with the order hub over MQTT.
//
// Usage:
//
//	dockhand run [-config FILE]        run the agent (no file: the self-contained demo)
//	dockhand config check FILE         report every problem in a configuration file
//	dockhand version                   print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/dockhand/dockhand/agent"
	"github.com/dockhand/dockhand/agent/config"
	"github.com/dockhand/dockhand/agent/service"
	"github.com/dockhand/dockhand/agent/version"
)

// command is one subcommand.
type command struct {
	name, usage string
	run         func(ctx context.Context, args []string) error
}

var commands []command

func register(c command) { commands = append(commands, c) }

func init() {
	register(command{"run", "run the agent: dockhand run [-config FILE]", cmdRun})
	register(command{"config", "check a configuration file: dockhand config check FILE", cmdConfig})
	register(command{"service", "manage the Windows service: dockhand service install|uninstall|start|stop|restart [-config FILE] (Linux: systemctl)", cmdService})
	register(command{"version", "print the version", func(context.Context, []string) error {
		fmt.Println(version.String())
		return nil
	}})
}

func main() {
	// Started by the Windows service manager: run under it.
	err := service.RunService(service.Name, func(ctx context.Context) error { return dispatch(ctx, os.Args[1:], os.Stderr) })
	if !errors.Is(err, service.ErrNotService) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "dockhand:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := dispatch(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dockhand:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func dispatch(ctx context.Context, args []string, w io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(w)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, args[1:])
			if errors.Is(err, errUsage) {
				fmt.Fprintln(w, "usage:", c.usage)
				return errors.New("wrong arguments")
			}
			return err
		}
	}
	usage(w)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "dockhand — the warehouse-floor agent. Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.usage)
	}
}

func newLogger(c config.Log) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func cmdRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (none: the self-contained demo)")
	listen := fs.String("listen", "", "override http.listen")
	dataDir := fs.String("data", "", "override data_dir")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.HTTP.Listen = *listen
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	log := newLogger(cfg.Log)
	slog.SetDefault(log)
	if set := cfg.Memory.Apply(); set != "" {
		log.Debug("garbage collector tuned", "memory", set)
	}
	a, err := agent.New(cfg, log)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

func cmdConfig(_ context.Context, args []string) error {
	if len(args) != 2 || args[0] != "check" {
		return errUsage
	}
	_, err := config.Load(args[1])
	if err != nil {
		return err
	}
	fmt.Printf("%s: OK\n", args[1])
	return nil
}

func cmdService(_ context.Context, args []string) error {
	if len(args) < 1 {
		return errUsage
	}
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	path := fs.String("config", service.DefaultConfigPath(), "configuration file the service runs with")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if err := service.Control(args[0], *path); err != nil {
		return err
	}
	fmt.Printf("service %s: done\n", args[0])
	return nil
}
