package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Event types the hub understands.
const (
	EventPickStarted        = "pick.started"
	EventPickCompleted      = "pick.completed"
	EventPackVerified       = "pack.verified"
	EventPackRejected       = "pack.rejected"
	EventWaybillPrinted     = "waybill.printed"
	EventWaybillReprinted   = "waybill.reprinted"
	EventParcelHandedOver   = "parcel.handed_over"
	EventParcelPulled       = "parcel.pulled"
	EventExceptionReported  = "exception.reported"
	EventUrgentAcknowledged = "urgent.acknowledged"
	EventStepTimed          = "step.timed"
)

// Reject reasons of pack.rejected.
const (
	ReasonWrongItem       = "wrong_item"
	ReasonOverQuantity    = "over_quantity"
	ReasonUnknownCode     = "unknown_code"
	ReasonWaybillMismatch = "waybill_mismatch"
	ReasonIntercepted     = "intercepted"
	ReasonOnHold          = "on_hold"
	ReasonNotReleased     = "not_released"
	ReasonNoWaybill       = "no_waybill"
)

// RejectReasons lists every reason code of the contract.
var RejectReasons = []string{ReasonWrongItem, ReasonOverQuantity, ReasonUnknownCode,
	ReasonWaybillMismatch, ReasonIntercepted, ReasonOnHold, ReasonNotReleased, ReasonNoWaybill}

// Exception categories of exception.reported.
var ExceptionCategories = []string{"damaged_packaging", "missing_item", "wrong_item",
	"label_unreadable", "stock_short", "gift_missing", "other"}

// Print confirmation levels of waybill.printed.
const (
	ConfirmedAccepted = "accepted" // the printer took the bytes
	ConfirmedPrinted  = "printed"  // the printer reported the label done
)

// Event is one fulfilment event as the agent publishes it. Data holds the type's
// data object already encoded, so that a re-sent event is byte-identical.
type Event struct {
	EventID   string          `json:"event_id"`
	Seq       uint64          `json:"seq"`
	Agent     string          `json:"agent"`
	Warehouse string          `json:"warehouse"`
	Type      string          `json:"type"`
	At        Time            `json:"at"`
	OrderID   string          `json:"order_id,omitempty"`
	WaybillNo string          `json:"waybill_no,omitempty"`
	Station   *string         `json:"station"`
	Operator  *string         `json:"operator"`
	Data      json.RawMessage `json:"data"`
}

// NewEventID returns a fresh UUIDv7 event id.
func NewEventID() string { return uuid.Must(uuid.NewV7()).String() }

// SetData encodes v as the event's data object.
func (e *Event) SetData(v any) error {
	if v == nil {
		e.Data = json.RawMessage("{}")
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s event data: %w", e.Type, err)
	}
	e.Data = b
	return nil
}

// Encode renders the event as it goes on the wire.
func (e *Event) Encode() ([]byte, error) {
	if e.Data == nil {
		e.Data = json.RawMessage("{}")
	}
	return json.Marshal(e)
}

// OptString returns nil for "" so that the field encodes as null.
func OptString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func aboutOrder(typ string) bool {
	return strings.HasPrefix(typ, "pick.") || strings.HasPrefix(typ, "pack.") ||
		strings.HasPrefix(typ, "waybill.") || strings.HasPrefix(typ, "parcel.")
}

// Data shapes of the event types.
type (
	// PickLine is one line of pick.started / pick.completed.
	PickLine struct {
		LineID   string `json:"line_id"`
		Qty      int    `json:"qty"`
		Location string `json:"location"`
	}
	// PickData is the data of pick.started / pick.completed.
	PickData struct {
		Lines []PickLine `json:"lines"`
	}
	// ScanRecord is one accepted item scan of pack.verified.
	ScanRecord struct {
		Code   string `json:"code"`
		SKU    string `json:"sku"`
		LineID string `json:"line_id"`
		Batch  string `json:"batch,omitempty"`
		At     Time   `json:"at"`
	}
	// PackVerifiedData is the data of pack.verified.
	PackVerifiedData struct {
		Scans      []ScanRecord `json:"scans"`
		DurationMS int64        `json:"duration_ms"`
	}
	// PackRejectedData is the data of pack.rejected.
	PackRejectedData struct {
		Reason   string `json:"reason"`
		Code     string `json:"code"`
		Expected string `json:"expected,omitempty"`
		Step     string `json:"step,omitempty"`
	}
	// WaybillPrintedData is the data of waybill.printed.
	WaybillPrintedData struct {
		Printer   string `json:"printer"`
		JobID     string `json:"job_id"`
		Copies    int    `json:"copies"`
		Confirmed string `json:"confirmed"`
	}
	// WaybillReprintedData is the data of waybill.reprinted.
	WaybillReprintedData struct {
		Printer      string `json:"printer"`
		JobID        string `json:"job_id"`
		Reason       string `json:"reason"`
		AuthorizedBy string `json:"authorized_by"`
	}
	// HandedOverData is the data of parcel.handed_over.
	HandedOverData struct {
		Carrier    string `json:"carrier"`
		HandoverID string `json:"handover_id"`
	}
	// PulledData is the data of parcel.pulled.
	PulledData struct {
		Location string `json:"location"`
	}
	// ExceptionData is the data of exception.reported.
	ExceptionData struct {
		Category string `json:"category"`
		Text     string `json:"text"`
	}
	// UrgentAckData is the data of urgent.acknowledged.
	UrgentAckData struct {
		LatencyMS int64  `json:"latency_ms"`
		Role      string `json:"role"`
		NoticeID  string `json:"notice_id,omitempty"`
	}
	// StepTimedData is the data of step.timed.
	StepTimedData struct {
		Step      string `json:"step"`
		StartedAt Time   `json:"started_at"`
		EndedAt   Time   `json:"ended_at"`
	}
)

// DecodeEvent parses an event strictly, as the hub does: every required field
// present and of the right type, order_id and waybill_no where the type needs
// them, the data object shaped as the contract says for known types. It is what
// the hub simulator uses to catch an agent's mistakes.
func DecodeEvent(payload []byte) (Event, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return Event{}, fmt.Errorf("event is not a JSON object: %s", jsonReason(err))
	}
	var p problems
	for _, k := range []string{"event_id", "seq", "agent", "warehouse", "type", "at"} {
		p.need(raw[k] != nil, k+" is missing")
	}
	if err := p.err(); err != nil {
		return Event{}, err
	}
	var e Event
	if err := json.Unmarshal(payload, &e); err != nil {
		return Event{}, fmt.Errorf("event: %s", jsonReason(err))
	}
	var at string
	_ = json.Unmarshal(raw["at"], &at)
	p.need(HasMillis(at), "at must carry at least millisecond precision")
	id, err := uuid.Parse(e.EventID)
	p.need(err == nil && len(e.EventID) == 36, fmt.Sprintf("event_id %q is not a UUID", e.EventID))
	_ = id
	p.need(e.Seq >= 1, "seq must be ≥ 1")
	p.need(ValidID(e.Agent), "agent is not a valid id")
	p.need(ValidID(e.Warehouse), "warehouse is not a valid code")
	p.need(e.Type != "", "type is empty")
	for _, k := range []string{"station", "operator"} {
		if v, ok := raw[k]; ok && !bytes.Equal(v, []byte("null")) && (len(v) == 0 || v[0] != '"') {
			p.need(false, k+" must be a string or null")
		}
	}
	if aboutOrder(e.Type) {
		p.need(e.OrderID != "", "order_id is required for "+e.Type)
	}
	switch e.Type {
	case EventWaybillPrinted, EventWaybillReprinted, EventParcelHandedOver:
		p.need(e.WaybillNo != "", "waybill_no is required for "+e.Type)
	}
	if err := p.err(); err != nil {
		return e, err
	}
	return e, validateData(e)
}

func validateData(e Event) error {
	if !knownEvent(e.Type) {
		return nil // the hub stores unknown types as they are
	}
	if len(e.Data) == 0 || e.Data[0] != '{' {
		return fmt.Errorf("data of %s must be an object", e.Type)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(e.Data, &fields); err != nil {
		return fmt.Errorf("data of %s: %s", e.Type, jsonReason(err))
	}
	need := map[string][]string{
		EventPickStarted:        {"lines"},
		EventPickCompleted:      {"lines"},
		EventPackVerified:       {"scans", "duration_ms"},
		EventPackRejected:       {"reason", "code"},
		EventWaybillPrinted:     {"printer", "job_id", "copies", "confirmed"},
		EventWaybillReprinted:   {"printer", "job_id", "reason", "authorized_by"},
		EventParcelHandedOver:   {"carrier", "handover_id"},
		EventParcelPulled:       {"location"},
		EventExceptionReported:  {"category", "text"},
		EventUrgentAcknowledged: {"latency_ms", "role"},
		EventStepTimed:          {"step", "started_at", "ended_at"},
	}[e.Type]
	var p problems
	for _, k := range need {
		p.need(fields[k] != nil, fmt.Sprintf("data.%s is required for %s", k, e.Type))
	}
	if err := p.err(); err != nil {
		return err
	}
	// Decode into the typed shape to catch wrong types.
	var target any
	switch e.Type {
	case EventPickStarted, EventPickCompleted:
		target = &PickData{}
	case EventPackVerified:
		target = &PackVerifiedData{}
	case EventPackRejected:
		var d PackRejectedData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("data of %s: %s", e.Type, jsonReason(err))
		}
		if !contains(RejectReasons, d.Reason) {
			return fmt.Errorf("data.reason %q is not a reason the contract knows", d.Reason)
		}
		return nil
	case EventWaybillPrinted:
		var d WaybillPrintedData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("data of %s: %s", e.Type, jsonReason(err))
		}
		if d.Confirmed != ConfirmedAccepted && d.Confirmed != ConfirmedPrinted {
			return fmt.Errorf("data.confirmed %q must be accepted or printed", d.Confirmed)
		}
		return nil
	case EventWaybillReprinted:
		target = &WaybillReprintedData{}
	case EventParcelHandedOver:
		target = &HandedOverData{}
	case EventParcelPulled:
		target = &PulledData{}
	case EventExceptionReported:
		var d ExceptionData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("data of %s: %s", e.Type, jsonReason(err))
		}
		if !contains(ExceptionCategories, d.Category) {
			return fmt.Errorf("data.category %q is not a category the contract knows", d.Category)
		}
		return nil
	case EventUrgentAcknowledged:
		target = &UrgentAckData{}
	case EventStepTimed:
		target = &StepTimedData{}
	}
	if err := json.Unmarshal(e.Data, target); err != nil {
		return fmt.Errorf("data of %s: %s", e.Type, jsonReason(err))
	}
	return nil
}

func knownEvent(t string) bool {
	switch t {
	case EventPickStarted, EventPickCompleted, EventPackVerified, EventPackRejected,
		EventWaybillPrinted, EventWaybillReprinted, EventParcelHandedOver, EventParcelPulled,
		EventExceptionReported, EventUrgentAcknowledged, EventStepTimed:
		return true
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Device is one device in the agent status.
type Device struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	State string `json:"state"`
}

// OutboxStatus is the outbox part of the agent status.
type OutboxStatus struct {
	Pending  int   `json:"pending"`
	OldestAt *Time `json:"oldest_at"`
}

// Status is the agent's retained status; with only Agent, Warehouse and State set
// ("offline") it is also the will.
type Status struct {
	Agent       string        `json:"agent"`
	Warehouse   string        `json:"warehouse"`
	State       string        `json:"state"`
	Version     string        `json:"version,omitempty"`
	StartedAt   *Time         `json:"started_at,omitempty"`
	At          *Time         `json:"at,omitempty"`
	LastFeedSeq *uint64       `json:"last_feed_seq,omitempty"`
	Outbox      *OutboxStatus `json:"outbox,omitempty"`
	Devices     []Device      `json:"devices,omitempty"`
}

// OutboxRecord is one recorded event waiting for the hub's ack, with its bytes as
// they were first encoded.
type OutboxRecord struct {
	Seq     uint64
	Payload []byte
}
