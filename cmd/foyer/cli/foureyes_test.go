package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestApplyOfAFourEyesProfileWaitsForASecondAdmin: a profile whose runs
// need a second admin is never applied by the admin who ran apply, not
// even with --yes: the plan is recorded, the command says where it awaits
// approval and exits 6, and the tenant sees no invitation.
func TestApplyOfAFourEyesProfileWaitsForASecondAdmin(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{})
	dir := t.TempDir()
	if _, err := cli.WriteSimFiles(s, dir); err != nil {
		t.Fatal(err)
	}
	conf := simTenantYAML(s, s.ClientID(), "client-secret") + `profiles:
  vendors:
    tenant: contoso
    redirect_url: https://myapps.microsoft.com
    sender: none
    approval:
      run_approvers: {users: [second.admin@contoso.example]}
`
	path := filepath.Join(dir, "foureyes.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	csv := writeFile(t, dir, "vendors.csv", "email,display_name\nada@fabrikam.example,Ada\nbob@tailspin.example,Bob\n")
	code, out, errs := runIn(context.Background(), cli.Env{Args: []string{"apply", "--yes", "--config", path, "--profile", "vendors", csv}})
	if code != cli.ExitAwaitsApproval {
		t.Fatalf("apply exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, cli.ExitAwaitsApproval, out, errs)
	}
	if !strings.Contains(errs+out, "needs a second admin") || !strings.Contains(errs+out, "/admin/runs/") {
		t.Errorf("apply did not say where the run awaits approval:\nstdout:\n%s\nstderr:\n%s", out, errs)
	}
	if n := len(s.Stats().InvitationsByEmail); n != 0 {
		t.Errorf("the tenant counted invitations to %d addresses; want none", n)
	}
	// The run is in the ledger, planned, recorded by this admin.
	code, out, errs = runIn(context.Background(), cli.Env{Args: []string{"runs", "--config", path, "-o", "json"}})
	if code != cli.ExitOK {
		t.Fatalf("runs: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `"planned"`) {
		t.Errorf("runs does not list a planned run:\n%s", out)
	}
}
