package printapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dockhand/dockhand/agent/printing"
	"github.com/dockhand/dockhand/drivers/label"
)

// TypeJob is the websocket message type of a job's new state.
const TypeJob = "job"

// View is a print job as the API shows it.
type View struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Printer   string    `json:"printer"`
	State     string    `json:"state"`
	Detail    string    `json:"detail,omitempty"`
	Confirmed string    `json:"confirmed,omitempty"` // printed or accepted, once sent
	ClientKey string    `json:"client_key,omitempty"`
	WaybillNo string    `json:"waybill_no,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	Duplicate bool      `json:"duplicate,omitempty"` // a retried request: this is the first job
}

func viewOf(j printing.Job) View {
	_, key, _ := strings.Cut(j.ClientKey, "\x00")
	return View{ID: j.ID, Kind: j.Kind, Printer: j.Printer, State: j.State, Detail: j.Detail, Confirmed: j.Confirmed,
		ClientKey: key, WaybillNo: j.WaybillNo, Attempts: j.Attempts, Created: j.Created, Updated: j.Updated}
}

// PrinterView is a printer as the API lists it.
type PrinterView struct {
	ID       string  `json:"id"`
	Language string  `json:"language"`
	DPI      int     `json:"dpi"`
	WidthMM  float64 `json:"width_mm"`
	HeightMM float64 `json:"height_mm"`
	State    string  `json:"state"`
	Detail   string  `json:"detail,omitempty"`
}

func (a *API) printers(w http.ResponseWriter, r *http.Request) {
	out := []PrinterView{}
	for _, p := range a.opts.Queue.Printers() {
		pv := PrinterView{ID: p.ID, Language: p.Language, State: string(p.Status.State.Hub()), Detail: p.Status.Detail}
		if prof, ok := a.opts.Queue.Profile(p.ID); ok {
			pv.DPI, pv.WidthMM, pv.HeightMM = prof.DPI, prof.WidthMM, prof.HeightMM
		}
		out = append(out, pv)
	}
	writeJSON(w, http.StatusOK, map[string]any{"printers": out})
}

// RawRequest submits printer bytes as they are.
type RawRequest struct {
	Printer   string `json:"printer"`
	Language  string `json:"language"` // tspl or escpos: must be the printer's
	DataB64   string `json:"data_b64"`
	ClientKey string `json:"client_key,omitempty"`
}

// LayoutRequest submits a waybill document that the agent lays out for the
// printer's label size, resolution and language.
type LayoutRequest struct {
	Printer   string   `json:"printer"`
	Waybill   Document `json:"waybill"`
	PrintOnce bool     `json:"print_once,omitempty"` // refuse a second print of this waybill number
	ClientKey string   `json:"client_key,omitempty"`
}

// Document is a waybill label's content.
type Document struct {
	WaybillNo     string   `json:"waybill_no"`
	CarrierCode   string   `json:"carrier_code,omitempty"`
	CarrierName   string   `json:"carrier_name,omitempty"`
	Service       string   `json:"service,omitempty"`
	SortCode      string   `json:"sort_code,omitempty"`
	PackageCenter string   `json:"package_center,omitempty"`
	RouteCode     string   `json:"route_code,omitempty"`
	Receiver      Party    `json:"receiver"`
	Sender        Party    `json:"sender"`
	Items         []Item   `json:"items,omitempty"`
	Gifts         []Item   `json:"gifts,omitempty"`
	Urgent        bool     `json:"urgent,omitempty"`
	Tags          []string `json:"tags,omitempty"`
	Remark        string   `json:"remark,omitempty"`
	OrderID       string   `json:"order_id,omitempty"`
}

// Party is a receiver or sender.
type Party struct {
	Name     string `json:"name"`
	Phone    string `json:"phone,omitempty"`
	Province string `json:"province,omitempty"`
	City     string `json:"city,omitempty"`
	District string `json:"district,omitempty"`
	Address  string `json:"address,omitempty"`
	Postcode string `json:"postcode,omitempty"`
	Country  string `json:"country,omitempty"`
}

// Item is an item or gift line.
type Item struct {
	Name string `json:"name"`
	Spec string `json:"spec,omitempty"`
	Qty  int    `json:"qty"`
}

// requestError is a refusal of a malformed request, worded for people.
type requestError struct{ zh, en string }

func (e *requestError) Error() string { return e.zh + " (" + e.en + ")" }

func badRequest(zh, en string, args ...any) error {
	return &requestError{zh: zh, en: fmt.Sprintf(en, args...)}
}

const maxText = 512 // bytes in one text field of a document

// validKey is a client key: 1–128 printable ASCII characters.
func validKey(k string) bool {
	if len(k) == 0 || len(k) > 128 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// ParseRaw checks a raw job request and returns its bytes.
func ParseRaw(req *RawRequest) ([]byte, error) {
	if req.Printer == "" {
		return nil, badRequest("请指定打印机", "name the printer (printer)")
	}
	switch req.Language {
	case "tspl", "escpos":
	case "":
		return nil, badRequest("请指定指令语言 tspl 或 escpos", "name the printer language (language: tspl or escpos)")
	default:
		return nil, badRequest("指令语言只能是 tspl 或 escpos", "language %q must be tspl or escpos", req.Language)
	}
	if req.ClientKey != "" && !validKey(req.ClientKey) {
		return nil, badRequest("client_key 只能是 1-128 个可见 ASCII 字符", "client_key must be 1-128 printable ASCII characters")
	}
	data, err := base64.StdEncoding.DecodeString(req.DataB64)
	if err != nil {
		return nil, badRequest("data_b64 不是有效的 base64", "data_b64 is not valid base64: %v", err)
	}
	if len(data) == 0 {
		return nil, badRequest("打印任务是空的", "the print job is empty (data_b64)")
	}
	return data, nil
}

// ParseLayout checks a layout request and returns the waybill to lay out.
func ParseLayout(req *LayoutRequest) (label.Waybill, error) {
	if req.Printer == "" {
		return label.Waybill{}, badRequest("请指定打印机", "name the printer (printer)")
	}
	if req.ClientKey != "" && !validKey(req.ClientKey) {
		return label.Waybill{}, badRequest("client_key 只能是 1-128 个可见 ASCII 字符", "client_key must be 1-128 printable ASCII characters")
	}
	d := &req.Waybill
	if d.WaybillNo == "" || len(d.WaybillNo) > 40 || !printableASCII(d.WaybillNo) {
		return label.Waybill{}, badRequest("面单号必须是 1-40 个字母或数字", "waybill.waybill_no must be 1-40 printable ASCII characters")
	}
	if len(d.Items)+len(d.Gifts) > 100 || len(d.Tags) > 20 {
		return label.Waybill{}, badRequest("商品或标签太多", "at most 100 items and gifts and 20 tags")
	}
	texts := []string{d.CarrierCode, d.CarrierName, d.Service, d.SortCode, d.PackageCenter, d.RouteCode, d.Remark, d.OrderID}
	for _, p := range []Party{d.Receiver, d.Sender} {
		texts = append(texts, p.Name, p.Phone, p.Province, p.City, p.District, p.Address, p.Postcode, p.Country)
	}
	for _, it := range append(append([]Item(nil), d.Items...), d.Gifts...) {
		if it.Qty < 0 || it.Qty > 100000 {
			return label.Waybill{}, badRequest("商品数量无效", "item quantity %d is out of range", it.Qty)
		}
		texts = append(texts, it.Name, it.Spec)
	}
	texts = append(texts, d.Tags...)
	for _, s := range texts {
		if len(s) > maxText || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' }) {
			return label.Waybill{}, badRequest("文字太长或含有无效字符", "a text field is longer than %d bytes, not UTF-8, or holds control characters", maxText)
		}
	}
	wb := label.Waybill{CarrierCode: d.CarrierCode, CarrierName: d.CarrierName, Service: d.Service, SortCode: d.SortCode,
		PackageCenter: d.PackageCenter, RouteCode: d.RouteCode, No: d.WaybillNo, Receiver: party(d.Receiver),
		Sender: party(d.Sender), Urgent: d.Urgent, Tags: d.Tags, Remark: d.Remark, OrderID: d.OrderID}
	for _, it := range d.Items {
		wb.Items = append(wb.Items, label.Item{Name: it.Name, Spec: it.Spec, Qty: it.Qty})
	}
	for _, it := range d.Gifts {
		wb.Gifts = append(wb.Gifts, label.Item{Name: it.Name, Spec: it.Spec, Qty: it.Qty})
	}
	return wb, nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func party(p Party) label.Party {
	return label.Party{Name: p.Name, Phone: p.Phone, Province: p.Province, City: p.City, District: p.District,
		Address: p.Address, Postcode: p.Postcode, Country: p.Country}
}

func (a *API) submitRaw(w http.ResponseWriter, r *http.Request) {
	var req RawRequest
	if !decode(w, r, &req) {
		return
	}
	data, err := ParseRaw(&req)
	if err != nil {
		a.refuse(w, err)
		return
	}
	a.submit(w, r, printing.Submission{Printer: req.Printer, Kind: printing.KindRaw, Language: req.Language, Data: data},
		req.ClientKey)
}

func (a *API) submitLayout(w http.ResponseWriter, r *http.Request) {
	var req LayoutRequest
	if !decode(w, r, &req) {
		return
	}
	wb, err := ParseLayout(&req)
	if err != nil {
		a.refuse(w, err)
		return
	}
	prof, ok := a.opts.Queue.Profile(req.Printer)
	if !ok {
		a.fail(w, fmt.Errorf("%w: %s", printing.ErrUnknownPrinter, req.Printer))
		return
	}
	wb.PrintedAt = a.opts.Now()
	var buf bytes.Buffer
	if err := label.WriteWaybill(&buf, &wb, prof, a.opts.Fonts); err != nil {
		writeErr(w, http.StatusUnprocessableEntity, "cannot_render", "面单无法按这台打印机的纸张排版", "the waybill cannot be laid out for this printer: "+err.Error())
		return
	}
	a.submit(w, r, printing.Submission{Printer: req.Printer, Kind: printing.KindLayout, Data: buf.Bytes(),
		WaybillNo: wb.No, Once: req.PrintOnce}, req.ClientKey)
}

// submit queues the job for the caller; with ?wait=5s it answers once the job
// is done, held or uncertain (or the wait is over).
func (a *API) submit(w http.ResponseWriter, r *http.Request, sub printing.Submission, clientKey string) {
	c := callerOf(r)
	var wait time.Duration
	if s := r.URL.Query().Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			writeErr(w, http.StatusBadRequest, "bad_request", "wait 必须是时长,例如 5s", "wait must be a duration such as 5s")
			return
		}
		wait = min(d, a.opts.MaxWait)
	}
	sub.Operator = c.ID
	if clientKey != "" {
		// Keys are the caller's own: two ERPs may both use "order-1".
		sub.ClientKey = c.ID + "\x00" + clientKey
	}
	j, existed, err := a.opts.Queue.Submit(r.Context(), sub)
	if err != nil {
		a.fail(w, err)
		return
	}
	if wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		if got, err := a.opts.Queue.Wait(ctx, j.ID); err == nil || errors.Is(err, context.DeadlineExceeded) {
			j = got
		}
		cancel()
	}
	v := viewOf(j)
	v.Duplicate = existed
	status := http.StatusAccepted
	if existed {
		status = http.StatusOK
	}
	writeJSON(w, status, v)
}

func (a *API) refuse(w http.ResponseWriter, err error) {
	var re *requestError
	if errors.As(err, &re) {
		writeErr(w, http.StatusBadRequest, "bad_request", re.zh, re.en)
		return
	}
	a.fail(w, err)
}

// job returns one of the caller's jobs (a manager sees every job).
func (a *API) job(w http.ResponseWriter, r *http.Request) {
	j, err := a.opts.Queue.Job(r.PathValue("id"))
	c := callerOf(r)
	if err == nil && j.Operator != c.ID && !(c.session() && c.Role == "manager") {
		writeErr(w, http.StatusNotFound, "not_found", "没有这个打印任务", "no such print job")
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOf(j))
}

var errBadDecision = errors.New("决定只能是 resend、printed 或 cancel (decision must be resend, printed or cancel)")

type resolveReq struct {
	Decision string `json:"decision"`
}

// resolve records a manager's decision on an uncertain or held job.
func (a *API) resolve(w http.ResponseWriter, r *http.Request) {
	var req resolveReq
	if !decode(w, r, &req) {
		return
	}
	switch req.Decision {
	case "resend", "printed", "cancel":
	default:
		a.fail(w, errBadDecision)
		return
	}
	j, err := a.opts.Queue.Resolve(r.Context(), r.PathValue("id"), req.Decision, callerOf(r).Operator)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOf(j))
}
