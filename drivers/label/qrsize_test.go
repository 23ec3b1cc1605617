package label

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/boombuler/barcode/qr"
)

// TestQRModulesMatchTheEncoder checks the size computed from a stand-in
// against encoding the real data, for every mode and many lengths.
func TestQRModulesMatchTheEncoder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabets := []string{"0123456789", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", "abcxyz-_#中通快递𠮷😀"}
	for _, a := range alphabets {
		runes := []rune(a)
		for n := 1; n <= 120; n += 1 + n/10 {
			var b strings.Builder
			for b.Len() < n {
				b.WriteRune(runes[r.IntN(len(runes))])
			}
			data := b.String()
			got, err := qrModules(data)
			if err != nil {
				t.Fatal(err)
			}
			q, err := qr.Encode(data, qr.M, qr.Auto)
			if err != nil {
				t.Fatal(err)
			}
			if want := q.Bounds().Dx(); got != want {
				t.Fatalf("%q: %d modules, the encoder made %d", data, got, want)
			}
		}
	}
}
