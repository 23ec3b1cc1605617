// Package printer holds what every printer-language package shares: the printer
// status vocabulary reported to the hub, and the Chinese text encoding rules of
// thermal printers' built-in fonts (2-byte GB18030 codes only).
//
// It sits below drivers/tspl, drivers/escpos and drivers/label so that each of
// them can decode a status byte into the same Status without importing another.
package printer

import (
	"strings"
)

// State is a printer's condition. The first six values are the printer states
// of the hub contract; RibbonOut and Paused are finer states some printers
// report, mapped onto the contract's states by Hub.
type State string

// Printer states.
const (
	Ready     State = "ready"
	Printing  State = "printing"
	PaperOut  State = "paper_out"
	CoverOpen State = "cover_open"
	Offline   State = "offline"
	Error     State = "error"
	RibbonOut State = "ribbon_out"
	Paused    State = "paused"
)

// Hub maps s onto the six printer states the hub contract knows.
func (s State) Hub() State {
	switch s {
	case Ready, Printing, PaperOut, CoverOpen, Offline, Error:
		return s
	case Paused:
		return Offline
	default: // RibbonOut and anything unknown
		return Error
	}
}

// Status is a decoded printer status.
type Status struct {
	// State is the single most important condition (cover open beats paper
	// out beats error beats offline/paused beats printing beats ready).
	State State `json:"state"`
	// Detail lists every condition the printer reported, in English words
	// separated by ", " (e.g. "head open, paper out"); empty when ready.
	Detail string `json:"detail,omitempty"`
	// PaperNearEnd is set when the paper roll sensor reports a nearly
	// empty roll; the printer still works.
	PaperNearEnd bool `json:"paper_near_end,omitempty"`
}

// OK reports whether the printer can take a job now.
func (s Status) OK() bool { return s.State == Ready || s.State == Printing }

func (s Status) String() string {
	if s.Detail == "" {
		return string(s.State)
	}
	return string(s.State) + " (" + s.Detail + ")"
}

// rank orders states by how urgently a person must act.
var rank = map[State]int{
	Ready: 0, Printing: 1, Paused: 2, Offline: 3, Error: 4, RibbonOut: 5, PaperOut: 6, CoverOpen: 7,
}

// Builder collects conditions and keeps the most important state.
// The zero value is ready.
type Builder struct {
	st      State
	details []string
	nearEnd bool
}

// Add records a condition with its state.
func (b *Builder) Add(s State, detail string) {
	if b.st == "" || rank[s] > rank[b.st] {
		b.st = s
	}
	if detail != "" {
		b.details = append(b.details, detail)
	}
}

// NearEnd records a paper-near-end warning.
func (b *Builder) NearEnd() {
	b.nearEnd = true
	b.details = append(b.details, "paper near end")
}

// Status returns the collected status.
func (b *Builder) Status() Status {
	st := b.st
	if st == "" {
		st = Ready
	}
	return Status{State: st, Detail: strings.Join(b.details, ", "), PaperNearEnd: b.nearEnd}
}
