package usbvm

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate golden files in testdata/")

func TestReadModInfo(t *testing.T) {
	if *update {
		out, err := exec.Command("gcc", "-c", "-o", "testdata/fake.ko", "testdata/fake_ko.c").CombinedOutput()
		if err != nil {
			t.Fatalf("gcc: %v\n%s", err, out)
		}
	}
	f, err := os.Open("testdata/fake.ko")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mi, err := ReadModInfo(f)
	if err != nil {
		t.Fatal(err)
	}
	if mi.Name != "usblp" || !slices.Equal(mi.Depends, []string{"usbcore", "usb_common"}) {
		t.Errorf("ReadModInfo = name %q depends %q", mi.Name, mi.Depends)
	}
	if len(mi.Fields["alias"]) != 2 || mi.Fields["license"][0] != "GPL" {
		t.Errorf("fields = %q", mi.Fields)
	}
}

func TestReadModInfoNotAModule(t *testing.T) {
	for _, tc := range []struct {
		name string
		data func(t *testing.T) []byte
		want string
	}{
		{"text", func(*testing.T) []byte { return []byte("MFG:Xprinter;") }, "not a kernel module"},
		{"ELF without .modinfo", func(t *testing.T) []byte {
			b, err := os.ReadFile(os.Args[0]) // this test binary
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, "no .modinfo section"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadModInfo(bytes.NewReader(tc.data(t)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadModInfo = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestParseModInfo(t *testing.T) {
	for _, tc := range []struct {
		in      string
		name    string
		depends []string
		err     string
	}{
		{in: "name=evdev\x00depends=\x00", name: "evdev"},
		{in: "\x00\x00name=cdc-acm\x00depends=usbcore\x00\x00", name: "cdc_acm", depends: []string{"usbcore"}},
		{in: "depends=a, b ,,c\x00name=x", name: "x", depends: []string{"a", "b", "c"}},
		{in: "license=GPL\x00", err: "exactly one non-empty name"},
		{in: "name=a\x00name=b\x00", err: "exactly one non-empty name"},
		{in: "name=a\x00garbage\x00", err: "not key=value"},
		{in: "name=a\x00=v\x00", err: "not key=value"},
	} {
		mi, err := ParseModInfo([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseModInfo(%q) = %v, want error %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || mi.Name != tc.name || !slices.Equal(mi.Depends, tc.depends) {
			t.Errorf("ParseModInfo(%q) = %q %q %v, want %q %q", tc.in, mi.Name, mi.Depends, err, tc.name, tc.depends)
		}
	}
}

func FuzzParseModInfo(f *testing.F) {
	f.Add([]byte("name=usblp\x00depends=usbcore,usb-common\x00"))
	f.Add([]byte("license=GPL\x00\x00name=x\x00"))
	if b, err := os.ReadFile("testdata/fake.ko"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if mi, err := ParseModInfo(b); err == nil && mi.Name == "" {
			t.Fatal("accepted a module without a name")
		}
		_, _ = ReadModInfo(bytes.NewReader(b)) // must not panic on any file
	})
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"cdc-acm.ko": "cdc_acm", "/lib/modules/x/kernel/drivers/hid/hid-generic.ko": "hid_generic",
		"usb_f_hid": "usb_f_hid", "udc-core": "udc_core",
	} {
		if got := ModuleName(in); got != want {
			t.Errorf("ModuleName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadOrder(t *testing.T) {
	deps := map[string][]string{
		"dummy_hcd": {"usbcore", "udc_core", "usb_common"}, "usbcore": {"usb_common"}, "udc_core": {"usb_common"},
		"usb_common": nil, "usblp": {"usbcore"}, "loop_a": {"loop_b"}, "loop_b": {"loop_a"},
	}
	depends := func(n string) ([]string, error) {
		d, ok := deps[n]
		if !ok {
			return nil, os.ErrNotExist
		}
		return d, nil
	}
	got, err := LoadOrder([]Module{{Name: "usblp"}, {Name: "dummy_hcd", Params: "num=3"}}, depends)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Name)
		if m.Name == "dummy_hcd" && m.Params != "num=3" {
			t.Errorf("dummy_hcd lost its parameters: %+v", m)
		}
	}
	if want := []string{"usb_common", "usbcore", "usblp", "udc_core", "dummy_hcd"}; !slices.Equal(names, want) {
		t.Errorf("LoadOrder = %q, want %q", names, want)
	}
	if _, err := LoadOrder([]Module{{Name: "loop_a"}}, depends); err == nil || !strings.Contains(err.Error(), "cycle loop_a -> loop_b -> loop_a") {
		t.Errorf("cycle: %v", err)
	}
	if _, err := LoadOrder([]Module{{Name: "nope"}}, depends); err == nil {
		t.Error("a missing module gave no error")
	}
}

func TestParseAptDepends(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n", "linux-image-6.1.0-56-amd64"},
		{"linux-image-amd64\n  PreDepends: dpkg\n  Depends: linux-image-6.12.9+bpo-amd64\n  Recommends: firmware\n", "linux-image-6.12.9+bpo-amd64"},
		{"linux-image-amd64\n  Depends: <linux-image-virtual>\n", ""},
		{"W: Unable to locate package linux-image-amd64\n", ""},
		{"", ""},
	} {
		got, err := ParseAptDepends([]byte(tc.in))
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("ParseAptDepends(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseAptDepends(f *testing.F) {
	f.Add([]byte("linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if pkg, err := ParseAptDepends(b); err == nil && (!strings.HasPrefix(pkg, "linux-image-") || strings.ContainsAny(pkg, " \n")) {
			t.Fatalf("accepted %q", pkg)
		}
	})
}
