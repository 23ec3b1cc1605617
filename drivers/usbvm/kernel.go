package usbvm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// KernelMetaPackage is Debian's package that always depends on the current kernel image.
const KernelMetaPackage = "linux-image-amd64"

// WantedModules are the modules the guest loads, with their parameters, in the order the
// guest should load them once their dependencies are in. dummy_hcd makes four UDCs so the
// printer, the serial scanner and the keyboard scanner are separate USB devices that can be
// unplugged one at a time, with a port left for a second printer.
var WantedModules = []Module{
	{Name: "configfs"},
	{Name: "evdev"},
	{Name: "usbhid"},
	{Name: "hid_generic"},
	{Name: "usblp"},
	{Name: "cdc_acm"},
	{Name: "libcomposite"},
	{Name: "usb_f_printer"},
	{Name: "usb_f_acm"},
	{Name: "usb_f_hid"},
	{Name: "dummy_hcd", Params: "num=4"},
}

// Module is one kernel module file to load in the guest.
type Module struct {
	Name   string `json:"name"`
	File   string `json:"file"` // base name inside Kernel.Dir
	Params string `json:"params,omitempty"`
}

// Kernel is an unpacked Debian kernel reduced to what the VM needs.
type Kernel struct {
	Format  int      `json:"format"`  // kernelFormat; older caches are prepared again
	Package string   `json:"package"` // e.g. linux-image-6.1.0-56-amd64
	Release string   `json:"release"` // e.g. 6.1.0-56-amd64
	Image   string   `json:"image"`   // base name of the kernel to boot inside Dir: vmlinux (ELF, PVH) or the bzImage
	Modules []Module `json:"modules"` // dependencies first
	Dir     string   `json:"-"`
}

// ImagePath returns the path of the kernel image.
func (k *Kernel) ImagePath() string { return filepath.Join(k.Dir, k.Image) }

// DefaultCacheDir is where the kernel and built initramfs images are kept between runs:
// $DOCKHAND_USBVM_CACHE if set, else dockhand-usbvm under the user's cache directory
// ($XDG_CACHE_HOME or ~/.cache), else under the temporary directory.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("DOCKHAND_USBVM_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir() // no $HOME, as under some CI runners
	}
	return filepath.Join(d, "dockhand-usbvm"), nil
}

const (
	kernelManifest = "kernel.json"
	kernelFormat   = 2 // 2: the decompressed vmlinux is kept when it can be booted directly
)

// PrepareKernel returns the kernel prepared under cacheDir, fetching it first if needed:
// it resolves linux-image-amd64 to the current kernel package, downloads it with
// `apt-get download` (no install), unpacks it with `dpkg-deb -x`, and keeps only the
// kernel image and the modules in WantedModules with their dependencies. Errors that mean
// "this machine cannot fetch a kernel" wrap ErrCannotRun.
func PrepareKernel(ctx context.Context, cacheDir string, logf func(format string, args ...any)) (*Kernel, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	final := filepath.Join(cacheDir, "kernel")
	if k, err := loadKernel(final); err == nil {
		return k, nil
	}
	for _, tool := range []string{"apt-cache", "apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("prepare kernel: %s not found (a Debian-based host is needed to fetch the kernel): %w", tool, ErrCannotRun)
		}
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("prepare kernel: %w", err)
	}
	pkg, err := resolveKernelPackage(ctx)
	if err != nil {
		return nil, err
	}
	deb, err := downloadPackage(ctx, cacheDir, pkg, logf)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(cacheDir, "unpack-")
	if err != nil {
		return nil, fmt.Errorf("prepare kernel: %w", err)
	}
	defer os.RemoveAll(work)
	logf("usbvm: unpacking %s", filepath.Base(deb))
	tree := filepath.Join(work, "tree")
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, tree).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("prepare kernel: dpkg-deb -x %s: %w: %s", filepath.Base(deb), err, bytes.TrimSpace(out))
	}
	staged := filepath.Join(work, "kernel")
	k, err := stageKernel(ctx, tree, staged, pkg, logf)
	if err != nil {
		return nil, err
	}
	os.RemoveAll(final) // an older format
	if err := os.Rename(staged, final); err != nil {
		// Another test process may have won the race; use its copy if it is complete.
		if k2, err2 := loadKernel(final); err2 == nil {
			return k2, nil
		}
		return nil, fmt.Errorf("prepare kernel: %w", err)
	}
	k.Dir = final
	logf("usbvm: kernel %s ready in %s", k.Release, final)
	return k, nil
}

func loadKernel(dir string) (*Kernel, error) {
	b, err := os.ReadFile(filepath.Join(dir, kernelManifest))
	if err != nil {
		return nil, err
	}
	var k Kernel
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("load kernel manifest: %w", err)
	}
	if k.Format != kernelFormat {
		return nil, fmt.Errorf("load kernel manifest: format %d, want %d", k.Format, kernelFormat)
	}
	k.Dir = dir
	files := []string{k.Image}
	for _, m := range k.Modules {
		files = append(files, m.File)
	}
	// Parameters come from WantedModules as they are now; a module wanted since the
	// kernel was prepared means preparing it again.
	have := map[string]int{}
	for i, m := range k.Modules {
		have[m.Name] = i
	}
	for _, w := range WantedModules {
		i, ok := have[w.Name]
		if !ok {
			return nil, fmt.Errorf("load kernel manifest: module %s is missing", w.Name)
		}
		k.Modules[i].Params = w.Params
	}
	for _, f := range files {
		if f == "" || filepath.Base(f) != f {
			return nil, fmt.Errorf("load kernel manifest: bad file name %q", f)
		}
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("load kernel manifest: %w", err)
		}
	}
	return &k, nil
}

var dependsRE = regexp.MustCompile(`(?m)^\s*Depends:\s*(linux-image-[0-9][^\s]*)\s*$`)

func resolveKernelPackage(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "apt-cache", "depends", KernelMetaPackage).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("resolve kernel package: apt-cache depends %s: %w: %s (run apt-get update?): %w",
			KernelMetaPackage, err, bytes.TrimSpace(out), ErrCannotRun)
	}
	pkg, err := ParseAptDepends(out)
	if err != nil {
		return "", fmt.Errorf("resolve kernel package: %w (run apt-get update?): %w", err, ErrCannotRun)
	}
	return pkg, nil
}

// ParseAptDepends picks the versioned kernel image package out of the output of
// `apt-cache depends linux-image-amd64`.
func ParseAptDepends(out []byte) (string, error) {
	m := dependsRE.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("apt-cache names no kernel image behind %s", KernelMetaPackage)
	}
	return string(m[1]), nil
}

func downloadPackage(ctx context.Context, cacheDir, pkg string, logf func(string, ...any)) (string, error) {
	dl := filepath.Join(cacheDir, "debs")
	if err := os.MkdirAll(dl, 0o755); err != nil {
		return "", fmt.Errorf("download %s: %w", pkg, err)
	}
	if debs, _ := filepath.Glob(filepath.Join(dl, pkg+"_*.deb")); len(debs) > 0 {
		sort.Strings(debs)
		return debs[len(debs)-1], nil
	}
	logf("usbvm: downloading %s with apt-get download (one time, about 70 MB)", pkg)
	// apt-get download writes into the working directory; a partial file is named *.deb
	// only once complete, so a crash leaves nothing that looks usable.
	cmd := exec.CommandContext(ctx, "apt-get", "download", pkg)
	cmd.Dir = dl
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("download %s: apt-get download: %w: %s: %w", pkg, err, lastLines(out, 3), ErrCannotRun)
	}
	debs, _ := filepath.Glob(filepath.Join(dl, pkg+"_*.deb"))
	if len(debs) == 0 {
		return "", fmt.Errorf("download %s: apt-get download succeeded but left no .deb in %s", pkg, dl)
	}
	sort.Strings(debs)
	return debs[len(debs)-1], nil
}

// stageKernel copies the kernel image and the needed modules from an unpacked package tree
// into dir and writes the manifest.
func stageKernel(ctx context.Context, tree, dir, pkg string, logf func(string, ...any)) (*Kernel, error) {
	rels, err := filepath.Glob(filepath.Join(tree, "lib/modules/*"))
	if err != nil || len(rels) != 1 {
		return nil, fmt.Errorf("stage kernel: want one lib/modules/<release> in %s, found %d", pkg, len(rels))
	}
	release := filepath.Base(rels[0])
	image := filepath.Join(tree, "boot", "vmlinuz-"+release)
	if _, err := os.Stat(image); err != nil {
		return nil, fmt.Errorf("stage kernel: %s has no kernel image: %w", pkg, err)
	}
	index := map[string]string{} // module name -> path
	err = filepath.WalkDir(rels[0], func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".ko") {
			index[ModuleName(p)] = p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stage kernel: %w", err)
	}
	infos := map[string]ModInfo{}
	read := func(name string) (ModInfo, error) {
		if mi, ok := infos[name]; ok {
			return mi, nil
		}
		p, ok := index[name]
		if !ok {
			return ModInfo{}, fmt.Errorf("stage kernel: %s has no module %s (it may be built in or missing)", pkg, name)
		}
		f, err := os.Open(p)
		if err != nil {
			return ModInfo{}, fmt.Errorf("stage kernel: %w", err)
		}
		defer f.Close()
		mi, err := ReadModInfo(f)
		if err != nil {
			return ModInfo{}, fmt.Errorf("stage kernel: %s: %w", filepath.Base(p), err)
		}
		infos[name] = mi
		return mi, nil
	}
	order, err := LoadOrder(WantedModules, func(name string) ([]string, error) {
		mi, err := read(name)
		return mi.Depends, err
	})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("stage kernel: %w", err)
	}
	k := &Kernel{Format: kernelFormat, Package: pkg, Release: release, Image: "vmlinux", Dir: dir}
	if err := extractVMLinux(ctx, image, filepath.Join(dir, k.Image)); err != nil {
		logf("usbvm: booting the compressed kernel, which is slower: %v", err)
		k.Image = "vmlinuz"
		if err := copyFile(image, filepath.Join(dir, k.Image)); err != nil {
			return nil, fmt.Errorf("stage kernel: %w", err)
		}
	}
	for _, m := range order {
		m.File = m.Name + ".ko"
		if err := copyFile(index[m.Name], filepath.Join(dir, m.File)); err != nil {
			return nil, fmt.Errorf("stage kernel: %w", err)
		}
		k.Modules = append(k.Modules, m)
	}
	b, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("stage kernel: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, kernelManifest), b, 0o644); err != nil {
		return nil, fmt.Errorf("stage kernel: %w", err)
	}
	return k, nil
}

// LoadOrder returns wanted plus all their dependencies, every module after the modules it
// depends on, keeping the order of wanted where dependencies allow. depends reports a
// module's direct dependencies.
func LoadOrder(wanted []Module, depends func(name string) ([]string, error)) ([]Module, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	params := map[string]string{}
	for _, m := range wanted {
		params[m.Name] = m.Params
	}
	var order []Module
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("module load order: dependency cycle %s", strings.Join(append(path, name), " -> "))
		}
		state[name] = visiting
		deps, err := depends(name)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		order = append(order, Module{Name: name, Params: params[name]})
		return nil
	}
	for _, m := range wanted {
		if err := visit(m.Name, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func lastLines(b []byte, n int) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "no output"
	}
	return strings.Join(lines, " | ")
}
