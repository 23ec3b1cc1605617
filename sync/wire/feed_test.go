package wire

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

const validOrder = `{"seq": 7, "kind": "order.upsert", "at": "2026-01-28T09:00:47.000+08:00", "order": {"order_id": "O-1", "version": 1, "platform": "douyin", "platform_order_no": "599", "warehouse": "HZ01", "status": "released", "priority": "normal", "receiver": {"name": "𠮷田 🐼", "phone": "141****9028", "province": "香港特别行政区", "city": "香港", "district": "九龙城区", "address": "土瓜湾道1号"}, "carrier": {"code": "SF", "name": "顺丰速运"}, "waybill": {"no": "SF1"}, "lines": [{"line_id": "1", "sku": "A", "name": "米糊", "barcodes": ["6971234567888"], "qty": 3}], "paid_at": "2026-01-28T04:04:47.000+08:00", "future_field": {"x": 1}}}`

func TestDecodeFeedSampleFile(t *testing.T) {
	f, err := os.Open("testdata/feed-sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	kinds := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		m, err := DecodeFeed(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		kinds[m.Kind]++
	}
	if kinds[KindOrderUpsert] == 0 || kinds[KindHoldSet] == 0 {
		t.Fatalf("sample feed kinds = %v, want orders and holds", kinds)
	}
}

func TestDecodeFeed(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		wantErr string // substring; "" means valid
		seq     uint64
		hasSeq  bool
	}{
		{"valid order with unknown field", validOrder, "", 7, true},
		{"unknown kind is not an error", `{"seq": 3, "kind": "pallet.moved", "at": "2026-01-28T09:00:47.000+08:00"}`, "", 3, true},
		{"not json", `{"seq": 3, "kind"`, "not valid JSON", 0, false},
		{"missing seq", `{"kind": "notice", "at": "2026-01-28T09:00:47.000+08:00", "notice": {"notice_id": "N", "text": "x"}}`, "seq is missing", 0, false},
		{"seq as string", `{"seq": "3", "kind": "notice", "at": "2026-01-28T09:00:47.000+08:00"}`, "wrong type", 0, false},
		{"wrong type elsewhere keeps seq", strings.Replace(validOrder, `"version": 1`, `"version": "1"`, 1), "wrong type", 7, true},
		{"missing required order field keeps seq", strings.Replace(validOrder, `"platform_order_no": "599", `, ``, 1), "platform_order_no is missing", 7, true},
		{"empty lines", strings.Replace(validOrder, `"lines": [{"line_id": "1", "sku": "A", "name": "米糊", "barcodes": ["6971234567888"], "qty": 3}]`, `"lines": []`, 1), "at least one line", 7, true},
		{"zero qty", strings.Replace(validOrder, `"qty": 3`, `"qty": 0`, 1), "qty must be", 7, true},
		{"time without offset", strings.Replace(validOrder, `"paid_at": "2026-01-28T04:04:47.000+08:00"`, `"paid_at": "2026-01-28 04:04"`, 1), "RFC 3339", 7, true},
		{"hold without sku", `{"seq": 9, "kind": "hold.set", "at": "2026-01-28T09:00:47.000+08:00", "hold": {"hold_id": "H-1"}}`, "hold.sku is missing", 9, true},
		{"seq 0 outside snapshot", `{"seq": 0, "kind": "hold.release", "at": "2026-01-28T09:00:47.000+08:00", "hold": {"hold_id": "H-1"}}`, "seq 0", 0, true},
		{"snapshot end", `{"seq": 120, "kind": "snapshot.end", "at": "2026-01-28T09:00:47.000+08:00"}`, "", 120, true},
		{"two values", validOrder + ` {}`, "more than one", 7, true},
		{"not utf8", "{\"seq\": 4, \"kind\": \"notice\", \"at\": \"2026-01-28T09:00:47.000+08:00\", \"notice\": {\"notice_id\": \"N\", \"text\": \"\xff\xfe\"}}", "UTF-8", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeFeed([]byte(tt.payload))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if m.Seq != tt.seq {
					t.Fatalf("seq = %d, want %d", m.Seq, tt.seq)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DecodeError containing %q", err, tt.wantErr)
			}
			if !strings.Contains(de.Error(), tt.wantErr) {
				t.Fatalf("err = %q, want it to contain %q", de.Error(), tt.wantErr)
			}
			if de.HasSeq != tt.hasSeq || de.Seq != tt.seq {
				t.Fatalf("seq = %d/%v, want %d/%v", de.Seq, de.HasSeq, tt.seq, tt.hasSeq)
			}
		})
	}
}

func TestDecodeFeedTooLarge(t *testing.T) {
	big := bytes.Repeat([]byte("x"), MaxPayload)
	payload := append([]byte(`{"seq": 5, "kind": "notice", "at": "2026-01-28T09:00:47.000+08:00", "pad": "`), big...)
	payload = append(payload, `"}`...)
	_, err := DecodeFeed(payload)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestEventRoundTrip(t *testing.T) {
	e := Event{EventID: NewEventID(), Seq: 1, Agent: "HZ01-A", Warehouse: "HZ01", Type: EventWaybillPrinted,
		OrderID: "O-1", WaybillNo: "SF1", Station: OptString("PACK-03")}
	e.At.Time = mustTime(t, "2026-01-28T10:21:44.31+08:00")
	if err := e.SetData(WaybillPrintedData{Printer: "p1", JobID: "j1", Copies: 1, Confirmed: ConfirmedPrinted}); err != nil {
		t.Fatal(err)
	}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"at":"2026-01-28T10:21:44.310+08:00"`)) || !bytes.Contains(b, []byte(`"operator":null`)) {
		t.Fatalf("encoded event %s: want ms time and null operator", b)
	}
	if _, err := DecodeEvent(b); err != nil {
		t.Fatalf("own event rejected: %v", err)
	}
	bad := bytes.Replace(b, []byte(`"waybill_no":"SF1",`), nil, 1)
	if _, err := DecodeEvent(bad); err == nil || !strings.Contains(err.Error(), "waybill_no is required") {
		t.Fatalf("err = %v, want waybill_no required", err)
	}
}

func FuzzDecodeFeed(f *testing.F) {
	f.Add([]byte(validOrder))
	f.Add([]byte(`{"seq": 3, "kind": "hold.set", "at": "2026-01-28T09:00:47.000+08:00", "hold": {"hold_id": "H", "sku": "S"}}`))
	f.Add([]byte(`{"seq": 1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := DecodeFeed(payload)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		if _, err := EncodeFeed(m); err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"event_id":"0192f7a8-1c2b-7d3e-9f00-4a5b6c7d8e9f","seq":1,"agent":"A","warehouse":"W","type":"pack.rejected","at":"2026-01-28T10:21:44.310+08:00","order_id":"O","station":null,"operator":null,"data":{"reason":"wrong_item","code":"1"}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		_, _ = DecodeEvent(payload)
	})
}

func mustTime(t *testing.T, s string) (v time.Time) {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
