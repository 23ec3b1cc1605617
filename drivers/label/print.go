package label

import (
	"fmt"
	"io"
)

// Encode writes a layout in its profile's language.
func Encode(w io.Writer, l *Layout, fs *Fonts) error {
	switch l.Profile.Language {
	case TSPL:
		return EncodeTSPL(w, l, fs)
	case ESCPOS:
		return EncodeESCPOS(w, l, fs)
	}
	return fmt.Errorf("encode label: printer language %q is not tspl or escpos", l.Profile.Language)
}

// WriteWaybill lays out a waybill for the profile and writes the printer's
// bytes. fs may be nil (fonts are then loaded from the profile only if some
// text needs them).
func WriteWaybill(w io.Writer, wb *Waybill, p Profile, fs *Fonts) error {
	l, err := LayoutWaybill(wb, p)
	if err != nil {
		return err
	}
	return Encode(w, l, fs)
}

// WritePackingList lays out a packing list for the profile and writes the
// printer's bytes.
func WritePackingList(w io.Writer, pl *PackingList, p Profile, fs *Fonts) error {
	l, err := LayoutPackingList(pl, p)
	if err != nil {
		return err
	}
	return Encode(w, l, fs)
}
