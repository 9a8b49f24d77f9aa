package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var tallyCases = []testCase{
	{"Empty", testTallyEmpty},
	{"Counts", testTallyCounts},
}

func tally(t *testing.T, s store.Store) store.Tally {
	t.Helper()
	var tl store.Tally
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		tl, err = tx.Tally(ctx)
		return err
	})
	return tl
}

// testTallyEmpty: an empty ledger counts nothing, in maps that are not nil.
func testTallyEmpty(t *testing.T, s store.Store) {
	tl := tally(t, s)
	if tl.Runs == nil || tl.Rows == nil || tl.Requests == nil || len(tl.Runs)+len(tl.Rows)+len(tl.Requests) != 0 {
		t.Errorf("Tally of an empty ledger = %+v, want three empty maps", tl)
	}
}

// testTallyCounts: runs in each state, named as foyer.Run.State names them;
// rows by result from the finished runs' summaries and the rows of the
// runs being applied (none from runs planned or discarded); requests by
// state.
func testTallyCounts(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, id := range []string{"recording", "planned", "applying", "finished", "discarded", "discarded-rows"} {
			r := newRun(id, id)
			if id == "finished" {
				r.Tenant = "fabrikam" // the others are contoso's
			}
			must(t, "CreateRun "+id, tx.CreateRun(ctx, r))
			must(t, "PutRunRows "+id, tx.PutRunRows(ctx, id, sampleRows()))
			if id != "recording" {
				must(t, "SealRun "+id, tx.SealRun(ctx, id))
			}
		}
		must(t, "ApproveRun", tx.ApproveRun(ctx, "applying", "ann"))
		must(t, "ApproveRun", tx.ApproveRun(ctx, "finished", "ann"))
		must(t, "DiscardRun", tx.DiscardRun(ctx, "discarded"))
		must(t, "DiscardRun", tx.DiscardRun(ctx, "discarded-rows"))
		// The run being applied: one row invited, one skipped, one without
		// a result yet.
		rows := sampleRows()
		rows[1].Result, rows[1].UserID = foyer.ResultInvited, "u-1"
		rows[0].Result = foyer.ResultSkipped
		must(t, "UpdateRunRow", tx.UpdateRunRow(ctx, "applying", rows[1]))
		must(t, "UpdateRunRow", tx.UpdateRunRow(ctx, "applying", rows[0]))
		// A discarded run's rows are not counted, whatever they hold.
		must(t, "UpdateRunRow", tx.UpdateRunRow(ctx, "discarded-rows", rows[1]))
		// A finished run counts from its summary, not its rows.
		var sum foyer.Summary
		sum.Add(foyer.ActionInvite, foyer.ResultFailed, 2)
		sum.Add(foyer.ActionInvite, foyer.ResultInvited, 5)
		return tx.FinishRun(ctx, "finished", sum)
	})
	approved := newRequest(t, "req-2", "bo@example.com", "partners")
	approved.State = foyer.StateApproved
	createRequests(t, s, newRequest(t, "req-1", "ann@example.com", "partners"), approved,
		newRequest(t, "req-3", "cy@example.com", "vendors"))

	got := tally(t, s)
	want := store.Tally{
		Runs: map[foyer.RunState]int{foyer.RunRecording: 1, foyer.RunPlanned: 1, foyer.RunApplying: 1,
			foyer.RunFinished: 1, foyer.RunDiscarded: 2},
		Rows:     map[foyer.Result]int{foyer.ResultInvited: 6, foyer.ResultSkipped: 1, foyer.ResultFailed: 2},
		Requests: map[foyer.State]int{foyer.StateReceived: 2, foyer.StateApproved: 1},
		Tenants: map[string]store.TenantTally{
			"contoso": {
				Runs: map[foyer.RunState]int{foyer.RunRecording: 1, foyer.RunPlanned: 1, foyer.RunApplying: 1, foyer.RunDiscarded: 2},
				Rows: map[foyer.Result]int{foyer.ResultInvited: 1, foyer.ResultSkipped: 1},
			},
			"fabrikam": {
				Runs: map[foyer.RunState]int{foyer.RunFinished: 1},
				Rows: map[foyer.Result]int{foyer.ResultInvited: 5, foyer.ResultFailed: 2},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Tally =\n%+v\nwant\n%+v", got, want)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, id := range []string{"recording", "planned", "applying", "finished", "discarded"} {
			r, err := tx.Run(ctx, id)
			must(t, "Run "+id, err)
			if string(r.State()) != id {
				t.Errorf("run %s is %s by foyer.Run.State; the tally must name states the same way", id, r.State())
			}
		}
		return nil
	})
}
