package cli_test

import (
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
)

// TestBlockKeptUntilUnblocked: once Entra blocks the tenant's invitations,
// the next apply (a new process) sends none into it and says what to do;
// foyer tenants shows the block, and foyer tenants unblock clears it.
func TestBlockKeptUntilUnblocked(t *testing.T) {
	t.Parallel()
	s, config, csv := tenant(t, sim.Options{InvitesPerMinute: 2})
	code, out, errs := run(t, "apply", "--config", config, "--profile", "partners", "--output", "json", "--yes", csv)
	if code != cli.ExitRowsFail {
		t.Fatalf("first apply: exit %d: %s\n%s", code, errs, out)
	}
	code, out, _ = run(t, "tenants", "--config", config)
	if code != cli.ExitOK || !strings.Contains(out, "INVITATIONS BLOCKED") || !strings.Contains(out, "foyer tenants unblock contoso") {
		t.Fatalf("tenants after the block: exit %d\n%s", code, out)
	}

	// A minute later the tenant's own cap would let invitations through;
	// foyer remembers the block and sends none.
	s.Advance(2 * 60e9)
	posts := func() int64 { return s.Stats().Routes["POST /v1.0/invitations"] }
	before := posts()
	dir := t.TempDir()
	more := writeFile(t, dir, "more.csv", "email\nnew.one@partner.example\nnew.two@partner.example\n")
	code, out, errs = run(t, "apply", "--config", config, "--profile", "partners", "--output", "json", "--yes", more)
	if code != cli.ExitRowsFail || posts() != before {
		t.Fatalf("apply into a blocked tenant: exit %d, %d invitations sent: %s\n%s", code, posts()-before, errs, out)
	}
	d := decode(t, out)
	for _, r := range d.Rows {
		if r.Result != "failed" || !strings.Contains(r.Error, "foyer tenants unblock") {
			t.Errorf("line %d: %s %q; want failed, naming the way out", r.Line, r.Result, r.Error)
		}
	}
	if !strings.Contains(errs, "blocked invitations into tenant") {
		t.Errorf("the apply did not say the tenant was blocked before its rows:\n%s", errs)
	}

	code, out, errs = run(t, "tenants", "unblock", "--config", config, "contoso")
	if code != cli.ExitOK || !strings.Contains(out, "invites into it again") {
		t.Fatalf("unblock: exit %d: %s\n%s", code, errs, out)
	}
	code, out, _ = run(t, "tenants", "--config", config)
	if code != cli.ExitOK || !strings.Contains(out, "invitations allowed") {
		t.Fatalf("tenants after unblock: exit %d\n%s", code, out)
	}
	if code, _, errs = run(t, "tenants", "unblock", "--config", config, "nope"); code != cli.ExitUsage || !strings.Contains(errs, "no tenant") {
		t.Errorf("unblock of an unknown tenant: exit %d: %s", code, errs)
	}
	code, out, errs = run(t, "apply", "--config", config, "--profile", "partners", "--output", "json", "--yes", more)
	if code != cli.ExitOK || posts() == before {
		t.Errorf("apply after unblock: exit %d, %d invitations sent: %s\n%s", code, posts()-before, errs, out)
	}
}
