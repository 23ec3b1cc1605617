package urgent

import (
	"strings"
	"testing"
)

func FuzzParseCarrierRules(f *testing.F) {
	for _, s := range []string{"SF", "SF:同城", "JD:京准达", "DHL", "", ":", "SF::x", " ZTO "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rules, err := ParseCarrierRules(strings.Split(s, ","))
		if err != nil {
			if !strings.Contains(err.Error(), "carriers[") {
				t.Fatalf("error %q does not say which entry", err)
			}
			return
		}
		r := DefaultRules()
		r.Carriers = rules
		if err := r.Validate(); err != nil {
			t.Fatalf("parsed rules %+v do not validate: %v", rules, err)
		}
	})
}
