package engine_test

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/sim"
)

// sweepGoverned plans and applies one sweep as foyer sweep --apply --yes
// does with lifecycle.microsoft_policies: respect.
func (w *sweepWorld) sweepGoverned(t *testing.T, lc directory.Lifecycle) (*foyer.Run, *foyer.SweepPlan, error) {
	t.Helper()
	ctx := context.Background()
	guests, err := w.eng.Dir.GuestActivity(ctx, w.since())
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.MarkGoverned(ctx, lc, guests); err != nil {
		return nil, nil, err
	}
	plan, h, err := w.eng.PlanSweep(ctx, sweepTenant, w.rules, guests, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := w.eng.RecordSweep(ctx, sweepTenant, plan, h, "test")
	if err != nil {
		t.Fatal(err)
	}
	if run == nil || plan.CapExceeded {
		return run, plan, nil
	}
	if _, err := w.eng.Approve(ctx, run.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if run, err = w.eng.ApplyRun(ctx, run.ID, engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	return run, plan, nil
}

// TestSweepLeavesGovernedGuestsToMicrosoft: while an enabled policy's
// report does not exist yet, every guest is skipped with that said, except
// that guests another policy's report lists as governed by it (in that
// other's scope, but ineffective) are skipped with it named; nothing is
// recorded or disabled. Once that policy is gone, the guests a report
// lists as effective (or ineffective, governed by the first) are skipped
// with their policy named, and only the other stale guests are disabled,
// once each (the sim's disables_by_user). A disabled policy governs nobody.
func TestSweepLeavesGovernedGuestsToMicrosoft(t *testing.T) {
	t.Parallel()
	rules := foyer.SweepRules{NoSignInDays: 90}
	w := newSweepWorld(t, rules)
	w.active(t)
	old := w.sim.Now().AddDate(0, 0, -200)
	ids := seedSweepGuests(t, w.sim, staleGuest("a@partner.example", old), staleGuest("b@partner.example", old),
		staleGuest("c@other.example", old), staleGuest("d@other.example", old))
	lc := w.eng.Dir.(directory.Lifecycle)
	add := func(p sim.LifecyclePolicy) sim.LifecyclePolicy {
		t.Helper()
		p, err := w.sim.AddLifecyclePolicy(p)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	add(sim.LifecyclePolicy{DisplayName: "Paused policy", AllGuests: true})
	// First in the list, so it governs every guest in Microsoft's eyes,
	// but it has no report yet.
	fresh := add(sim.LifecyclePolicy{DisplayName: "Just created", IsEnabled: true, AllGuests: true, Report: "none"})
	partners := add(sim.LifecyclePolicy{DisplayName: "Partners 90 days", IsEnabled: true,
		ScopeType: "#microsoft.graph.identityGovernance.selectedObjectsSubjectSet",
		Subjects:  []string{ids["a@partner.example"], ids["b@partner.example"]}})
	// b is in this one's scope too, but Partners 90 days, first, governs it.
	add(sim.LifecyclePolicy{DisplayName: "Second", IsEnabled: true, Subjects: []string{ids["b@partner.example"]}})

	run, plan, err := w.sweepGoverned(t, lc)
	if err != nil {
		t.Fatal(err)
	}
	if run != nil || plan.Governed != 4 {
		t.Fatalf("with a policy not processed yet: run %v, %d governed, want no run and 4", run, plan.Governed)
	}
	// Partners 90 days's report lists a and b as in its scope but
	// governed by Just created; c and d only the unread report covers.
	named := "governed by Microsoft lifecycle policy Just created (" + fresh.ID + "): left to Microsoft"
	every := "governed by Microsoft lifecycle policy Just created (" + fresh.ID + "), as every guest is: report of policy Just created (" + fresh.ID + ") not read: no report yet (404"
	want := map[string]string{"a@partner.example": named, "b@partner.example": named, "c@other.example": every, "d@other.example": every}
	for _, d := range plan.Actions {
		if d.Action != foyer.SweepSkip || !strings.HasPrefix(d.Reason, want[d.Guest.Mail]) {
			t.Errorf("%s: %s %q, want skip with %q", d.Guest.Mail, d.Action, d.Reason, want[d.Guest.Mail])
		}
	}
	for mail, id := range ids {
		if dis, del := w.counts(id); dis != 0 || del != 0 {
			t.Errorf("%s governed: %d disables, %d deletes", mail, dis, del)
		}
	}

	if err := w.sim.RemoveLifecyclePolicy(fresh.ID); err != nil {
		t.Fatal(err)
	}
	run, plan, err = w.sweepGoverned(t, lc)
	if err != nil {
		t.Fatal(err)
	}
	if run == nil || plan.Governed != 2 {
		t.Fatalf("with the reports read: run %v, %d governed, want a run and 2", run, plan.Governed)
	}
	byPartners := "governed by Microsoft lifecycle policy Partners 90 days (" + partners.ID + "): left to Microsoft"
	for _, d := range plan.Actions {
		if strings.HasSuffix(d.Guest.Mail, "@partner.example") != (d.Action == foyer.SweepSkip) ||
			d.Action == foyer.SweepSkip && !strings.HasPrefix(d.Reason, byPartners) {
			t.Errorf("%s: %s %q", d.Guest.Mail, d.Action, d.Reason)
		}
	}
	for mail, id := range ids {
		want := 1
		if strings.HasSuffix(mail, "@partner.example") {
			want = 0
		}
		if dis, _ := w.counts(id); dis != want {
			t.Errorf("%s: %d disables, want %d", mail, dis, want)
		}
	}
}

// TestSweepRefusesUnreadablePolicies: an app without
// LifecyclePolicies-Guests.Read.All cannot tell which guests Microsoft
// governs: the sweep refuses (forbidden, the permission named), records
// nothing and writes nothing.
func TestSweepRefusesUnreadablePolicies(t *testing.T) {
	t.Parallel()
	rules := foyer.SweepRules{NoSignInDays: 90}
	w := newSweepWorld(t, rules)
	w.active(t)
	old := w.sim.Now().AddDate(0, 0, -200)
	ids := seedSweepGuests(t, w.sim, staleGuest("a@partner.example", old))
	app, err := w.sim.AddApp(sim.App{DisplayName: "sweeper", Permissions: []string{"User.ReadWrite.All", "AuditLog.Read.All"}})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(w.sim.CAPEM())
	limited, err := graph.New(context.Background(), graph.Options{
		TenantID: w.sim.TenantID(), ClientID: app.ClientID, Cloud: graph.CloudCustom,
		Endpoints:  graph.Endpoints{Authority: w.sim.URL(), Graph: w.sim.URL(), ARM: w.sim.URL(), Exchange: w.sim.URL()},
		RootCAs:    pool,
		Credential: graph.Credential{Type: graph.CredentialClientSecret, SecretEnv: "SECRET"},
		Getenv:     func(string) string { return app.Secret },
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = w.sweepGoverned(t, limited)
	var de *directory.Error
	if !errors.Is(err, directory.ErrForbidden) || !errors.As(err, &de) || de.Permission != "LifecyclePolicies-Guests.Read.All" {
		t.Fatalf("err = %v, want forbidden naming LifecyclePolicies-Guests.Read.All", err)
	}
	if open, err := w.eng.OpenSweep(context.Background(), sweepTenant); err != nil || open != nil {
		t.Fatalf("a refused sweep left a run: %v, %v", open, err)
	}
	if dis, _ := w.counts(ids["a@partner.example"]); dis != 0 {
		t.Fatalf("a refused sweep disabled %d times", dis)
	}
}
