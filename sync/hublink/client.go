package hublink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// ErrRefused marks a subscription or publish the broker refused (usually its
// ACL). Match with errors.Is.
var ErrRefused = errors.New("refused by the broker")

// ClientConfig is one MQTT connection. The hub simulator uses it too, so that
// only this package speaks MQTT.
type ClientConfig struct {
	Broker       string
	ClientID     string
	CleanSession bool
	Username     string
	Password     string
	TLS          TLSConfig
	// Will is published by the broker if the connection dies.
	Will *Message
	// KeepAlive and ConnectTimeout; defaults 30s and 10s.
	KeepAlive      time.Duration
	ConnectTimeout time.Duration
	// WriteTimeout bounds a publish on a connection that died before the
	// client noticed (default 5s).
	WriteTimeout time.Duration
	// OnMessage receives every message, in arrival order, on one goroutine.
	// It must not block for long.
	OnMessage func(topic string, payload []byte)
	// OnLost is called once when an established connection breaks.
	OnLost func(error)

	// dial replaces the network dial (tests).
	dial func(ctx context.Context, u *url.URL) (net.Conn, error)
}

// Message is a payload for a topic.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Client is one connected MQTT session (MQTT 3.1.1, QoS 1).
type Client struct {
	c      mqtt.Client
	broker string
}

// Token completes when the broker confirmed a publish (PUBACK).
type Token interface {
	Done() <-chan struct{}
	Error() error
}

// Connect opens a session and waits for the broker's CONNACK.
func Connect(ctx context.Context, cfg ClientConfig) (*Client, error) {
	u, err := brokerURL(cfg.Broker)
	if err != nil {
		return nil, err
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 30 * time.Second
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	o := mqtt.NewClientOptions().
		AddBroker(cfg.Broker).
		SetClientID(cfg.ClientID).
		SetCleanSession(cfg.CleanSession).
		SetProtocolVersion(4).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetResumeSubs(false).
		SetOrderMatters(true).
		SetKeepAlive(cfg.KeepAlive).
		SetPingTimeout(min(cfg.KeepAlive, 10*time.Second)).
		SetConnectTimeout(cfg.ConnectTimeout).
		SetWriteTimeout(cfg.WriteTimeout).
		SetMessageChannelDepth(4096)
	if cfg.Username != "" {
		o.SetUsername(cfg.Username)
		o.SetPassword(cfg.Password)
	}
	if usesTLS(u) {
		tc, err := cfg.TLS.tlsConfig(u.Hostname())
		if err != nil {
			return nil, err
		}
		o.SetTLSConfig(tc)
	}
	if cfg.Will != nil {
		o.SetBinaryWill(cfg.Will.Topic, cfg.Will.Payload, 1, cfg.Will.Retained)
	}
	if cfg.OnMessage != nil {
		h := cfg.OnMessage
		o.SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { h(m.Topic(), m.Payload()) })
	}
	if cfg.OnLost != nil {
		h := cfg.OnLost
		o.SetConnectionLostHandler(func(_ mqtt.Client, err error) { h(err) })
	}
	if cfg.dial != nil {
		dial := cfg.dial
		o.SetCustomOpenConnectionFn(func(u *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
			return dial(ctx, u)
		})
	}
	c := mqtt.NewClient(o)
	if err := wait(ctx, c.Connect(), cfg.ConnectTimeout+time.Second); err != nil {
		c.Disconnect(0)
		return nil, fmt.Errorf("connect to %s as %s: %w", cfg.Broker, cfg.ClientID, explainConnect(err))
	}
	return &Client{c: c, broker: cfg.Broker}, nil
}

// explainConnect words the broker's CONNACK refusals for a person.
func explainConnect(err error) error {
	switch {
	case errors.Is(err, packets.ErrorRefusedNotAuthorised):
		return fmt.Errorf("%w: not authorised (check the hub user name, password or client certificate): %w", ErrRefused, err)
	case errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword):
		return fmt.Errorf("%w: bad user name or password: %w", ErrRefused, err)
	case errors.Is(err, packets.ErrorRefusedIDRejected):
		return fmt.Errorf("%w: client id not accepted: %w", ErrRefused, err)
	}
	return err
}

func wait(ctx context.Context, t mqtt.Token, limit time.Duration) error {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("no answer from the broker within %s", limit)
	}
}

// Subscribe subscribes to topic filters with QoS 1 and checks the broker's
// SUBACK: a refused filter (0x80, usually the ACL) returns an ErrRefused error
// naming it.
func (c *Client) Subscribe(ctx context.Context, filters ...string) error {
	m := make(map[string]byte, len(filters))
	for _, f := range filters {
		m[f] = 1
	}
	t := c.c.SubscribeMultiple(m, nil)
	if err := wait(ctx, t, 10*time.Second); err != nil {
		return fmt.Errorf("subscribe %s: %w", strings.Join(filters, ", "), err)
	}
	var refused []string
	for f, q := range t.(*mqtt.SubscribeToken).Result() {
		if q >= 0x80 {
			refused = append(refused, f)
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("subscribe %s: %w (return code 0x80; check the broker's ACL for this agent)",
			strings.Join(refused, ", "), ErrRefused)
	}
	return nil
}

// Publish sends payload with QoS 1 without waiting; the token completes at the
// broker's PUBACK.
func (c *Client) Publish(topic string, retained bool, payload []byte) Token {
	return c.c.Publish(topic, 1, retained, payload)
}

// PublishWait sends payload with QoS 1 and waits for the PUBACK.
func (c *Client) PublishWait(ctx context.Context, topic string, retained bool, payload []byte) error {
	if err := wait(ctx, c.c.Publish(topic, 1, retained, payload), 10*time.Second); err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	return nil
}

// Connected reports whether the session is up.
func (c *Client) Connected() bool { return c.c.IsConnectionOpen() }

// Close disconnects, giving in-flight work up to quiesce to finish.
func (c *Client) Close(quiesce time.Duration) { c.c.Disconnect(uint(quiesce / time.Millisecond)) }
