package ui

import (
	"context"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// Scan modes: what a scan is for. The page says which flow it is in; the engine
// decides what the code means inside that flow.
const (
	ModePick     = "pick"     // a picker walking a pick list: location, then items
	ModePack     = "pack"     // scan-twice at the bench: order/waybill, items, waybill again
	ModeHandover = "handover" // scan out at the dock into a cage or manifest (扫码出库)
)

// Floor is the scan-twice engine as the UI uses it. The composition root adapts
// agent/floor to it; hardware scans go to the engine directly and their verdicts
// reach the pages through Server.PublishVerdict.
type Floor interface {
	// Scan applies one scan. ScanID is the page's idempotency key: an engine that
	// stores it in the same transaction as the scan closes the last window for a
	// double apply (the UI also keeps it with the result).
	Scan(ctx context.Context, in ScanInput) (Verdict, error)
	// Action applies an explicit step that is not a scan (start a pick, confirm a
	// line without barcode, cancel, close a handover, confirm a pulled parcel).
	Action(ctx context.Context, in ActionInput) (Verdict, error)
	// Current is the state of a station's session (for a page that reloads or a
	// station screen that starts following); Next "order" when none is open.
	Current(ctx context.Context, station string) (Verdict, error)
	// PickList is the open pick work for an operator: urgent first, then promised
	// time, then location walk order.
	PickList(ctx context.Context, operator string, limit int) ([]PickTask, error)
	// ReportException records exception.reported.
	ReportException(ctx context.Context, in ExceptionInput) error
	// TimedStep starts or ends a timed manual step (满赠校验); ending records step.timed.
	TimedStep(ctx context.Context, in StepInput) (StepResult, error)
}

// Benches is optional on a Floor: the open sessions per station, so a manager
// sees which bench is stuck.
type Benches interface {
	Benches(ctx context.Context) ([]Bench, error)
}

// Bench is one station's open work.
type Bench struct {
	Station    string    `json:"station"`
	Operator   string    `json:"operator"`
	Mode       string    `json:"mode"`
	OrderID    string    `json:"order_id,omitempty"`
	HandoverID string    `json:"handover_id,omitempty"`
	Scanned    int       `json:"scanned"`
	Started    time.Time `json:"started"`
	Updated    time.Time `json:"updated"`
	IdleS      int64     `json:"idle_s"`
	Stuck      bool      `json:"stuck"` // no scan for StuckAfter with an order open
}

// Facts gives the manager console what each order went through on the floor.
type Facts interface {
	// OrderFacts returns the orders paid since from (open ones, and closed ones
	// the agent still keeps).
	OrderFacts(ctx context.Context, from time.Time) ([]OrderFact, error)
}

// Printing is the waybill printer side as the UI uses it. A nil Printing shows
// "no printer" on the pages.
type Printing interface {
	// Preview renders the order's waybill as a PNG.
	Preview(ctx context.Context, orderID string) ([]byte, error)
	// Reprint prints the order's waybill again (补打), authorised by a manager.
	Reprint(ctx context.Context, in ReprintInput) (jobID string, err error)
	// Printers are the printers and their states (ready, printing, paper_out, …).
	Printers(ctx context.Context) ([]PrinterState, error)
}

// Status is devices and the hub link as the lead's composition root knows them.
type Status interface {
	Status(ctx context.Context) (StatusView, error)
}

// ScanInput is one scan from a page or a scanner.
type ScanInput struct {
	ScanID     string `json:"scan_id"`
	Station    string `json:"station"`
	Operator   string `json:"operator"`
	Role       string `json:"role"`
	Mode       string `json:"mode"`
	Code       string `json:"code"`
	HandoverID string `json:"handover_id,omitempty"`
}

// Action kinds.
const (
	ActionPickStart     = "pick_start"     // OrderID: take this order from the pick list
	ActionConfirmLine   = "confirm_line"   // LineID: a line without barcode, counted by hand
	ActionCancel        = "cancel"         // drop the station's open session
	ActionHandoverOpen  = "handover_open"  // HandoverID: start filling a cage / manifest
	ActionHandoverClose = "handover_close" // close the open cage / manifest
	ActionPulled        = "pulled"         // OrderID, Location: an intercepted parcel was taken out
)

// ActionInput is an explicit step.
type ActionInput struct {
	ScanID     string `json:"scan_id"`
	Station    string `json:"station"`
	Operator   string `json:"operator"`
	Role       string `json:"role"`
	Kind       string `json:"kind"`
	OrderID    string `json:"order_id,omitempty"`
	LineID     string `json:"line_id,omitempty"`
	HandoverID string `json:"handover_id,omitempty"`
	Location   string `json:"location,omitempty"`
}

// Verdict is what a page shows after a scan or an action.
type Verdict struct {
	OK        bool   `json:"ok"`
	Reason    string `json:"reason,omitempty"` // the contract's reject reason, or a local one
	MsgZH     string `json:"msg_zh"`
	MsgEN     string `json:"msg_en"`
	Station   string `json:"station"`
	Operator  string `json:"operator,omitempty"`
	Mode      string `json:"mode"`
	Code      string `json:"code,omitempty"`
	OrderID   string `json:"order_id,omitempty"`
	WaybillNo string `json:"waybill_no,omitempty"`
	Carrier   string `json:"carrier,omitempty"`
	// Next is what to scan next: order, location, item, waybill, parcel, done.
	Next     string     `json:"next"`
	Location string     `json:"location,omitempty"` // pick: the bin to go to
	Lines    []LineView `json:"lines,omitempty"`
	Tags     []string   `json:"tags,omitempty"`
	Urgent   bool       `json:"urgent,omitempty"`
	Remark   string     `json:"remark,omitempty"`
	Done     bool       `json:"done,omitempty"`  // the order is verified / picked
	Print    bool       `json:"print,omitempty"` // the waybill is printing now
	Pull     bool       `json:"pull,omitempty"`  // take this parcel out: intercepted
	// Handover: the open cage or manifest and how many parcels it holds.
	HandoverID string    `json:"handover_id,omitempty"`
	Count      int       `json:"count,omitempty"`
	At         time.Time `json:"at"`
	// ScanID is the page's id of the scan or action that produced the verdict.
	ScanID string `json:"scan_id,omitempty"`
	// Replayed is set when the answer is the stored result of a retried scan id.
	Replayed bool `json:"replayed,omitempty"`
}

// LineView is one order line, expected against scanned.
type LineView struct {
	LineID    string `json:"line_id"`
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Spec      string `json:"spec,omitempty"`
	Qty       int    `json:"qty"`
	Scanned   int    `json:"scanned"`
	Gift      bool   `json:"gift,omitempty"`
	Location  string `json:"location,omitempty"`
	NoBarcode bool   `json:"no_barcode,omitempty"`
	OnHold    bool   `json:"on_hold,omitempty"`
}

// PickTask is one order on a pick list.
type PickTask struct {
	OrderID        string     `json:"order_id"`
	Urgent         bool       `json:"urgent"`
	Reasons        []string   `json:"reasons,omitempty"`
	PromisedShipBy *time.Time `json:"promised_ship_by,omitempty"`
	FirstLocation  string     `json:"first_location"`
	Lines          []LineView `json:"lines"`
	Tags           []string   `json:"tags,omitempty"`
	Carrier        string     `json:"carrier,omitempty"`
}

// ExceptionInput is a problem a person reports.
type ExceptionInput struct {
	ScanID   string `json:"scan_id"`
	Station  string `json:"station"`
	Operator string `json:"operator"`
	Category string `json:"category"`
	Text     string `json:"text"`
	OrderID  string `json:"order_id,omitempty"`
}

// StepInput starts or ends a timed step.
type StepInput struct {
	ScanID   string `json:"scan_id"`
	Station  string `json:"station"`
	Operator string `json:"operator"`
	Step     string `json:"step"`  // e.g. gift_check (满赠校验)
	Phase    string `json:"phase"` // start or end
	Code     string `json:"code"`  // what was scanned (order or waybill)
}

// StepResult is a timed step's state.
type StepResult struct {
	Step       string     `json:"step"`
	OrderID    string     `json:"order_id,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	DurationMS int64      `json:"duration_ms,omitempty"`
}

// ReprintInput is an authorised reprint.
type ReprintInput struct {
	OrderID      string `json:"order_id"`
	Station      string `json:"station"`
	Reason       string `json:"reason"`
	AuthorizedBy string `json:"authorized_by"`
	Operator     string `json:"operator"`
}

// PrinterState is one printer.
type PrinterState struct {
	ID      string `json:"id"`
	Station string `json:"station,omitempty"`
	State   string `json:"state"` // ready, printing, paper_out, cover_open, offline, error
	Detail  string `json:"detail,omitempty"`
}

// StatusView is devices and the hub link.
type StatusView struct {
	HubLink HubLink       `json:"hub_link"`
	Devices []wire.Device `json:"devices"`
}

// HubLink is the MQTT session to the hub.
type HubLink struct {
	State string    `json:"state"` // online, connecting, offline
	Since time.Time `json:"since,omitempty"`
	Error string    `json:"error,omitempty"`
}

// OrderFact is one order's way across the floor.
type OrderFact struct {
	OrderID        string     `json:"order_id"`
	Status         string     `json:"status"`
	Urgent         bool       `json:"urgent"`
	Zone           string     `json:"zone"` // pick zone of the first line's location (A of A-03-2-07)
	Carrier        string     `json:"carrier,omitempty"`
	PaidAt         time.Time  `json:"paid_at"`
	PromisedShipBy *time.Time `json:"promised_ship_by,omitempty"`
	PickedAt       *time.Time `json:"picked_at,omitempty"`
	VerifiedAt     *time.Time `json:"verified_at,omitempty"`
	HandedOverAt   *time.Time `json:"handed_over_at,omitempty"`
	CollectedAt    *time.Time `json:"collected_at,omitempty"`
}
