package agent

import (
	"fmt"

	"github.com/dockhand/dockhand/agent/config"
	"github.com/dockhand/dockhand/agent/printing"
	"github.com/dockhand/dockhand/drivers/label"
)

// defaultModel is the profile of a printer configured without a model: the
// commonest 76×130 mm TSPL label printer.
const defaultModel = "xprinter-xp-470b"

// printerConfigs maps the configured printers onto the print queue's, starting
// from the model's profile and applying the file's overrides.
func printerConfigs(ps []config.Printer) ([]printing.PrinterConfig, error) {
	var out []printing.PrinterConfig
	for _, p := range ps {
		model := p.Model
		if model == "" {
			model = defaultModel
		}
		prof, ok := label.ProfileFor(model)
		if !ok {
			return nil, fmt.Errorf("printer %s: unknown model %q", p.ID, model)
		}
		if p.Language != "" {
			prof.Language = label.Language(p.Language)
		}
		if p.DPI != 0 {
			prof.DPI = p.DPI
		}
		if p.WidthMM != 0 || p.HeightMM != 0 {
			w, h := prof.WidthMM, prof.HeightMM
			if p.WidthMM != 0 {
				w = p.WidthMM
			}
			if p.HeightMM != 0 {
				h = p.HeightMM
			}
			prof = prof.WithSize(w, h)
		}
		if p.GapMM != 0 {
			prof.GapMM = p.GapMM
		}
		if p.Darkness != 0 {
			prof.Darkness = p.Darkness
		}
		if err := prof.Validate(); err != nil {
			return nil, fmt.Errorf("printer %s: %w", p.ID, err)
		}
		out = append(out, printing.PrinterConfig{ID: p.ID, URL: p.URL, Profile: prof})
	}
	return out, nil
}
