package cli_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/config"
)

// TestVersion: --version and version name the build.
func TestVersion(t *testing.T) {
	t.Parallel()
	code, flag, errs := run(t, "--version")
	if code != cli.ExitOK || !strings.HasPrefix(flag, "foyer ") {
		t.Fatalf("--version: exit %d %q %s", code, flag, errs)
	}
	code, cmd, _ := run(t, "version")
	if code != cli.ExitOK || cmd != flag {
		t.Errorf("version says %q, --version %q", cmd, flag)
	}
}

// TestInit: a starter configuration for a real tenant that loads once its
// two placeholders are filled, and is never overwritten.
func TestInit(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "conf")
	code, out, errs := runIn(context.Background(), cli.Env{Args: []string{"init", "--dir", dir}, Program: "./foyer"})
	path := filepath.Join(dir, "foyer.yaml")
	if code != cli.ExitOK || !strings.Contains(out, path) || !strings.Contains(out, "./foyer profiles check --config "+path) {
		t.Fatalf("init: exit %d\n%s\n%s", code, out, errs)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = config.Parse(path, data)
	var ps config.Problems
	if !errors.As(err, &ps) || len(ps) != 2 {
		t.Fatalf("the starter configuration: %v, want the two placeholders", err)
	}
	lines := strings.Split(string(data), "\n")
	for _, p := range ps {
		if !strings.Contains(lines[p.Line-1], "FILL IN") {
			t.Errorf("a problem that is not a placeholder: %v (line %q)", p, lines[p.Line-1])
		}
	}
	filled := strings.NewReplacer(`"FILL IN: your directory (tenant) id, a GUID"`, "72f988bf-86f1-41af-91ab-2d7cd011db47",
		`"FILL IN: the application (client) id of foyer's app registration"`, "0d5f1c1a-3b6e-4f1e-9a55-2f5b1d7c9e10").Replace(string(data))
	if _, err := config.Parse(path, []byte(filled)); err != nil {
		t.Errorf("filled in, the starter configuration does not load: %v", err)
	}
	if err := os.WriteFile(path, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = run(t, "init", "--dir", dir)
	if b, _ := os.ReadFile(path); code != cli.ExitError || string(b) != "mine\n" || !strings.Contains(errs, "never overwrites") {
		t.Errorf("a second init: exit %d, file %q\n%s", code, b, errs)
	}
}
