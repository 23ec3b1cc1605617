package usbvm

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// fakeBzImage builds a bzImage-shaped file: setup sectors, header fields, payload.
func fakeBzImage(setupSects byte, version uint16, off, n uint32, payload []byte) []byte {
	eff := int(setupSects)
	if eff == 0 {
		eff = 4 // what the boot protocol says 0 means
	}
	b := make([]byte, (eff+1)*512)
	b[0x1f1] = setupSects
	copy(b[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(b[0x206:], version)
	binary.LittleEndian.PutUint32(b[0x248:], off)
	binary.LittleEndian.PutUint32(b[0x24c:], n)
	b = append(b, make([]byte, off)...)
	return append(b, payload...)
}

func TestBzImagePayload(t *testing.T) {
	xz := append(append([]byte{}, xzMagic...), "stream"...)
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte
		err  string
	}{
		{"ok", fakeBzImage(2, 0x20f, 16, uint32(len(xz)), xz), xz, ""},
		{"zero setup sectors mean four", fakeBzImage(0, 0x20f, 0, uint32(len(xz)), xz), xz, ""},
		{"no header", fakeBzImage(2, 0x20f, 0, uint32(len(xz)), xz)[512:], nil, "no HdrS"},
		{"short", []byte("MZ"), nil, "too short"},
		{"old protocol", fakeBzImage(2, 0x206, 0, 4, xz), nil, "boot protocol 2.06"},
		{"payload outside", fakeBzImage(2, 0x20f, 0, 1000, xz), nil, "outside"},
		{"empty payload", fakeBzImage(2, 0x20f, 0, 0, xz), nil, "outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BzImagePayload(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("BzImagePayload = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func FuzzBzImagePayload(f *testing.F) {
	f.Add(fakeBzImage(2, 0x20f, 16, 8, []byte("payload!")))
	huge := fakeBzImage(0, 0x20f, 0, 0, nil)
	binary.LittleEndian.PutUint32(huge[0x248:], 0xffffffff) // offset and length near 4 GiB
	binary.LittleEndian.PutUint32(huge[0x24c:], 0xffffffff)
	f.Add(huge)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := BzImagePayload(b)
		if err == nil && (len(p) == 0 || len(p) > len(b)) {
			t.Fatalf("payload of %d bytes from a %d-byte file", len(p), len(b))
		}
	})
}

func TestCheckPVHRejectsNonKernel(t *testing.T) {
	err := checkPVH("testdata/fake.ko")
	if err == nil || !strings.Contains(err.Error(), "no PVH entry point") {
		t.Errorf("checkPVH(fake.ko) = %v", err)
	}
	if err := checkPVH("testdata/console-pass.txt"); err == nil {
		t.Error("checkPVH accepted a text file")
	}
}
