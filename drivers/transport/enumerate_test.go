package transport

import (
	"testing"
)

func TestListSerialPorts(t *testing.T) {
	ports, err := ListSerialPorts()
	if err != nil {
		t.Fatalf("ListSerialPorts on this machine: %v", err)
	}
	for _, p := range ports {
		if p.Path == "" {
			t.Errorf("port without a path: %+v", p)
		}
		tg, err := ParseURL(p.URL())
		if err != nil {
			t.Errorf("suggested address %q does not parse: %v", p.URL(), err)
			continue
		}
		if st, ok := tg.(*SerialTarget); !ok || st.Path != p.Path {
			t.Errorf("suggested address %q names %v, want %s", p.URL(), tg, p.Path)
		}
	}
}
