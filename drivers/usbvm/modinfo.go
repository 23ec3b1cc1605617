package usbvm

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ModInfo is what a kernel module says about itself in its .modinfo section.
type ModInfo struct {
	// Name is the module's name as the kernel knows it (dashes turned to underscores).
	Name string
	// Depends lists the modules that must be loaded first, normalised like Name.
	Depends []string
	// Fields holds every key=value pair in the order found (license, alias, parm, ...).
	Fields map[string][]string
}

// ReadModInfo reads the .modinfo section of a kernel module file (an ELF relocatable
// object such as usblp.ko).
func ReadModInfo(r io.ReaderAt) (ModInfo, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return ModInfo{}, fmt.Errorf("read module info: not a kernel module (ELF): %w", err)
	}
	defer f.Close()
	s := f.Section(".modinfo")
	if s == nil {
		return ModInfo{}, errors.New("read module info: the file has no .modinfo section, so it is not a kernel module")
	}
	if s.Type == elf.SHT_NOBITS || s.Size > 1<<20 {
		return ModInfo{}, fmt.Errorf("read module info: .modinfo section is unusable (type %v, %d bytes)", s.Type, s.Size)
	}
	data, err := s.Data()
	if err != nil {
		return ModInfo{}, fmt.Errorf("read module info: %w", err)
	}
	return ParseModInfo(data)
}

// ParseModInfo parses the contents of a .modinfo section: NUL-separated key=value strings.
func ParseModInfo(section []byte) (ModInfo, error) {
	mi := ModInfo{Fields: map[string][]string{}}
	for _, rec := range bytes.Split(section, []byte{0}) {
		if len(rec) == 0 {
			continue // padding between records
		}
		k, v, ok := strings.Cut(string(rec), "=")
		if !ok || k == "" {
			return ModInfo{}, fmt.Errorf("parse module info: record %q is not key=value", truncate(string(rec), 40))
		}
		mi.Fields[k] = append(mi.Fields[k], v)
	}
	names := mi.Fields["name"]
	if len(names) != 1 || names[0] == "" {
		return ModInfo{}, fmt.Errorf("parse module info: want exactly one non-empty name, found %q", names)
	}
	mi.Name = ModuleName(names[0])
	if deps := mi.Fields["depends"]; len(deps) > 0 {
		for _, d := range strings.Split(deps[0], ",") {
			if d = strings.TrimSpace(d); d != "" {
				mi.Depends = append(mi.Depends, ModuleName(d))
			}
		}
	}
	return mi, nil
}

// ModuleName normalises a module or file name the way the kernel does: no directory, no
// .ko suffix, dashes as underscores ("cdc-acm.ko" is "cdc_acm").
func ModuleName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSuffix(s, ".ko")
	return strings.ReplaceAll(s, "-", "_")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
