package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Feed kinds.
const (
	KindOrderUpsert  = "order.upsert"
	KindHoldSet      = "hold.set"
	KindHoldRelease  = "hold.release"
	KindNotice       = "notice"
	KindSnapshotEnd  = "snapshot.end"
	noticeUrgent     = "urgent"
	noticeInfo       = "info"
	noticeWarning    = "warning"
	noticeLevelsText = "info, warning or urgent"
)

// FeedMessage is one message of the warehouse feed or of an agent's own feed.
type FeedMessage struct {
	Seq      uint64 `json:"seq"`
	Kind     string `json:"kind"`
	At       Time   `json:"at"`
	Snapshot bool   `json:"snapshot,omitempty"`
	Order    *Order `json:"order,omitempty"`
	// RawOrder is the order document exactly as the hub sent it (set by
	// DecodeFeed), so the store can keep it without encoding it again.
	RawOrder json.RawMessage `json:"-"`
	Hold     *Hold           `json:"hold,omitempty"`
	Notice   *Notice         `json:"notice,omitempty"`
}

// Hold is a quality hold (质检拦截) on a SKU, optionally on one batch.
type Hold struct {
	HoldID string `json:"hold_id"`
	SKU    string `json:"sku,omitempty"`
	Batch  string `json:"batch,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Matches reports whether the hold covers a line of sku with batch.
// A hold without a batch covers every batch of the SKU.
func (h *Hold) Matches(sku, batch string) bool {
	return h.SKU == sku && (h.Batch == "" || h.Batch == batch)
}

// Notice is a message for people on the floor.
type Notice struct {
	NoticeID string   `json:"notice_id"`
	Level    string   `json:"level"`
	Roles    []string `json:"roles,omitempty"`
	Text     string   `json:"text"`
}

// ErrTooLarge marks a payload over MaxPayload.
var ErrTooLarge = errors.New("payload larger than 1 MiB")

// DecodeError says why a feed payload could not be applied. Seq is the message's
// seq when one could be read (a JSON object with an integer seq), so that the feed
// can consume it and not stall.
type DecodeError struct {
	Seq    uint64
	HasSeq bool
	Reason string
	Err    error
}

func (e *DecodeError) Error() string {
	if e.HasSeq {
		return fmt.Sprintf("feed message seq %d rejected: %s", e.Seq, e.Reason)
	}
	return "feed message rejected: " + e.Reason
}

func (e *DecodeError) Unwrap() error { return e.Err }

// DecodeFeed parses and validates one feed payload. Unknown kinds decode without
// error (the caller counts and consumes them); anything else that breaks the
// contract returns a *DecodeError.
func DecodeFeed(payload []byte) (FeedMessage, error) {
	fail := func(reason string, err error) (FeedMessage, error) {
		de := &DecodeError{Reason: reason, Err: err}
		de.Seq, de.HasSeq = readSeq(payload)
		return FeedMessage{}, de
	}
	if len(payload) > MaxPayload {
		return fail(fmt.Sprintf("payload is %d bytes, larger than the 1 MiB limit", len(payload)), ErrTooLarge)
	}
	if !utf8.Valid(payload) {
		return fail("payload is not valid UTF-8", nil)
	}
	env, err := decodeEnvelope(payload)
	if err != nil {
		return fail(jsonReason(err), err)
	}
	var p problems
	p.need(env.seq != nil, "seq is missing")
	p.need(env.kind != nil && *env.kind != "", "kind is missing")
	p.need(env.at != nil && !env.at.IsZero(), "at is missing")
	if err := p.err(); err != nil {
		return fail(err.Error(), err)
	}
	m := FeedMessage{Seq: *env.seq, Kind: *env.kind, At: *env.at, Snapshot: env.snapshot,
		Order: env.order, RawOrder: env.rawOrder, Hold: env.hold, Notice: env.notice}
	if m.Seq == 0 && !m.Snapshot {
		return fail("seq 0 is only allowed on snapshot messages", nil)
	}
	if err := m.validateBody(); err != nil {
		return fail(err.Error(), err)
	}
	return m, nil
}

func (m *FeedMessage) validateBody() error {
	var p problems
	switch m.Kind {
	case KindOrderUpsert:
		if m.Order == nil {
			p.need(false, "order is missing")
			break
		}
		if err := m.Order.Validate(); err != nil {
			return err
		}
	case KindHoldSet:
		p.need(m.Hold != nil, "hold is missing")
		if m.Hold != nil {
			p.need(m.Hold.HoldID != "", "hold.hold_id is missing")
			p.need(m.Hold.SKU != "", "hold.sku is missing")
		}
	case KindHoldRelease:
		p.need(m.Hold != nil && m.Hold.HoldID != "", "hold.hold_id is missing")
	case KindNotice:
		p.need(m.Notice != nil, "notice is missing")
		if n := m.Notice; n != nil {
			p.need(n.NoticeID != "", "notice.notice_id is missing")
			p.need(n.Text != "", "notice.text is missing")
			p.need(n.Level == "" || n.Level == noticeUrgent || n.Level == noticeInfo || n.Level == noticeWarning,
				fmt.Sprintf("notice.level %q must be %s", n.Level, noticeLevelsText))
		}
	case KindSnapshotEnd:
		p.need(m.Seq > 0, "snapshot.end needs the seq the snapshot stands for")
	}
	return p.err()
}

// Known reports whether the agent knows how to apply this kind.
func (m *FeedMessage) Known() bool {
	switch m.Kind {
	case KindOrderUpsert, KindHoldSet, KindHoldRelease, KindNotice, KindSnapshotEnd:
		return true
	}
	return false
}

// readSeq extracts an integer seq from a payload that may be otherwise broken.
func readSeq(payload []byte) (uint64, bool) {
	if len(payload) > MaxPayload || !utf8.Valid(payload) {
		return 0, false
	}
	var probe struct {
		Seq json.RawMessage `json:"seq"`
	}
	if json.NewDecoder(bytes.NewReader(payload)).Decode(&probe) != nil || len(probe.Seq) == 0 {
		// A payload that breaks later (wrong type elsewhere) still parses as an
		// object here; one that is not JSON at all has no readable seq.
		return 0, false
	}
	var n uint64
	if err := json.Unmarshal(probe.Seq, &n); err != nil {
		return 0, false
	}
	return n, true
}

func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the message"
		}
		return fmt.Sprintf("%s has the wrong type: got JSON %s, want %s", field, te.Value, te.Type)
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "not valid JSON: the message ends too early"
	case errors.Is(err, errTrailing):
		return err.Error()
	}
	var sem *jsonv2.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &syn):
		if errors.Is(syn.Err, io.ErrUnexpectedEOF) {
			return "not valid JSON: the message ends too early"
		}
		return fmt.Sprintf("not valid JSON at byte %d: %v", syn.ByteOffset, syn.Err)
	case errors.As(err, &sem):
		field := strings.Join(slices.Collect(sem.JSONPointer.Tokens()), ".")
		if field == "" {
			field = "the message"
		}
		want := "a value of another type"
		if sem.GoType != nil {
			want = sem.GoType.String()
		}
		got := "a value"
		if sem.JSONKind != 0 {
			got = kindName(sem.JSONKind)
		}
		if sem.Err != nil {
			return fmt.Sprintf("%s is not valid: %v", field, sem.Err)
		}
		return fmt.Sprintf("%s has the wrong type: got JSON %s, want %s", field, got, want)
	default:
		return "not a valid JSON object: " + err.Error()
	}
}

// EncodeFeed renders a feed message as the hub publishes it.
func EncodeFeed(m FeedMessage) ([]byte, error) { return json.Marshal(m) }

// ReplayRequest asks the hub to resend the feed from a seq on.
type ReplayRequest struct {
	FromSeq uint64 `json:"from_seq"`
}

// Ack is the hub's statement that every event with seq ≤ AckedSeq is stored.
type Ack struct {
	AckedSeq uint64 `json:"acked_seq"`
}

// DecodeAck parses an ack payload strictly.
func DecodeAck(payload []byte) (Ack, error) {
	var raw struct {
		AckedSeq *uint64 `json:"acked_seq"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return Ack{}, fmt.Errorf("decode ack: %s", jsonReason(err))
	}
	if raw.AckedSeq == nil {
		return Ack{}, errors.New("decode ack: acked_seq is missing")
	}
	return Ack{AckedSeq: *raw.AckedSeq}, nil
}

// DecodeReplay parses a replay request strictly.
func DecodeReplay(payload []byte) (ReplayRequest, error) {
	var raw struct {
		FromSeq *uint64 `json:"from_seq"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return ReplayRequest{}, fmt.Errorf("decode replay request: %s", jsonReason(err))
	}
	if raw.FromSeq == nil || *raw.FromSeq == 0 {
		return ReplayRequest{}, errors.New("decode replay request: from_seq must be an integer ≥ 1")
	}
	return ReplayRequest{FromSeq: *raw.FromSeq}, nil
}

// Quarantined is a feed payload that was not applied, kept for a person to inspect.
type Quarantined struct {
	Seq    uint64    `json:"seq,omitempty"`
	HasSeq bool      `json:"has_seq"`
	Topic  string    `json:"topic"`
	Reason string    `json:"reason"`
	Raw    []byte    `json:"raw"`
	At     time.Time `json:"at"`
}

// FeedItem is one slot of the feed in seq order: either a message to apply or a bad
// payload whose seq is consumed while the payload goes to quarantine.
type FeedItem struct {
	Msg *FeedMessage
	Bad *Quarantined
}

// Seq is the slot's seq.
func (it FeedItem) Seq() uint64 {
	if it.Msg != nil {
		return it.Msg.Seq
	}
	if it.Bad != nil {
		return it.Bad.Seq
	}
	return 0
}

// envelope is a feed message as decoded, with pointers where presence matters.
type envelope struct {
	seq      *uint64
	kind     *string
	at       *Time
	snapshot bool
	order    *Order
	rawOrder []byte
	hold     *Hold
	notice   *Notice
}

// decodeEnvelope reads a feed payload in one pass with the JSON v2 decoder
// (about three times faster than encoding/json on the hub's orders, which is
// most of the feed's cost), keeping the order document's own bytes. Unknown
// members are skipped; a member named twice or anything after the object is
// an error.
func decodeEnvelope(payload []byte) (envelope, error) {
	var env envelope
	dec := jsontext.NewDecoder(bytes.NewReader(payload))
	tok, err := dec.ReadToken()
	if err != nil {
		return env, err
	}
	if tok.Kind() != '{' {
		return env, &jsonv2.SemanticError{JSONKind: tok.Kind(), GoType: reflect.TypeFor[FeedMessage]()}
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return env, err
		}
		var target any
		switch name.String() {
		case "seq":
			env.seq = new(uint64)
			target = env.seq
		case "kind":
			env.kind = new(string)
			target = env.kind
		case "at":
			env.at = new(Time)
			target = env.at
		case "snapshot":
			target = &env.snapshot
		case "order":
			start := dec.InputOffset()
			if err := jsonv2.UnmarshalDecode(dec, &env.order); err != nil {
				return env, err
			}
			raw := bytes.TrimLeft(payload[start:dec.InputOffset()], " \t\r\n:")
			if env.order != nil {
				env.rawOrder = bytes.Clone(raw)
			}
			continue
		case "hold":
			target = &env.hold
		case "notice":
			target = &env.notice
		default:
			if err := dec.SkipValue(); err != nil {
				return env, err
			}
			continue
		}
		if err := jsonv2.UnmarshalDecode(dec, target); err != nil {
			return env, err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return env, err
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return env, errTrailing
	}
	return env, nil
}

var errTrailing = errors.New("payload holds more than one JSON value")

func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}
