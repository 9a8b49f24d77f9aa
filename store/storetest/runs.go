package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var runsCases = []testCase{
	{"CreateAndRead", testRunCreate},
	{"OpenRun", testOpenRun},
	{"RunIDs", testRunIDs},
	{"Finish", testRunFinish},
	{"SealAndDelete", testRunSealAndDelete},
	{"Rows", testRunRows},
	{"RowsManyPages", testRunRowsPages},
	{"EachRunRow", testEachRunRow},
	{"Summary", testRunSummary},
	{"Lifecycle", testRunLifecycle},
	{"List", testRunList},
	{"Reports", testReports},
}

func newRun(id, digest string) *foyer.Run {
	return &foyer.Run{ID: id, Kind: foyer.RunApply, Profile: "partners", Tenant: "contoso", Source: "guests.csv", Digest: digest,
		RecordedBy: "ann@contoso.example"}
}

func testRunCreate(t *testing.T, s store.Store) {
	r := newRun("run-1", "d1")
	var now time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		now = tx.Now()
		return tx.CreateRun(ctx, r)
	})
	if !r.StartedAt.Equal(now) {
		t.Errorf("CreateRun set StartedAt %v, want the transaction's time %v", r.StartedAt, now)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.Run(ctx, "run-1")
		must(t, "Run", err)
		if !reflect.DeepEqual(got, r) {
			t.Errorf("Run = %+v, want %+v", got, r)
		}
		if got.Tenant != "contoso" {
			t.Errorf("Run's tenant = %q, want contoso", got.Tenant)
		}
		_, err = tx.Run(ctx, "run-2")
		wantCode(t, "Run of an unknown id", err, foyer.ENOTFOUND)
		// A run that names no tenant (recorded before runs named theirs)
		// reads back without one.
		old := newRun("run-old", "d0")
		old.Tenant = ""
		must(t, "CreateRun without tenant", tx.CreateRun(ctx, old))
		got, err = tx.Run(ctx, "run-old")
		must(t, "Run", err)
		if got.Tenant != "" {
			t.Errorf("a run created without a tenant reads back with tenant %q", got.Tenant)
		}
		wantCode(t, "CreateRun with an id in use", tx.CreateRun(ctx, newRun("run-1", "d2")), foyer.ECONFLICT)
		wantCode(t, "CreateRun without id", tx.CreateRun(ctx, newRun("", "d2")), foyer.EINVALID)
		wantCode(t, "CreateRun of nil", tx.CreateRun(ctx, nil), foyer.EINVALID)
		return nil
	})
}

func testRunIDs(t *testing.T, s store.Store) {
	ids := []string{"7f3a0c1e-1", "7f3a0c1e-2", "7f3b9d20-1", "a100", "A100", "run_%1"}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, id := range ids {
			must(t, "CreateRun", tx.CreateRun(ctx, newRun(id, "d")))
		}
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, tt := range []struct {
			prefix string
			limit  int
			want   []string
		}{
			{"7f3a", 10, []string{"7f3a0c1e-1", "7f3a0c1e-2"}},
			{"7f3", 10, []string{"7f3a0c1e-1", "7f3a0c1e-2", "7f3b9d20-1"}},
			{"7f3", 2, []string{"7f3a0c1e-1", "7f3a0c1e-2"}},
			{"7f3b9d20-1", 10, []string{"7f3b9d20-1"}},
			{"7f3b9d20-12", 10, nil},
			{"a1", 10, []string{"a100"}}, // prefixes are compared as written
			{"run_", 10, []string{"run_%1"}},
			{"run%", 10, nil}, // no wildcards
			{"r_n", 10, nil},
			{"0", 10, nil},
		} {
			got, err := tx.RunIDs(ctx, tt.prefix, tt.limit)
			must(t, "RunIDs", err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("RunIDs(%q, %d) = %q, want %q", tt.prefix, tt.limit, got, tt.want)
			}
		}
		_, err := tx.RunIDs(ctx, "7f", 0)
		wantCode(t, "RunIDs with limit 0", err, foyer.EINVALID)
		return nil
	})
}

func testOpenRun(t *testing.T, s store.Store) {
	older, newer, other := newRun("older", "d1"), newRun("newer", "d1"), newRun("other", "d2")
	for _, r := range []*foyer.Run{older, newer, other} {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			must(t, "CreateRun", tx.CreateRun(ctx, r))
			return tx.SealRun(ctx, r.ID)
		})
	}
	open := func(ctx context.Context, tx store.Tx) string {
		r, err := tx.OpenRun(ctx, foyer.RunApply, "partners", "d1")
		if foyer.ErrorCode(err) == foyer.ENOTFOUND {
			return ""
		}
		must(t, "OpenRun", err)
		return r.ID
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if got := open(ctx, tx); got != "newer" {
			t.Errorf("OpenRun = %q, want the newest open run, newer", got)
		}
		for _, q := range []struct {
			kind            foyer.RunKind
			profile, digest string
		}{{foyer.RunRevoke, "partners", "d1"}, {foyer.RunApply, "vendors", "d1"}, {foyer.RunApply, "partners", "d3"}} {
			_, err := tx.OpenRun(ctx, q.kind, q.profile, q.digest)
			wantCode(t, fmt.Sprintf("OpenRun(%s, %s, %s)", q.kind, q.profile, q.digest), err, foyer.ENOTFOUND)
		}
		// A discarded plan is not open.
		return tx.DiscardRun(ctx, "newer")
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if got := open(ctx, tx); got != "older" {
			t.Errorf("OpenRun after discarding newer = %q, want older", got)
		}
		must(t, "ApproveRun", tx.ApproveRun(ctx, "older", "test"))
		return tx.FinishRun(ctx, "older", foyer.Summary{})
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if got := open(ctx, tx); got != "" {
			t.Errorf("OpenRun with every run finished = %q, want ENOTFOUND", got)
		}
		return nil
	})
}

func testRunFinish(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("run-1", "d")))
		wantCode(t, "FinishRun before SealRun", tx.FinishRun(ctx, "run-1", foyer.Summary{}), foyer.ECONFLICT)
		must(t, "SealRun", tx.SealRun(ctx, "run-1"))
		wantCode(t, "FinishRun before ApproveRun", tx.FinishRun(ctx, "run-1", foyer.Summary{}), foyer.ECONFLICT)
		return tx.ApproveRun(ctx, "run-1", "ann@contoso.example")
	})
	sum := foyer.Summary{Rows: 3,
		Actions: map[foyer.Action]int{foyer.ActionInvite: 2, foyer.ActionSkip: 1},
		Results: map[foyer.Result]int{foyer.ResultInvited: 1, foyer.ResultFailed: 1}}
	var finished time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		finished = tx.Now()
		return tx.FinishRun(ctx, "run-1", sum)
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		r, err := tx.Run(ctx, "run-1")
		must(t, "Run", err)
		if !r.FinishedAt.Equal(finished) {
			t.Errorf("FinishedAt = %v, want %v", r.FinishedAt, finished)
		}
		if !reflect.DeepEqual(r.Summary, sum) {
			t.Errorf("Summary = %+v, want %+v", r.Summary, sum)
		}
		wantCode(t, "FinishRun twice", tx.FinishRun(ctx, "run-1", sum), foyer.ECONFLICT)
		wantCode(t, "FinishRun of an unknown run", tx.FinishRun(ctx, "run-2", sum), foyer.ENOTFOUND)
		return nil
	})
}

func sampleRows() []foyer.Row {
	return []foyer.Row{
		{Line: 4, Email: "d@example.com", DisplayName: "D", Action: foyer.ActionDuplicate, Reason: "same as line 2"},
		{Line: 2, Email: "Ann@example.com", DisplayName: "Ann", GivenName: "Ann", Surname: "Lee", Company: "Acme",
			Profile: "partners", RedirectURL: "https://app.example.com", Message: "Welcome", SendEmail: "false",
			Action: foyer.ActionInvite, Reason: "new", Grants: []string{"group A", "app B/role"}},
		{Line: 3, Raw: "not an address", Action: foyer.ActionInvalid, Reason: "address has no @"},
	}
}

func readRows(t *testing.T, ctx context.Context, tx store.Tx, runID string) []foyer.Row {
	t.Helper()
	var got []foyer.Row
	must(t, "RunRows", tx.RunRows(ctx, runID, 0, func(r foyer.Row) error { got = append(got, r); return nil }))
	return got
}

// testRunSealAndDelete: a run is recorded unsealed, OpenRun still finds it
// (its caller deletes it), SealRun seals it once, and a sealed run cannot be
// deleted.
func testRunSealAndDelete(t *testing.T, s store.Store) {
	var created, sealed time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		created = tx.Now()
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("cut", "d")))
		must(t, "PutRunRows", tx.PutRunRows(ctx, "cut", sampleRows()))
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("whole", "d")))
		return tx.PutRunRows(ctx, "whole", sampleRows())
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		sealed = tx.Now()
		r, err := tx.OpenRun(ctx, foyer.RunApply, "partners", "d")
		must(t, "OpenRun", err)
		if r.ID != "whole" || !r.SealedAt.IsZero() {
			t.Errorf("OpenRun = %s sealed at %v, want the newest, whole, not sealed", r.ID, r.SealedAt)
		}
		return tx.SealRun(ctx, "whole")
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		r, err := tx.Run(ctx, "whole")
		must(t, "Run", err)
		if !r.SealedAt.Equal(sealed) || !r.StartedAt.Equal(created) {
			t.Errorf("sealed run: started %v, sealed %v; want %v, %v", r.StartedAt, r.SealedAt, created, sealed)
		}
		wantCode(t, "SealRun twice", tx.SealRun(ctx, "whole"), foyer.ECONFLICT)
		wantCode(t, "SealRun of an unknown run", tx.SealRun(ctx, "nope"), foyer.ENOTFOUND)
		wantCode(t, "DeleteRun of a sealed run", tx.DeleteRun(ctx, "whole"), foyer.ECONFLICT)
		wantCode(t, "DeleteRun of an unknown run", tx.DeleteRun(ctx, "nope"), foyer.ENOTFOUND)
		must(t, "DeleteRun", tx.DeleteRun(ctx, "cut"))
		_, err = tx.Run(ctx, "cut")
		wantCode(t, "Run after DeleteRun", err, foyer.ENOTFOUND)
		wantCode(t, "RunRows after DeleteRun", tx.RunRows(ctx, "cut", 0, func(foyer.Row) error { return nil }), foyer.ENOTFOUND)
		if got := readRows(t, ctx, tx, "whole"); len(got) != len(sampleRows()) {
			t.Errorf("DeleteRun of another run took rows of the sealed one: %d left, want %d", len(got), len(sampleRows()))
		}
		return nil
	})
	// A run of the same id can be recorded again after it was deleted.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateRun(ctx, newRun("cut", "d")) })
}

func testRunRows(t *testing.T, s store.Store) {
	rows := sampleRows()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("run-1", "d")))
		return tx.PutRunRows(ctx, "run-1", rows)
	})
	want := []foyer.Row{rows[1], rows[2], rows[0]}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if got := readRows(t, ctx, tx, "run-1"); !reflect.DeepEqual(got, want) {
			t.Errorf("RunRows =\n%+v\nwant, in line order,\n%+v", got, want)
		}
		// The same line again replaces the row.
		want[2] = foyer.Row{Line: 4, Email: "e@example.com", Action: foyer.ActionExists, Reason: "a guest already",
			UserID: "u-4", GuestState: "Accepted"}
		must(t, "PutRunRows again", tx.PutRunRows(ctx, "run-1", want[2:]))
		// UpdateRunRow writes the result fields.
		want[0].Result, want[0].UserID, want[0].Grants, want[0].Error = foyer.ResultFailed, "u-1", []string{"group A"}, "quota"
		must(t, "UpdateRunRow", tx.UpdateRunRow(ctx, "run-1", want[0]))
		wantCode(t, "UpdateRunRow of a missing line", tx.UpdateRunRow(ctx, "run-1", foyer.Row{Line: 9}), foyer.ENOTFOUND)
		wantCode(t, "UpdateRunRow of a missing run", tx.UpdateRunRow(ctx, "run-2", foyer.Row{Line: 2}), foyer.ENOTFOUND)
		wantCode(t, "PutRunRows with line 0", tx.PutRunRows(ctx, "run-1", []foyer.Row{{Line: 0}}), foyer.EINVALID)
		wantCode(t, "PutRunRows of a missing run", tx.PutRunRows(ctx, "run-2", rows), foyer.ENOTFOUND)
		wantCode(t, "RunRows of a missing run", tx.RunRows(ctx, "run-2", 0, func(foyer.Row) error { return nil }), foyer.ENOTFOUND)
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if got := readRows(t, ctx, tx, "run-1"); !reflect.DeepEqual(got, want) {
			t.Errorf("RunRows after replace and update =\n%+v\nwant\n%+v", got, want)
		}
		return nil
	})
}

// testRunRowsPages checks order across pages and that fn may use the
// transaction while rows are being read.
func testRunRowsPages(t *testing.T, s store.Store) {
	const n = 1001 // two full pages of 500 and one row, the page size of both backends
	rows := make([]foyer.Row, n)
	for i := range rows {
		line := n + 1 - i // written backwards
		rows[i] = foyer.Row{Line: line, Email: foyer.Address(fmt.Sprintf("p%d@example.com", line)), Action: foyer.ActionInvite}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("run-1", "d")))
		return tx.PutRunRows(ctx, "run-1", rows)
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		next := 2
		err := tx.RunRows(ctx, "run-1", 0, func(r foyer.Row) error {
			if r.Line != next {
				return fmt.Errorf("got line %d, want %d", r.Line, next)
			}
			next++
			r.Result = foyer.ResultInvited
			return tx.UpdateRunRow(ctx, "run-1", r)
		})
		must(t, "RunRows with writes in fn", err)
		if next != n+2 {
			t.Errorf("RunRows stopped before line %d, want all %d rows", next, n)
		}
		sum, err := tx.RunSummary(ctx, "run-1")
		must(t, "RunSummary", err)
		if sum.Results[foyer.ResultInvited] != n {
			t.Errorf("after updating every row, %d are invited, want %d", sum.Results[foyer.ResultInvited], n)
		}
		// Starting after a line in the middle of a page reads the rest only.
		for _, after := range []int{0, 1, 2, 501, 777, n, n + 1} {
			first, count := 0, 0
			must(t, "RunRows after a line", tx.RunRows(ctx, "run-1", after, func(r foyer.Row) error {
				if count == 0 {
					first = r.Line
				}
				count++
				return nil
			}))
			wantFirst, wantCount := max(after+1, 2), n+1-max(after, 1)
			if wantCount <= 0 {
				wantFirst, wantCount = 0, 0
			}
			if first != wantFirst || count != wantCount {
				t.Errorf("RunRows after %d: %d rows from line %d, want %d from line %d", after, count, first, wantCount, wantFirst)
			}
		}
		stop := fmt.Errorf("stop")
		calls := 0
		err = tx.RunRows(ctx, "run-1", 0, func(foyer.Row) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Errorf("RunRows with fn failing: err %v after %d calls, want fn's error after 1", err, calls)
		}
		return nil
	})
}

// testEachRunRow reads a run of more than two of EachRunRow's pages, and
// stops at fn's error.
func testEachRunRow(t *testing.T, s store.Store) {
	const n = 2001
	rows := make([]foyer.Row, n)
	for i := range rows {
		rows[i] = foyer.Row{Line: i + 2, Email: foyer.Address(fmt.Sprintf("p%d@example.com", i)), Action: foyer.ActionInvite}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("run-1", "d")))
		return tx.PutRunRows(ctx, "run-1", rows)
	})
	ctx := context.Background()
	next := 2
	must(t, "EachRunRow", store.EachRunRow(ctx, s, "run-1", func(r foyer.Row) error {
		if r.Line != next {
			return fmt.Errorf("got line %d, want %d", r.Line, next)
		}
		next++
		return nil
	}))
	if next != n+2 {
		t.Errorf("EachRunRow stopped before line %d, want all %d rows", next, n)
	}
	stop := fmt.Errorf("stop")
	calls := 0
	if err := store.EachRunRow(ctx, s, "run-1", func(foyer.Row) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("EachRunRow with fn failing: err %v after %d calls, want fn's error after 1", err, calls)
	}
	err := store.EachRunRow(ctx, s, "run-2", func(foyer.Row) error { return nil })
	if foyer.ErrorCode(err) != foyer.ENOTFOUND {
		t.Errorf("EachRunRow of a missing run: %v, want ENOTFOUND", err)
	}

	// ReadRunRows keeps what keep accepts, stops at the limit, and says
	// where it stopped. Lines run from 2 to n+1; keep the multiples of 700.
	every700 := func(r foyer.Row) bool { return r.Line%700 == 0 }
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		rows, last, end, err := store.ReadRunRows(ctx, tx, "run-1", 0, 2, every700)
		must(t, "ReadRunRows", err)
		if len(rows) != 2 || rows[0].Line != 700 || rows[1].Line != 1400 || last != 1400 || end {
			t.Errorf("ReadRunRows(after 0, limit 2) = %d rows, last %d, end %v; want lines 700 and 1400, last 1400, not the end", len(rows), last, end)
		}
		rows, last, end, err = store.ReadRunRows(ctx, tx, "run-1", last, 2, every700)
		must(t, "ReadRunRows", err)
		if len(rows) != 0 || last != n+1 || !end {
			t.Errorf("ReadRunRows(after 1400) = %d rows, last %d, end %v; want none, last %d, the end", len(rows), last, end, n+1)
		}
		_, _, _, err = store.ReadRunRows(ctx, tx, "run-2", 0, 2, nil)
		wantCode(t, "ReadRunRows of a missing run", err, foyer.ENOTFOUND)
		return nil
	})
}

func testRunSummary(t *testing.T, s store.Store) {
	rows := sampleRows()
	rows = append(rows, foyer.Row{Line: 5, Email: "f@example.com", Action: foyer.ActionInvite})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("run-1", "d")))
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("empty", "d")))
		must(t, "PutRunRows", tx.PutRunRows(ctx, "run-1", rows))
		rows[1].Result = foyer.ResultInvited
		rows[2].Result = foyer.ResultSkipped
		must(t, "UpdateRunRow", tx.UpdateRunRow(ctx, "run-1", rows[1]))
		return tx.UpdateRunRow(ctx, "run-1", rows[2])
	})
	var want foyer.Summary
	for _, r := range rows {
		want.Count(r)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.RunSummary(ctx, "run-1")
		must(t, "RunSummary", err)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("RunSummary = %+v, want what foyer.Summary.Count gives, %+v", got, want)
		}
		r, err := tx.Run(ctx, "run-1")
		must(t, "Run", err)
		if !reflect.DeepEqual(r.Summary, want) {
			t.Errorf("Run of an open run has Summary %+v, want it counted from its rows, %+v", r.Summary, want)
		}
		got, err = tx.RunSummary(ctx, "empty")
		must(t, "RunSummary of an empty run", err)
		if !reflect.DeepEqual(got, foyer.Summary{}) {
			t.Errorf("RunSummary of an empty run = %+v, want the zero Summary", got)
		}
		_, err = tx.RunSummary(ctx, "run-2")
		wantCode(t, "RunSummary of a missing run", err, foyer.ENOTFOUND)

		// Rows 0 and 3 have no result; 1 and 2 have one.
		n, err := tx.PendingRunRows(ctx, "run-1")
		must(t, "PendingRunRows", err)
		if n != 2 {
			t.Errorf("PendingRunRows = %d, want 2", n)
		}
		rows[3].Result = foyer.ResultFailed
		must(t, "UpdateRunRow", tx.UpdateRunRow(ctx, "run-1", rows[3]))
		if n, err = tx.PendingRunRows(ctx, "run-1"); err != nil || n != 1 {
			t.Errorf("PendingRunRows after one more result = %d, %v; want 1", n, err)
		}
		if n, err = tx.PendingRunRows(ctx, "empty"); err != nil || n != 0 {
			t.Errorf("PendingRunRows of an empty run = %d, %v; want 0", n, err)
		}
		_, err = tx.PendingRunRows(ctx, "run-2")
		wantCode(t, "PendingRunRows of a missing run", err, foyer.ENOTFOUND)
		return nil
	})
}

// testRunLifecycle: a plan is recorded, sealed, then approved or discarded;
// each move is allowed once, in that order.
func testRunLifecycle(t *testing.T, s store.Store) {
	saved := newRun("saved", "d")
	saved.Saved = true
	saved.GrantNames = map[string]string{"group:g1": "group DemoApp"}
	var approved time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "CreateRun", tx.CreateRun(ctx, saved))
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("other", "d2")))
		wantCode(t, "ApproveRun of a run not sealed", tx.ApproveRun(ctx, "saved", "x"), foyer.ECONFLICT)
		must(t, "SealRun", tx.SealRun(ctx, "saved"))
		must(t, "SealRun", tx.SealRun(ctx, "other"))
		approved = tx.Now()
		must(t, "ApproveRun", tx.ApproveRun(ctx, "saved", "ann@contoso.example"))
		wantCode(t, "ApproveRun twice", tx.ApproveRun(ctx, "saved", "bob"), foyer.ECONFLICT)
		wantCode(t, "DiscardRun of an approved run", tx.DiscardRun(ctx, "saved"), foyer.ECONFLICT)
		wantCode(t, "ApproveRun of an unknown run", tx.ApproveRun(ctx, "nope", "x"), foyer.ENOTFOUND)
		must(t, "DiscardRun", tx.DiscardRun(ctx, "other"))
		must(t, "DiscardRun again", tx.DiscardRun(ctx, "other"))
		wantCode(t, "ApproveRun of a discarded run", tx.ApproveRun(ctx, "other", "x"), foyer.ECONFLICT)
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		r, err := tx.Run(ctx, "saved")
		must(t, "Run", err)
		if r.GrantNames["group:g1"] != "group DemoApp" || len(r.GrantNames) != 1 {
			t.Errorf("the run's grant names read back as %v", r.GrantNames)
		}
		if !r.Saved || !r.ApprovedAt.Equal(approved) || r.ApprovedBy != "ann@contoso.example" || r.State() != foyer.RunApplying {
			t.Errorf("the approved saved run reads back as saved %v, approved %v by %q, %s", r.Saved, r.ApprovedAt, r.ApprovedBy, r.State())
		}
		o, err := tx.Run(ctx, "other")
		must(t, "Run", err)
		if o.Saved || o.DiscardedAt.IsZero() || o.State() != foyer.RunDiscarded {
			t.Errorf("the discarded run reads back as saved %v, discarded %v, %s", o.Saved, o.DiscardedAt, o.State())
		}
		return nil
	})
}

// testRunList: runs come newest first, as many as asked, with their counts.
func testRunList(t *testing.T, s store.Store) {
	for _, id := range []string{"r1", "r2", "r3"} {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			must(t, "CreateRun", tx.CreateRun(ctx, newRun(id, id)))
			return tx.PutRunRows(ctx, id, sampleRows())
		})
	}
	list := func(limit int) []string {
		var ids []string
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.ListRuns(ctx, limit, func(r *foyer.Run) error {
				if r.Summary.Rows != len(sampleRows()) {
					t.Errorf("ListRuns: run %s counts %d rows, want %d", r.ID, r.Summary.Rows, len(sampleRows()))
				}
				if r.RecordedBy != "ann@contoso.example" {
					t.Errorf("ListRuns: run %s recorded by %q, want ann@contoso.example", r.ID, r.RecordedBy)
				}
				ids = append(ids, r.ID)
				return nil
			})
		})
		return ids
	}
	if got := fmt.Sprint(list(0)); got != "[r3 r2 r1]" {
		t.Errorf("ListRuns(0) = %s, want [r3 r2 r1]", got)
	}
	if got := fmt.Sprint(list(2)); got != "[r3 r2]" {
		t.Errorf("ListRuns(2) = %s, want [r3 r2]", got)
	}
}

// testReports: a run's report is owed through each channel until it is
// sent; failed attempts are counted with their reason.
func testReports(t *testing.T, s store.Store) {
	var sent time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("run-1", "d")))
		must(t, "OweReport", tx.OweReport(ctx, "run-1", []string{"webhook", "slack"}))
		must(t, "RecordDelivery", tx.RecordDelivery(ctx, "run-1", "webhook", "503 Service Unavailable"))
		wantCode(t, "RecordDelivery through a channel not owed", tx.RecordDelivery(ctx, "run-1", "teams", ""), foyer.ENOTFOUND)
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		sent = tx.Now()
		must(t, "RecordDelivery", tx.RecordDelivery(ctx, "run-1", "slack", ""))
		// Owing again (a report job run twice) keeps what was recorded.
		return tx.OweReport(ctx, "run-1", []string{"webhook", "slack"})
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ds, err := tx.Deliveries(ctx, "run-1")
		must(t, "Deliveries", err)
		want := []store.Delivery{
			{RunID: "run-1", Channel: "slack", Sent: true, Attempts: 1, SentAt: sent},
			{RunID: "run-1", Channel: "webhook", Attempts: 1, LastError: "503 Service Unavailable"},
		}
		if !reflect.DeepEqual(ds, want) {
			t.Errorf("Deliveries = %+v, want %+v", ds, want)
		}
		return nil
	})
}
