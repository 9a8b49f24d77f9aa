package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/store"
)

// TestSweepReleasedInServe: a sweep the cap held is released from the
// approver UI in the signed-in admin's name, and an engine in service mode
// that carries the tenant's lifecycle rules (foyer serve) works it as a
// run job: the stale guests are disabled once, and the release and the
// approval are audited under the admin's name. One without the rules
// refuses the release; a held sweep is discarded the same way.
func TestSweepReleasedInServe(t *testing.T) {
	t.Parallel()
	rules := foyer.SweepRules{NoSignInDays: 90, Cap: foyer.SweepCap{Max: 1}}
	w := newSweepWorld(t, rules)
	w.active(t)
	old := w.sim.Now().AddDate(0, 0, -200)
	ids := seedSweepGuests(t, w.sim, staleGuest("a@partner.example", old), staleGuest("b@partner.example", old))
	for _, id := range ids {
		if err := w.sim.SignIn(id, old, true); err != nil {
			t.Fatal(err)
		}
	}
	run, plan := w.sweep(t, nil)
	if !plan.CapExceeded || !run.Saved {
		t.Fatalf("want a held sweep, got %+v", plan)
	}
	ctx := context.Background()
	if err := w.eng.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	serve := func(rules *foyer.SweepRules) *engine.Engine {
		e := &engine.Engine{Store: w.store, Clock: w.eng.Clock, NewID: w.eng.NewID, Owner: engine.NewOwner("serve"), Workers: 4,
			Tenants:  map[string]*engine.Tenant{sweepTenant: {Name: sweepTenant, Dir: w.eng.Dir, Sweep: rules}},
			Profiles: map[string]*foyer.Profile{}, Service: true, RunPoll: 50 * time.Millisecond, RedemptionEvery: -1,
			ReportWait: time.Millisecond}
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return e
	}
	admin := foyer.Principal{ID: "oid-root", UPN: "root@contoso.example"}

	bare := serve(nil)
	if _, err := bare.ReleaseSweepAs(ctx, run.ID, admin); foyer.ErrorCode(err) != foyer.ECONFLICT {
		t.Fatalf("release without rules: %v, want ECONFLICT", err)
	}
	if err := bare.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	e := serve(&rules)
	t.Cleanup(func() { _ = e.Stop(context.Background()) })
	if _, err := e.ApproveRunAs(ctx, run.ID, admin); foyer.ErrorCode(err) != foyer.ECONFLICT {
		t.Fatalf("a held sweep approved as a plan: %v", err)
	}
	if _, err := e.ReleaseSweepAs(ctx, run.ID, admin); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := e.Run(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.State() == foyer.RunFinished {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the released sweep is %s after 30 s, want finished", r.State())
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.noChange(t, ids["a@partner.example"], 1, 0)
	w.noChange(t, ids["b@partner.example"], 1, 0)
	by := map[string]string{}
	err := w.store.InTx(ctx, func(tx store.Tx) error {
		return tx.AuditLog(ctx, store.AuditFilter{RunID: run.ID}, func(a store.AuditEntry) error {
			if a.Op == "release sweep" || a.Op == "approve plan" {
				by[a.Op] = a.Actor
			}
			return nil
		})
	})
	if err != nil || by["release sweep"] != admin.UPN || by["approve plan"] != admin.UPN {
		t.Fatalf("audit of the release: %v, %v; want both in %s's name", by, err, admin.UPN)
	}

	// The next held sweep is discarded from the UI in the admin's name.
	w.days(1)
	ids = seedSweepGuests(t, w.sim, staleGuest("c@partner.example", old), staleGuest("d@partner.example", old))
	for _, id := range ids {
		if err := w.sim.SignIn(id, old, true); err != nil {
			t.Fatal(err)
		}
	}
	guests, err := e.Tenants[sweepTenant].Dir.GuestActivity(ctx, w.since())
	if err != nil {
		t.Fatal(err)
	}
	plan2, h, err := e.PlanSweep(ctx, sweepTenant, rules, guests, nil)
	if err != nil {
		t.Fatal(err)
	}
	held, err := e.RecordSweep(ctx, sweepTenant, plan2, h, "cli:ops@host")
	if err != nil || held == nil || !held.Saved {
		t.Fatalf("second sweep: %+v, %v; want held", held, err)
	}
	if err := e.DiscardRunAs(ctx, held.ID, admin); err != nil {
		t.Fatal(err)
	}
	if r, err := e.Run(ctx, held.ID); err != nil || r.State() != foyer.RunDiscarded {
		t.Fatalf("discarded sweep is %v (%v)", r.State(), err)
	}
	w.noChange(t, ids["c@partner.example"], 0, 0)
}
