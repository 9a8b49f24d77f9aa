package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var stepsCases = []testCase{
	{"Lifecycle", testStepLifecycle},
	{"Errors", testStepErrors},
}

func startStep(t *testing.T, s store.Store, req, name string) (prev store.Step, now time.Time) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		now = tx.Now()
		prev, err = tx.StartStep(ctx, req, name)
		return err
	})
	return prev, now
}

func steps(t *testing.T, s store.Store, req string) []store.Step {
	t.Helper()
	var got []store.Step
	inTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		got, err = tx.RequestSteps(ctx, req)
		return err
	})
	return got
}

func testStepLifecycle(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@example.com", "partners"))

	prev, t1 := startStep(t, s, "req-1", "invite")
	if !reflect.DeepEqual(prev, store.Step{}) {
		t.Errorf("first StartStep returned %+v, want the zero Step", prev)
	}
	started := store.Step{RequestID: "req-1", Name: "invite", State: store.StepStarted, Attempts: 1, StartedAt: t1}
	if got := steps(t, s, "req-1"); !reflect.DeepEqual(got, []store.Step{started}) {
		t.Errorf("RequestSteps = %+v, want %+v", got, []store.Step{started})
	}

	// A second start (the first attempt's outcome is unknown) returns the
	// started step and counts the attempt.
	prev, t2 := startStep(t, s, "req-1", "invite")
	if !reflect.DeepEqual(prev, started) {
		t.Errorf("StartStep again returned %+v, want the started step %+v", prev, started)
	}
	startStep(t, s, "req-1", "grant group:g1")

	var t3 time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		t3 = tx.Now()
		return tx.FinishStep(ctx, store.Step{RequestID: "req-1", Name: "invite", State: store.StepDone, Result: "u-1", GraphID: "g-req-1"})
	})
	done := store.Step{RequestID: "req-1", Name: "invite", State: store.StepDone, Attempts: 2, StartedAt: t2,
		FinishedAt: t3, Result: "u-1", GraphID: "g-req-1"}
	got := steps(t, s, "req-1")
	if len(got) != 2 || !reflect.DeepEqual(got[0], done) || got[1].Name != "grant group:g1" {
		t.Errorf("RequestSteps = %+v, want the done invite %+v then the grant, in the order they first started", got, done)
	}

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.FinishStep(ctx, store.Step{RequestID: "req-1", Name: "grant group:g1", State: store.StepFailed, GraphID: "g-req-2", Error: "no such group"})
	})
	prev, t4 := startStep(t, s, "req-1", "grant group:g1")
	if prev.State != store.StepFailed || prev.Error != "no such group" || prev.GraphID != "g-req-2" || prev.Attempts != 1 {
		t.Errorf("StartStep after a failure returned %+v, want the failed step with its error", prev)
	}
	got = steps(t, s, "req-1")
	again := store.Step{RequestID: "req-1", Name: "grant group:g1", State: store.StepStarted, Attempts: 2, StartedAt: t4}
	if len(got) != 2 || !reflect.DeepEqual(got[1], again) {
		t.Errorf("after a new attempt RequestSteps = %+v, want the grant started afresh %+v", got, again)
	}
	if got := steps(t, s, "req-2"); len(got) != 0 {
		t.Errorf("RequestSteps of a request with none = %+v, want none", got)
	}
}

func testStepErrors(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@example.com", "partners"))
	startStep(t, s, "req-1", "invite")
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.StartStep(ctx, "req-9", "invite")
		wantCode(t, "StartStep of an unknown request", err, foyer.ENOTFOUND)
		_, err = tx.StartStep(ctx, "req-1", "")
		wantCode(t, "StartStep without a name", err, foyer.EINVALID)
		err = tx.FinishStep(ctx, store.Step{RequestID: "req-1", Name: "grant x", State: store.StepDone})
		wantCode(t, "FinishStep of a step never started", err, foyer.ENOTFOUND)
		err = tx.FinishStep(ctx, store.Step{RequestID: "req-1", Name: "invite", State: store.StepStarted})
		wantCode(t, "FinishStep as started", err, foyer.EINVALID)
		must(t, "FinishStep", tx.FinishStep(ctx, store.Step{RequestID: "req-1", Name: "invite", State: store.StepDone}))
		err = tx.FinishStep(ctx, store.Step{RequestID: "req-1", Name: "invite", State: store.StepFailed})
		wantCode(t, "FinishStep of a finished step", err, foyer.ECONFLICT)
		return nil
	})
	if got := steps(t, s, "req-1"); len(got) != 1 || got[0].State != store.StepDone {
		t.Errorf("RequestSteps = %+v, want the one done step", got)
	}
}
