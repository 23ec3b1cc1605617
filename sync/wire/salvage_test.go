package wire

import (
	"strings"
	"testing"
)

func TestSalvageSeq(t *testing.T) {
	big := `{"seq": 12, "kind": "notice", "at": "2026-01-28T09:00:47.000+08:00", "notice": {"notice_id": "N", "text": "` +
		strings.Repeat("长", MaxPayload/3+10) + `"}}`
	tests := []struct {
		name    string
		payload string
		seq     uint64
		ok      bool
	}{
		{"oversized object", big, 12, true},
		{"not utf8", "{\"seq\": 4, \"kind\": \"notice\", \"text\": \"\xff\xfe\"}", 4, true},
		{"broken json", `{"seq": 4, "kind"`, 0, false},
		{"seq as string", `{"seq": "4"}`, 0, false},
		{"negative seq", `{"seq": -4}`, 0, false},
		{"array", `[1,2]`, 0, false},
		{"empty", ``, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq, ok := SalvageSeq([]byte(tt.payload))
			if seq != tt.seq || ok != tt.ok {
				t.Fatalf("SalvageSeq = %d, %v; want %d, %v", seq, ok, tt.seq, tt.ok)
			}
		})
	}
}

func FuzzSalvageSeq(f *testing.F) {
	f.Add([]byte(`{"seq": 4, "kind": "x"}`))
	f.Add([]byte("{\"seq\": 4, \"t\": \"\xff\"}"))
	f.Add([]byte(`{"seq": 1e3}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		seq, ok := SalvageSeq(p)
		if !ok && seq != 0 {
			t.Fatalf("seq %d without ok", seq)
		}
	})
}
