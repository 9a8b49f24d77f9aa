package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// runAt runs foyer at the sim's time.
func runAt(s *sim.Server, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }, Clock: foyer.ClockFunc(s.Now)})
	return code, out.String(), errb.String()
}

type sweepDoc struct {
	Summary map[string]int `json:"summary"`
	Cap     struct {
		Limit    *int `json:"limit"`
		Exceeded bool `json:"exceeded"`
	} `json:"cap"`
	Guests []struct {
		Email  string `json:"email"`
		UserID string `json:"user_id"`
		Action string `json:"action"`
		Rule   string `json:"rule"`
		Reason string `json:"reason"`
		Days   int    `json:"days"`
	} `json:"guests"`
}

func seedGuests(t *testing.T, s *sim.Server, us ...sim.SeedUser) []string {
	t.Helper()
	d, err := s.Seed(sim.SeedData{Users: us})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(d.Users))
	for i, u := range d.Users {
		ids[i] = u.ID
	}
	return ids
}

func guest(mail, state string, created time.Time) sim.SeedUser {
	return sim.SeedUser{DisplayName: mail, Mail: mail, UserType: "Guest", ExternalUserState: state, CreatedDateTime: created}
}

// TestSweepPlan: against the sim, with its clock advanced 100 days and
// sign-ins recorded through its side door, each kind of guest gets the
// documented action; the cap is reported; nothing is changed.
func TestSweepPlan(t *testing.T) {
	t.Parallel()
	const lifecycle = `    lifecycle:
      stale: {never_redeemed_days: 30, no_sign_in_days: 90, new_guest_grace_days: 14}
      exclude: {users: [kept@partner.example], groups: [%s]}
`
	s := simtest.Start(t, sim.Options{Empty: true})
	t0 := s.Now()
	off := false
	disabled := guest("disabled@partner.example", "Accepted", t0.AddDate(0, 0, -200))
	disabled.AccountEnabled = &off
	ids := seedGuests(t, s,
		guest("pending@partner.example", "PendingAcceptance", t0),
		guest("stale@partner.example", "Accepted", t0.AddDate(0, 0, -200)),
		guest("fresh@partner.example", "Accepted", t0.AddDate(0, 0, -200)),
		guest("kept@partner.example", "Accepted", t0.AddDate(0, 0, -200)),
		guest("grouped@partner.example", "Accepted", t0.AddDate(0, 0, -200)),
		disabled,
	)
	for _, id := range ids[1:] {
		if err := s.SignIn(id, t0, true); err != nil {
			t.Fatal(err)
		}
	}
	g, err := s.Seed(sim.SeedData{Groups: []sim.SeedGroup{{DisplayName: "Keep", Members: []string{ids[4]}}}})
	if err != nil {
		t.Fatal(err)
	}
	s.Advance(100 * 24 * time.Hour)
	// fresh signs in without interaction an hour ago; two guests arrive.
	if err := s.SignIn(ids[2], s.Now().Add(-time.Hour), false); err != nil {
		t.Fatal(err)
	}
	seedGuests(t, s, guest("young@partner.example", "PendingAcceptance", s.Now()), guest("new@partner.example", "Accepted", s.Now().AddDate(0, 0, -5)))

	config := writeSweepConfig(t, s, sprintf(lifecycle, g.Groups[0].ID))

	code, out, errs := runAt(s, "sweep", "--config", config, "--output", "json")
	if code != cli.ExitOK {
		t.Fatalf("sweep exit %d: %s", code, errs)
	}
	var doc sweepDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, g := range doc.Guests {
		got[g.Email] = g.Action + " " + g.Rule
		if g.UserID == "" || !strings.Contains(g.Reason, "days") {
			t.Errorf("%s: user id %q, reason %q", g.Email, g.UserID, g.Reason)
		}
	}
	want := map[string]string{"pending@partner.example": "disable never_redeemed", "stale@partner.example": "disable no_sign_in"}
	if len(got) != len(want) || got["pending@partner.example"] != want["pending@partner.example"] || got["stale@partner.example"] != want["stale@partner.example"] {
		t.Errorf("guests acted on = %v, want %v", got, want)
	}
	if doc.Summary["guests"] != 8 || doc.Summary["disable"] != 2 || doc.Summary["excluded"] != 2 || doc.Cap.Limit != nil || doc.Cap.Exceeded {
		t.Errorf("summary %v, cap %+v", doc.Summary, doc.Cap)
	}

	code, out, errs = runAt(s, "sweep", "--config", config)
	if code != cli.ExitOK || !strings.Contains(out, "stale@partner.example") || !strings.Contains(out, "8 guests read: 2 to disable, 2 left alone by an exclusion") {
		t.Errorf("human view, exit %d:\n%s\n%s", code, out, errs)
	}

	// The cap: one guest at most.
	capped := writeSweepConfig(t, s, sprintf(lifecycle+"      cap: {max: 1}\n", g.Groups[0].ID))
	code, out, errs = runAt(s, "sweep", "--config", capped, "--output", "json")
	doc = sweepDoc{}
	_ = json.Unmarshal([]byte(out), &doc)
	if code != cli.ExitOK || !doc.Cap.Exceeded || doc.Cap.Limit == nil || *doc.Cap.Limit != 1 || !strings.Contains(errs, "more than lifecycle.cap allows (1)") {
		t.Errorf("capped sweep: exit %d, cap %+v: %s", code, doc.Cap, errs)
	}
	if n := len(s.Stats().InvitationsByEmail); n != 0 {
		t.Errorf("a sweep plan invited %d people", n)
	}
}

// writeSweepConfig writes sweep.yaml for s with the lifecycle block, in a
// fresh directory with the sim's files, and returns its path.
func writeSweepConfig(t *testing.T, s *sim.Server, lifecycle string) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := cli.WriteSimFiles(s, dir); err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(simTenantYAML(s, s.ClientID(), "client-secret"), "ledger:", lifecycle+"ledger:", 1) +
		"profiles:\n  partners:\n    redirect_url: https://app.example\n"
	return writeFile(t, dir, "sweep.yaml", conf)
}

// TestSweepRefuses: a tenant without P1, and one whose guests have no
// sign-in data at all, are refused with exit 1 and a reason; --yes
// without --apply is a usage error.
func TestSweepRefuses(t *testing.T) {
	t.Parallel()
	const lifecycle = "    lifecycle: {stale: {no_sign_in_days: 90}}\n"
	tests := []struct {
		name  string
		setup func(t *testing.T, s *sim.Server)
		args  []string
		code  int
		says  string
	}{
		{"no Entra ID P1", func(t *testing.T, s *sim.Server) {
			seedGuests(t, s, guest("a@partner.example", "Accepted", s.Now()))
			if err := s.SignIn("a@partner.example", s.Now(), true); err != nil {
				t.Fatal(err)
			}
			v := s.Settings()
			v.NoPremium = true
			if err := s.SetSettings(v); err != nil {
				t.Fatal(err)
			}
		}, nil, cli.ExitError, "cannot report sign-in activity"},
		{"no guest has sign-in data", func(t *testing.T, s *sim.Server) {
			seedGuests(t, s, guest("a@partner.example", "Accepted", s.Now().AddDate(0, 0, -400)), guest("b@partner.example", "Accepted", s.Now().AddDate(0, 0, -400)))
		}, nil, cli.ExitError, "sign-in data looks missing"},
		{"--yes without --apply", func(*testing.T, *sim.Server) {}, []string{"--yes"}, cli.ExitUsage, "--yes answers the question of --apply"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := simtest.Start(t, sim.Options{Empty: true})
			tc.setup(t, s)
			config := writeSweepConfig(t, s, lifecycle)
			code, out, errs := runAt(s, append([]string{"sweep", "--config", config}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.says) {
				t.Fatalf("exit %d, want %d with %q:\n%s\n%s", code, tc.code, tc.says, errs, out)
			}
			if strings.Contains(out, "disable") {
				t.Errorf("a refused sweep printed a plan:\n%s", out)
			}
		})
	}
}

// TestSweepPlanGoverned: a guest a Microsoft guest lifecycle policy's
// report lists is in foyer sweep --plan --output json with action skip and
// the policy named in its reason; the other stale guest is to disable, the
// active one not listed; the summary counts one skip, and nothing is
// changed.
func TestSweepPlanGoverned(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{Empty: true})
	old := s.Now().AddDate(0, 0, -200)
	ids := seedGuests(t, s, guest("governed@partner.example", "Accepted", old), guest("stale@partner.example", "Accepted", old),
		guest("active@partner.example", "Accepted", old))
	for _, id := range ids {
		if err := s.SignIn(id, s.Now(), true); err != nil {
			t.Fatal(err)
		}
	}
	s.Advance(100 * 24 * time.Hour)
	if err := s.SignIn(ids[2], s.Now().Add(-time.Hour), true); err != nil {
		t.Fatal(err)
	}
	p, err := s.AddLifecyclePolicy(sim.LifecyclePolicy{DisplayName: "Partner guests", IsEnabled: true, Subjects: ids[:1],
		ScopeType: "#microsoft.graph.identityGovernance.selectedObjectsSubjectSet"})
	if err != nil {
		t.Fatal(err)
	}
	config := writeSweepConfig(t, s, "    lifecycle: {stale: {no_sign_in_days: 90}}\n")
	code, out, errs := runAt(s, "sweep", "--plan", "--config", config, "--output", "json")
	if code != cli.ExitOK {
		t.Fatalf("sweep exit %d: %s", code, errs)
	}
	var doc sweepDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, g := range doc.Guests {
		got[g.Email] = g.Action
		if g.Email == "governed@partner.example" && !strings.Contains(g.Reason, "governed by Microsoft lifecycle policy Partner guests ("+p.ID+")") {
			t.Errorf("governed guest's reason %q does not name the policy", g.Reason)
		}
	}
	if got["governed@partner.example"] != "skip" || got["stale@partner.example"] != "disable" || len(got) != 2 {
		t.Errorf("actions = %v, want governed skip and stale disable", got)
	}
	if doc.Summary["skip"] != 1 || doc.Summary["disable"] != 1 {
		t.Errorf("summary %v", doc.Summary)
	}
	if dis := s.Stats().DisablesByUser; len(dis) != 0 {
		t.Errorf("a plan disabled %v", dis)
	}
}
