package codes

import (
	"fmt"
	"strings"
	"time"
)

// GS is the group separator (ASCII 29) that stands for FNC1 between GS1 fields
// once a scanner has decoded the symbol.
const GS = '\x1d'

// aiSpec describes one GS1 application identifier (or a family of 4-digit AIs
// whose last digit is a decimal point position, written with a trailing "n").
type aiSpec struct {
	ai      string // "01", "10", "310n"…
	fixed   int    // data length when fixed; 0 when variable
	min     int    // minimum data length of a variable field
	max     int    // maximum data length of a variable field
	numeric bool   // digits only
	check   bool   // last digit is a GS1 check digit
	date    bool   // YYMMDD, day 00 allowed (end of month)
	title   string // the GS1 data title
}

// aiTable holds the AIs seen on goods, cases and pallets in a warehouse. AIs
// not listed here are refused with ErrUnknownAI, since their length cannot be
// known and the rest of the code would be misread.
var aiTable = func() map[string]aiSpec {
	fixed := func(ai string, n int, title string) aiSpec {
		return aiSpec{ai: ai, fixed: n, numeric: true, title: title}
	}
	chk := func(ai string, n int, title string) aiSpec {
		return aiSpec{ai: ai, fixed: n, numeric: true, check: true, title: title}
	}
	date := func(ai, title string) aiSpec {
		return aiSpec{ai: ai, fixed: 6, numeric: true, date: true, title: title}
	}
	vx := func(ai string, min, max int, title string) aiSpec {
		return aiSpec{ai: ai, min: min, max: max, title: title}
	}
	vn := func(ai string, min, max int, title string) aiSpec {
		return aiSpec{ai: ai, min: min, max: max, numeric: true, title: title}
	}
	list := []aiSpec{
		chk("00", 18, "SSCC"),
		chk("01", 14, "GTIN"),
		chk("02", 14, "CONTENT"),
		chk("03", 14, "MTO GTIN"),
		vx("10", 1, 20, "BATCH/LOT"),
		date("11", "PROD DATE"),
		date("12", "DUE DATE"),
		date("13", "PACK DATE"),
		date("15", "BEST BEFORE or BEST BY"),
		date("16", "SELL BY"),
		date("17", "USE BY OR EXPIRY"),
		fixed("20", 2, "VARIANT"),
		vx("21", 1, 20, "SERIAL"),
		vx("22", 1, 20, "CPV"),
		vx("235", 1, 28, "TPX"),
		vx("240", 1, 30, "ADDITIONAL ID"),
		vx("241", 1, 30, "CUST. PART No."),
		vn("242", 1, 6, "MTO VARIANT"),
		vx("243", 1, 20, "PCN"),
		vx("250", 1, 30, "SECONDARY SERIAL"),
		vx("251", 1, 30, "REF. TO SOURCE"),
		vx("253", 13, 30, "GDTI"),
		vx("254", 1, 20, "GLN EXTENSION COMPONENT"),
		vx("255", 13, 25, "GCN"),
		vn("30", 1, 8, "VAR. COUNT"),
		vn("37", 1, 8, "COUNT"),
		vn("390n", 1, 15, "AMOUNT"),
		vn("391n", 4, 18, "AMOUNT"),
		vn("392n", 1, 15, "PRICE"),
		vn("393n", 4, 18, "PRICE"),
		fixed("394n", 4, "PRCNT OFF"),
		fixed("395n", 6, "PRICE/UoM"),
		vx("400", 1, 30, "ORDER NUMBER"),
		vx("401", 1, 30, "GINC"),
		chk("402", 17, "GSIN"),
		vx("403", 1, 30, "ROUTE"),
		chk("410", 13, "SHIP TO LOC"),
		chk("411", 13, "BILL TO"),
		chk("412", 13, "PURCHASE FROM"),
		chk("413", 13, "SHIP FOR LOC"),
		chk("414", 13, "LOC No."),
		chk("415", 13, "PAY TO"),
		chk("416", 13, "PROD/SERV LOC"),
		chk("417", 13, "PARTY"),
		vx("420", 1, 20, "SHIP TO POST"),
		vx("421", 4, 12, "SHIP TO POST"),
		fixed("422", 3, "ORIGIN"),
		vn("423", 3, 15, "COUNTRY - INITIAL PROCESS"),
		fixed("424", 3, "COUNTRY - PROCESS"),
		vn("425", 3, 15, "COUNTRY - DISASSEMBLY"),
		fixed("426", 3, "COUNTRY - FULL PROCESS"),
		fixed("7001", 13, "NSN"),
		vx("7002", 1, 30, "MEAT CUT"),
		fixed("7003", 10, "EXPIRY TIME"),
		vn("7004", 1, 4, "ACTIVE POTENCY"),
		vx("7005", 1, 12, "CATCH AREA"),
		date("7006", "FIRST FREEZE DATE"),
		vn("7007", 6, 12, "HARVEST DATE"),
		vx("7008", 1, 3, "AQUATIC SPECIES"),
		vx("7009", 1, 10, "FISHING GEAR TYPE"),
		vx("7010", 1, 2, "PROD METHOD"),
		vx("7240", 1, 20, "PROTOCOL"),
		chk("8001", 14, "DIMENSIONS"),
		vx("8002", 1, 20, "CMT No."),
		vx("8003", 15, 30, "GRAI"),
		vx("8004", 1, 30, "GIAI"),
		fixed("8005", 6, "PRICE PER UNIT"),
		fixed("8006", 18, "ITIP"),
		vx("8007", 1, 34, "IBAN"),
		vn("8008", 8, 12, "PROD TIME"),
		vx("8012", 1, 20, "VERSION"),
		vx("8013", 1, 25, "GMN"),
		chk("8017", 18, "GSRN - PROVIDER"),
		chk("8018", 18, "GSRN - RECIPIENT"),
		vn("8019", 1, 10, "SRIN"),
		vx("8020", 1, 25, "REF No."),
		vx("8200", 1, 70, "PRODUCT URL"),
		vx("90", 1, 30, "INTERNAL"),
	}
	// 310n–316n, 320n–369n: trade and logistic measures, 6 digits.
	for p := 310; p <= 369; p++ {
		if p == 317 || p == 318 || p == 319 {
			continue
		}
		list = append(list, fixed(fmt.Sprintf("%dn", p), 6, "MEASURE"))
	}
	for i := 91; i <= 99; i++ {
		list = append(list, vx(fmt.Sprint(i), 1, 90, "INTERNAL"))
	}
	m := make(map[string]aiSpec, len(list))
	for _, s := range list {
		m[s.ai] = s
	}
	return m
}()

// lookupAI finds the AI at the start of s and returns its spec and its length.
func lookupAI(s string) (aiSpec, string, bool) {
	for n := 2; n <= 4 && n <= len(s); n++ {
		p := s[:n]
		if !allDigits(p) {
			return aiSpec{}, "", false
		}
		if spec, ok := aiTable[p]; ok {
			return spec, p, true
		}
		if n == 4 {
			if spec, ok := aiTable[p[:3]+"n"]; ok {
				return spec, p, true
			}
		}
	}
	return aiSpec{}, "", false
}

// Field is one application identifier and its value.
type Field struct {
	AI    string
	Value string
}

// Date is a GS1 date (YYMMDD). A day of 00 in the code means the last day of
// the month; Day holds the resolved day and EndOfMonth says it was 00.
type Date struct {
	Year       int
	Month      time.Month
	Day        int
	EndOfMonth bool
}

// Time returns the start of the date in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// String renders the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// currentYear is the reference for the GS1 century rule; a variable so tests
// can pin it.
var currentYear = func() int { return time.Now().Year() }

// ParseDate parses a GS1 YYMMDD date. The century follows the GS1 rule: a year
// up to 50 years ahead of the current one or up to 49 behind.
func ParseDate(s string) (Date, error) {
	if len(s) != 6 || !allDigits(s) {
		return Date{}, fmt.Errorf("date %q: %w: want 6 digits YYMMDD", clip(s), ErrBadField)
	}
	yy := int(s[0]-'0')*10 + int(s[1]-'0')
	mm := int(s[2]-'0')*10 + int(s[3]-'0')
	dd := int(s[4]-'0')*10 + int(s[5]-'0')
	cur := currentYear()
	century := cur / 100 * 100
	switch diff := yy - cur%100; {
	case diff >= 51:
		century -= 100
	case diff <= -50:
		century += 100
	}
	if mm < 1 || mm > 12 {
		return Date{}, fmt.Errorf("date %s: %w: month %02d does not exist", s, ErrBadField, mm)
	}
	d := Date{Year: century + yy, Month: time.Month(mm), Day: dd}
	last := time.Date(d.Year, d.Month+1, 0, 0, 0, 0, 0, time.UTC).Day()
	switch {
	case dd == 0:
		d.Day, d.EndOfMonth = last, true
	case dd > last:
		return Date{}, fmt.Errorf("date %s: %w: day %02d does not exist in that month", s, ErrBadField, dd)
	}
	return d, nil
}

// GS1 is a parsed GS1 element string. The fields a warehouse checks are
// pulled out; every field, in order, is in Fields.
type GS1 struct {
	Fields []Field
	GTIN   string // AI 01, 14 digits
	Batch  string // AI 10
	Expiry *Date  // AI 17
	Serial string // AI 21
}

// Get returns the value of an AI and whether it is present.
func (g GS1) Get(ai string) (string, bool) {
	for _, f := range g.Fields {
		if f.AI == ai {
			return f.Value, true
		}
	}
	return "", false
}

// String renders the human-readable form: (01)06971234567888(10)B1.
func (g GS1) String() string {
	var b strings.Builder
	for _, f := range g.Fields {
		b.WriteByte('(')
		b.WriteString(f.AI)
		b.WriteByte(')')
		b.WriteString(f.Value)
	}
	return b.String()
}

// ElementString renders the fields as a scanner transmits them: fields of
// variable length end with GS unless they come last.
func (g GS1) ElementString() string {
	var b strings.Builder
	for i, f := range g.Fields {
		b.WriteString(f.AI)
		b.WriteString(f.Value)
		spec, _, _ := lookupAI(f.AI)
		if spec.fixed == 0 && i < len(g.Fields)-1 {
			b.WriteByte(GS)
		}
	}
	return b.String()
}

// ParseGS1 parses a GS1 element string in either form: as transmitted (AIs and
// values run together, variable-length fields end with GS, an optional leading
// AIM identifier such as "]C1" and an optional leading GS for FNC1), or as
// printed under the bars with the AIs in parentheses: (01)…(10)….
func ParseGS1(s string) (GS1, error) {
	_, s = SplitAIM(s)
	s = strings.TrimLeft(s, string(GS))
	if s == "" {
		return GS1{}, fmt.Errorf("parse GS1: %w", ErrEmpty)
	}
	var fields []Field
	var err error
	if s[0] == '(' {
		fields, err = splitHRI(s)
	} else {
		fields, err = splitElements(s)
	}
	if err != nil {
		return GS1{}, fmt.Errorf("parse GS1: %w", err)
	}
	g := GS1{Fields: fields}
	seen := make(map[string]string, len(fields))
	for _, f := range fields {
		spec, _, _ := lookupAI(f.AI)
		if err := checkValue(spec, f); err != nil {
			return GS1{}, fmt.Errorf("parse GS1: %w", err)
		}
		if prev, ok := seen[f.AI]; ok && prev != f.Value {
			return GS1{}, fmt.Errorf("parse GS1: %w: (%s) appears twice with different values", ErrBadField, f.AI)
		}
		seen[f.AI] = f.Value
		switch f.AI {
		case "01":
			g.GTIN = f.Value
		case "10":
			g.Batch = f.Value
		case "17":
			d, _ := ParseDate(f.Value) // checked by checkValue
			g.Expiry = &d
		case "21":
			g.Serial = f.Value
		}
	}
	return g, nil
}

func splitElements(s string) ([]Field, error) {
	var fields []Field
	for len(s) > 0 {
		if s[0] == GS { // tolerate a separator after a fixed field, or doubled
			s = s[1:]
			continue
		}
		spec, ai, ok := lookupAI(s)
		if !ok {
			return nil, unknownAI(s)
		}
		s = s[len(ai):]
		if spec.fixed > 0 {
			if len(s) < spec.fixed {
				v := s
				if i := strings.IndexByte(v, GS); i >= 0 {
					v = v[:i]
				}
				return nil, fmt.Errorf("%w: (%s) %s needs %d characters, the code has only %d",
					ErrTruncated, ai, spec.title, spec.fixed, len(v))
			}
			fields = append(fields, Field{AI: ai, Value: s[:spec.fixed]})
			s = s[spec.fixed:]
			continue
		}
		end := strings.IndexByte(s, GS)
		if end < 0 {
			end = len(s)
		}
		fields = append(fields, Field{AI: ai, Value: s[:end]})
		s = s[end:]
	}
	return fields, nil
}

func splitHRI(s string) ([]Field, error) {
	var fields []Field
	for len(s) > 0 {
		if s[0] != '(' {
			return nil, fmt.Errorf("%w: expected \"(\" before an AI at %q", ErrBadField, clip(s))
		}
		closeAt := strings.IndexByte(s, ')')
		if closeAt < 0 {
			return nil, fmt.Errorf("%w: \"(\" without \")\" at %q", ErrTruncated, clip(s))
		}
		ai := s[1:closeAt]
		spec, got, ok := lookupAI(ai)
		if !ok || got != ai {
			return nil, unknownAI(ai)
		}
		s = s[closeAt+1:]
		end := nextHRIField(s)
		v := s[:end]
		s = s[end:]
		if spec.fixed > 0 && len(v) != spec.fixed {
			if len(v) < spec.fixed {
				return nil, fmt.Errorf("%w: (%s) %s needs %d characters, the code has only %d",
					ErrTruncated, ai, spec.title, spec.fixed, len(v))
			}
			return nil, fmt.Errorf("%w: (%s) %s takes %d characters, the code has %d",
				ErrBadField, ai, spec.title, spec.fixed, len(v))
		}
		fields = append(fields, Field{AI: ai, Value: v})
	}
	return fields, nil
}

// nextHRIField finds where the next "(AI)" starts: a "(" followed by 2–4
// digits and ")".
func nextHRIField(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] != '(' {
			continue
		}
		j := i + 1
		for j < len(s) && j-i-1 < 4 && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i-1 >= 2 && j < len(s) && s[j] == ')' {
			return i
		}
	}
	return len(s)
}

func unknownAI(s string) error {
	n := 0
	for n < len(s) && n < 4 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n < 2 {
		return fmt.Errorf("%w: %q does not start with an AI", ErrUnknownAI, clip(s))
	}
	return fmt.Errorf("%w: %s (this code's other fields cannot be read)", ErrUnknownAI, s[:n])
}

// gs1Char reports whether c is in the GS1 AI encodable character set 82.
func gs1Char(c byte) bool {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte(`!"%&'()*+,-./:;<=>?_`, c) >= 0
}

func checkValue(spec aiSpec, f Field) error {
	v := f.Value
	if spec.fixed == 0 {
		if len(v) < spec.min {
			if len(v) == 0 {
				return fmt.Errorf("%w: (%s) %s is empty", ErrTruncated, f.AI, spec.title)
			}
			return fmt.Errorf("%w: (%s) %s needs at least %d characters, the code has %d",
				ErrTruncated, f.AI, spec.title, spec.min, len(v))
		}
		if len(v) > spec.max {
			return fmt.Errorf("%w: (%s) %s is %d characters, at most %d allowed (a missing separator?)",
				ErrBadField, f.AI, spec.title, len(v), spec.max)
		}
	}
	if spec.numeric && !allDigits(v) {
		return fmt.Errorf("%w: (%s) %s must be digits, got %q", ErrBadField, f.AI, spec.title, clip(v))
	}
	for i := 0; i < len(v); i++ {
		if !gs1Char(v[i]) {
			return fmt.Errorf("%w: (%s) %s holds a character a GS1 code cannot carry (%q)", ErrBadField, f.AI, spec.title, clip(v))
		}
	}
	if spec.check && !ValidCheckDigit(v) {
		return fmt.Errorf("(%s) %s %s: %w (last digit should be %c): rescan",
			f.AI, spec.title, v, ErrCheckDigit, CheckDigit(v[:len(v)-1]))
	}
	if spec.date {
		if _, err := ParseDate(v); err != nil {
			return fmt.Errorf("(%s) %s: %w", f.AI, spec.title, err)
		}
	}
	return nil
}
