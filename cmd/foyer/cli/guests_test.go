package cli_test

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestGuestsSyncAndReminders: foyer guests sync, run at the sim's time as
// its clock is moved, sends a pending guest's invitation again 7 days after
// it went out and 7 days after that, never twice in a period and never a
// third time (the sim's invitation counter is the judge), keeps one guest,
// and marks the guest's request active once it redeemed. reset-redemption
// makes the same guest pending again, and asks first.
func TestGuestsSyncAndReminders(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	s := simtest.Start(t, sim.Options{Empty: true})
	config := writeSweepConfig(t, s, "")
	appendFile(t, config, "    reminders: {after: 7d, max: 2}\n")
	csv := writeFile(t, t.TempDir(), "in.csv", "email,display_name\nkim@tailwind.example,Kim\n")
	if code, _, errs := runAt(s, "apply", "--yes", "--config", config, "--profile", "partners", csv); code != cli.ExitOK {
		t.Fatalf("apply exit %d: %s", code, errs)
	}
	const kim = "kim@tailwind.example"
	guests := s.Snapshot().Guests
	steps := []struct {
		advance time.Duration
		says    string
		total   int // invitations for kim the tenant received
	}{
		{0, "0 invitations sent again", 1},
		{7*day + time.Hour, "1 invitation sent again", 2},
		{0, "0 invitations sent again", 2},
		{6 * day, "0 invitations sent again", 2},
		{day + time.Hour, "1 invitation sent again", 3},
		{30 * day, "0 invitations sent again", 3},
	}
	for i, st := range steps {
		s.Advance(st.advance)
		code, out, errs := runAt(s, "guests", "sync", "--config", config)
		if code != cli.ExitOK || !strings.Contains(out, st.says) || !strings.Contains(out, "1 guest invited: 0 redeemed") {
			t.Fatalf("step %d: exit %d, want %q:\n%s\n%s", i, code, st.says, out, errs)
		}
		if n := s.Stats().InvitationsByEmail[kim]; n != st.total {
			t.Errorf("step %d: kim invited %d times, want %d", i, n, st.total)
		}
	}
	if n := s.Snapshot().Guests; n != guests {
		t.Errorf("%d guests after the reminders, want %d", n, guests)
	}
	if err := s.Redeem(kim); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runAt(s, "guests", "sync", "--config", config)
	if code != cli.ExitOK || !strings.Contains(out, "1 guest invited: 1 redeemed (now active)") {
		t.Fatalf("sync after redemption: exit %d:\n%s\n%s", code, out, errs)
	}

	// Reset: refused without a terminal or --yes; done with --yes.
	if code, _, errs := runAt(s, "guests", "reset-redemption", kim, "--config", config, "--profile", "partners"); code != cli.ExitUsage || !strings.Contains(errs, "--yes") {
		t.Fatalf("reset without --yes: exit %d: %s", code, errs)
	}
	code, out, errs = runAt(s, "guests", "reset-redemption", kim, "--config", config, "--profile", "partners", "--yes")
	if code != cli.ExitOK || !strings.Contains(out, "must redeem again; 1 request back to invited") {
		t.Fatalf("reset: exit %d:\n%s\n%s", code, out, errs)
	}
	dir := newSimDirectory(t, s)
	p, found, err := dir.Lookup(context.Background(), foyer.Address(kim))
	if err != nil || !found || p.ExternalUserState != foyer.PendingAcceptance {
		t.Fatalf("after the reset kim is %+v (found %v, %v), want PendingAcceptance", p, found, err)
	}
	if n := s.Snapshot().Guests; n != guests {
		t.Errorf("%d guests after the reset, want %d", n, guests)
	}
	if code, _, errs := runAt(s, "guests", "reset-redemption", "nobody@tailwind.example", "--config", config, "--profile", "partners", "--yes"); code != cli.ExitError || !strings.Contains(errs, "no guest holds") {
		t.Errorf("reset of nobody: exit %d: %s", code, errs)
	}
}

// newSimDirectory is a Graph client on the sim, to read what a command did.
func newSimDirectory(t *testing.T, s *sim.Server) *graph.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	dir, err := graph.New(context.Background(), graph.Options{
		TenantID: s.TenantID(), ClientID: s.ClientID(), Cloud: graph.CloudCustom,
		Endpoints:  graph.Endpoints{Authority: s.URL(), Graph: s.URL(), ARM: s.URL(), Exchange: s.URL()},
		RootCAs:    pool,
		Credential: graph.Credential{Type: graph.CredentialClientSecret, SecretEnv: "SECRET"},
		Getenv:     func(string) string { return s.ClientSecret() },
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
