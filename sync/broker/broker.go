// Package broker is the embedded MQTT broker of the zero-config demo: an
// in-process mochi-mqtt server on a loopback port that lets every client in.
// It is also what the fast unit tests run against.
//
// It is not a production broker. It keeps no state across restarts that a
// client could rely on (after a restart it does not redeliver queued QoS 1
// messages), has no users or ACLs, and listens only on the loopback address
// unless told otherwise. Sites run Mosquitto, EMQX, HiveMQ or VerneMQ; the
// contract's acks and replays make up for what a broker loses.
package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Broker is a running embedded broker.
type Broker struct {
	srv  *mqtt.Server
	addr string
}

// Start listens on addr ("127.0.0.1:0" picks a free port; "" means that) and
// serves MQTT until Close.
func Start(addr string, log *slog.Logger) (*Broker, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if log == nil {
		log = slog.Default()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("embedded broker: listen on %s: %w", addr, err)
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumClientWritesPending = 64 * 1024
	caps.ReceiveMaximum = 65535
	caps.MaximumInflight = 65535
	srv := mqtt.New(&mqtt.Options{Capabilities: caps, Logger: log.With("part", "broker"), InlineClient: false})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		ln.Close()
		return nil, fmt.Errorf("embedded broker: allow-all auth: %w", err)
	}
	if err := srv.AddListener(listeners.NewNet("loopback", ln)); err != nil {
		ln.Close()
		return nil, fmt.Errorf("embedded broker: listener: %w", err)
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("embedded broker: serve: %w", err)
	}
	return &Broker{srv: srv, addr: ln.Addr().String()}, nil
}

// Addr is the host:port the broker listens on.
func (b *Broker) Addr() string { return b.addr }

// URL is the broker's address for an MQTT client.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Close stops the broker and disconnects its clients.
func (b *Broker) Close() error { return b.srv.Close() }

// Run starts a broker on addr and serves until ctx ends.
func Run(ctx context.Context, addr string, log *slog.Logger) error {
	b, err := Start(addr, log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return b.Close()
}
