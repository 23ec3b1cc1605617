package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/dockhand/dockhand"

type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Imports    []string
	GoFiles    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var ps []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if len(ps) < 10 {
		t.Fatalf("go list found only %d packages", len(ps))
	}
	return ps
}

// Every package has a doc comment that tells its intent.
func TestEveryPackageHasDoc(t *testing.T) {
	for _, p := range listPackages(t) {
		if len(p.GoFiles) == 0 {
			continue
		}
		if len(strings.Fields(p.Doc)) < 4 {
			t.Errorf("%s has no package doc comment saying what it is for", p.ImportPath)
		}
	}
}

// No Go files at sync/'s root: it would clash with the standard library's sync.
func TestNoSyncRootPackage(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.ImportPath == module+"/sync" {
			t.Errorf("sync/ has Go files; put them in a sub-package")
		}
	}
}

func TestDependencyDirections(t *testing.T) {
	rules := []struct {
		name    string
		applies func(path string) bool
		forbid  func(imp string) bool
	}{
		{"drivers import nothing from agent, sync or ui",
			func(p string) bool { return strings.HasPrefix(p, module+"/drivers/") },
			func(i string) bool {
				return strings.HasPrefix(i, module+"/agent") || strings.HasPrefix(i, module+"/sync") || strings.HasPrefix(i, module+"/ui")
			}},
		{"only the store (and the hub simulator's own file) imports bbolt",
			func(p string) bool { return p != module+"/agent/store" && p != module+"/sync/hubsim" },
			func(i string) bool { return strings.HasPrefix(i, "go.etcd.io/bbolt") }},
		{"only the hub link imports the MQTT client",
			func(p string) bool { return p != module+"/sync/hublink" },
			func(i string) bool { return strings.HasPrefix(i, "github.com/eclipse/paho.mqtt.golang") }},
		{"the contract's messages import nothing of the project",
			func(p string) bool { return p == module+"/sync/wire" },
			func(i string) bool { return strings.HasPrefix(i, module+"/") }},
		{"the store knows nothing of the hub link, the floor or the UI",
			func(p string) bool { return p == module+"/agent/store" },
			func(i string) bool {
				return strings.HasPrefix(i, module+"/sync/hublink") || strings.HasPrefix(i, module+"/agent/floor") || strings.HasPrefix(i, module+"/ui")
			}},
	}
	for _, p := range listPackages(t) {
		for _, r := range rules {
			if !r.applies(p.ImportPath) {
				continue
			}
			for _, imp := range p.Imports {
				if r.forbid(imp) {
					t.Errorf("%s imports %s, but %s", p.ImportPath, imp, r.name)
				}
			}
		}
	}
}
