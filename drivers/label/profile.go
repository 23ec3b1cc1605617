package label

import (
	"fmt"
	"math"
	"sort"

	"github.com/dockhand/dockhand/drivers/printer"
)

// Language is a printer command language.
type Language string

// Printer languages.
const (
	TSPL   Language = "tspl"
	ESCPOS Language = "escpos"
)

// Profile describes one printer and the media loaded in it.
type Profile struct {
	Model    string   // e.g. "Xprinter XP-470B"
	Language Language // tspl or escpos
	DPI      int      // 203 or 300
	WidthMM  float64  // label width (receipt: printable width)
	HeightMM float64  // label height; 0 for a continuous receipt roll
	GapMM    float64  // gap between labels (TSPL GAP); 0 continuous
	// BlackMarkMM, when > 0, uses a black mark (TSPL BLINE) instead of a gap.
	BlackMarkMM float64
	Darkness    int     // TSPL DENSITY 0–15
	Speed       float64 // TSPL SPEED, inches per second
	CodePage    string  // TSPL CODEPAGE for the Latin fonts; empty sends none
	// Charset is what the built-in Chinese font can print (default GBK:
	// every 2-byte GB18030 code).
	Charset printer.Charset
	// FontPath is the CJK font used for text printed as an image and for
	// previews; empty searches the usual places (see FontSearchPaths).
	FontPath string
	// Receipt marks an ESC/POS roll printer with a cutter (feed and cut at
	// the end) rather than a label-mode ESC/POS printer (feed to next label).
	Receipt bool
	Copies  int // labels per print; 0 means 1
	// Direction is TSPL DIRECTION (0 or 1): which way the label comes out.
	Direction int
	// Bitmap prints the whole label as one image instead of built-in
	// fonts and codes (printers without a usable Chinese font); it needs
	// the CJK font.
	Bitmap bool
}

// DotsPerMM returns the dots per millimetre of the profile's head.
func (p Profile) DotsPerMM() float64 {
	if p.DPI == 203 {
		return 8
	}
	if p.DPI == 300 {
		return 11.81
	}
	return float64(p.DPI) / 25.4
}

// Dots converts millimetres to dots.
func (p Profile) Dots(mm float64) int { return int(math.Round(mm * p.DotsPerMM())) }

// WithSize returns p with another label size.
func (p Profile) WithSize(widthMM, heightMM float64) Profile {
	p.WidthMM, p.HeightMM = widthMM, heightMM
	return p
}

// Validate reports a profile that cannot drive a printer.
func (p Profile) Validate() error {
	switch {
	case p.Language != TSPL && p.Language != ESCPOS:
		return fmt.Errorf("printer profile %q: language %q is not tspl or escpos", p.Model, p.Language)
	case p.DPI != 203 && p.DPI != 300:
		return fmt.Errorf("printer profile %q: %d dpi is not 203 or 300", p.Model, p.DPI)
	case p.WidthMM < 40 || p.WidthMM > 120:
		return fmt.Errorf("printer profile %q: label width %g mm is not 40–120 mm", p.Model, p.WidthMM)
	case p.HeightMM != 0 && (p.HeightMM < 40 || p.HeightMM > 300):
		return fmt.Errorf("printer profile %q: label height %g mm is not 40–300 mm", p.Model, p.HeightMM)
	case p.HeightMM == 0 && p.Language == TSPL:
		return fmt.Errorf("printer profile %q: a TSPL label printer needs a label height", p.Model)
	case p.Darkness < 0 || p.Darkness > 15:
		return fmt.Errorf("printer profile %q: darkness %d is not 0–15", p.Model, p.Darkness)
	case p.Speed != 0 && (p.Speed < 1 || p.Speed > 18):
		return fmt.Errorf("printer profile %q: speed %g is not 1–18 inches/s", p.Model, p.Speed)
	}
	return nil
}

// Label sizes in common use.
var (
	Size76x130  = [2]float64{76, 130}  // 一联单
	Size100x150 = [2]float64{100, 150} // 4×6 in
	Size100x180 = [2]float64{100, 180}
)

var profiles = map[string]Profile{
	"xprinter-xp-470b":  {Model: "Xprinter XP-470B", Language: TSPL, DPI: 203, WidthMM: 76, HeightMM: 130, GapMM: 2, Darkness: 8, Speed: 4, Direction: 1},
	"xprinter-xp-480b":  {Model: "Xprinter XP-480B", Language: TSPL, DPI: 203, WidthMM: 100, HeightMM: 150, GapMM: 2, Darkness: 8, Speed: 4, Direction: 1},
	"gprinter-gp-1324d": {Model: "Gprinter GP-1324D", Language: TSPL, DPI: 203, WidthMM: 100, HeightMM: 150, GapMM: 2, Darkness: 8, Speed: 4, Direction: 1},
	"hprt-ht300":        {Model: "HPRT HT300", Language: TSPL, DPI: 300, WidthMM: 100, HeightMM: 150, GapMM: 2, Darkness: 8, Speed: 3, Direction: 1},
	"hprt-n41":          {Model: "HPRT N41", Language: TSPL, DPI: 203, WidthMM: 100, HeightMM: 150, GapMM: 2, Darkness: 8, Speed: 4, Direction: 1},
	// TSC's TSS24.BF2 on older firmware is GB2312 only.
	"tsc-ttp-244":  {Model: "TSC TTP-244 Pro", Language: TSPL, DPI: 203, WidthMM: 100, HeightMM: 150, GapMM: 3, Darkness: 8, Speed: 4, Charset: printer.GB2312, Direction: 1},
	"escpos-80mm":  {Model: "80 mm ESC/POS receipt printer", Language: ESCPOS, DPI: 203, WidthMM: 72, Receipt: true},
	"escpos-label": {Model: "ESC/POS label printer", Language: ESCPOS, DPI: 203, WidthMM: 76, HeightMM: 130, GapMM: 2},
}

// ProfileFor returns the default profile of a known model name
// (see Models); ok is false for an unknown name.
func ProfileFor(model string) (p Profile, ok bool) {
	p, ok = profiles[model]
	return p, ok
}

// Models lists the names ProfileFor knows, sorted.
func Models() []string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
