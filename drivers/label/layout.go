package label

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"
)

// The built-in Chinese font's cell: a Chinese character is 2 cells wide,
// an ASCII character 1; both scale by a whole multiplier.
const (
	CellW = 12 // dots per half-width cell at multiplier 1
	CellH = 24 // dots per line at multiplier 1
	// MaxMul is the largest text multiplier every output supports
	// (ESC/POS GS ! allows 8).
	MaxMul = 8
)

// Kind is what an Element draws.
type Kind uint8

// Element kinds.
const (
	KindText    Kind = iota + 1 // one line of text in the cell grid
	KindBarcode                 // Code 128 with its human-readable line below
	KindQR                      // QR code, error level M
	KindBar                     // filled rectangle (rules)
	KindBox                     // rectangle outline
)

// Element is one positioned thing on a layout; all measures are dots from
// the label's top-left corner.
type Element struct {
	Kind   Kind
	X, Y   int
	W, H   int    // bounding box (text: cells×12×Mul by 24×Mul; barcode: bars plus readable line)
	Mul    int    // text multiplier
	Text   string // text, or the barcode / QR data
	Module int    // barcode narrow bar or QR cell, dots
	BarH   int    // barcode bar height, dots (without the readable line)
	Thick  int    // box line thickness
	// Reverse prints text white on black.
	Reverse bool
}

// Layout is a document placed on a label, computed once and rendered to
// every output.
type Layout struct {
	Profile  Profile
	Width    int // dots
	Height   int // dots: the label height, or the content height on a roll
	Elements []Element
}

// HRIHeight is the space below a barcode's bars for its readable line.
const HRIHeight = 28

// runeCells is the width of r in half-width cells.
func runeCells(r rune) int {
	if r < 0x80 {
		return 1
	}
	return 2
}

// Cells returns the width of s in half-width cells.
func Cells(s string) int {
	n := 0
	for _, r := range s {
		n += runeCells(r)
	}
	return n
}

// clean makes text printable in one line: control characters become
// spaces, zero-width joiners and variation selectors go, runs of spaces
// shrink to one.
func clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError, r == 0x200B, r == 0x200C, r == 0x200D, r == 0xFEFF, r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF:
			continue
		case unicode.IsControl(r) || unicode.IsSpace(r):
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ")
}

// wrap cuts s into lines of at most max cells. ASCII words stay whole
// when they fit a line; Chinese breaks between any two characters.
func wrap(s string, max int) []string {
	s = clean(s)
	if s == "" {
		return nil
	}
	if max < 2 {
		max = 2
	}
	var lines []string
	var line strings.Builder
	lineCells := 0
	flush := func() {
		lines = append(lines, strings.TrimRight(line.String(), " "))
		line.Reset()
		lineCells = 0
	}
	for len(s) > 0 {
		// next token: an ASCII word (with its trailing space) or one rune
		var tok string
		if s[0] < 0x80 && s[0] != ' ' {
			i := 0
			for i < len(s) && s[i] < 0x80 && s[i] != ' ' {
				i++
			}
			tok = s[:i]
		} else {
			r, n := utf8.DecodeRuneInString(s)
			if r == '×' { // keep "×2" together
				for n < len(s) && s[n] >= '0' && s[n] <= '9' {
					n++
				}
			}
			tok = s[:n]
		}
		s = s[len(tok):]
		c := Cells(tok)
		if tok == " " && lineCells == 0 {
			continue
		}
		if lineCells+c > max && lineCells > 0 {
			flush()
			if tok == " " {
				continue
			}
		}
		for c > max { // a word longer than a line: split it
			cut := cutCells(tok, max-lineCells)
			line.WriteString(tok[:cut])
			tok = tok[cut:]
			flush()
			c = Cells(tok)
		}
		line.WriteString(tok)
		lineCells += c
	}
	if lineCells > 0 {
		flush()
	}
	return lines
}

// cutCells returns the byte length of the longest prefix of s that is at
// most n cells (at least one rune).
func cutCells(s string, n int) int {
	c := 0
	for i, r := range s {
		c += runeCells(r)
		if c > n {
			if i == 0 {
				return len(string(r))
			}
			return i
		}
	}
	return len(s)
}

// barcodeSafe reports whether s can be a Code 128 on every output:
// printable ASCII, 1–64 characters.
func barcodeSafe(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			return false
		}
	}
	return true
}

// maskPhone masks a full 11-digit mainland mobile number as 138****5678;
// anything else (already masked, landlines) is printed as given.
func maskPhone(p string) string {
	p = strings.TrimSpace(p)
	d := strings.TrimPrefix(strings.TrimPrefix(p, "+86"), "86-")
	d = strings.ReplaceAll(d, " ", "")
	if len(d) == 11 && d[0] == '1' && strings.Trim(d, "0123456789") == "" {
		return d[:3] + "****" + d[7:]
	}
	return p
}

// code128Modules is the width in modules of the Code 128 symbol for data.
func code128Modules(data string) (int, error) {
	bc, err := code128.Encode(data)
	if err != nil {
		return 0, fmt.Errorf("code 128 of %q: %w", data, err)
	}
	return bc.Bounds().Dx(), nil
}

// qrModules is the width in modules of the QR code (level M) for data.
//
// The size depends only on the encoder's mode (numeric, alphanumeric or bytes,
// chosen from the characters as the encoder's automatic mode does) and the
// length, so it is computed once per mode and length from a stand-in of the
// same class: encoding the real data, mask selection included, was a tenth of
// the CPU of a busy packing day, for a number the layout only sizes by.
func qrModules(data string) (int, error) {
	k := qrKey{mode: qrMode(data), n: len(data)}
	if v, ok := qrSizes.Load(k); ok {
		return v.(int), nil
	}
	stand := strings.Repeat(string(k.mode), k.n)
	q, err := qr.Encode(stand, qr.M, qr.Auto)
	if err != nil {
		return 0, fmt.Errorf("QR code of %q: %w", data, err)
	}
	qrSizes.Store(k, q.Bounds().Dx())
	return q.Bounds().Dx(), nil
}

type qrKey struct {
	mode byte // the stand-in character: '0' numeric, 'A' alphanumeric, 'a' bytes
	n    int
}

var qrSizes sync.Map // qrKey → modules

func qrMode(s string) byte {
	mode := byte('0')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'A' && c <= 'Z', strings.IndexByte(" $%*+-./:", c) >= 0:
			mode = 'A'
		default:
			return 'a'
		}
	}
	return mode
}

// flow stacks elements down the label between two margins.
type flow struct {
	l           *Layout
	left, right int
	y           int
	gap         int // space between lines
}

func (f *flow) width() int { return f.right - f.left }

// lines adds s wrapped at mul, aligned 0 left, 1 centre, 2 right.
func (f *flow) lines(s string, mul, align int) {
	max := f.width() / (CellW * mul)
	for _, ln := range wrap(s, max) {
		f.line(ln, mul, align)
	}
}

// line adds one line that must already fit.
func (f *flow) line(s string, mul, align int) { f.lineStyle(s, mul, align, false) }

// lineStyle is line, optionally white on black.
func (f *flow) lineStyle(s string, mul, align int, reverse bool) {
	w := Cells(s) * CellW * mul
	x := f.left
	switch align {
	case 1:
		x = f.left + (f.width()-w)/2
	case 2:
		x = f.right - w
	}
	f.l.Elements = append(f.l.Elements, Element{Kind: KindText, X: x, Y: f.y, W: w, H: CellH * mul, Mul: mul, Text: s, Reverse: reverse})
	f.y += CellH*mul + f.gap
}

// rule adds a full-width line.
func (f *flow) rule(thick int) {
	f.y += f.gap
	f.l.Elements = append(f.l.Elements, Element{Kind: KindBar, X: f.left, Y: f.y, W: f.width(), H: thick})
	f.y += thick + f.gap*2
}

// barcode adds a centred Code 128 with its readable line.
func (f *flow) barcode(data string, barH, maxModule int) error {
	mods, err := code128Modules(data)
	if err != nil {
		return err
	}
	return f.barcodeModules(data, mods, barH, maxModule)
}

// barcodeModules is barcode with the symbol's width in modules known.
func (f *flow) barcodeModules(data string, mods, barH, maxModule int) error {
	m := maxModule
	for m > 1 && (mods+20)*m > f.width() {
		m--
	}
	if mods*m > f.width() {
		return fmt.Errorf("barcode %q is too long for a %d-dot label: %w", data, f.width(), ErrDoesNotFit)
	}
	w := mods * m
	f.l.Elements = append(f.l.Elements, Element{Kind: KindBarcode, X: f.left + (f.width()-w)/2, Y: f.y, W: w, H: barH + HRIHeight, Text: data, Module: m, BarH: barH})
	f.y += barH + HRIHeight + f.gap
	return nil
}

// fitMul is the largest multiplier ≤ max at which s fits one line.
func fitMul(s string, width, max int) int {
	c := Cells(clean(s))
	m := max
	for m > 1 && c*CellW*m > width {
		m--
	}
	return m
}

// style is a set of text multipliers, from roomy to tight.
type style struct {
	head, sort, recv, addr, body, small int
	barH                                float64 // mm
}

func styles(dpi int) []style {
	if dpi >= 300 {
		return []style{
			{3, 6, 3, 2, 2, 2, 14}, {3, 6, 2, 2, 2, 2, 13}, {2, 5, 2, 2, 2, 1, 13}, {2, 5, 2, 2, 1, 1, 12},
			{2, 4, 2, 1, 1, 1, 11}, {2, 3, 1, 1, 1, 1, 10}, {1, 3, 1, 1, 1, 1, 9}, {1, 2, 1, 1, 1, 1, 8},
		}
	}
	return []style{
		{2, 4, 2, 2, 1, 1, 14}, {2, 4, 2, 2, 1, 1, 11}, {2, 4, 2, 1, 1, 1, 11},
		{2, 3, 1, 1, 1, 1, 10}, {1, 3, 1, 1, 1, 1, 9}, {1, 2, 1, 1, 1, 1, 8},
	}
}

func newLayout(p Profile) (*Layout, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	l := &Layout{Profile: p, Width: p.Dots(p.WidthMM), Height: p.Dots(p.HeightMM)}
	// Multiples of 8 dots: whole raster bytes.
	l.Width -= l.Width % 8
	return l, nil
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func partyLine(tag string, pt Party) string {
	return joinNonEmpty(" ", tag, pt.Name, maskPhone(pt.Phone))
}

func partyAddress(pt Party) string {
	addr := joinNonEmpty("", pt.Province, pt.City, pt.District)
	if addr != "" && pt.Address != "" {
		if pt.Address[0] < 0x80 {
			addr += " "
		}
	}
	addr += strings.TrimSpace(pt.Address)
	if pt.Postcode != "" {
		addr += " " + pt.Postcode
	}
	return addr
}

// ItemText is how an item reads in the summary.
func ItemText(it Item) string {
	return joinNonEmpty(" ", it.Name, it.Spec) + " ×" + strconv.Itoa(it.Qty)
}

// GiftText is the waybill's gift line: 赠品:{name}{qty}件.
func GiftText(g Item) string {
	return "赠品:" + clean(g.Name) + strconv.Itoa(g.Qty) + "件"
}

// UrgentMark is the text of the urgent mark, printed white on black.
const UrgentMark = " 加急 "

// LayoutWaybill places w on the profile's label. Text shrinks (and wraps
// onto more lines) until everything fits; addresses and gift lines are
// never cut. As a last resort the item summary is shortened to
// "…另有N项商品". If even that does not fit it fails with ErrDoesNotFit.
func LayoutWaybill(w *Waybill, p Profile) (*Layout, error) {
	if strings.TrimSpace(w.No) == "" {
		return nil, fmt.Errorf("layout waybill: no waybill number: %w", ErrInvalid)
	}
	if !barcodeSafe(w.No) {
		return nil, fmt.Errorf("layout waybill: waybill number %q must be 1–64 letters, digits or ASCII symbols to print as a barcode: %w", w.No, ErrInvalid)
	}
	if strings.TrimSpace(w.Receiver.Name) == "" || partyAddress(w.Receiver) == "" {
		return nil, fmt.Errorf("layout waybill %s: no receiver name or address: %w", w.No, ErrInvalid)
	}
	// The codes' sizes do not depend on the style: compute them once.
	var c codes
	var err error
	if c.bar, err = code128Modules(w.No); err != nil {
		return nil, fmt.Errorf("layout waybill: %w", err)
	}
	if c.qr, err = qrModules(w.No); err != nil {
		return nil, fmt.Errorf("layout waybill: %w", err)
	}
	var last error
	sts := styles(p.DPI)
	for i, st := range sts {
		items := len(w.Items)
		for {
			l, err := layoutWaybill(w, p, st, items, c)
			if err != nil {
				return nil, err
			}
			if p.HeightMM == 0 || l.used <= l.Height {
				if p.HeightMM == 0 {
					l.Height = l.used
				}
				return l.Layout, nil
			}
			last = fmt.Errorf("layout waybill %s: needs %d dots of %d: %w", w.No, l.used, l.Height, ErrDoesNotFit)
			// Only the tightest style may shorten the item summary.
			if i < len(sts)-1 || items == 0 {
				break
			}
			items--
		}
	}
	return nil, last
}

type codes struct{ bar, qr int } // widths in modules

type built struct {
	*Layout
	used int
}

func layoutWaybill(w *Waybill, p Profile, st style, items int, c codes) (*built, error) {
	l, err := newLayout(p)
	if err != nil {
		return nil, err
	}
	margin := p.Dots(2)
	gap := p.Dots(0.5)
	thick := max(2, p.Dots(0.3))
	f := &flow{l: l, left: margin, right: l.Width - margin, y: margin, gap: gap}

	// Header: carrier and the urgent mark on one line when they fit.
	carrier := joinNonEmpty(" ", w.CarrierName, w.Service)
	if carrier == "" {
		carrier = w.CarrierCode
	}
	hm := st.head
	if w.Urgent && Cells(carrier)+Cells(UrgentMark)+2 <= f.width()/(CellW*hm) {
		y := f.y
		f.lineStyle(UrgentMark, hm, 2, true)
		f.y = y
		f.line(carrier, hm, 0)
	} else {
		if w.Urgent {
			f.lineStyle(UrgentMark, fitMul(UrgentMark, f.width(), hm), 2, true)
		}
		f.lines(carrier, hm, 0)
	}
	f.rule(thick)
	// Sort code, as big as fits.
	if sc := clean(w.SortCode); sc != "" {
		m := fitMul(sc, f.width(), st.sort)
		f.lines(sc, m, 1)
	}
	if pc := joinNonEmpty(" ", w.PackageCenter, w.RouteCode); pc != "" {
		f.lines("集包地:"+pc, st.body, 0)
	}
	f.rule(thick)
	maxModule := 3
	if p.DPI >= 300 {
		maxModule = 4
	}
	if err := f.barcodeModules(w.No, c.bar, p.Dots(st.barH), maxModule); err != nil {
		return nil, err
	}
	f.rule(thick)
	f.lines(partyLine("收", w.Receiver), st.recv, 0)
	f.lines(partyAddress(w.Receiver), st.addr, 0)
	f.rule(thick)
	if w.Sender.Name != "" || partyAddress(w.Sender) != "" {
		f.lines(joinNonEmpty(" ", partyLine("寄", w.Sender), partyAddress(w.Sender)), st.small, 0)
		f.rule(thick)
	}
	for i, it := range w.Items {
		if i == items {
			f.lines(fmt.Sprintf("…另有%d项商品", len(w.Items)-items), st.body, 0)
			break
		}
		f.lines(ItemText(it), st.body, 0)
	}
	for _, g := range w.Gifts {
		f.lines(GiftText(g), st.body, 0)
	}
	if len(w.Tags) > 0 {
		var b strings.Builder
		for _, t := range w.Tags {
			if t = clean(t); t != "" {
				b.WriteString("【" + t + "】")
			}
		}
		f.lines(b.String(), st.body, 0)
	}
	if r := clean(w.Remark); r != "" {
		f.lines("备注:"+r, st.body, 0)
	}

	// Footer: order id and print time on the left, QR of the waybill
	// number on the right, at the bottom of the label.
	mods := c.qr
	cell := max(1, p.Dots(16)/mods)
	qrW := mods * cell
	var foot []string
	if w.OrderID != "" {
		foot = append(foot, "订单 "+w.OrderID)
	}
	if !w.PrintedAt.IsZero() {
		foot = append(foot, "打印 "+w.PrintedAt.Format("2006-01-02 15:04"))
	}
	textW := f.width() - qrW - margin
	var footLines []string
	for _, s := range foot {
		footLines = append(footLines, wrap(s, textW/(CellW*st.small))...)
	}
	textH := len(footLines) * (CellH*st.small + gap)
	footH := max(qrW, textH)
	y := f.y
	if l.Height > 0 {
		y = max(y, l.Height-margin-footH)
	}
	l.Elements = append(l.Elements, Element{Kind: KindQR, X: f.right - qrW, Y: y, W: qrW, H: qrW, Text: w.No, Module: cell})
	f.y = y + (footH-textH)/2
	r := f.right
	f.right = f.left + textW
	for _, s := range footLines {
		f.line(s, st.small, 0)
	}
	f.right = r
	return &built{Layout: l, used: y + footH + margin}, nil
}

// LayoutPackingList places a packing / pick list on a receipt roll (or a
// label, if it fits): header, lines sorted by location with gifts marked,
// totals and a barcode of the waybill number (or the order id).
func LayoutPackingList(pl *PackingList, p Profile) (*Layout, error) {
	if len(pl.Lines) == 0 {
		return nil, fmt.Errorf("layout packing list %s: no lines: %w", pl.OrderID, ErrInvalid)
	}
	l, err := newLayout(p)
	if err != nil {
		return nil, err
	}
	margin := p.Dots(1)
	gap := p.Dots(0.75)
	thick := max(2, p.Dots(0.3))
	big, body := 2, 1
	if p.DPI >= 300 {
		big, body = 3, 2
	}
	f := &flow{l: l, left: margin, right: l.Width - margin, y: margin, gap: gap}
	title := pl.Title
	if title == "" {
		title = "装箱单"
	}
	f.lines(title, big, 1)
	if pl.Urgent {
		f.lineStyle(UrgentMark, big, 1, true)
	}
	f.lines("订单: "+pl.OrderID, body, 0)
	if pl.PlatformNo != "" {
		f.lines("平台单号: "+pl.PlatformNo, body, 0)
	}
	if pl.CarrierName != "" || pl.WaybillNo != "" {
		f.lines(joinNonEmpty(" ", "快递:", pl.CarrierName, pl.WaybillNo), body, 0)
	}
	if pl.Receiver != "" {
		f.lines("收件人: "+pl.Receiver, body, 0)
	}
	f.rule(thick)
	lines := append([]PickLine(nil), pl.Lines...)
	sortByLocation(lines)
	units := 0
	for _, ln := range lines {
		units += ln.Qty
		name := joinNonEmpty(" ", ln.Name, ln.Spec)
		if ln.Gift {
			name = "赠品:" + name
		}
		loc := ln.Location
		if loc == "" {
			loc = "-"
		}
		f.lines("["+loc+"] "+name, body, 0)
		f.lines(joinNonEmpty("  ", "  SKU "+ln.SKU, batchText(ln.Batch), "×"+strconv.Itoa(ln.Qty)), body, 0)
	}
	f.rule(thick)
	f.lines(fmt.Sprintf("共 %d 种 %d 件", len(lines), units), body, 0)
	if len(pl.Tags) > 0 {
		var b strings.Builder
		for _, t := range pl.Tags {
			if t = clean(t); t != "" {
				b.WriteString("【" + t + "】")
			}
		}
		f.lines(b.String(), body, 0)
	}
	if r := clean(pl.Remark); r != "" {
		f.lines("备注: "+r, body, 0)
	}
	code := pl.WaybillNo
	if code == "" {
		code = pl.OrderID
	}
	if barcodeSafe(code) {
		f.y += gap
		if err := f.barcode(code, p.Dots(10), 2); err != nil {
			return nil, err
		}
	}
	if !pl.PrintedAt.IsZero() {
		f.lines("打印 "+pl.PrintedAt.Format("2006-01-02 15:04"), body, 0)
	}
	used := f.y + margin
	if l.Height == 0 {
		l.Height = used
	} else if used > l.Height {
		return nil, fmt.Errorf("layout packing list %s: needs %d dots of %d: %w", pl.OrderID, used, l.Height, ErrDoesNotFit)
	}
	return l, nil
}

func batchText(b string) string {
	if b == "" {
		return ""
	}
	return "批次 " + b
}

// sortByLocation orders pick lines by location (empty last), keeping the
// order of equal locations.
func sortByLocation(lines []PickLine) {
	for i := 1; i < len(lines); i++ {
		for j := i; j > 0 && locLess(lines[j], lines[j-1]); j-- {
			lines[j], lines[j-1] = lines[j-1], lines[j]
		}
	}
}

func locLess(a, b PickLine) bool {
	if (a.Location == "") != (b.Location == "") {
		return b.Location == ""
	}
	return a.Location < b.Location
}
