package codes

// SplitAIM splits an AIM symbology identifier ("]" + symbology letter +
// modifier character, e.g. "]C1", "]E0", "]d2") from the front of s. It returns
// "" and s when s does not start with one.
func SplitAIM(s string) (aim, rest string) {
	if len(s) >= 3 && s[0] == ']' && isAlpha(s[1]) && isAlnum(s[2]) {
		return s[:3], s[3:]
	}
	return "", s
}

// GS1Symbology reports whether an AIM identifier says the data is a GS1 element
// string: GS1-128 (]C1), GS1 DataMatrix (]d2), GS1 QR (]Q3), GS1 DataBar (]e0),
// GS1 DotCode (]J1) and EAN/UPC composite (]E3 is not: only the linear part).
func GS1Symbology(aim string) bool {
	switch aim {
	case "]C1", "]d2", "]Q3", "]e0", "]J1":
		return true
	}
	return false
}

// EANSymbology reports whether an AIM identifier is an EAN/UPC or ITF-14
// symbology, whose data is a GTIN with a check digit.
func EANSymbology(aim string) bool {
	switch aim {
	case "]E0", "]E4", "]I1":
		return true
	}
	return false
}

// SymbologyName names an AIM identifier for people ("GS1-128", "EAN-13"…).
func SymbologyName(aim string) string {
	switch aim {
	case "]C0":
		return "Code 128"
	case "]C1":
		return "GS1-128"
	case "]E0":
		return "EAN-13/UPC-A"
	case "]E4":
		return "EAN-8"
	case "]I0", "]I1":
		return "ITF"
	case "]A0":
		return "Code 39"
	case "]d1":
		return "Data Matrix"
	case "]d2":
		return "GS1 DataMatrix"
	case "]Q1":
		return "QR Code"
	case "]Q3":
		return "GS1 QR Code"
	case "]e0":
		return "GS1 DataBar"
	case "]L0":
		return "PDF417"
	case "":
		return "unknown"
	}
	return aim
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }
