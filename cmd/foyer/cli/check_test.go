package cli_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

const brokenProfile = `smtp: {host: 127.0.0.1, port: %d, from: invitations@contoso.example, tls: none}
profiles:
  broken:
    redirect_url: https://myapps.microsoft.com/
    sender: foyer
    groups: [DemoApp, No Such Group]
    licenses: [{sku: EMS, usage_location: US}]
    directory_roles: [Chief Guest Officer]
    azure_roles: [{role: Reader, scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/nowhere}]
`

// TestMisconfiguredProfile checks that an unknown group, a role that does
// not exist and an SMTP server that does not answer are each reported, with
// their place in the configuration, by profiles check and by plan, before
// anything is written. A SKU without free seats is not a problem of the
// profile (people who hold it are still planned; TestSeatsHeldBackInThePlan).
func TestMisconfiguredProfile(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{})
	dir := t.TempDir()
	if _, err := cli.WriteSimFiles(s, dir); err != nil {
		t.Fatal(err)
	}
	// A port with nothing behind it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	config := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(config, []byte(simTenantYAML(s, s.ClientID(), "client-secret")+sprintf(brokenProfile, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "one.csv")
	if err := os.WriteFile(csv, []byte("email\nnew.person@partner.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantProblems := []string{
		"broken.yaml:15:23: group \"No Such Group\"",
		"broken.yaml:17:23: directory_role \"Chief Guest Officer\"",
		"broken.yaml:18:19: azure_role \"Reader\"",
		"smtp server 127.0.0.1",
	}
	code, out, errs := run(t, "profiles", "check", "--config", config)
	if code != cli.ExitError {
		t.Fatalf("profiles check: exit %d, want %d\n%s\n%s", code, cli.ExitError, out, errs)
	}
	for _, w := range wantProblems {
		if !strings.Contains(out, w) {
			t.Errorf("profiles check does not report %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "EMS") {
		t.Errorf("profiles check reports the license without free seats as a problem:\n%s", out)
	}
	writes := s.Stats().Writes
	code, out, errs = run(t, "plan", "--config", config, "--profile", "broken", csv)
	if code != cli.ExitError {
		t.Fatalf("plan: exit %d, want %d\n%s", code, cli.ExitError, out)
	}
	for _, w := range wantProblems {
		if !strings.Contains(errs, w) {
			t.Errorf("plan does not report %q:\n%s", w, errs)
		}
	}
	code, _, errs = run(t, "apply", "--yes", "--config", config, "--profile", "broken", csv)
	if code != cli.ExitError || !strings.Contains(errs, "No Such Group") {
		t.Errorf("apply: exit %d: %s", code, errs)
	}
	if s.Stats().Writes != writes || len(s.Stats().InvitationsByEmail) != 0 {
		t.Errorf("the tenant was written to: %+v", s.Stats())
	}
	if _, err := os.Stat(filepath.Join(dir, "foyer.db")); err == nil {
		t.Error("a ledger was written")
	}
}
