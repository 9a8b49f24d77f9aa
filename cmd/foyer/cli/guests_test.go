package cli_test

import (
	"context"
	"crypto/x509"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
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

// TestKillGuestsSyncMidReminder: foyer guests sync is SIGKILLed while a
// reminder's invitation was carried out and its answer held back; the next
// sync does not send it again (the sim's invitation counter is the
// judge): the reminder was recorded before it went out and counts.
func TestKillGuestsSyncMidReminder(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	bin, s, _, _ := processWorld(t, sim.Options{Empty: true}, "")
	config := writeSweepConfig(t, s, "")
	appendFile(t, config, "    reminders: {after: 7d, max: 2}\n")
	csv := writeFile(t, t.TempDir(), "in.csv", "email\nkim@tailwind.example\n")
	// Invited 8 days ago, as the ledger sees it: the first reminder is due.
	var out, errs strings.Builder
	code := cli.Run(context.Background(), cli.Env{Args: []string{"apply", "--yes", "--config", config, "--profile", "partners", csv},
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs, Getenv: func(string) string { return "" },
		Clock: foyer.ClockFunc(func() time.Time { return time.Now().Add(-8 * day) })})
	if code != cli.ExitOK {
		t.Fatalf("apply exit %d: %s", code, errs.String())
	}
	const kim = "kim@tailwind.example"
	v := s.Settings()
	v.AnswerDelay = 3 * time.Second
	if err := s.SetSettings(v); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, exec.Command(bin, "guests", "sync", "--config", config))
	eventually(t, time.Minute, "the reminder reaches the tenant", func() bool { return s.Stats().InvitationsByEmail[kim] >= 2 })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)
	v.AnswerDelay = 0
	if err := s.SetSettings(v); err != nil {
		t.Fatal(err)
	}
	again := startProc(t, exec.Command(bin, "guests", "sync", "--config", config))
	if err := again.wait(t, 2*time.Minute); err != nil {
		t.Fatalf("the sync after the kill: %v\n%s", err, again.out.String())
	}
	if !strings.Contains(again.out.String(), "0 invitations sent again") {
		t.Errorf("the sync after the kill:\n%s", again.out.String())
	}
	if n := s.Stats().InvitationsByEmail[kim]; n != 2 {
		t.Errorf("kim invited %d times, want 2 (the invitation and one reminder)", n)
	}
}

// TestGuestsExpire: foyer guests expire, run at the sim's time as its
// clock is moved, shows nothing due before a profile's expiry, refuses to
// act without a terminal or --yes, and after the end takes the profile's
// group back (the sim's group is the judge) through a revoke run recorded
// by expiry, leaving the request expired; run again it does nothing.
// foyer guests extend moves the end.
func TestGuestsExpire(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	s := simtest.Start(t, sim.Options{Empty: true})
	g, err := s.Seed(sim.SeedData{Groups: []sim.SeedGroup{{DisplayName: "Expiring"}}})
	if err != nil {
		t.Fatal(err)
	}
	config := writeSweepConfig(t, s, "")
	appendFile(t, config, "    groups: [Expiring]\n    expiry: 30d\n")
	csv := writeFile(t, t.TempDir(), "in.csv", "email,display_name\nkim@tailwind.example,Kim\nlee@tailwind.example,Lee\n")
	if code, _, errs := runAt(s, "apply", "--yes", "--config", config, "--profile", "partners", csv); code != cli.ExitOK {
		t.Fatalf("apply exit %d: %s", code, errs)
	}
	members := func() int {
		t.Helper()
		ms, err := newSimDirectory(t, s).Members(context.Background(), g.Groups[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(ms)
	}
	if n := members(); n != 2 {
		t.Fatalf("the group holds %d members after apply, want 2", n)
	}
	s.Advance(10 * day)
	code, out, errs := runAt(s, "guests", "extend", "lee@tailwind.example", "--config", config, "--profile", "partners",
		"--until", s.Now().Add(60*day).UTC().Format(time.DateOnly))
	if code != cli.ExitOK || !strings.Contains(out, "now ends") {
		t.Fatalf("extend: exit %d:\n%s\n%s", code, out, errs)
	}
	if code, _, errs := runAt(s, "guests", "extend", "lee@tailwind.example", "--config", config, "--profile", "partners", "--until", "soon"); code != cli.ExitUsage || !strings.Contains(errs, "neither a date") {
		t.Errorf("extend until soon: exit %d: %s", code, errs)
	}
	s.Advance(19 * day) // day 29
	code, out, errs = runAt(s, "guests", "expire", "--config", config, "--yes")
	if code != cli.ExitOK || !strings.Contains(out, "Nothing due in tenant") || !strings.Contains(out, "2 guests with an end") {
		t.Fatalf("day 29: exit %d:\n%s\n%s", code, out, errs)
	}
	s.Advance(2 * day) // day 31
	if code, _, errs := runAt(s, "guests", "expire", "--config", config); code != cli.ExitUsage || !strings.Contains(errs, "--yes") {
		t.Fatalf("expire without --yes: exit %d: %s", code, errs)
	}
	if n := members(); n != 2 {
		t.Fatalf("the group holds %d members after a refused expire, want 2", n)
	}
	code, out, errs = runAt(s, "guests", "expire", "--config", config, "--yes")
	if code != cli.ExitOK || !strings.Contains(out, "kim@tailwind.example") || strings.Contains(out, "lee@tailwind.example") ||
		!strings.Contains(out, "1 guest expired in 1 revoke run") {
		t.Fatalf("day 31: exit %d:\n%s\n%s", code, out, errs)
	}
	if n := members(); n != 1 {
		t.Errorf("the group holds %d members after kim's expiry, want 1 (lee, extended)", n)
	}
	code, out, errs = runAt(s, "runs", "--config", config)
	if code != cli.ExitOK || !strings.Contains(out, "1 row: 1 revoked") {
		t.Errorf("runs after the expiry: exit %d, want a revoke run of one row:\n%s\n%s", code, out, errs)
	}
	var runID string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == "revoke" {
			runID = f[0]
		}
	}
	code, out, errs = runAt(s, "runs", "show", runID, "--config", config)
	if code != cli.ExitOK || !strings.Contains(out, "revoke of expiry of profile partners") {
		t.Errorf("runs show %s: exit %d, want the revoke of expiry:\n%s\n%s", runID, code, out, errs)
	}
	code, out, errs = runAt(s, "guests", "expire", "--config", config, "--yes")
	if code != cli.ExitOK || !strings.Contains(out, "Nothing due") || !strings.Contains(out, "1 guest with an end") {
		t.Fatalf("expire again: exit %d:\n%s\n%s", code, out, errs)
	}
	s.Advance(40 * day) // day 71: lee's new end (day 70) passed
	code, out, errs = runAt(s, "guests", "expire", "--config", config, "--yes")
	if code != cli.ExitOK || !strings.Contains(out, "lee@tailwind.example: expired") {
		t.Fatalf("day 71: exit %d:\n%s\n%s", code, out, errs)
	}
	if n := members(); n != 0 {
		t.Errorf("the group holds %d members after both expired, want none", n)
	}
}

// TestResetRedemptionKilled: foyer guests reset-redemption is SIGKILLed
// while the reset was carried out by the tenant and its answer held back;
// the command run again does not reset the guest a second time (the sim's
// count of resets per user is the judge), and the ledger holds one reset,
// its intent and its outcome, with the guest's request back to invited.
func TestResetRedemptionKilled(t *testing.T) {
	t.Parallel()
	bin, s, _, _ := processWorld(t, sim.Options{Empty: true}, "")
	config := writeSweepConfig(t, s, "")
	csv := writeFile(t, t.TempDir(), "in.csv", "email\nkim@tailwind.example\n")
	if code, _, errs := runAt(s, "apply", "--yes", "--config", config, "--profile", "partners", csv); code != cli.ExitOK {
		t.Fatalf("apply exit %d: %s", code, errs)
	}
	const kim = "kim@tailwind.example"
	if err := s.Redeem(kim); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runAt(s, "guests", "sync", "--config", config); code != cli.ExitOK || !strings.Contains(out, "1 redeemed (now active)") {
		t.Fatalf("sync after the redemption: exit %d:\n%s\n%s", code, out, errs)
	}
	person, found, err := newSimDirectory(t, s).Lookup(context.Background(), foyer.Address(kim))
	if err != nil || !found {
		t.Fatalf("kim in the tenant: found %v, %v", found, err)
	}
	id := strings.ToLower(person.ID)

	v := s.Settings()
	v.AnswerDelay = 5 * time.Second
	if err := s.SetSettings(v); err != nil {
		t.Fatal(err)
	}
	args := []string{"guests", "reset-redemption", kim, "--profile", "partners", "--yes", "--config", config}
	p := startProc(t, exec.Command(bin, args...))
	eventually(t, time.Minute, "the reset reaches the tenant", func() bool { return s.Stats().ResetsByUser[id] >= 1 })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)
	v.AnswerDelay = 0
	if err := s.SetSettings(v); err != nil {
		t.Fatal(err)
	}
	again, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || !strings.Contains(string(again), "must redeem again; 1 request back to invited") {
		t.Fatalf("the reset after the kill: %v\n%s", err, again)
	}
	if n := s.Stats().ResetsByUser[id]; n != 1 {
		t.Errorf("kim's redemption was reset %d times, want once", n)
	}
	if p, _, err := newSimDirectory(t, s).Lookup(context.Background(), foyer.Address(kim)); err != nil || p.ExternalUserState != foyer.PendingAcceptance {
		t.Errorf("after the reset kim is %q (%v), want PendingAcceptance", p.ExternalUserState, err)
	}

	db, err := sqlite.Open(t.Context(), filepath.Join(filepath.Dir(config), "foyer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kinds := map[store.AuditKind]int{}
	var states []foyer.State
	err = db.InTx(t.Context(), func(tx store.Tx) error {
		if err := tx.AuditLog(t.Context(), store.AuditFilter{}, func(e store.AuditEntry) error {
			if e.Op == "reset redemption" {
				kinds[e.Kind]++
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Requests(t.Context(), store.RequestFilter{Email: kim}, func(r *foyer.Request) error {
			states = append(states, r.State)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if kinds[store.AuditIntent] != 1 || kinds[store.AuditOutcome] != 1 || len(kinds) != 2 {
		t.Errorf("the ledger holds %v reset entries, want one intent and one outcome", kinds)
	}
	if len(states) != 1 || states[0] != foyer.StateInvited {
		t.Errorf("kim's requests are %v, want one invited", states)
	}
}
