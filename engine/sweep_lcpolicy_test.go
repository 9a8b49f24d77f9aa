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

// TestSweepLeavesGovernedGuestsToMicrosoft: while an enabled guest
// lifecycle policy exists, the stale guests are planned as skip with the
// policy named, nothing is recorded and the sim counts no disable; a
// disabled policy governs nobody; once the policy is gone the same guests
// are disabled, once each.
func TestSweepLeavesGovernedGuestsToMicrosoft(t *testing.T) {
	t.Parallel()
	rules := foyer.SweepRules{NoSignInDays: 90}
	w := newSweepWorld(t, rules)
	w.active(t)
	old := w.sim.Now().AddDate(0, 0, -200)
	ids := seedSweepGuests(t, w.sim, staleGuest("a@partner.example", old), staleGuest("b@partner.example", old))
	lc := w.eng.Dir.(directory.Lifecycle)
	if _, err := w.sim.AddLifecyclePolicy(sim.LifecyclePolicy{DisplayName: "Paused policy", IsEnabled: false}); err != nil {
		t.Fatal(err)
	}
	p, err := w.sim.AddLifecyclePolicy(sim.LifecyclePolicy{DisplayName: "Partners 90 days", IsEnabled: true,
		ScopeType: "#microsoft.graph.identityGovernance.allExcludingGroupsSubjectSet"})
	if err != nil {
		t.Fatal(err)
	}

	run, plan, err := w.sweepGoverned(t, lc)
	if err != nil {
		t.Fatal(err)
	}
	if run != nil {
		t.Fatalf("a sweep of governed guests only recorded run %s", run.ID)
	}
	if plan.Governed != 2 || plan.CapExceeded {
		t.Fatalf("plan governed %d (cap exceeded %v), want 2", plan.Governed, plan.CapExceeded)
	}
	want := "governed by Microsoft lifecycle policy Partners 90 days (" + p.ID + ")"
	for _, d := range plan.Actions {
		if d.Action != foyer.SweepSkip || !strings.Contains(d.Reason, want) {
			t.Errorf("%s: %s %q, want skip with %q", d.Guest.Mail, d.Action, d.Reason, want)
		}
	}
	for mail, id := range ids {
		if dis, del := w.counts(id); dis != 0 || del != 0 {
			t.Errorf("%s governed: %d disables, %d deletes", mail, dis, del)
		}
	}

	if err := w.sim.RemoveLifecyclePolicy(p.ID); err != nil {
		t.Fatal(err)
	}
	run, plan, err = w.sweepGoverned(t, lc)
	if err != nil {
		t.Fatal(err)
	}
	if run == nil || plan.Governed != 0 {
		t.Fatalf("without an enabled policy: run %v, governed %d", run, plan.Governed)
	}
	for mail, id := range ids {
		if dis, _ := w.counts(id); dis != 1 {
			t.Errorf("%s after the policy went: %d disables, want 1", mail, dis)
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
