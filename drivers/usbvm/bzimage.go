package usbvm

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// BzImagePayload returns the compressed kernel inside an x86 bzImage, as the boot
// protocol (2.08 and later) locates it: payload_offset and payload_length in the setup
// header, counted from the start of the protected-mode code.
func BzImagePayload(b []byte) ([]byte, error) {
	if len(b) < 0x250 {
		return nil, errors.New("read bzImage: too short for a setup header")
	}
	if string(b[0x202:0x206]) != "HdrS" {
		return nil, errors.New("read bzImage: no HdrS setup header signature")
	}
	if v := binary.LittleEndian.Uint16(b[0x206:]); v < 0x208 {
		return nil, fmt.Errorf("read bzImage: boot protocol %d.%02d has no payload fields", v>>8, v&0xff)
	}
	setupSects := int(b[0x1f1])
	if setupSects == 0 {
		setupSects = 4
	}
	off := uint64(binary.LittleEndian.Uint32(b[0x248:]))
	n := uint64(binary.LittleEndian.Uint32(b[0x24c:]))
	start := uint64(setupSects+1)*512 + off
	if n == 0 || start+n > uint64(len(b)) {
		return nil, fmt.Errorf("read bzImage: payload at %d+%d lies outside the %d-byte file", start, n, len(b))
	}
	return b[start : start+n], nil
}

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

// extractVMLinux decompresses the kernel ELF (vmlinux) out of a bzImage into out and checks
// that it can be booted directly: QEMU then enters it through the PVH entry point and skips
// the firmware and the in-guest decompression, which under software emulation take longer
// than the kernel's own start (about half the CPU time of a boot). Only xz payloads are
// handled, with the xz tool.
func extractVMLinux(ctx context.Context, bzImage, out string) error {
	b, err := os.ReadFile(bzImage)
	if err != nil {
		return fmt.Errorf("extract vmlinux: %w", err)
	}
	payload, err := BzImagePayload(b)
	if err != nil {
		return fmt.Errorf("extract vmlinux: %w", err)
	}
	if !bytes.HasPrefix(payload, xzMagic) {
		return errors.New("extract vmlinux: the payload is not xz-compressed")
	}
	if _, err := exec.LookPath("xz"); err != nil {
		return fmt.Errorf("extract vmlinux: %w", err)
	}
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("extract vmlinux: %w", err)
	}
	// The kernel appends its 4-byte size after the xz stream: --single-stream ignores it.
	cmd := exec.CommandContext(ctx, "xz", "-dc", "--single-stream")
	cmd.Stdin = bytes.NewReader(payload)
	cmd.Stdout = f
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("extract vmlinux: xz: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := checkPVH(out); err != nil {
		os.Remove(out)
		return err
	}
	return nil
}

// xenElfNotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY, the PVH entry point QEMU looks for.
const xenElfNotePhys32Entry = 18

// checkPVH reports whether the ELF kernel at path has a PVH entry note.
func checkPVH(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("extract vmlinux: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			return fmt.Errorf("extract vmlinux: read notes: %w", err)
		}
		for len(data) >= 12 {
			nameSz := int(binary.LittleEndian.Uint32(data[0:]))
			descSz := int(binary.LittleEndian.Uint32(data[4:]))
			typ := binary.LittleEndian.Uint32(data[8:])
			name := (nameSz + 3) &^ 3
			desc := (descSz + 3) &^ 3
			if nameSz < 0 || descSz < 0 || 12+name+desc > len(data) {
				break
			}
			if typ == xenElfNotePhys32Entry && string(bytes.TrimRight(data[12:12+nameSz], "\x00")) == "Xen" {
				return nil
			}
			data = data[12+name+desc:]
		}
	}
	return errors.New("extract vmlinux: the kernel has no PVH entry point (CONFIG_PVH); boot the bzImage")
}
