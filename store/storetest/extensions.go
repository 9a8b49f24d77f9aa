package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var extensionsCases = []testCase{
	{"an extension is written and read back whole", testExtensionRoundTrip},
	{"one pending extension per request", testExtensionOnePending},
	{"a move is refused from another state, and a final state moves no more", testExtensionMove},
	{"listed by request and by state, oldest first", testExtensionList},
	{"refused without its fields", testExtensionInvalid},
}

// newExtension returns a pending extension of a request at stage 1.
func newExtension(id, requestID string, until time.Time) *foyer.Extension {
	return &foyer.Extension{ID: id, RequestID: requestID, Until: until, Justification: "the project runs on",
		AskedBy: "guest ann@partner.example", State: foyer.ExtensionPending, Stage: 1,
		StageDue: time.Date(2026, 7, 1, 9, 30, 0, 123456000, time.UTC)}
}

func readExtension(t *testing.T, s store.Store, id string) *foyer.Extension {
	t.Helper()
	var x *foyer.Extension
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		x, err = tx.Extension(ctx, id)
		return err
	})
	return x
}

// testExtensionRoundTrip: every field written by CreateExtension and
// MoveExtension reads back, times in UTC; an unknown id is ENOTFOUND.
func testExtensionRoundTrip(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@partner.example", "partners"))
	until := time.Date(2026, 9, 30, 0, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	x := newExtension("ext-1", "req-1", until)
	var at time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		at = tx.Now()
		return tx.CreateExtension(ctx, x)
	})
	if !x.CreatedAt.Equal(at) || !x.UpdatedAt.Equal(at) {
		t.Errorf("created at %v, updated at %v; want the transaction's time %v", x.CreatedAt, x.UpdatedAt, at)
	}
	want := *x
	want.Until = until.UTC()
	if got := readExtension(t, s, "ext-1"); !reflect.DeepEqual(got, &want) {
		t.Errorf("Extension =\n%+v\nwant\n%+v", got, &want)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		x.Escalated, x.StageDue = true, x.StageDue.Add(time.Hour)
		if err := tx.MoveExtension(ctx, x, foyer.ExtensionPending); err != nil {
			return err
		}
		x.State, x.Stage, x.StageDue, x.DecidedBy, x.Note = foyer.ExtensionApproved, 0, time.Time{}, "megan@contoso.example", "known partner"
		at = tx.Now()
		return tx.MoveExtension(ctx, x, foyer.ExtensionPending)
	})
	if !x.UpdatedAt.Equal(at) {
		t.Errorf("moved at %v, want %v", x.UpdatedAt, at)
	}
	want = *x
	want.Until = until.UTC()
	if got := readExtension(t, s, "ext-1"); !reflect.DeepEqual(got, &want) {
		t.Errorf("after the moves, Extension =\n%+v\nwant\n%+v", got, &want)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Extension(ctx, "ext-none")
		wantCode(t, "Extension of an unknown id", err, foyer.ENOTFOUND)
		return nil
	})
}

// testExtensionOnePending: a second pending extension of a request is
// refused, naming the first; once the first is decided, another may be
// asked; another request's is apart.
func testExtensionOnePending(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@partner.example", "partners"),
		newRequest(t, "req-2", "bob@partner.example", "partners"))
	until := time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)
	first := newExtension("ext-1", "req-1", until)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateExtension(ctx, first) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		err := tx.CreateExtension(ctx, newExtension("ext-2", "req-1", until))
		wantCode(t, "a second pending extension", err, foyer.ECONFLICT)
		if err == nil || !strings.Contains(err.Error(), "ext-1") {
			t.Errorf("the refusal %v does not name the pending extension ext-1", err)
		}
		must(t, "another request's", tx.CreateExtension(ctx, newExtension("ext-3", "req-2", until)))
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		first.State, first.Stage, first.StageDue, first.Note = foyer.ExtensionRejected, 0, time.Time{}, "no"
		if err := tx.MoveExtension(ctx, first, foyer.ExtensionPending); err != nil {
			return err
		}
		return tx.CreateExtension(ctx, newExtension("ext-2", "req-1", until))
	})
	// A decided extension recorded as such (approved at once) needs no room.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		x := newExtension("ext-4", "req-1", until)
		x.State, x.Stage, x.StageDue, x.DecidedBy = foyer.ExtensionApproved, 0, time.Time{}, "policy"
		return tx.CreateExtension(ctx, x)
	})
	// The same id twice is refused.
	err := s.InTx(testContext(t), func(tx store.Tx) error {
		x := newExtension("ext-3", "req-1", until)
		x.State, x.Stage, x.StageDue = foyer.ExtensionLapsed, 0, time.Time{}
		return tx.CreateExtension(testContext(t), x)
	})
	if err == nil {
		t.Error("a second extension with the id ext-3 was recorded")
	}
}

// testExtensionMove: a move from a state the extension is not in is
// ECONFLICT and changes nothing; a final extension moves no more.
func testExtensionMove(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@partner.example", "partners"))
	x := newExtension("ext-1", "req-1", time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC))
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateExtension(ctx, x) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		y := *x
		y.State, y.Note = foyer.ExtensionLapsed, "access ended"
		must(t, "lapse", tx.MoveExtension(ctx, &y, foyer.ExtensionPending))
		z := *x
		z.State, z.DecidedBy = foyer.ExtensionApproved, "megan"
		wantCode(t, "approve a lapsed extension as if pending", tx.MoveExtension(ctx, &z, foyer.ExtensionPending), foyer.ECONFLICT)
		wantCode(t, "move a lapsed extension on", tx.MoveExtension(ctx, &z, foyer.ExtensionLapsed), foyer.ECONFLICT)
		nobody := newExtension("ext-none", "req-1", x.Until)
		wantCode(t, "move an unknown extension", tx.MoveExtension(ctx, nobody, foyer.ExtensionPending), foyer.ENOTFOUND)
		return nil
	})
	if got := readExtension(t, s, "ext-1"); got.State != foyer.ExtensionLapsed || got.Note != "access ended" || got.DecidedBy != "" {
		t.Errorf("after a refused move: %+v, want lapsed with its note", got)
	}
}

// testExtensionList: the filters select by request and by state, in the
// order asked, across more than a page.
func testExtensionList(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@partner.example", "partners"),
		newRequest(t, "req-2", "bob@partner.example", "partners"))
	until := time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)
	const many = 520 // more than a page of the ledger's reads
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range many {
			x := newExtension(fmt.Sprintf("ext-1-%04d", i), "req-1", until)
			x.State, x.Stage, x.StageDue = foyer.ExtensionRejected, 0, time.Time{}
			if err := tx.CreateExtension(ctx, x); err != nil {
				return err
			}
		}
		if err := tx.CreateExtension(ctx, newExtension("ext-2-a", "req-2", until)); err != nil {
			return err
		}
		return tx.CreateExtension(ctx, newExtension("ext-1-z", "req-1", until))
	})
	list := func(f store.ExtensionFilter) []string {
		var ids []string
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.Extensions(ctx, f, func(x *foyer.Extension) error { ids = append(ids, x.ID); return nil })
		})
		return ids
	}
	if got := list(store.ExtensionFilter{States: []foyer.ExtensionState{foyer.ExtensionPending}}); !reflect.DeepEqual(got, []string{"ext-2-a", "ext-1-z"}) {
		t.Errorf("pending: %v, want ext-2-a then ext-1-z", got)
	}
	if got := list(store.ExtensionFilter{RequestID: "req-2"}); !reflect.DeepEqual(got, []string{"ext-2-a"}) {
		t.Errorf("of req-2: %v, want ext-2-a", got)
	}
	got := list(store.ExtensionFilter{RequestID: "req-1"})
	if len(got) != many+1 || got[0] != "ext-1-0000" || got[many-1] != "ext-1-0519" || got[many] != "ext-1-z" {
		t.Errorf("of req-1: %d extensions from %v, want %d in the order asked", len(got), got[:min(3, len(got))], many+1)
	}
	if got := list(store.ExtensionFilter{RequestID: "req-1", States: []foyer.ExtensionState{foyer.ExtensionApproved, foyer.ExtensionLapsed}}); len(got) != 0 {
		t.Errorf("req-1 approved or lapsed: %v, want none", got)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		err := tx.Extensions(ctx, store.ExtensionFilter{States: []foyer.ExtensionState{"done"}}, func(*foyer.Extension) error { return nil })
		wantCode(t, "an unknown state", err, foyer.EINVALID)
		return nil
	})
}

func testExtensionInvalid(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@partner.example", "partners"))
	until := time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for name, x := range map[string]*foyer.Extension{
			"no id":      newExtension("", "req-1", until),
			"no request": newExtension("ext-1", "", until),
			"no end":     newExtension("ext-1", "req-1", time.Time{}),
			"bad state":  {ID: "ext-1", RequestID: "req-1", Until: until, State: "done"},
		} {
			wantCode(t, name, tx.CreateExtension(ctx, x), foyer.EINVALID)
		}
		return nil
	})
}
