package codes

import (
	"fmt"
	"strings"
	"unicode"
)

// Kind says what sort of code was scanned.
type Kind int

// Kinds of code.
const (
	// KindText is anything that is not a GTIN or GS1 string: a waybill
	// number, an order id, a location label, a cage id, a shop's own code.
	KindText Kind = iota
	// KindGTIN is a bare EAN-8, UPC-A, EAN-13 or GTIN-14 with a valid check digit.
	KindGTIN
	// KindGS1 is a GS1 element string (GS1-128, GS1 DataMatrix, GS1 QR…).
	KindGS1
)

func (k Kind) String() string {
	switch k {
	case KindGTIN:
		return "gtin"
	case KindGS1:
		return "gs1"
	}
	return "text"
}

// Code is one scanned code, understood.
type Code struct {
	Raw       string // as given
	Symbology string // the AIM identifier, from the scanner or the front of the code
	Data      string // the code without AIM identifier and surrounding blanks
	Kind      Kind
	GTIN      string // 14 digits, for KindGTIN and for KindGS1 with AI 01
	GS1       *GS1   // the fields, for KindGS1
}

// Batch returns the batch (AI 10) a GS1 code carries, or "".
func (c Code) Batch() string {
	if c.GS1 == nil {
		return ""
	}
	return c.GS1.Batch
}

// Key is what two codes for the same thing share: the 14-digit GTIN when the
// code has one, the human-readable form of a GS1 string without a GTIN (an
// SSCC, say), else the data itself.
func (c Code) Key() string {
	switch {
	case c.GTIN != "":
		return c.GTIN
	case c.GS1 != nil:
		return c.GS1.String()
	}
	return c.Data
}

// Parse understands a scanned code. symbology is the AIM identifier the scanner
// reported ("]C1", "]E0"…), or "" when it reported none; then an identifier at
// the front of code is used and stripped.
//
// Parse always returns a usable Code: when the code looks like a GTIN or a GS1
// string but is broken (bad check digit, cut short, unknown AI), the Code is of
// KindText with Data set, so it can still be looked up as a waybill or order
// number, and the error says what is wrong in words for the operator. Codes
// that are plainly text return no error.
func Parse(code, symbology string) (Code, error) {
	c := Code{Raw: code, Symbology: symbology}
	data := strings.TrimSpace(code)
	if aim, rest := SplitAIM(data); aim != "" {
		if c.Symbology == "" {
			c.Symbology = aim
		}
		if aim == c.Symbology {
			data = rest
		}
	}
	c.Data = strings.TrimFunc(data, func(r rune) bool { return r == GS || unicode.IsSpace(r) })
	if c.Data == "" {
		return c, fmt.Errorf("parse code: %w", ErrEmpty)
	}
	looksHRI := c.Data[0] == '(' && nextHRIField(c.Data) == 0
	switch {
	case GS1Symbology(c.Symbology) || strings.HasPrefix(data, string(GS)) || looksHRI:
		g, err := ParseGS1(c.Data)
		if err != nil {
			return c, fmt.Errorf("%s %s: %w", SymbologyName(c.Symbology), clip(c.Data), err)
		}
		c.Kind, c.GS1, c.GTIN = KindGS1, &g, g.GTIN
		return c, nil
	case allDigits(c.Data) && (len(c.Data) == 8 || len(c.Data) == 12 || len(c.Data) == 13 || len(c.Data) == 14):
		g, err := NormalizeGTIN(c.Data)
		if err != nil {
			return c, err
		}
		c.Kind, c.GTIN = KindGTIN, g
		return c, nil
	case EANSymbology(c.Symbology):
		return c, fmt.Errorf("%s %s: %w: it has %d characters", SymbologyName(c.Symbology), clip(c.Data), ErrNotGTIN, len(c.Data))
	case c.Symbology == "" && len(c.Data) > 16 && strings.HasPrefix(c.Data, "01") && plainGS1Chars(c.Data) && ValidCheckDigit(c.Data[2:16]):
		// A GS1 string from a scanner that sends no AIM identifier.
		if g, err := ParseGS1(c.Data); err == nil {
			c.Kind, c.GS1, c.GTIN = KindGS1, &g, g.GTIN
		}
		return c, nil
	}
	return c, nil
}

func plainGS1Chars(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != GS && !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// Normalize returns the matching key of a code as an order line lists it (an
// EAN-13, UPC-A, EAN-8 or GTIN-14 becomes its 14-digit GTIN; a GS1 string its
// AI 01 GTIN; anything else stays as it is, trimmed). It errors only on a GTIN
// or GS1 code that is broken.
func Normalize(code string) (string, error) {
	c, err := Parse(code, "")
	if err != nil {
		return "", err
	}
	return c.Key(), nil
}
