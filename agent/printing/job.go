// Package printing is the print-once queue: every waybill label and every raw job
// from the local print API becomes a durable job in the store, sent by one worker
// per printer in order. A waybill prints once; a second print needs an authorised
// reprint with a reason. Before sending, the worker knows how the printer is (it
// asks, unless the printer answered fine a moment ago and nothing failed since;
// paper out or cover open holds the job and raises an alarm) and re-checks, in
// the transaction that marks the job "sending", that the order was not
// intercepted or put on hold in the meantime. It does not wait for the paper
// before sending the next job: a confirmer follows the jobs in flight and
// records each as printed once the printer says so (a TSPL printer going back to
// ready after printing, an ESC/POS printer answering the job's process id), or as
// merely accepted when it cannot tell, and only then records waybill.printed,
// saying which of the two it was. A job interrupted while sending or printing
// (connection lost, fault, restart) is marked uncertain and waits for a person.
//
// Every state change is a grouped commit (store.Group): one fsync carries many
// jobs' changes, without a timer. When the printer is idle and fine, a new job
// is committed once, already "sending", and goes straight out.
package printing

import (
	"errors"
	"fmt"
	"time"
)

// Job states.
const (
	StateQueued    = "queued"    // waiting for its printer
	StateHeld      = "held"      // the printer reported a problem (paper out, cover open)
	StateSending   = "sending"   // bytes are going out (durable mark before the first byte)
	StateSent      = "sent"      // the printer took every byte
	StatePrinted   = "printed"   // the printer reported the label done
	StateUncertain = "uncertain" // interrupted while sending; a person decides
	StateCancelled = "cancelled" // not printed (order intercepted, on hold, or cancelled by a person)
	StateFailed    = "failed"    // could not be rendered or sent at all
)

// Job kinds.
const (
	KindWaybill = "waybill" // a waybill label of an order (print once)
	KindRaw     = "raw"     // raw printer bytes from the local print API
	KindLayout  = "layout"  // a document the local print API rendered for the printer
)

// Job is one print job as kept in the store.
type Job struct {
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	Printer      string    `json:"printer"`
	OrderID      string    `json:"order_id,omitempty"`
	WaybillNo    string    `json:"waybill_no,omitempty"`
	Station      string    `json:"station,omitempty"`
	Operator     string    `json:"operator,omitempty"`
	Reprint      bool      `json:"reprint,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	AuthorizedBy string    `json:"authorized_by,omitempty"`
	ClientKey    string    `json:"client_key,omitempty"` // de-duplicates raw jobs retried by a client
	Language     string    `json:"language"`
	Data         []byte    `json:"data"`
	State        string    `json:"state"`
	Detail       string    `json:"detail,omitempty"` // why held, cancelled, uncertain or failed
	Confirmed    string    `json:"confirmed,omitempty"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	Attempts     int       `json:"attempts,omitempty"`
}

// Done reports whether the job has reached a final state.
func (j *Job) Done() bool {
	switch j.State {
	case StateSent, StatePrinted, StateCancelled, StateFailed:
		return true
	}
	return false
}

// Errors worded for the people at the bench.
var (
	ErrAlreadyPrinted = errors.New("这张面单已打印过;补打需要主管授权 (this waybill was printed already; a reprint needs a manager's authorisation)")
	ErrNoWaybill      = errors.New("订单还没有面单号,不能打印 (the order has no waybill number yet)")
	ErrIntercepted    = errors.New("订单已被拦截,不能打印 (the order was intercepted: do not print)")
	ErrOnHold         = errors.New("商品批次被质检暂停,不能打印 (a line is on quality hold: do not print)")
	ErrNotReleased    = errors.New("订单不在待发货状态,不能打印 (the order is not released for shipping)")
	ErrUnknownPrinter = errors.New("没有这台打印机 (no such printer)")
	ErrNeedReason     = errors.New("补打需要原因和授权主管 (a reprint needs a reason and the authorising manager)")
	ErrNotUncertain   = errors.New("只有状态不明的任务需要人工确认 (only an uncertain job waits for a decision)")
	ErrWrongLanguage  = errors.New("打印机不支持这种指令语言 (the printer does not speak this printer language)")
	ErrEmptyJob       = errors.New("打印任务是空的 (the print job is empty)")
)

// jobKey orders jobs by creation in the store.
func jobKey(n uint64) string { return fmt.Sprintf("PJ-%010d", n) }
