package peakday

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// Mistake kinds the simulated people make, and the reason that must catch each.
const (
	MistakeWrongItem   = "wrong_item"         // an item of another order
	MistakeMissingGift = "missing_gift"       // the waybill scanned before the gift
	MistakeSwapped     = "swapped_label"      // another parcel's label scanned
	MistakeIntercepted = "intercepted_parcel" // packing or handing over an intercepted parcel
	MistakeDoubleScan  = "double_scan"        // one unit scanned twice
)

var expectedReason = map[string]string{
	MistakeWrongItem:   wire.ReasonWrongItem,
	MistakeMissingGift: "incomplete",
	MistakeSwapped:     wire.ReasonWaybillMismatch,
	MistakeIntercepted: wire.ReasonIntercepted,
	MistakeDoubleScan:  wire.ReasonOverQuantity,
}

// scanner is how a station's scans reach the agent.
type scanner interface {
	Scan(ctx context.Context, station, operator, code string) (Verdict, error)
}

// httpScanner is a PDA: scans go to the HTTP API with a page-made scan id.
type httpScanner struct{ api *API }

func (h httpScanner) Scan(ctx context.Context, _, _, code string) (Verdict, error) {
	return h.api.ScanID(ctx, NewScanID(), "pack", code, "")
}

// station is one packing bench and the person working at it.
type station struct {
	id, op, via string
	sc          scanner
	screen      *API // the bench's screen (or the PDA itself)
	printer     *Printer
	r           *rand.Rand
	run         *runner
}

// do sends one scan and records its latency.
func (s *station) do(ctx context.Context, code string) (Verdict, error) {
	t0 := time.Now()
	v, err := s.sc.Scan(ctx, s.id, s.op, code)
	s.run.rec.scan(t0, time.Since(t0), s.via, err == nil)
	return v, err
}

// recover waits for the agent to be back after a scan got no answer or was
// refused, then reads the bench's screen.
func (s *station) recover(ctx context.Context) (Verdict, bool) {
	for ctx.Err() == nil {
		s.run.waitUp(ctx)
		v, err := s.screen.StationView(ctx, s.id)
		if err == nil {
			return v, true
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
			_ = s.signIn(ctx)
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
	return Verdict{}, false
}

func (s *station) signIn(ctx context.Context) error {
	return s.screen.SignIn(ctx, s.op, pinOf(s.op), s.id)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func countsOf(v Verdict) map[string]int {
	c := map[string]int{}
	for _, l := range v.Lines {
		c[l.LineID] = l.Scanned
	}
	return c
}

func (s *station) chance(p float64) bool { return s.r.Float64() < p }

// nextLine is the first line not complete: lines without a barcode first
// (confirmed by hand on the screen), then the scanned goods, gifts last — so
// the step that completes the order is a scan, as at a real bench.
func nextLine(d *wire.Order, counts map[string]int) *wire.Line {
	for pass := 0; pass < 3; pass++ {
		for i := range d.Lines {
			l := &d.Lines[i]
			var p int
			switch {
			case len(l.Barcodes) == 0:
				p = 0
			case l.Gift:
				p = 2
			default:
				p = 1
			}
			if p == pass && counts[l.LineID] < l.Qty {
				return l
			}
		}
	}
	return nil
}

// pack works one order at the bench, the way a person does, with the
// mistakes people make at the rates of the run.
func (s *station) pack(ctx context.Context, o *order) {
	d := o.snapshot()
	code := openCode(&d)
	rates := s.run.opts.Mistakes
	if d.Status == wire.StatusIntercepted {
		// The parcel was intercepted; once the agent has it, scanning it must be refused.
		if !s.run.waitSeq(ctx, o.interceptSeq()) {
			return
		}
		v, err := s.do(ctx, code)
		if err == nil {
			s.mistake(MistakeIntercepted, o, v)
			if v.OK {
				s.cancel(ctx)
			}
		}
		return
	}
	if d.Status != wire.StatusReleased {
		return
	}
	plan := struct{ wrong, double, gift, swapped, interceptAfterPrint bool }{
		wrong: s.chance(rates.WrongItem), double: s.chance(rates.DoubleScan), gift: s.chance(rates.MissingGift),
		swapped: s.chance(rates.Swapped), interceptAfterPrint: s.chance(rates.InterceptAfterPrint),
	}
	counts := map[string]int{}
	opened := false
	// Whatever ends this order abnormally (no answer, a surprise), the bench
	// must not keep it open under the next one.
	clean := false
	defer func() {
		if !clean && opened {
			s.cancel(ctx)
		}
	}()
	for attempt := 0; attempt < 300 && ctx.Err() == nil; attempt++ {
		if !opened {
			v, err := s.do(ctx, code)
			if err != nil {
				if view, ok := s.recover(ctx); ok && view.OrderID == d.OrderID {
					opened, counts = true, countsOf(view)
				}
				continue
			}
			switch {
			case v.OK:
				opened, counts = true, countsOf(v)
			case v.Reason == "already_verified":
				s.run.verified(o)
				return
			case v.Reason == wire.ReasonOnHold || v.Reason == wire.ReasonIntercepted || v.Reason == wire.ReasonNotReleased:
				s.run.rec.check(v.Reason)
				return
			case v.Reason == wire.ReasonUnknownCode:
				sleepCtx(ctx, 100*time.Millisecond) // the agent has not got the order yet
			case v.Reason == "order_open" || v.Reason == "claimed" || (v.OrderID != "" && v.OrderID != d.OrderID):
				// Another order is still open at this bench (a step lost its answer): close it first.
				s.cancel(ctx)
			default:
				s.run.rec.unexpected(s.id, d.OrderID, "open", v)
				return
			}
			continue
		}
		if l := nextLine(&d, counts); l != nil {
			if l.Gift && plan.gift && d.Waybill != nil {
				plan.gift = false
				if v, err := s.do(ctx, d.Waybill.No); err == nil {
					s.mistake(MistakeMissingGift, o, v)
					if v.OK {
						s.run.rec.unexpected(s.id, d.OrderID, "verified without its gift", v)
						return
					}
				} else {
					opened = false
				}
				continue
			}
			var v Verdict
			var err error
			if len(l.Barcodes) == 0 {
				v, err = s.screen.Action(ctx, "confirm_line", map[string]string{"line_id": l.LineID})
			} else {
				if plan.wrong {
					plan.wrong = false
					if wrong := s.run.wrongBarcode(s.r, &d); wrong != "" {
						if v, err := s.do(ctx, wrong); err == nil {
							s.mistake(MistakeWrongItem, o, v)
						}
					}
				}
				v, err = s.do(ctx, l.Barcodes[s.r.IntN(len(l.Barcodes))])
			}
			if err != nil {
				view, ok := s.recover(ctx)
				opened = ok && view.OrderID == d.OrderID
				if opened {
					counts = countsOf(view)
				}
				continue
			}
			switch {
			case v.OK:
				if len(v.Lines) > 0 {
					counts = countsOf(v)
				} else {
					counts[l.LineID]++
				}
				if plan.double && counts[l.LineID] >= l.Qty && len(l.Barcodes) > 0 {
					plan.double = false
					if v2, err := s.do(ctx, l.Barcodes[0]); err == nil {
						s.mistake(MistakeDoubleScan, o, v2)
					}
				}
			case v.Reason == wire.ReasonOnHold || v.Reason == wire.ReasonIntercepted:
				s.run.rec.check(v.Reason)
				s.cancel(ctx)
				return
			case v.Reason == "no_session" || v.Reason == "order_open":
				opened = false
			default:
				s.run.rec.unexpected(s.id, d.OrderID, "item", v)
				s.cancel(ctx)
				return
			}
			continue
		}
		// Every item is in: the label must come out, then it is scanned.
		if d.Waybill == nil {
			s.cancel(ctx)
			s.run.rec.check("no_waybill_set_aside")
			return
		}
		if !s.run.waitLabel(ctx, d.Waybill.No, s.run.opts.LabelWait) {
			// No label: the packer asks the manager for a reprint.
			err := s.screen.Do(ctx, http.MethodPost, "/api/reprint", map[string]string{"order_id": d.OrderID,
				"reason": "label did not come out", "manager_code": ManagerCode, "manager_pin": ManagerPIN}, nil)
			if err == nil {
				s.run.rec.check("label_missing_reprinted")
				s.run.waitLabel(ctx, d.Waybill.No, s.run.opts.LabelWait)
			} else {
				s.run.rec.check("label_never_printed_reprint_refused")
			}
		}
		if plan.interceptAfterPrint {
			plan.interceptAfterPrint = false
			seq, err := s.run.world.intercept(o, "refund_requested")
			if err == nil && seq > 0 && s.run.waitSeq(ctx, seq) {
				v, err := s.do(ctx, d.Waybill.No)
				if err != nil {
					view, ok := s.recover(ctx)
					opened = ok && view.OrderID == d.OrderID
					continue // the next waybill scan must be refused too
				}
				s.mistake(MistakeIntercepted, o, v)
				if !v.OK {
					clean = true
					s.pull(ctx, d.OrderID)
					return
				}
				clean = true
				s.run.verified(o)
				return
			}
		}
		if plan.swapped {
			plan.swapped = false
			if other := s.run.otherWaybill(s.r, d.OrderID); other != "" {
				if v, err := s.do(ctx, other); err == nil {
					s.mistake(MistakeSwapped, o, v)
				}
			}
		}
		v, err := s.do(ctx, d.Waybill.No)
		if err != nil {
			view, ok := s.recover(ctx)
			opened = ok && view.OrderID == d.OrderID
			if opened {
				counts = countsOf(view)
			}
			continue
		}
		switch {
		case v.OK:
			clean = true
			s.run.verified(o)
			return
		case v.Reason == wire.ReasonIntercepted || v.Reason == wire.ReasonOnHold:
			clean = true
			s.run.rec.check(v.Reason)
			if v.Reason == wire.ReasonIntercepted {
				s.pull(ctx, d.OrderID)
			}
			return
		case v.Reason == "incomplete":
			if view, ok := s.recover(ctx); ok && view.OrderID == d.OrderID {
				counts = countsOf(view)
			}
		case v.Reason == "no_session":
			opened = false
		default:
			s.run.rec.unexpected(s.id, d.OrderID, "waybill", v)
			s.cancel(ctx)
			return
		}
	}
}

// cancel drops the bench's open session, and makes sure it is gone: a
// cancel refused while the disk was full would leave the old order open
// under the next one.
func (s *station) cancel(ctx context.Context) {
	for try := 0; try < 100 && ctx.Err() == nil; try++ {
		if _, err := s.screen.Action(ctx, "cancel", nil); err == nil {
			return
		}
		if v, ok := s.recover(ctx); ok && v.OrderID == "" {
			return
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
}

// mistake records a mistake and the verdict it got. When the hub intercepted
// the order meanwhile, "intercepted" is the right answer to any mistake: the
// parcel must not go on at all.
func (s *station) mistake(kind string, o *order, v Verdict) {
	d := o.snapshot()
	if !v.OK && v.Reason == wire.ReasonIntercepted && d.Status == wire.StatusIntercepted {
		kind = MistakeIntercepted
	}
	s.run.rec.mistake(kind, s.id, d.OrderID, s.via, v)
}

// pull takes an intercepted parcel out of the flow.
func (s *station) pull(ctx context.Context, orderID string) {
	if _, err := s.screen.Action(ctx, "pulled", map[string]string{"order_id": orderID, "location": "PULL-SHELF-1"}); err == nil {
		s.run.rec.check("pulled")
	}
}

// dock hands verified parcels to the carrier at a handover station (a PDA).
func (s *station) dock(ctx context.Context, parcels <-chan *order) {
	cage := "CAGE-" + s.id
	opened := false
	for ctx.Err() == nil {
		var o *order
		select {
		case <-ctx.Done():
			return
		case o = <-parcels:
		}
		d := o.snapshot()
		if d.Waybill == nil {
			continue
		}
		if d.Status == wire.StatusIntercepted && !s.run.waitSeq(ctx, o.interceptSeq()) {
			return
		}
		interceptNow := d.Status == wire.StatusReleased && s.chance(s.run.opts.Mistakes.InterceptAtDock)
		if interceptNow {
			seq, err := s.run.world.intercept(o, "address_changed")
			if err != nil || seq == 0 || !s.run.waitSeq(ctx, seq) {
				continue
			}
			d = o.snapshot()
		}
		for try := 0; try < 50 && ctx.Err() == nil; try++ {
			if !opened {
				if _, err := s.screen.Action(ctx, "handover_open", map[string]string{"handover_id": cage}); err != nil {
					s.recover(ctx)
					continue
				}
				opened = true
			}
			t0 := time.Now()
			v, err := s.screen.ScanID(ctx, NewScanID(), "handover", d.Waybill.No, cage)
			s.run.rec.scan(t0, time.Since(t0), "http", err == nil)
			if err != nil {
				s.recover(ctx)
				opened = false
				continue
			}
			if d.Status == wire.StatusIntercepted {
				s.mistake(MistakeIntercepted, o, v)
				if !v.OK {
					s.pull(ctx, d.OrderID)
				}
			} else if v.OK {
				s.run.rec.check("handed_over")
			} else if v.Reason == "already_handed_over" {
				s.run.rec.check("handed_over")
			} else if v.Reason == wire.ReasonIntercepted || v.Reason == wire.ReasonOnHold {
				s.run.rec.check(v.Reason)
				s.pull(ctx, d.OrderID)
			} else if v.Reason == "no_session" {
				opened = false
				continue
			} else {
				s.run.rec.unexpected(s.id, d.OrderID, "handover", v)
			}
			break
		}
	}
}
