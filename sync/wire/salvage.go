package wire

import (
	"bytes"
	"encoding/json"
)

// SalvageSeq reads the seq of a payload that DecodeFeed refused without a
// readable seq because it is over MaxPayload or not valid UTF-8: if the payload
// is still a JSON object with an integer seq (invalid UTF-8 bytes read as
// U+FFFD), that seq is returned so the feed can consume it instead of stalling
// on a message that every replay would bring back. Broken JSON has no seq.
func SalvageSeq(payload []byte) (uint64, bool) {
	if len(payload) == 0 || len(payload) > 16*MaxPayload {
		return 0, false
	}
	p := bytes.ToValidUTF8(payload, []byte("\uFFFD"))
	var probe struct {
		Seq json.RawMessage `json:"seq"`
	}
	dec := json.NewDecoder(bytes.NewReader(p))
	if dec.Decode(&probe) != nil || len(probe.Seq) == 0 {
		return 0, false
	}
	var n uint64
	if json.Unmarshal(probe.Seq, &n) != nil {
		return 0, false
	}
	return n, true
}
