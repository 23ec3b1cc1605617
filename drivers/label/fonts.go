package label

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
)

// FontSearchPaths are where a CJK font is looked for when a profile names
// none, in order. Noto Sans CJK (Debian/Ubuntu: fonts-noto-cjk) is first;
// its simplified Chinese face is picked out of the collection by name.
var FontSearchPaths = []string{
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/droid/DroidSansFallback.ttf",
}

// fallbackPaths hold fonts tried for characters the CJK font lacks
// (emoji, symbols); missing files are skipped.
var fallbackPaths = []string{
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf",
}

// Fonts is a parsed set of fonts for raster text: a CJK font, fallbacks
// and Go Mono for ASCII. It is safe for concurrent use.
type Fonts struct {
	Path string // the CJK font file in use

	mu      sync.Mutex
	fonts   []*sfnt.Font // [0] ASCII mono, [1] CJK, then fallbacks
	faces   map[faceKey]font.Face
	pick    map[rune]int // rune -> index in fonts, -1 when none has it
	buf     sfnt.Buffer
	missing map[rune]bool
}

type faceKey struct{ font, size int }

var (
	fontCacheMu sync.Mutex
	fontCache   = map[string]*sfnt.Font{} // parsed once per file
)

// parseFile parses a font file (or picks the simplified Chinese face of
// a collection) once per process.
func parseFile(path string) (*sfnt.Font, error) {
	fontCacheMu.Lock()
	defer fontCacheMu.Unlock()
	if f, ok := fontCache[path]; ok {
		return f, nil
	}
	data, err := readFont(path)
	if err != nil {
		return nil, fmt.Errorf("read font: %w", err)
	}
	var f *sfnt.Font
	if len(data) >= 4 && string(data[:4]) == "ttcf" {
		c, err := opentype.ParseCollection(data)
		if err != nil {
			return nil, fmt.Errorf("parse font collection %s: %w", path, err)
		}
		f, err = pickSC(c)
		if err != nil {
			return nil, fmt.Errorf("parse font collection %s: %w", path, err)
		}
	} else if f, err = opentype.Parse(data); err != nil {
		return nil, fmt.Errorf("parse font %s: %w", path, err)
	}
	fontCache[path] = f
	return f, nil
}

// pickSC returns the collection's simplified Chinese face (a family name
// ending in " SC"), else its first face.
func pickSC(c *opentype.Collection) (*sfnt.Font, error) {
	var buf sfnt.Buffer
	var first *sfnt.Font
	for i := 0; i < c.NumFonts(); i++ {
		f, err := c.Font(i)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = f
		}
		if name, err := f.Name(&buf, sfnt.NameIDFamily); err == nil && strings.HasSuffix(name, " SC") {
			return f, nil
		}
	}
	if first == nil {
		return nil, errors.New("empty font collection")
	}
	return first, nil
}

var (
	monoOnce sync.Once
	monoFont *sfnt.Font
)

// LoadFonts loads the CJK font at path (empty: the first of FontSearchPaths
// that exists) and the fallbacks. Without a CJK font it fails with
// ErrNoCJKFont rather than printing empty boxes.
func LoadFonts(path string) (*Fonts, error) {
	monoOnce.Do(func() { monoFont, _ = opentype.Parse(gomono.TTF) })
	candidates := FontSearchPaths
	if path != "" {
		candidates = []string{path}
	}
	var cjk *sfnt.Font
	var firstErr error
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			if path != "" {
				firstErr = err
			}
			continue
		}
		f, err := parseFile(p)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		cjk, path = f, p
		break
	}
	if cjk == nil {
		if firstErr != nil {
			return nil, fmt.Errorf("load fonts: %w (%v)", ErrNoCJKFont, firstErr)
		}
		return nil, fmt.Errorf("load fonts: looked in %s: %w", strings.Join(candidates, ", "), ErrNoCJKFont)
	}
	fs := &Fonts{Path: path, fonts: []*sfnt.Font{monoFont, cjk}, faces: map[faceKey]font.Face{}, pick: map[rune]int{}, missing: map[rune]bool{}}
	for _, p := range fallbackPaths {
		if p == path {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if f, err := parseFile(p); err == nil {
			fs.fonts = append(fs.fonts, f)
		}
	}
	return fs, nil
}

var (
	defaultFontsMu sync.Mutex
	defaultFonts   = map[string]*Fonts{}
)

// FontsFor returns the shared Fonts for a font path ("" searches), loading
// them on first use.
func FontsFor(path string) (*Fonts, error) {
	defaultFontsMu.Lock()
	defer defaultFontsMu.Unlock()
	if f, ok := defaultFonts[path]; ok {
		return f, nil
	}
	f, err := LoadFonts(path)
	if err != nil {
		return nil, err
	}
	defaultFonts[path] = f
	return f, nil
}

// fontFor returns the index of the font that draws r (mu held).
func (fs *Fonts) fontFor(r rune) int {
	if r >= 0x20 && r < 0x7F {
		return 0
	}
	if i, ok := fs.pick[r]; ok {
		return i
	}
	idx := -1
	for i := 1; i < len(fs.fonts); i++ {
		if g, err := fs.fonts[i].GlyphIndex(&fs.buf, r); err == nil && g != 0 {
			idx = i
			break
		}
	}
	fs.pick[r] = idx
	return idx
}

// face returns a face of font i whose em is size pixels, or nil (mu held).
func (fs *Fonts) face(i, size int) font.Face {
	k := faceKey{i, size}
	if f, ok := fs.faces[k]; ok {
		return f
	}
	f, err := opentype.NewFace(fs.fonts[i], &opentype.FaceOptions{Size: float64(size), DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		f = nil // only a size ≤ 0 fails; the caller draws a box
	}
	fs.faces[k] = f
	return f
}

// Missing returns the characters no loaded font could draw so far (they
// were drawn as empty boxes).
func (fs *Fonts) Missing() []rune {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []rune
	for r := range fs.missing {
		out = append(out, r)
	}
	return out
}
