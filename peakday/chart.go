package peakday

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// series is one line of a chart: x in seconds from the start, y in the unit.
type series struct {
	Name string
	X, Y []float64
	Col  color.RGBA
}

// chart is a plain line chart drawn with the image package.
type chart struct {
	Title, XLabel, YLabel string
	Series                []series
	// Marks are vertical lines at x (fault times) with a short label.
	Marks []mark
	// HLine draws a horizontal target line at y (0: none).
	HLine float64
}

type mark struct {
	X     float64
	Label string
}

var palette = []color.RGBA{{31, 119, 180, 255}, {214, 39, 40, 255}, {44, 160, 44, 255}, {255, 127, 14, 255}, {148, 103, 189, 255}}

const (
	cw, ch           = 900, 360
	left, right, top = 70, 20, 30
	bottom           = 50
)

func (c chart) render() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, cw, ch))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	var xmax, ymax float64
	for _, s := range c.Series {
		for i := range s.X {
			xmax = math.Max(xmax, s.X[i])
			ymax = math.Max(ymax, s.Y[i])
		}
	}
	ymax = math.Max(ymax, c.HLine)
	if xmax == 0 {
		xmax = 1
	}
	if ymax == 0 {
		ymax = 1
	}
	ymax *= 1.1
	pw, ph := float64(cw-left-right), float64(ch-top-bottom)
	px := func(x float64) int { return left + int(x/xmax*pw) }
	py := func(y float64) int { return top + int(ph-y/ymax*ph) }
	grey := color.RGBA{200, 200, 200, 255}
	black := color.RGBA{0, 0, 0, 255}
	// Grid and axes.
	for i := 0; i <= 4; i++ {
		y := ymax * float64(i) / 4
		hline(img, left, cw-right, py(y), grey)
		text(img, 4, py(y)+4, short(y), black)
	}
	for i := 0; i <= 6; i++ {
		x := xmax * float64(i) / 6
		text(img, px(x)-10, ch-bottom+16, fmt.Sprintf("%.0f", x), black)
	}
	hline(img, left, cw-right, py(0), black)
	vline(img, left, top, py(0), black)
	text(img, left, 18, c.Title, black)
	text(img, cw/2-40, ch-8, c.XLabel, black)
	text(img, left+4, top+12, c.YLabel, black)
	for mi, m := range c.Marks {
		x := px(m.X)
		for y := top; y < py(0); y += 4 {
			img.Set(x, y, color.RGBA{160, 160, 160, 255})
		}
		text(img, x+2, top+24+(mi%5)*12, m.Label, color.RGBA{110, 110, 110, 255})
	}
	if c.HLine > 0 {
		for x := left; x < cw-right; x += 6 {
			img.Set(x, py(c.HLine), color.RGBA{214, 39, 40, 255})
			img.Set(x+1, py(c.HLine), color.RGBA{214, 39, 40, 255})
		}
	}
	for si, s := range c.Series {
		col := s.Col
		if col.A == 0 {
			col = palette[si%len(palette)]
		}
		for i := 1; i < len(s.X); i++ {
			line(img, px(s.X[i-1]), py(s.Y[i-1]), px(s.X[i]), py(s.Y[i]), col)
		}
		if len(s.X) == 1 {
			img.Set(px(s.X[0]), py(s.Y[0]), col)
		}
		text(img, cw-right-160, top+14+si*14, "-- "+s.Name, col)
	}
	return img
}

func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2g", v)
}

func (c chart) save(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chart %s: %w", path, err)
	}
	if err := png.Encode(f, c.render()); err != nil {
		f.Close()
		return fmt.Errorf("chart %s: %w", path, err)
	}
	return f.Close()
}

func hline(img *image.RGBA, x0, x1, y int, c color.Color) {
	for x := x0; x <= x1; x++ {
		img.Set(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.Color) {
	for y := y0; y <= y1; y++ {
		img.Set(x, y, c)
	}
}

// line draws with Bresenham, two pixels thick.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		img.Set(x0, y0, c)
		img.Set(x0, y0+1, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
