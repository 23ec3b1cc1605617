// Package label lays out the documents Dockhand prints — the carrier
// waybill (面单) and the 80 mm packing / pick list — once, as positions in
// printer dots, and renders that one layout to TSPL, ESC/POS, a 1-bit
// raster and a PNG preview, so every output shows the same thing.
//
// Text is laid out in the cell grid of the printers' built-in Chinese font
// (24×24 dots for a Chinese character, 12×24 for ASCII, times a whole
// multiplier), so wrapping decided here is what the printer prints. Text the
// built-in font cannot show is drawn from the system's CJK font as a bitmap
// for that run only (see README.md). It also checks platform-rendered
// waybills against the station's printer before their bytes are sent.
//
// The package has its own document types and imports nothing from the
// agent: the caller copies an order's fields into a Waybill.
package label

import (
	"errors"
	"time"
)

// Party is a receiver or sender.
type Party struct {
	Name     string
	Phone    string // printed masked (138****5678) if it is a full mobile number
	Province string
	City     string
	District string
	Address  string
	Postcode string
	Country  string // ISO code; empty means CN
}

// Item is one line of the item summary or a gift.
type Item struct {
	Name string
	Spec string
	Qty  int
}

// Waybill is everything printed on a carrier waybill label.
type Waybill struct {
	CarrierCode   string // SF, ZTO, YTO, …
	CarrierName   string // 中通快递
	Service       string // 标准快递
	SortCode      string // 三段码, printed big
	PackageCenter string // 集包地
	RouteCode     string
	No            string // the waybill (tracking) number: the barcode and QR
	Receiver      Party
	Sender        Party
	Items         []Item
	Gifts         []Item // printed as 赠品:{name}{qty}件
	Urgent        bool   // prints the 加急 mark
	Tags          []string
	Remark        string
	OrderID       string
	PrintedAt     time.Time
}

// PickLine is one line of a packing or pick list.
type PickLine struct {
	Location string // 库位, e.g. A-03-2-07
	SKU      string
	Name     string
	Spec     string
	Qty      int
	Batch    string
	Gift     bool
}

// PackingList is the 80 mm receipt that goes with a picker or into the
// parcel: lines sorted by location, gifts marked.
type PackingList struct {
	Title       string // 拣货单 or 装箱单; empty means 装箱单
	OrderID     string
	PlatformNo  string
	CarrierName string
	WaybillNo   string
	Receiver    string
	Urgent      bool
	Tags        []string
	Remark      string
	Lines       []PickLine
	PrintedAt   time.Time
}

// Errors of this package. Messages are worded for people at the bench.
var (
	// ErrNoCJKFont: raster text needs a CJK font and none was found.
	ErrNoCJKFont = errors.New("no Chinese font found for printing text as an image: install the fonts-noto-cjk package or set the font path in the printer profile")
	// ErrDoesNotFit: the text does not fit the label even at the smallest size.
	ErrDoesNotFit = errors.New("the waybill's text does not fit on this label size even in the smallest font: use a larger label")
	// ErrInvalid: the document lacks something it must have.
	ErrInvalid = errors.New("waybill is missing required information")
)
