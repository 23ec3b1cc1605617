package printing

import (
	"bytes"
	"fmt"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/sync/wire"
)

// LabelRenderer renders waybills with the agent's own layout (drivers/label), or
// passes a platform-rendered waybill through after checking it fits the printer.
type LabelRenderer struct {
	Fonts *label.Fonts
	Now   func() time.Time
}

// RenderWaybill implements Renderer.
func (r LabelRenderer) RenderWaybill(rec *store.OrderRecord, p Profile) ([]byte, error) {
	o := &rec.Order
	if o.Waybill != nil && o.Waybill.Rendered != nil {
		rd := o.Waybill.Rendered
		b, err := label.RenderedBytes(label.Rendered{Language: rd.Language, DPI: rd.DPI, WidthMM: float64(rd.WidthMM),
			HeightMM: float64(rd.HeightMM), DataB64: rd.DataB64, SHA256: rd.SHA256}, p)
		if err != nil {
			return nil, fmt.Errorf("platform waybill of %s: %w", o.OrderID, err)
		}
		return b, nil
	}
	var buf bytes.Buffer
	wb := r.Waybill(rec)
	if err := label.WriteWaybill(&buf, &wb, p, r.Fonts); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Preview renders the waybill as a PNG, as it will look on the label.
func (r LabelRenderer) Preview(rec *store.OrderRecord, p Profile) ([]byte, error) {
	wb := r.Waybill(rec)
	l, err := label.LayoutWaybill(&wb, p)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := label.Preview(&buf, l, r.Fonts); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Waybill maps a stored order onto what the label prints.
func (r LabelRenderer) Waybill(rec *store.OrderRecord) label.Waybill {
	o := &rec.Order
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	wb := label.Waybill{OrderID: o.OrderID, Remark: o.Remark, Tags: o.Tags, Urgent: rec.Urgent, PrintedAt: now()}
	if o.Carrier != nil {
		wb.CarrierCode, wb.CarrierName, wb.Service = o.Carrier.Code, o.Carrier.Name, o.Carrier.Service
	}
	if w := o.Waybill; w != nil {
		wb.No, wb.SortCode, wb.PackageCenter, wb.RouteCode = w.No, w.SortCode, w.PackageCenter, w.RouteCode
	}
	wb.Receiver = party(o.Receiver)
	wb.Sender = party(o.Sender)
	for _, l := range o.Lines {
		it := label.Item{Name: l.Name, Spec: l.Spec, Qty: l.Qty}
		if l.Gift {
			wb.Gifts = append(wb.Gifts, it)
		} else {
			wb.Items = append(wb.Items, it)
		}
	}
	return wb
}

func party(p *wire.Party) label.Party {
	if p == nil {
		return label.Party{}
	}
	return label.Party{Name: p.Name, Phone: p.Phone, Province: p.Province, City: p.City, District: p.District,
		Address: p.Address, Postcode: p.Postcode, Country: p.Country}
}
