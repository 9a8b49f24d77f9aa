package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// TestRunsShowPrefix: a run is named by the start of its id; a start that
// several runs share lists them.
func TestRunsShowPrefix(t *testing.T) {
	t.Parallel()
	_, config, csv := tenant(t, sim.Options{})
	code, out, errs := run(t, "apply", "--yes", "--output", "json", "--config", config, "--profile", "partners", csv)
	if code != cli.ExitInvalidRows {
		t.Fatalf("apply: exit %d\n%s", code, errs)
	}
	id := decode(t, out).RunID
	code, out, errs = run(t, "runs", "show", "--config", config, id[:8])
	if code != cli.ExitOK || !strings.Contains(out, "Run "+id+": apply") {
		t.Errorf("runs show %s: exit %d\n%s\n%s", id[:8], code, out, errs)
	}
	// Two more runs whose ids start alike, recorded as an apply would.
	db, err := sqlite.Open(context.Background(), filepath.Join(filepath.Dir(config), "foyer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(context.Background(), func(tx store.Tx) error {
		for _, id := range []string{"abc12-1", "abc12-2"} {
			if err := tx.CreateRun(context.Background(), &foyer.Run{ID: id, Kind: foyer.RunApply, Profile: "partners", Source: "x.csv"}); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs = run(t, "runs", "show", "--config", config, "abc12")
	if code != cli.ExitUsage || !strings.Contains(errs, "abc12-1  apply of x.csv") || !strings.Contains(errs, "abc12-2") {
		t.Errorf("ambiguous prefix: exit %d\n%s", code, errs)
	}
	code, out, errs = run(t, "runs", "show", "--config", config, "--output", "json", "abc12-2")
	if code != cli.ExitOK || decode(t, out).RunID != "abc12-2" || errs != "" {
		t.Errorf("a whole id: exit %d, stderr %q", code, errs)
	}
	code, _, errs = run(t, "runs", "show", "--config", config, "zzz")
	if code != cli.ExitError || !strings.Contains(errs, `no run has an id that is or starts with "zzz"`) {
		t.Errorf("no such run: exit %d %s", code, errs)
	}
}

// TestCompletion: the shells' completion scripts, and profiles completed
// from the configuration.
func TestCompletion(t *testing.T) {
	t.Parallel()
	_, config, _ := tenant(t, sim.Options{})
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		if code, out, errs := run(t, "completion", sh); code != cli.ExitOK || !strings.Contains(out, "foyer") {
			t.Errorf("completion %s: exit %d %s", sh, code, errs)
		}
	}
	code, out, errs := run(t, "__complete", "apply", "--config", config, "--profile", "")
	if code != cli.ExitOK || !strings.Contains(out, "partners\n") {
		t.Errorf("--profile completion: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestDemoNamesTheBinary: the demo's hints name the binary as it was
// invoked.
func TestDemoNamesTheBinary(t *testing.T) {
	t.Parallel()
	code, out, errs := runIn(context.Background(), cli.Env{Args: []string{"demo", "--dir", t.TempDir()}, Program: "/opt/bin/foyer"})
	if code != cli.ExitOK || !strings.Contains(out, "$ /opt/bin/foyer apply --yes") || !strings.Contains(out, "/opt/bin/foyer runs show --config") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out, "  foyer ") || strings.Contains(out, "$ foyer") {
		t.Errorf("a hint names plain foyer:\n%s", out)
	}
}
