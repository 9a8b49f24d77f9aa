package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var requestsCases = []testCase{
	{"CreateAndRead", testRequestCreate},
	{"Conflict", testRequestConflict},
	{"Invalid", testRequestInvalid},
	{"MoveAllowed", testMoveAllowed},
	{"MoveRefused", testMoveRefused},
	{"MoveStale", testMoveStale},
	{"MoveConcurrent", testMoveConcurrent},
	{"Update", testRequestUpdate},
	{"Filter", testRequestFilter},
	{"Approval", testRequestApproval},
	{"Pages", testRequestPages},
	{"PagesLong", testRequestPagesLong},
}

func readRequest(t *testing.T, s store.Store, id string) *foyer.Request {
	t.Helper()
	var r *foyer.Request
	inTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		r, err = tx.Request(ctx, id)
		return err
	})
	return r
}

func testRequestCreate(t *testing.T, s store.Store) {
	r := newRequest(t, "req-1", "Ann.Lee@Example.com", "partners")
	r.RunID, r.Line, r.State = "run-1", 7, ""
	var now time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		now = tx.Now()
		return tx.CreateRequest(ctx, r)
	})
	if r.State != foyer.StateReceived || !r.CreatedAt.Equal(now) || !r.UpdatedAt.Equal(now) {
		t.Errorf("after CreateRequest: state %q, created %v, updated %v; want received and the transaction's time %v",
			r.State, r.CreatedAt, r.UpdatedAt, now)
	}
	if got := readRequest(t, s, "req-1"); !reflect.DeepEqual(got, r) {
		t.Errorf("Request = %+v, want %+v", got, r)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, email := range []string{"ann.lee@example.com", "ANN.LEE@EXAMPLE.COM", "Ann.Lee@Example.com"} {
			got, err := tx.FindRequest(ctx, "partners", foyer.Address(email))
			must(t, "FindRequest "+email, err)
			if got.ID != "req-1" {
				t.Errorf("FindRequest(%s) = %s, want req-1", email, got.ID)
			}
		}
		_, err := tx.FindRequest(ctx, "vendors", r.Email)
		wantCode(t, "FindRequest in another profile", err, foyer.ENOTFOUND)
		_, err = tx.Request(ctx, "req-2")
		wantCode(t, "Request of an unknown id", err, foyer.ENOTFOUND)
		h, err := tx.History(ctx, "req-1")
		must(t, "History", err)
		if len(h) != 1 || h[0].From != "" || h[0].To != foyer.StateReceived || !h[0].At.Equal(now) {
			t.Errorf("History after creation = %+v, want one transition from \"\" to received at %v", h, now)
		}
		_, err = tx.History(ctx, "req-2")
		wantCode(t, "History of an unknown request", err, foyer.ENOTFOUND)
		return nil
	})
}

func testRequestConflict(t *testing.T, s store.Store) {
	createRequests(t, s, newRequest(t, "req-1", "ann@example.com", "partners"))
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		err := tx.CreateRequest(ctx, newRequest(t, "req-2", "ANN@Example.COM", "partners"))
		wantCode(t, "CreateRequest for the same profile and an address differing in case", err, foyer.ECONFLICT)
		err = tx.CreateRequest(ctx, newRequest(t, "req-1", "bob@example.com", "partners"))
		wantCode(t, "CreateRequest with an id in use", err, foyer.ECONFLICT)
		// The transaction is still usable after a conflict, so a caller may
		// create-or-find in one transaction.
		must(t, "CreateRequest in another profile after a conflict",
			tx.CreateRequest(ctx, newRequest(t, "req-3", "ann@example.com", "vendors")))
		return nil
	})
	if r := readRequest(t, s, "req-3"); r.Profile != "vendors" {
		t.Errorf("req-3 has profile %q, want vendors", r.Profile)
	}
}

func testRequestInvalid(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for name, mod := range map[string]func(r *foyer.Request){
			"no id":                    func(r *foyer.Request) { r.ID = "" },
			"no profile":               func(r *foyer.Request) { r.Profile = "" },
			"no address":               func(r *foyer.Request) { r.Email = "" },
			"unknown state":            func(r *foyer.Request) { r.State = "lost" },
			"failed without a failure": func(r *foyer.Request) { r.State = foyer.StateFailed },
		} {
			r := newRequest(t, "req-1", "ann@example.com", "partners")
			mod(r)
			wantCode(t, "CreateRequest with "+name, tx.CreateRequest(ctx, r), foyer.EINVALID)
		}
		wantCode(t, "CreateRequest of nil", tx.CreateRequest(ctx, nil), foyer.EINVALID)
		return nil
	})
}

func testMoveAllowed(t *testing.T, s store.Store) {
	r := newRequest(t, "req-1", "ann@example.com", "partners")
	createRequests(t, s, r)
	var times []time.Time
	move := func(next foyer.State, note string, change func()) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if change != nil {
				change()
			}
			times = append(times, tx.Now())
			if err := tx.MoveRequest(ctx, r, next, note); err != nil {
				return err
			}
			if r.State != next || !r.UpdatedAt.Equal(tx.Now()) {
				t.Errorf("after MoveRequest to %s: r.State %s, r.UpdatedAt %v; want %s at %v", next, r.State, r.UpdatedAt, next, tx.Now())
			}
			return nil
		})
	}
	move(foyer.StateApproved, "approved by sam@example.com", nil)
	move(foyer.StateProvisioning, "", func() { r.RunID, r.Line = "run-9", 12 })
	move(foyer.StateFailed, "throttled", func() {
		r.Failure = &foyer.Failure{Code: foyer.ETHROTTLED, Message: "try later", Retryable: true, Step: "invite"}
	})
	move(foyer.StateProvisioning, "retry", nil)
	move(foyer.StateInvited, "invited", func() { r.UserID, r.RedeemURL, r.Failure = "u-1", "https://redeem.example/x", nil })
	if got := readRequest(t, s, "req-1"); !reflect.DeepEqual(got, r) {
		t.Errorf("stored request = %+v, want %+v", got, r)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		h, err := tx.History(ctx, "req-1")
		must(t, "History", err)
		want := []store.Transition{
			{From: "", To: foyer.StateReceived},
			{From: foyer.StateReceived, To: foyer.StateApproved, Note: "approved by sam@example.com"},
			{From: foyer.StateApproved, To: foyer.StateProvisioning},
			{From: foyer.StateProvisioning, To: foyer.StateFailed, Note: "throttled"},
			{From: foyer.StateFailed, To: foyer.StateProvisioning, Note: "retry"},
			{From: foyer.StateProvisioning, To: foyer.StateInvited, Note: "invited"},
		}
		if len(h) != len(want) {
			t.Fatalf("History has %d transitions, want %d: %+v", len(h), len(want), h)
		}
		want[0].Note = h[0].Note // the creation's note is the backend's
		for i := range want {
			want[i].At = h[i].At
			if i > 0 && !h[i].At.Equal(times[i-1]) {
				t.Errorf("transition %d at %v, want its transaction's time %v", i, h[i].At, times[i-1])
			}
		}
		if !reflect.DeepEqual(h, want) {
			t.Errorf("History =\n%+v\nwant, oldest first,\n%+v", h, want)
		}
		return nil
	})
}

func testMoveRefused(t *testing.T, s store.Store) {
	r := newRequest(t, "req-1", "ann@example.com", "partners")
	createRequests(t, s, r)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		c := *r
		wantCode(t, "MoveRequest received→active", tx.MoveRequest(ctx, &c, foyer.StateActive, ""), foyer.ECONFLICT)
		wantCode(t, "MoveRequest to an unknown state", tx.MoveRequest(ctx, &c, "lost", ""), foyer.EINVALID)
		wantCode(t, "MoveRequest to failed without a failure", tx.MoveRequest(ctx, &c, foyer.StateFailed, ""), foyer.EINVALID)
		ghost := newRequest(t, "req-2", "bob@example.com", "partners")
		wantCode(t, "MoveRequest of an unknown request", tx.MoveRequest(ctx, ghost, foyer.StateApproved, ""), foyer.ENOTFOUND)
		wantCode(t, "MoveRequest of nil", tx.MoveRequest(ctx, nil, foyer.StateApproved, ""), foyer.EINVALID)
		if c.State != foyer.StateReceived {
			t.Errorf("a refused move changed r.State to %s", c.State)
		}
		return nil
	})
	if got := readRequest(t, s, "req-1"); !reflect.DeepEqual(got, r) {
		t.Errorf("after refused moves, stored request = %+v, want it unchanged %+v", got, r)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		h, err := tx.History(ctx, "req-1")
		must(t, "History", err)
		if len(h) != 1 {
			t.Errorf("refused moves left history %+v, want only the creation", h)
		}
		return nil
	})
}

// testMoveStale moves a copy read before someone else moved the request.
func testMoveStale(t *testing.T, s store.Store) {
	r := newRequest(t, "req-1", "ann@example.com", "partners")
	createRequests(t, s, r)
	stale := *r
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.MoveRequest(ctx, r, foyer.StateApproved, "") })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		wantCode(t, "MoveRequest of a stale copy", tx.MoveRequest(ctx, &stale, foyer.StatePendingApproval, ""), foyer.ECONFLICT)
		stale.UserID = "u-1"
		wantCode(t, "UpdateRequest of a stale copy", tx.UpdateRequest(ctx, &stale), foyer.ECONFLICT)
		return nil
	})
	if got := readRequest(t, s, "req-1"); got.State != foyer.StateApproved || got.UserID != "" {
		t.Errorf("stored request is %s with user %q, want approved with no user", got.State, got.UserID)
	}
}

// testMoveConcurrent moves one request from two transactions at once:
// exactly one wins and the other gets ECONFLICT.
func testMoveConcurrent(t *testing.T, s store.Store) {
	for round := range 5 {
		id := fmt.Sprintf("req-%d", round)
		r := newRequest(t, id, fmt.Sprintf("p%d@example.com", round), "partners")
		createRequests(t, s, r)
		targets := []foyer.State{foyer.StateApproved, foyer.StateRejected}
		errs := make([]error, len(targets))
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for i, next := range targets {
			c := *r
			wg.Go(func() {
				<-start
				ctx := testContext(t)
				errs[i] = s.InTx(ctx, func(tx store.Tx) error { return tx.MoveRequest(ctx, &c, next, "") })
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		var won foyer.State
		for i, err := range errs {
			switch foyer.ErrorCode(err) {
			case "":
				wins++
				won = targets[i]
			case foyer.ECONFLICT:
			default:
				t.Errorf("concurrent MoveRequest to %s: %v, want success or ECONFLICT", targets[i], err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d concurrent moves won, want exactly 1 (errors %v)", round, wins, errs)
		}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			h, err := tx.History(ctx, id)
			must(t, "History", err)
			if len(h) != 2 || h[1].To != won {
				t.Errorf("round %d: history %+v, want the creation and the one move to %s", round, h, won)
			}
			return nil
		})
		if got := readRequest(t, s, id); got.State != won {
			t.Errorf("round %d: stored state %s, want the winner's %s", round, got.State, won)
		}
	}
}

func testRequestUpdate(t *testing.T, s store.Store) {
	r := newRequest(t, "req-1", "ann@example.com", "partners")
	createRequests(t, s, r)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		r.UserID, r.RedeemURL, r.RunID, r.Line, r.DisplayName = "u-1", "https://redeem.example/y", "run-2", 3, "Ann L."
		must(t, "UpdateRequest", tx.UpdateRequest(ctx, r))
		if !r.UpdatedAt.Equal(tx.Now()) {
			t.Errorf("UpdatedAt = %v, want %v", r.UpdatedAt, tx.Now())
		}
		ghost := newRequest(t, "req-2", "bob@example.com", "partners")
		wantCode(t, "UpdateRequest of an unknown request", tx.UpdateRequest(ctx, ghost), foyer.ENOTFOUND)
		h, err := tx.History(ctx, "req-1")
		must(t, "History", err)
		if len(h) != 1 {
			t.Errorf("UpdateRequest added history %+v; only moves do", h)
		}
		return nil
	})
	if got := readRequest(t, s, "req-1"); !reflect.DeepEqual(got, r) {
		t.Errorf("stored request = %+v, want %+v", got, r)
	}
}

func testRequestFilter(t *testing.T, s store.Store) {
	var all []*foyer.Request
	for i := range 520 { // more than a page (500)
		r := newRequest(t, fmt.Sprintf("req-%04d", i), fmt.Sprintf("p%d@example.com", i%300), "partners")
		if i >= 300 {
			r.Profile = "vendors"
		}
		if i%3 == 0 {
			r.RunID = "run-a"
		}
		if i%5 == 0 {
			r.State = foyer.StateApproved
		}
		if i%7 == 0 {
			r.UserID = fmt.Sprintf("u-%d", i%2) // one guest holds requests of several addresses
		}
		all = append(all, r)
	}
	createRequests(t, s, all...)
	ids := func(f store.RequestFilter) []string {
		var got []string
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.Requests(ctx, f, func(r *foyer.Request) error {
				got = append(got, r.ID)
				if r.ID == "req-0000" { // fn may use the transaction
					_, err := tx.Request(ctx, "req-0001")
					return err
				}
				return nil
			})
		})
		return got
	}
	want := func(keep func(*foyer.Request) bool) []string {
		var w []string
		for _, r := range all {
			if keep(r) {
				w = append(w, r.ID)
			}
		}
		return w
	}
	for _, c := range []struct {
		name string
		f    store.RequestFilter
		keep func(*foyer.Request) bool
	}{
		{"all", store.RequestFilter{}, func(*foyer.Request) bool { return true }},
		{"run", store.RequestFilter{RunID: "run-a"}, func(r *foyer.Request) bool { return r.RunID == "run-a" }},
		{"profile", store.RequestFilter{Profile: "vendors"}, func(r *foyer.Request) bool { return r.Profile == "vendors" }},
		{"states", store.RequestFilter{States: []foyer.State{foyer.StateApproved, foyer.StateActive}},
			func(r *foyer.Request) bool { return r.State == foyer.StateApproved }},
		{"email any case", store.RequestFilter{Email: "P7@EXAMPLE.COM"}, func(r *foyer.Request) bool { return r.Email == "p7@example.com" }},
		{"user", store.RequestFilter{UserID: "u-1"}, func(r *foyer.Request) bool { return r.UserID == "u-1" }},
		{"user and states", store.RequestFilter{UserID: "u-0", States: []foyer.State{foyer.StateApproved}},
			func(r *foyer.Request) bool { return r.UserID == "u-0" && r.State == foyer.StateApproved }},
		{"all at once", store.RequestFilter{RunID: "run-a", Profile: "partners", States: []foyer.State{foyer.StateReceived}},
			func(r *foyer.Request) bool {
				return r.RunID == "run-a" && r.Profile == "partners" && r.State == foyer.StateReceived
			}},
	} {
		if got, w := ids(c.f), want(c.keep); !slices.Equal(got, w) {
			t.Errorf("Requests(%s) gave %d requests, want %d, oldest first (first got %v, want %v)",
				c.name, len(got), len(w), got[:min(3, len(got))], w[:min(3, len(w))])
		}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		err := tx.Requests(ctx, store.RequestFilter{States: []foyer.State{"lost"}}, func(*foyer.Request) error { return nil })
		wantCode(t, "Requests with an unknown state", err, foyer.EINVALID)
		return nil
	})
}
