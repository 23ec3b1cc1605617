//go:build unix

package label

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// readFont maps a font file read-only instead of copying it into the heap: a
// CJK font is 4–20 MB of which a label touches a few glyphs, and mapped pages
// are the kernel's page cache, shared and dropped under pressure. The mapping
// lives as long as the process (fonts are parsed once per file).
func readFont(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 || st.Size() > 1<<30 {
		return nil, fmt.Errorf("%s: %d bytes is not a font", path, st.Size())
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return os.ReadFile(path) // a file system that cannot map: read it
	}
	return data, nil
}
