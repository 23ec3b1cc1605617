package codes

import (
	"errors"
	"fmt"
)

// Errors a caller can test for with errors.Is. The wrapped errors carry the
// details in words for the person who scanned.
var (
	// ErrCheckDigit means the last digit does not match the others: a misread or
	// a mistyped number.
	ErrCheckDigit = errors.New("check digit does not match")
	// ErrNotGTIN means the code is not 8, 12, 13 or 14 digits.
	ErrNotGTIN = errors.New("not a GTIN")
	// ErrTruncated means a GS1 field ends before its length.
	ErrTruncated = errors.New("GS1 field cut short")
	// ErrUnknownAI means a GS1 application identifier is not in the table.
	ErrUnknownAI = errors.New("unknown GS1 application identifier")
	// ErrBadField means a GS1 field's value has the wrong form (letters in a
	// date, a field too long, an impossible date).
	ErrBadField = errors.New("bad GS1 field")
	// ErrEmpty means there was nothing to parse.
	ErrEmpty = errors.New("empty code")
)

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CheckDigit computes the GS1 mod-10 check digit of body (every digit but the
// last of a GTIN, SSCC or GLN). body must be all digits.
func CheckDigit(body string) byte {
	sum := 0
	// Weights 3,1,3,1… from the rightmost digit of the body.
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// ValidCheckDigit reports whether s is all digits and ends with its GS1 check
// digit.
func ValidCheckDigit(s string) bool {
	return len(s) >= 2 && allDigits(s) && CheckDigit(s[:len(s)-1]) == s[len(s)-1]
}

// NormalizeGTIN turns an EAN-8, UPC-A (12), EAN-13 or GTIN-14 into its 14-digit
// form with leading zeros, after checking its check digit. Leading-zero
// variants of one GTIN (UPC-A 036000291452, EAN-13 0036000291452, GTIN-14
// 00036000291452) all give the same result.
func NormalizeGTIN(s string) (string, error) {
	if !allDigits(s) {
		return "", fmt.Errorf("normalize GTIN %q: %w: it must be digits only", clip(s), ErrNotGTIN)
	}
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return "", fmt.Errorf("normalize GTIN %q: %w: it has %d digits, want 8, 12, 13 or 14", clip(s), ErrNotGTIN, len(s))
	}
	if !ValidCheckDigit(s) {
		return "", fmt.Errorf("normalize GTIN %s: %w (last digit should be %c): rescan or type it again",
			s, ErrCheckDigit, CheckDigit(s[:len(s)-1]))
	}
	if len(s) == 14 {
		return s, nil
	}
	const zeros = "000000"
	return zeros[:14-len(s)] + s, nil
}

// ShortGTIN returns the shortest usual form of a 14-digit GTIN: EAN-13 when the
// first digit is 0, else the GTIN-14 itself. It is how a GTIN is shown to people.
func ShortGTIN(gtin14 string) string {
	if len(gtin14) == 14 && gtin14[0] == '0' {
		return gtin14[1:]
	}
	return gtin14
}

// clip shortens what an error message quotes from outside input.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	// Do not cut a UTF-8 sequence in half.
	i := max
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}
