package label

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Rendered is a waybill the platform's cloud print service already turned
// into printer commands (the contract's waybill.rendered).
type Rendered struct {
	Language string  `json:"language"` // tspl, escpos or zpl
	DPI      int     `json:"dpi"`
	WidthMM  float64 `json:"width_mm"`
	HeightMM float64 `json:"height_mm"`
	DataB64  string  `json:"data_b64"`
	SHA256   string  `json:"sha256"` // hex digest of the decoded bytes
}

// Reasons a rendered waybill is refused; each is matched with errors.Is.
var (
	ErrRenderedData     = errors.New("the platform's waybill data is damaged")
	ErrDigestMismatch   = errors.New("the platform's waybill data does not match its checksum")
	ErrLanguageMismatch = errors.New("the platform's waybill is for a different printer language")
	ErrDPIMismatch      = errors.New("the platform's waybill is for a printer of a different resolution")
	ErrSizeMismatch     = errors.New("the platform's waybill is for a different label size")
)

// SizeToleranceMM is how far a rendered label size may differ from the
// loaded labels.
const SizeToleranceMM = 1.0

// RenderedBytes checks a platform-rendered waybill against the station's
// printer and returns the bytes to send unchanged, or a refusal that says
// why in words for the person at the bench.
func RenderedBytes(r Rendered, p Profile) ([]byte, error) {
	lang := strings.ToLower(strings.TrimSpace(r.Language))
	if lang != string(p.Language) {
		return nil, fmt.Errorf("platform waybill: made for %q, this printer (%s) speaks %q: %w", r.Language, p.Model, p.Language, ErrLanguageMismatch)
	}
	if r.DPI != p.DPI {
		return nil, fmt.Errorf("platform waybill: made for %d dpi, this printer (%s) prints %d dpi: %w", r.DPI, p.Model, p.DPI, ErrDPIMismatch)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= SizeToleranceMM } // false for NaN
	if !near(r.WidthMM, p.WidthMM) || p.HeightMM != 0 && !near(r.HeightMM, p.HeightMM) {
		return nil, fmt.Errorf("platform waybill: made for %g×%g mm labels, this printer (%s) has %g×%g mm loaded: %w", r.WidthMM, r.HeightMM, p.Model, p.WidthMM, p.HeightMM, ErrSizeMismatch)
	}
	want, err := hex.DecodeString(strings.TrimSpace(r.SHA256))
	if err != nil || len(want) != sha256.Size {
		return nil, fmt.Errorf("platform waybill: checksum %.16q is not a SHA-256 hex digest: %w", r.SHA256, ErrRenderedData)
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.DataB64))
	if err != nil {
		return nil, fmt.Errorf("platform waybill: data is not base64 (%v): %w", err, ErrRenderedData)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("platform waybill: no data: %w", ErrRenderedData)
	}
	got := sha256.Sum256(data)
	if string(got[:]) != string(want) {
		return nil, fmt.Errorf("platform waybill: checksum %x, expected %x: %w", got[:6], want[:6], ErrDigestMismatch)
	}
	return data, nil
}
