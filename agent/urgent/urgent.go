// Package urgent decides, on the agent, whether an order must jump the queue.
//
// The hub already marks orders urgent by its own rules; a warehouse adds its
// own on top: words in the buyer's remark or the seller's note (生日, 婚礼,
// 急诊), a customer tier (platinum), a promised ship-by time that is close,
// carriers and services that leave early (SF same-day), and tags from the hub
// (同城急单). Evaluate never lowers the hub's decision, only raises it, and
// says why in short reason codes that the floor screens and the pick list show.
package urgent

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// CarrierRule makes an order urgent when its carrier code matches and, if
// Service is set, its carrier service contains Service.
type CarrierRule struct {
	Code    string `yaml:"code" json:"code"`
	Service string `yaml:"service,omitempty" json:"service,omitempty"`
}

// Rules are the local urgent rules; the agent's config maps onto them.
type Rules struct {
	// Keywords found in the remark (买家留言) or the seller note (卖家备注).
	Keywords []string `yaml:"keywords" json:"keywords"`
	// Tiers of customer whose orders are urgent.
	Tiers []string `yaml:"tiers" json:"tiers"`
	// DueWithin makes an order urgent when its promised_ship_by is less
	// than this far away (or already past). Zero turns the rule off.
	DueWithin time.Duration `yaml:"due_within" json:"due_within"`
	// Carriers whose parcels leave early.
	Carriers []CarrierRule `yaml:"carriers" json:"carriers"`
	// Tags from the hub that make an order urgent.
	Tags []string `yaml:"tags" json:"tags"`
}

// DefaultRules are the rules a warehouse starts with.
func DefaultRules() Rules {
	return Rules{
		Keywords:  []string{"生日", "婚礼", "急诊"},
		Tiers:     []string{wire.TierPlatinum},
		DueWithin: 4 * time.Hour,
		Carriers:  []CarrierRule{{Code: "SF", Service: "同城"}, {Code: "SF", Service: "当日"}},
		Tags:      []string{"同城急单"},
	}
}

// Result is the decision for one order.
type Result struct {
	Urgent bool
	// Reasons in a fixed order: "hub" (and the hub's own reasons), then
	// remark:…, tier:…, due:…, carrier:…, tag:….
	Reasons []string
	// DueIn is the time left before promised_ship_by (negative when late);
	// valid when HasDue.
	DueIn  time.Duration
	HasDue bool
}

// Evaluate applies the rules to o at time now.
func (r Rules) Evaluate(o *wire.Order, now time.Time) Result {
	var res Result
	if o == nil {
		return res
	}
	add := func(s string) {
		for _, have := range res.Reasons {
			if have == s {
				return
			}
		}
		res.Reasons = append(res.Reasons, s)
	}
	if o.Priority == wire.PriorityUrgent {
		add("hub")
		for _, s := range o.PriorityReasons {
			add(s)
		}
	}
	for _, k := range r.Keywords {
		if k != "" && (strings.Contains(o.Remark, k) || strings.Contains(o.SellerNote, k)) {
			add("remark:" + k)
		}
	}
	if o.Customer != nil && o.Customer.Tier != "" {
		for _, t := range r.Tiers {
			if strings.EqualFold(t, o.Customer.Tier) {
				add("tier:" + o.Customer.Tier)
			}
		}
	}
	if o.PromisedShipBy != nil && !o.PromisedShipBy.IsZero() {
		res.DueIn, res.HasDue = o.PromisedShipBy.Sub(now), true
		if r.DueWithin > 0 && res.DueIn < r.DueWithin {
			add("due:" + dueText(res.DueIn))
		}
	}
	if o.Carrier != nil {
		for _, c := range r.Carriers {
			if strings.EqualFold(c.Code, o.Carrier.Code) && (c.Service == "" || strings.Contains(o.Carrier.Service, c.Service)) {
				s := "carrier:" + o.Carrier.Code
				if c.Service != "" {
					s += ":" + c.Service
				}
				add(s)
			}
		}
	}
	for _, t := range r.Tags {
		for _, have := range o.Tags {
			if t != "" && have == t {
				add("tag:" + t)
			}
		}
	}
	res.Urgent = len(res.Reasons) > 0
	return res
}

// dueText renders the time left in whole hours rounded up ("2h"), minutes
// under an hour ("45m"), or "overdue".
func dueText(d time.Duration) string {
	switch {
	case d <= 0:
		return "overdue"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(math.Ceil(d.Minutes())))
	}
	return fmt.Sprintf("%dh", int(math.Ceil(d.Hours())))
}

// Validate reports rules that cannot work, in words for whoever edits the config.
func (r Rules) Validate() error {
	if r.DueWithin < 0 {
		return fmt.Errorf("urgent rules: due_within %v must not be negative", r.DueWithin)
	}
	for i, c := range r.Carriers {
		if !wire.KnownCarrier(c.Code) {
			return fmt.Errorf("urgent rules: carriers[%d]: %q is not a carrier code of the contract (SF, ZTO, YTO, STO, YUNDA, JT, EMS, JD, DBL, OTHER)", i, c.Code)
		}
	}
	for i, k := range r.Keywords {
		if strings.TrimSpace(k) == "" {
			return fmt.Errorf("urgent rules: keywords[%d] is empty: it would match every remark", i)
		}
	}
	return nil
}

// ParseCarrierRules reads carrier rules as a config file writes them: "SF"
// (every SF parcel) or "SF:同城" (SF parcels whose service contains 同城).
func ParseCarrierRules(list []string) ([]CarrierRule, error) {
	out := make([]CarrierRule, 0, len(list))
	for i, s := range list {
		code, service, _ := strings.Cut(strings.TrimSpace(s), ":")
		if !wire.KnownCarrier(code) {
			return nil, fmt.Errorf("urgent rules: carriers[%d] %q: %q is not a carrier code of the contract (SF, ZTO, YTO, STO, YUNDA, JT, EMS, JD, DBL, OTHER); write CODE or CODE:service-words", i, s, code)
		}
		out = append(out, CarrierRule{Code: code, Service: strings.TrimSpace(service)})
	}
	return out, nil
}

// Classifier adapts the rules to the store's classify hook: it evaluates an
// order at the time now returns (time.Now when nil).
func (r Rules) Classifier(now func() time.Time) func(*wire.Order) (bool, []string) {
	if now == nil {
		now = time.Now
	}
	return func(o *wire.Order) (bool, []string) {
		res := r.Evaluate(o, now())
		return res.Urgent, res.Reasons
	}
}
