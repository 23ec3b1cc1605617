package printapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/dockhand/dockhand/drivers/label"
)

// decodeStrict decodes a request body the way the API does.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// FuzzRawRequest: any body either decodes into a job or is refused with words
// for people; nothing panics.
func FuzzRawRequest(f *testing.F) {
	for _, s := range []string{
		`{"printer":"P1","language":"tspl","data_b64":"U0laRSA3NiBtbQ==","client_key":"erp-1"}`,
		`{"printer":"P1","language":"escpos","data_b64":"G0A="}`,
		`{"printer":"","language":"zpl","data_b64":"***"}`,
		`{"printer":"P1","language":"tspl","data_b64":"","client_key":"a b"}`,
		`{"printer":"P1","language":"tspl","data_b64":"AA==","client_key":"` + string(bytes.Repeat([]byte("k"), 200)) + `"}`,
		`[]`, `null`, `{"printer":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req RawRequest
		if decodeStrict(body, &req) != nil {
			return
		}
		data, err := ParseRaw(&req)
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.zh == "" || re.en == "" {
				t.Fatalf("refusal not worded for people: %v", err)
			}
			return
		}
		if len(data) == 0 || req.Printer == "" || (req.Language != "tspl" && req.Language != "escpos") {
			t.Fatalf("accepted a bad request: %+v", req)
		}
	})
}

// FuzzLayoutRequest: any body is refused with words for people, or gives a
// waybill that lays out for a real label size without panicking.
func FuzzLayoutRequest(f *testing.F) {
	seed, _ := json.Marshal(LayoutRequest{Printer: "P1", Waybill: sampleDoc("ZT7300001"), PrintOnce: true, ClientKey: "k1"})
	f.Add(seed)
	for _, s := range []string{
		`{"printer":"P1","waybill":{"waybill_no":"SF1","receiver":{"name":"𠮷田"},"sender":{"name":""}}}`,
		`{"printer":"P1","waybill":{"waybill_no":"SF 1"}}`,
		`{"printer":"P1","waybill":{"waybill_no":"SF1","items":[{"name":"x","qty":-1}]}}`,
		`{"printer":"P1","waybill":{"waybill_no":"SF1","remark":"\u0001"}}`,
		`{"printer":"P1","waybill":{"waybill_no":"SF1","gifts":[{"name":"围兜","qty":1}],"tags":["易碎"],"urgent":true}}`,
	} {
		f.Add([]byte(s))
	}
	prof, ok := label.ProfileFor("xprinter-xp-470b")
	if !ok {
		f.Fatal("no profile")
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req LayoutRequest
		if decodeStrict(body, &req) != nil {
			return
		}
		wb, err := ParseLayout(&req)
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.zh == "" || re.en == "" {
				t.Fatalf("refusal not worded for people: %v", err)
			}
			return
		}
		if wb.No == "" {
			t.Fatal("accepted a waybill without number")
		}
		_, _ = label.LayoutWaybill(&wb, prof) // may refuse; must not panic
	})
}
