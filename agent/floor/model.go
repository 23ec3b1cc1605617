package floor

import (
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// Modes of a station's session.
const (
	ModePack     = "pack"     // a packing bench: scan-twice verification
	ModePick     = "pick"     // a picker's PDA
	ModeHandover = "handover" // the dock: scan parcels into a cage or manifest
)

// Steps a verdict asks for next.
const (
	StepOrder    = "scan_order"    // scan a waybill or order number
	StepItems    = "scan_items"    // scan the order's items
	StepWaybill  = "scan_waybill"  // scan the waybill label on the parcel
	StepLocation = "scan_location" // pick: scan the next bin
	StepParcel   = "scan_parcel"   // handover: scan the next parcel
)

// Local reasons: refusals the contract has no code for. They are shown and
// audited but never sent as pack.rejected (the hub knows only the contract's
// codes).
const (
	ReasonIncomplete      = "incomplete"       // the waybill was scanned before every item
	ReasonOrderOpen       = "order_open"       // another order's code while one is open
	ReasonClaimed         = "claimed"          // another station is working on the order
	ReasonAlreadyVerified = "already_verified" // the parcel was verified before
	ReasonAlreadyPicked   = "already_picked"   // the order was picked before
	ReasonNotVerified     = "not_verified"     // handover of a parcel never verified
	ReasonHandedOver      = "already_handed_over"
	ReasonNoSession       = "no_session"     // an action that needs an open order
	ReasonHasBarcode      = "has_barcode"    // confirm asked for a line that has a barcode
	ReasonWrongLocation   = "wrong_location" // pick: item from another bin than scanned
	ReasonBadRequest      = "bad_request"    // an action's input is incomplete
	ReasonExpired         = "expired"        // the unit's GS1 expiry date (AI 17) has passed
)

// contractReason reports whether r may go into a pack.rejected event.
func contractReason(r string) bool {
	for _, c := range wire.RejectReasons {
		if c == r {
			return true
		}
	}
	return false
}

// Message is a text for the screen in the two languages of the floor.
type Message struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// LineView is one order line as the screen shows it: expected and scanned.
type LineView struct {
	LineID    string `json:"line_id"`
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Spec      string `json:"spec,omitempty"`
	Qty       int    `json:"qty"`
	Scanned   int    `json:"scanned"`
	Gift      bool   `json:"gift,omitempty"`
	NoBarcode bool   `json:"no_barcode,omitempty"` // needs a confirm by hand
	Location  string `json:"location,omitempty"`
	Batch     string `json:"batch,omitempty"`
	Done      bool   `json:"done"`
}

// Verdict is the answer to one scan or action: what the screen shows, what
// the speaker and the vibration say (OK or not), and what happens next.
type Verdict struct {
	OK bool `json:"ok"`
	// Reason is a contract reject code (wire.Reason*) or a local one
	// (Reason* in this package); "" when OK.
	Reason  string  `json:"reason,omitempty"`
	Message Message `json:"message"`
	Station string  `json:"station"`
	Mode    string  `json:"mode"`
	// Next is the step the station waits for (Step*).
	Next      string `json:"next"`
	Code      string `json:"code,omitempty"`
	OrderID   string `json:"order_id,omitempty"`
	WaybillNo string `json:"waybill_no,omitempty"`
	// Lines are the order's lines, expected against scanned; Line is the
	// one this scan counted for or was refused against.
	Lines []LineView `json:"lines,omitempty"`
	Line  *LineView  `json:"line,omitempty"`
	// Expected says in words what should have been scanned.
	Expected string   `json:"expected,omitempty"`
	Gifts    []string `json:"gifts,omitempty"` // 赠品:围兜1件
	Tags     []string `json:"tags,omitempty"`  // 重点复核, 易碎…
	Urgent   bool     `json:"urgent,omitempty"`
	// UrgentReasons are the hub's and the local rules' reasons.
	UrgentReasons []string `json:"urgent_reasons,omitempty"`
	// Print says the waybill label should be printed now.
	Print bool `json:"print,omitempty"`
	// Pull says an intercepted parcel must be taken out of the flow.
	Pull bool `json:"pull,omitempty"`
	// Done says the order just finished this station's work (verified,
	// picked, handed over).
	Done bool `json:"done,omitempty"`
	// Changed says the hub changed the order since the session opened.
	Changed bool `json:"changed,omitempty"`
	// HandoverID and Handed are the dock's open cage or manifest and how many
	// parcels it holds (handover scans, StartHandover, Cancel of a handover).
	HandoverID string `json:"handover_id,omitempty"`
	Handed     int    `json:"handed,omitempty"`
	// Events are the seqs of the events this step recorded.
	Events []uint64  `json:"events,omitempty"`
	At     time.Time `json:"at"`
	// Replayed says this is the stored verdict of a call whose id was seen
	// before: nothing was done this time (see ScanOnce).
	Replayed bool `json:"replayed,omitempty"`
}

// Session is one station's work in progress, kept in the store.
type Session struct {
	Station  string    `json:"station"`
	Operator string    `json:"operator"`
	Mode     string    `json:"mode"`
	OrderID  string    `json:"order_id,omitempty"`
	Version  int64     `json:"version,omitempty"`
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`
	// Counts are the units scanned (or confirmed) per line id.
	Counts map[string]int `json:"counts,omitempty"`
	// Scans are the accepted item scans, for pack.verified.
	Scans []wire.ScanRecord `json:"scans,omitempty"`
	// Location is the bin a picker scanned last.
	Location string `json:"location,omitempty"`
	// HandoverID is the cage or manifest parcels are scanned into.
	HandoverID string `json:"handover_id,omitempty"`
	Handed     int    `json:"handed,omitempty"`
}

// Claim says which station works on an order.
type Claim struct {
	Station  string    `json:"station"`
	Operator string    `json:"operator"`
	Mode     string    `json:"mode"`
	At       time.Time `json:"at"`
}

// OrderState is what the floor did with an order (the hub's document says
// what the hub wants; this says what happened here).
type OrderState struct {
	Picked      bool      `json:"picked,omitempty"`
	PickedAt    time.Time `json:"picked_at,omitzero"`
	Verified    bool      `json:"verified,omitempty"`
	VerifiedAt  time.Time `json:"verified_at,omitzero"`
	VerifiedBy  string    `json:"verified_by,omitempty"`
	Station     string    `json:"station,omitempty"`
	HandedOver  bool      `json:"handed_over,omitempty"`
	HandoverID  string    `json:"handover_id,omitempty"`
	HandedAt    time.Time `json:"handed_at,omitzero"`
	PullFlagged bool      `json:"pull_flagged,omitempty"`
	Pulled      bool      `json:"pulled,omitempty"`
	PulledAt    time.Time `json:"pulled_at,omitzero"`
}
