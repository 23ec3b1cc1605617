package broker_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/dockhand/dockhand/sync/broker"
	"github.com/dockhand/dockhand/sync/hublink"
)

func TestStartPublishSubscribeClose(t *testing.T) {
	b, err := broker.Start("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if host, _, _ := net.SplitHostPort(b.Addr()); host != "127.0.0.1" {
		t.Fatalf("embedded broker listens on %s, want loopback only", b.Addr())
	}
	got := make(chan string, 1)
	sub, err := hublink.Connect(t.Context(), hublink.ClientConfig{Broker: b.URL(), ClientID: "sub", CleanSession: true,
		OnMessage: func(_ string, p []byte) { got <- string(p) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Subscribe(t.Context(), "demo/#"); err != nil {
		t.Fatal(err)
	}
	pub, err := hublink.Connect(t.Context(), hublink.ClientConfig{Broker: b.URL(), ClientID: "pub", CleanSession: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.PublishWait(t.Context(), "demo/x", false, []byte("你好")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != "你好" {
			t.Fatalf("got %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("message not delivered")
	}
	pub.Close(0)
	sub.Close(0)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", b.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("broker still listening after Close")
	}
}

func TestStartOnBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := broker.Start(ln.Addr().String(), nil); err == nil {
		t.Fatal("started on a port in use")
	}
}

func TestRunStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- broker.Run(ctx, "", slog.New(slog.DiscardHandler)) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}
