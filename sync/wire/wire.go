// Package wire holds the hub contract's messages exactly as they cross MQTT: the
// topic names, the feed envelope and the order document (hub → agent), fulfilment
// events, acks, replay requests and the agent's retained status (agent → hub).
//
// It is the one place that knows the JSON shapes. Decoding is strict where the
// contract is strict (a missing required field or a field of the wrong type makes a
// message invalid, with a reason a person can read) and lenient where the contract
// asks for forward compatibility (unknown fields and unknown kinds are not errors).
// The package does no I/O.
package wire

import (
	"fmt"
	"regexp"
	"time"
)

// TimeLayout is how the agent writes times: RFC 3339 with an offset and millisecond
// precision, as the contract asks.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MaxPayload is the largest feed payload the agent accepts (1 MiB); a larger one is
// quarantined.
const MaxPayload = 1 << 20

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// ValidID reports whether s is a valid warehouse code or agent id.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// Topics names every topic an agent of warehouse wh with id agent uses.
type Topics struct {
	Feed      string // oms/v1/wh/{wh}/feed: the warehouse feed (subscribe)
	AgentFeed string // oms/v1/wh/{wh}/agents/{agent}/feed: replay answers (subscribe)
	Replay    string // oms/v1/wh/{wh}/agents/{agent}/replay: replay requests (publish)
	Events    string // oms/v1/wh/{wh}/agents/{agent}/events: fulfilment events (publish)
	Acks      string // oms/v1/wh/{wh}/agents/{agent}/acks: hub acks (subscribe)
	Status    string // oms/v1/wh/{wh}/agents/{agent}/status: retained status and will (publish)
}

// TopicsFor returns the topics of one agent, or an error if an id is not valid.
func TopicsFor(wh, agent string) (Topics, error) {
	if !ValidID(wh) {
		return Topics{}, fmt.Errorf("warehouse code %q: must be 1-32 letters, digits, '_' or '-'", wh)
	}
	if !ValidID(agent) {
		return Topics{}, fmt.Errorf("agent id %q: must be 1-32 letters, digits, '_' or '-'", agent)
	}
	base := "oms/v1/wh/" + wh
	ab := base + "/agents/" + agent
	return Topics{
		Feed:      base + "/feed",
		AgentFeed: ab + "/feed",
		Replay:    ab + "/replay",
		Events:    ab + "/events",
		Acks:      ab + "/acks",
		Status:    ab + "/status",
	}, nil
}

// ClientID is the stable MQTT client id the contract prescribes.
func ClientID(wh, agent string) string { return "dockhand-" + wh + "-" + agent }

// FormatTime renders t the way the contract wants it.
func FormatTime(t time.Time) string { return t.Format(TimeLayout) }

// Time is a time.Time that marshals with millisecond precision and an offset, and
// unmarshals any RFC 3339 time that carries an offset.
type Time struct{ time.Time }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = t.AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("time must be an RFC 3339 string, got %.40s", b)
	}
	v, err := time.Parse(time.RFC3339Nano, string(b[1:len(b)-1]))
	if err != nil {
		return fmt.Errorf("time %s is not RFC 3339 with an offset", b)
	}
	t.Time = v
	return nil
}

// HasMillis reports whether a raw RFC 3339 time string carries at least
// millisecond precision, as the contract requires of what the agent sends.
func HasMillis(s string) bool {
	// Find the fractional part between the seconds and the offset.
	dot := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 {
		return false
	}
	n := 0
	for i := dot + 1; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n++
	}
	return n >= 3
}
