package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/store"
)

// serveScheduled starts an engine in service mode (foyer serve) whose
// tenant sweeps itself daily, at a time of day a minute or two after the
// sim's now: the engine's and River's clock is the system clock moved to
// just before that firing, so that River's scheduler fires it for real.
func serveScheduled(t *testing.T, w *sweepWorld, rules foyer.SweepRules) (*engine.Engine, time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := w.eng.Stop(ctx); err != nil { // serve takes the ledger's lease
		t.Fatal(err)
	}
	fire := w.sim.Now().UTC().Truncate(time.Minute).Add(2 * time.Minute)
	sched, err := cron.ParseStandard(fmt.Sprintf("CRON_TZ=UTC %d %d * * *", fire.Minute(), fire.Hour()))
	if err != nil {
		t.Fatal(err)
	}
	// A margin for the engine to start and be elected leader before the
	// firing (a scheduler that starts after it waits a day), under load.
	clock := shiftedClock{by: time.Until(fire.Add(-15 * time.Second))}
	e := &engine.Engine{Store: w.store, Clock: clock, NewID: w.eng.NewID, Owner: engine.NewOwner("serve"), Workers: 4,
		Tenants: map[string]*engine.Tenant{sweepTenant: {Name: sweepTenant, Dir: w.eng.Dir, Sweep: &rules,
			Lifecycle: &engine.SweepConfig{Rules: rules, Schedule: sched}}},
		Profiles: map[string]*foyer.Profile{}, Service: true, RunPoll: 50 * time.Millisecond, RedemptionEvery: -1,
		ReportWait: time.Millisecond}
	e.SetRiverClock(clock)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop(context.Background()) })
	return e, fire
}

// sweepRuns returns the sweep runs in the ledger.
func sweepRuns(t *testing.T, w *sweepWorld) []*foyer.Run {
	t.Helper()
	var runs []*foyer.Run
	ctx := context.Background()
	err := w.store.InTx(ctx, func(tx store.Tx) error {
		runs = runs[:0]
		return tx.ListRuns(ctx, 0, func(r *foyer.Run) error {
			if r.Kind == foyer.RunSweep {
				runs = append(runs, r)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestSweepScheduledInServe: at its firing, River's scheduler sweeps the
// tenant in the name of "schedule": the sweep is approved and worked by
// serve's jobs, each stale guest disabled once, the active one left alone;
// the schedule fires once.
func TestSweepScheduledInServe(t *testing.T) {
	t.Parallel()
	rules := foyer.SweepRules{NoSignInDays: 90}
	w := newSweepWorld(t, rules)
	active := w.active(t)
	old := w.sim.Now().AddDate(0, 0, -200)
	ids := seedSweepGuests(t, w.sim, staleGuest("a@partner.example", old), staleGuest("b@partner.example", old))
	for _, id := range ids {
		if err := w.sim.SignIn(id, old, true); err != nil {
			t.Fatal(err)
		}
	}
	e, fire := serveScheduled(t, w, rules)
	waitFor(t, "the scheduled sweep finishes", func() bool {
		runs := sweepRuns(t, w)
		return len(runs) > 0 && runs[0].State() == foyer.RunFinished
	})
	if now := e.Clock.Now(); now.Before(fire) {
		t.Errorf("the schedule fired at %s, before its time %s", now, fire)
	}
	// Give the scheduler time to fire again if it would.
	time.Sleep(2 * time.Second)
	runs := sweepRuns(t, w)
	if len(runs) != 1 {
		t.Fatalf("%d sweep runs, want 1", len(runs))
	}
	if r := runs[0]; r.RecordedBy != engine.ScheduleActor || r.ApprovedBy != engine.ScheduleActor {
		t.Errorf("sweep recorded by %q, approved by %q; want both by %q", r.RecordedBy, r.ApprovedBy, engine.ScheduleActor)
	}
	w.noChange(t, ids["a@partner.example"], 1, 0)
	w.noChange(t, ids["b@partner.example"], 1, 0)
	w.noChange(t, active, 0, 0)
}

// TestSweepScheduledHeldByCap: a scheduled sweep beyond the cap is
// recorded and held, nothing disabled; the next firing, while it is held,
// plans nothing new.
func TestSweepScheduledHeldByCap(t *testing.T) {
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
	e, _ := serveScheduled(t, w, rules)
	ctx := context.Background()
	waitFor(t, "the scheduled sweep is recorded", func() bool { return len(sweepRuns(t, w)) > 0 })
	time.Sleep(time.Second) // what a wrongly approved sweep would do, it does now
	runs := sweepRuns(t, w)
	if len(runs) != 1 || runs[0].State() != foyer.RunPlanned || !runs[0].Saved {
		t.Fatalf("runs %+v; want one held sweep", runs)
	}
	if runs[0].RecordedBy != engine.ScheduleActor {
		t.Errorf("recorded by %q, want %q", runs[0].RecordedBy, engine.ScheduleActor)
	}
	w.noChange(t, ids["a@partner.example"], 0, 0)
	w.noChange(t, ids["b@partner.example"], 0, 0)
	// Another firing while the sweep is held records nothing.
	if run, err := e.ScheduledSweep(ctx, sweepTenant); err != nil || run != nil {
		t.Fatalf("a firing beside a held sweep: %+v, %v; want nothing", run, err)
	}
	if runs := sweepRuns(t, w); len(runs) != 1 {
		t.Fatalf("%d sweep runs after a second firing, want 1", len(runs))
	}
}
