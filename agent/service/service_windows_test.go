package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServiceConfigInstall(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "dockhand.yaml")
	if err := os.WriteFile(cfgPath, []byte("warehouse: HZ01\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)

	cfg, err := serviceConfig("dockhand.yaml", true)
	if err != nil {
		t.Fatalf("serviceConfig: %v", err)
	}
	want := []string{"run", "-config", cfgPath}
	if strings.Join(cfg.Arguments, "|") != strings.Join(want, "|") {
		t.Errorf("arguments %q, want %q (absolute: a service starts in the system folder)", cfg.Arguments, want)
	}
	if cfg.Name != Name || cfg.Option["OnFailure"] != "restart" {
		t.Errorf("config %+v: want name %q restarting on failure", cfg, Name)
	}

	if _, err := serviceConfig(filepath.Join(dir, "missing.yaml"), true); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing config: got %v, want a not-found error", err)
	}
}

func TestDataDirUnderProgramData(t *testing.T) {
	t.Setenv("ProgramData", `D:\Data`)
	if got, want := DataDir(), `D:\Data\Dockhand`; got != want {
		t.Errorf("DataDir() = %q, want %q", got, want)
	}
	if got, want := DefaultConfigPath(), `D:\Data\Dockhand\dockhand.yaml`; got != want {
		t.Errorf("DefaultConfigPath() = %q, want %q", got, want)
	}
}
