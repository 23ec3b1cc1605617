package urgent

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

func TestEvaluate(t *testing.T) {
	now := time.Date(2026, 1, 28, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	at := func(d time.Duration) *wire.Time { return &wire.Time{Time: now.Add(d)} }
	base := func() wire.Order {
		return wire.Order{OrderID: "O-1", Priority: wire.PriorityNormal,
			Customer: &wire.Customer{Tier: wire.TierRegular},
			Carrier:  &wire.Carrier{Code: "ZTO", Service: "标准快递"}}
	}
	tests := []struct {
		name    string
		edit    func(o *wire.Order)
		rules   func(r *Rules)
		reasons []string
	}{
		{"plain order", func(o *wire.Order) {}, nil, nil},
		{"hub urgent with its reasons", func(o *wire.Order) {
			o.Priority, o.PriorityReasons = wire.PriorityUrgent, []string{"tier:platinum"}
		}, nil, []string{"hub", "tier:platinum"}},
		{"remark keyword", func(o *wire.Order) { o.Remark = "宝宝生日礼物,请尽快发货" }, nil, []string{"remark:生日"}},
		{"seller note keyword", func(o *wire.Order) { o.SellerNote = "客户婚礼用" }, nil, []string{"remark:婚礼"}},
		{"two keywords", func(o *wire.Order) { o.Remark = "急诊 生日" }, nil, []string{"remark:生日", "remark:急诊"}},
		{"platinum", func(o *wire.Order) { o.Customer.Tier = wire.TierPlatinum }, nil, []string{"tier:platinum"}},
		{"gold is not urgent", func(o *wire.Order) { o.Customer.Tier = wire.TierGold }, nil, nil},
		{"no customer", func(o *wire.Order) { o.Customer = nil }, nil, nil},
		{"due in 90 minutes", func(o *wire.Order) { o.PromisedShipBy = at(90 * time.Minute) }, nil, []string{"due:2h"}},
		{"due in 20 minutes", func(o *wire.Order) { o.PromisedShipBy = at(20 * time.Minute) }, nil, []string{"due:20m"}},
		{"overdue", func(o *wire.Order) { o.PromisedShipBy = at(-time.Minute) }, nil, []string{"due:overdue"}},
		{"due in two days", func(o *wire.Order) { o.PromisedShipBy = at(48 * time.Hour) }, nil, nil},
		{"due rule off", func(o *wire.Order) { o.PromisedShipBy = at(time.Minute) }, func(r *Rules) { r.DueWithin = 0 }, nil},
		{"SF same city", func(o *wire.Order) { o.Carrier = &wire.Carrier{Code: "SF", Service: "同城急送"} }, nil, []string{"carrier:SF:同城"}},
		{"SF standard", func(o *wire.Order) { o.Carrier = &wire.Carrier{Code: "SF", Service: "标快"} }, nil, nil},
		{"any JD", func(o *wire.Order) { o.Carrier = &wire.Carrier{Code: "JD"} },
			func(r *Rules) { r.Carriers = []CarrierRule{{Code: "JD"}} }, []string{"carrier:JD"}},
		{"tag", func(o *wire.Order) { o.Tags = []string{"易碎", "同城急单"} }, nil, []string{"tag:同城急单"}},
		{"everything, hub first, no duplicates", func(o *wire.Order) {
			o.Priority, o.PriorityReasons = wire.PriorityUrgent, []string{"remark:生日"}
			o.Remark = "生日"
			o.Customer.Tier = wire.TierPlatinum
			o.Tags = []string{"同城急单"}
		}, nil, []string{"hub", "remark:生日", "tier:platinum", "tag:同城急单"}},
		{"custom keyword", func(o *wire.Order) { o.Remark = "老板亲戚" }, func(r *Rules) { r.Keywords = []string{"老板"} }, []string{"remark:老板"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base()
			tt.edit(&o)
			r := DefaultRules()
			if tt.rules != nil {
				tt.rules(&r)
			}
			got := r.Evaluate(&o, now)
			if !reflect.DeepEqual(got.Reasons, tt.reasons) || got.Urgent != (len(tt.reasons) > 0) {
				t.Fatalf("Evaluate = %v %q, want %q", got.Urgent, got.Reasons, tt.reasons)
			}
		})
	}
}

func TestEvaluateNil(t *testing.T) {
	if r := DefaultRules().Evaluate(nil, time.Now()); r.Urgent {
		t.Fatal("nil order is urgent")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *Rules)
		want string
	}{
		{"defaults", func(r *Rules) {}, ""},
		{"negative due", func(r *Rules) { r.DueWithin = -time.Hour }, "due_within"},
		{"unknown carrier", func(r *Rules) { r.Carriers = []CarrierRule{{Code: "UPS"}} }, "UPS"},
		{"empty keyword", func(r *Rules) { r.Keywords = []string{" "} }, "every remark"},
	}
	for _, tt := range tests {
		r := DefaultRules()
		tt.edit(&r)
		err := r.Validate()
		if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestParseCarrierRules(t *testing.T) {
	got, err := ParseCarrierRules([]string{"SF:同城", " JD "})
	want := []CarrierRule{{Code: "SF", Service: "同城"}, {Code: "JD"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseCarrierRules = %v, %v; want %v", got, err, want)
	}
	if _, err := ParseCarrierRules([]string{"DHL"}); err == nil || !strings.Contains(err.Error(), "DHL") {
		t.Fatalf("unknown carrier: err = %v", err)
	}
}

func TestClassifier(t *testing.T) {
	now := time.Date(2026, 1, 28, 10, 0, 0, 0, time.UTC)
	o := &wire.Order{Priority: wire.PriorityNormal, PromisedShipBy: &wire.Time{Time: now.Add(time.Hour)}}
	urgent, reasons := DefaultRules().Classifier(func() time.Time { return now })(o)
	if !urgent || !reflect.DeepEqual(reasons, []string{"due:1h"}) {
		t.Fatalf("Classifier = %v %q", urgent, reasons)
	}
}
