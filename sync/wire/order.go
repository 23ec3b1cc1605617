package wire

import (
	"fmt"
	"strings"
)

// Order statuses.
const (
	StatusReleased    = "released"
	StatusIntercepted = "intercepted"
	StatusShipped     = "shipped"
	StatusClosed      = "closed"
)

// Priorities.
const (
	PriorityNormal = "normal"
	PriorityUrgent = "urgent"
)

// Customer tiers.
const (
	TierRegular  = "regular"
	TierGold     = "gold"
	TierPlatinum = "platinum"
)

var (
	platforms = set("douyin", "taobao", "tmall", "jd", "pdd", "miniapp", "wechat", "phone", "other")
	statuses  = set(StatusReleased, StatusIntercepted, StatusShipped, StatusClosed)
	carriers  = set("SF", "ZTO", "YTO", "STO", "YUNDA", "JT", "EMS", "JD", "DBL", "OTHER")
)

func set(v ...string) map[string]bool {
	m := make(map[string]bool, len(v))
	for _, s := range v {
		m[s] = true
	}
	return m
}

// Order is the hub's whole order document (never a patch).
type Order struct {
	OrderID         string     `json:"order_id"`
	Version         int64      `json:"version"`
	Platform        string     `json:"platform"`
	PlatformOrderNo string     `json:"platform_order_no"`
	Warehouse       string     `json:"warehouse"`
	Status          string     `json:"status"`
	Intercept       *Intercept `json:"intercept,omitempty"`
	Priority        string     `json:"priority"`
	PriorityReasons []string   `json:"priority_reasons,omitempty"`
	Tags            []string   `json:"tags,omitempty"`
	Customer        *Customer  `json:"customer,omitempty"`
	Receiver        *Party     `json:"receiver"`
	Sender          *Party     `json:"sender,omitempty"`
	Remark          string     `json:"remark,omitempty"`
	SellerNote      string     `json:"seller_note,omitempty"`
	Carrier         *Carrier   `json:"carrier"`
	Waybill         *Waybill   `json:"waybill,omitempty"`
	Lines           []Line     `json:"lines"`
	PaidAt          Time       `json:"paid_at"`
	PromisedShipBy  *Time      `json:"promised_ship_by,omitempty"`
}

// Intercept says why an order must not leave.
type Intercept struct {
	Reason string `json:"reason"`
	At     *Time  `json:"at,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Customer is who bought.
type Customer struct {
	CustomerID string `json:"customer_id,omitempty"`
	Tier       string `json:"tier,omitempty"`
	Nick       string `json:"nick,omitempty"`
}

// Party is a receiver or sender.
type Party struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Province string `json:"province"`
	City     string `json:"city"`
	District string `json:"district"`
	Address  string `json:"address"`
	Postcode string `json:"postcode,omitempty"`
	Country  string `json:"country,omitempty"`
}

// Carrier is the courier company.
type Carrier struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Service string `json:"service,omitempty"`
}

// Waybill is the electronic waybill (电子面单) once assigned.
type Waybill struct {
	No            string            `json:"no"`
	SortCode      string            `json:"sort_code,omitempty"`
	PackageCenter string            `json:"package_center,omitempty"`
	RouteCode     string            `json:"route_code,omitempty"`
	Extra         map[string]string `json:"extra,omitempty"`
	Rendered      *Rendered         `json:"rendered,omitempty"`
}

// Rendered carries printer commands rendered by a platform's cloud print service.
type Rendered struct {
	Language string `json:"language"`
	DPI      int    `json:"dpi"`
	WidthMM  int    `json:"width_mm"`
	HeightMM int    `json:"height_mm"`
	DataB64  string `json:"data_b64"`
	SHA256   string `json:"sha256"`
}

// Line is one order line.
type Line struct {
	LineID      string   `json:"line_id"`
	SKU         string   `json:"sku"`
	Name        string   `json:"name"`
	Spec        string   `json:"spec,omitempty"`
	Barcodes    []string `json:"barcodes"`
	Qty         int      `json:"qty"`
	Gift        bool     `json:"gift,omitempty"`
	Batch       string   `json:"batch,omitempty"`
	Location    string   `json:"location,omitempty"`
	UnitWeightG int      `json:"unit_weight_g,omitempty"`
}

// Validate reports the first way o breaks the contract, in words an operator reads.
func (o *Order) Validate() error {
	var p problems
	p.need(o.OrderID != "", "order_id is missing")
	p.need(o.Version >= 1, "version must be an integer ≥ 1")
	p.need(o.Platform != "", "platform is missing")
	p.need(o.Platform == "" || platforms[o.Platform], fmt.Sprintf("platform %q is not one the contract knows", o.Platform))
	p.need(o.PlatformOrderNo != "", "platform_order_no is missing")
	p.need(o.Warehouse != "", "warehouse is missing")
	p.need(o.Status != "", "status is missing")
	p.need(o.Status == "" || statuses[o.Status], fmt.Sprintf("status %q is not one of released, intercepted, shipped, closed", o.Status))
	p.need(o.Priority == PriorityNormal || o.Priority == PriorityUrgent, fmt.Sprintf("priority %q must be normal or urgent", o.Priority))
	p.need(o.Receiver != nil, "receiver is missing")
	p.need(o.Carrier != nil, "carrier is missing")
	if o.Carrier != nil {
		p.need(o.Carrier.Code != "", "carrier.code is missing")
	}
	if o.Waybill != nil {
		p.need(o.Waybill.No != "", "waybill.no is missing")
		if r := o.Waybill.Rendered; r != nil {
			p.need(r.Language == "tspl" || r.Language == "escpos" || r.Language == "zpl", fmt.Sprintf("waybill.rendered.language %q must be tspl, escpos or zpl", r.Language))
			p.need(r.DataB64 != "" && r.SHA256 != "", "waybill.rendered needs data_b64 and sha256")
		}
	}
	p.need(len(o.Lines) >= 1, "lines must hold at least one line")
	seen := make(map[string]bool, len(o.Lines))
	for i, l := range o.Lines {
		at := fmt.Sprintf("lines[%d]", i)
		p.need(l.LineID != "", at+".line_id is missing")
		p.need(!seen[l.LineID], fmt.Sprintf("%s.line_id %q is used twice", at, l.LineID))
		seen[l.LineID] = true
		p.need(l.SKU != "", at+".sku is missing")
		p.need(l.Name != "", at+".name is missing")
		p.need(l.Barcodes != nil, at+".barcodes is missing (use [] for unlabelled goods)")
		p.need(l.Qty >= 1, at+".qty must be an integer ≥ 1")
	}
	p.need(!o.PaidAt.IsZero(), "paid_at is missing")
	return p.err()
}

// KnownCarrier reports whether code is one of the contract's carrier codes.
func KnownCarrier(code string) bool { return carriers[code] }

// IsGift reports whether any line is a free gift.
func (o *Order) IsGift() bool {
	for _, l := range o.Lines {
		if l.Gift {
			return true
		}
	}
	return false
}

// GiftText is how a gift line is printed on the waybill: 赠品:{name}{qty}件.
func GiftText(l Line) string { return fmt.Sprintf("赠品:%s%d件", l.Name, l.Qty) }

type problems struct{ list []string }

func (p *problems) need(ok bool, msg string) {
	if !ok {
		p.list = append(p.list, msg)
	}
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &InvalidError{Problems: p.list}
}

// InvalidError lists every way a message breaks the contract.
type InvalidError struct{ Problems []string }

func (e *InvalidError) Error() string { return "invalid message: " + strings.Join(e.Problems, "; ") }
