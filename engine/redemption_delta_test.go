package engine_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
)

// The sim's routes a sync reads through: a page of the delta query, and
// a read by id (GET /users?$filter=id in (...)).
const (
	routeDelta = "GET /v1.0/users/delta"
	routeByID  = "GET /v1.0/users"
)

// bothLedgers runs a test on SQLite and on PostgreSQL.
func bothLedgers(t *testing.T, test func(t *testing.T, backend string)) {
	t.Helper()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { t.Parallel(); test(t, backend) })
	}
}

// later moves the engine's and the tenant's clocks on together, past the
// window in which a sync also reads newly invited guests by id.
func (w *serveWorld) later(d time.Duration) {
	w.clock.Advance(d)
	w.sim.Advance(d)
}

func (w *serveWorld) routes(name string) int64 { return w.sim.Stats().Routes[name] }

func (w *serveWorld) deltaToken(t *testing.T) string {
	t.Helper()
	var tok string
	err := w.store.InTx(context.Background(), func(tx store.Tx) (err error) {
		tok, _, err = tx.DeltaToken(context.Background(), "default", "users")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (w *serveWorld) sync(t *testing.T) engine.RedemptionSync {
	t.Helper()
	sum, err := w.eng.SyncRedemptions(context.Background())
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return sum
}

// TestRedemptionDeltaAccepted: with the delta query, a guest who
// redeemed moves its request to active at the next sync, which reads one
// page of changes and no guest by id; the sponsor is told, the audit
// has the redemption.
func TestRedemptionDeltaAccepted(t *testing.T) {
	t.Parallel()
	bothLedgers(t, func(t *testing.T, backend string) {
		w, req := newRedemptionWorld(t, backend, foyer.Reminders{})
		// An hour after the invitation: a request invited just before a
		// round is also read by id at the next sync (deltaMargin).
		w.later(time.Hour)
		if sum := w.sync(t); sum.Pending != 1 || sum.Accepted != 0 {
			t.Fatalf("first sync: %+v", sum)
		}
		if w.deltaToken(t) == "" {
			t.Fatal("the first sync kept no delta token")
		}
		w.later(time.Hour)
		if err := w.sim.Redeem("kim@tailwind.example"); err != nil {
			t.Fatal(err)
		}
		delta, byID := w.routes(routeDelta), w.routes(routeByID)
		if sum := w.sync(t); sum.Accepted != 1 || sum.Changes != 1 {
			t.Fatalf("after redemption: %+v, want 1 accepted of 1 change", sum)
		}
		if got := w.routes(routeDelta) - delta; got != 1 {
			t.Errorf("the sync read %d delta pages, want 1", got)
		}
		if got := w.routes(routeByID) - byID; got != 0 {
			t.Errorf("the sync read guests by id %d times, want none", got)
		}
		w.waitState(t, req.ID, foyer.StateActive)
		w.mail(t, string(adele.Email), "accepted the invitation")
		if got := w.audits(t, req.ID); !contains(got, "change redemption Accepted") {
			t.Errorf("audit %v lacks the redemption", got)
		}
		if sum := w.sync(t); sum.Accepted != 0 || sum.Changes != 0 {
			t.Errorf("a sync with nothing new: %+v", sum)
		}
		w.noDuplicates(t)
	})
}

// noDelta is the Graph client without its delta query: its
// RedemptionChanges and hideDelta's clash at the same depth, so neither
// is promoted and noDelta is not a directory.RedemptionDelta; every other
// method of the client is.
type noDelta struct {
	*graph.Client
	hideDelta
}

type hideDelta struct{}

func (hideDelta) RedemptionChanges() {}

var _ directory.Redemptions = noDelta{}

// TestRedemptionByIDWithoutDelta: a directory without the delta query is
// read by id, as before; nothing is kept in the ledger.
func TestRedemptionByIDWithoutDelta(t *testing.T) {
	t.Parallel()
	bothLedgers(t, func(t *testing.T, backend string) {
		var dir *graph.Client
		w, req := newRedemptionWorld(t, backend, foyer.Reminders{}, func(w *world) { dir = w.dir; w.eng.Dir = noDelta{Client: w.dir} })
		if _, ok := any(w.eng.Dir).(directory.RedemptionDelta); ok || dir == nil {
			t.Fatal("the wrapper still offers the delta query")
		}
		if err := w.sim.Redeem("kim@tailwind.example"); err != nil {
			t.Fatal(err)
		}
		byID := w.routes(routeByID)
		if sum := w.sync(t); sum.Accepted != 1 {
			t.Fatalf("after redemption: %+v, want 1 accepted", sum)
		}
		if w.routes(routeByID) == byID || w.routes(routeDelta) != 0 {
			t.Errorf("reads by id %d → %d, delta pages %d: want a read by id and no delta", byID, w.routes(routeByID), w.routes(routeDelta))
		}
		w.waitState(t, req.ID, foyer.StateActive)
		if tok := w.deltaToken(t); tok != "" {
			t.Errorf("a delta token was kept: %q", tok)
		}
	})
}

// TestRedemptionResetOutside: a guest whose redemption an admin reset in
// the portal (resetRedemption, not through foyer) moves its active
// request back to invited, with an audit entry, so the reminders apply
// again; the next sync changes nothing.
func TestRedemptionResetOutside(t *testing.T) {
	t.Parallel()
	bothLedgers(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		w, req := newRedemptionWorld(t, backend, foyer.Reminders{After: 24 * time.Hour, Max: 1})
		w.sync(t)
		w.later(time.Hour)
		if err := w.sim.Redeem("kim@tailwind.example"); err != nil {
			t.Fatal(err)
		}
		w.sync(t)
		w.waitState(t, req.ID, foyer.StateActive)
		w.later(time.Hour)
		if _, err := w.dir.Invite(ctx, directory.Invitation{Email: "kim@tailwind.example", RedirectURL: "https://myapps.microsoft.com",
			Reset: true, UserID: req.UserID}); err != nil {
			t.Fatalf("reset outside foyer: %v", err)
		}
		if sum := w.sync(t); sum.Reset != 1 {
			t.Fatalf("after the reset: %+v, want 1 reset", sum)
		}
		v := w.waitState(t, req.ID, foyer.StateInvited)
		if got := w.audits(t, req.ID); !contains(got, "change redemption PendingAcceptance") {
			t.Errorf("audit %v lacks the reset", got)
		}
		if sum := w.sync(t); sum.Reset != 0 || sum.Accepted != 0 {
			t.Errorf("a second sync: %+v, want nothing moved", sum)
		}
		w.later(25 * time.Hour)
		if n, err := w.eng.RemindPending(ctx); err != nil || n != 1 {
			t.Errorf("reminders after the reset: %d, %v; want 1 (request %s)", n, err, v.Request.State)
		}
	})
}

// TestRedemptionDeletedOutside: a guest deleted outside foyer moves its
// invited request to removed.
func TestRedemptionDeletedOutside(t *testing.T) {
	t.Parallel()
	bothLedgers(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		w, req := newRedemptionWorld(t, backend, foyer.Reminders{})
		w.sync(t)
		w.later(time.Hour)
		if _, _, err := w.dir.DeleteUser(ctx, req.UserID); err != nil {
			t.Fatalf("delete outside foyer: %v", err)
		}
		if sum := w.sync(t); sum.Removed != 1 {
			t.Fatalf("after the delete: %+v, want 1 removed", sum)
		}
		w.waitState(t, req.ID, foyer.StateRemoved)
		if got := w.audits(t, req.ID); !contains(got, "change guest deleted") {
			t.Errorf("audit %v lacks the deletion", got)
		}
		if g := guestRow(t, w.store, req.UserID); g != nil {
			t.Errorf("the row of the guest deleted outside foyer is still in the ledger: %+v", g)
		}
		if sum := w.sync(t); sum.Removed != 0 {
			t.Errorf("a second sync: %+v", sum)
		}
	})
}

// TestRedemptionDeltaResync: an expired token is forgotten and every
// user read again; the redemption it hid is still seen.
func TestRedemptionDeltaResync(t *testing.T) {
	t.Parallel()
	bothLedgers(t, func(t *testing.T, backend string) {
		w, req := newRedemptionWorld(t, backend, foyer.Reminders{})
		w.sync(t)
		old := w.deltaToken(t)
		w.later(time.Hour)
		w.sim.ExpireDeltaTokens()
		if err := w.sim.Redeem("kim@tailwind.example"); err != nil {
			t.Fatal(err)
		}
		sum := w.sync(t)
		if sum.Resynced != 1 || sum.Accepted != 1 || sum.Changes < 2 {
			t.Fatalf("after the token expired: %+v, want 1 resync reading every user, 1 accepted", sum)
		}
		if tok := w.deltaToken(t); tok == "" || tok == old {
			t.Errorf("token after the resync: %q (was %q)", tok, old)
		}
		w.waitState(t, req.ID, foyer.StateActive)
	})
}

// TestRedemptionDeltaKilled: the token is kept in the transaction of the
// moves: a round whose transaction fails (a process killed before it
// commits) leaves the old token and the request invited, and the next
// sync reads the same change again and moves it once.
func TestRedemptionDeltaKilled(t *testing.T) {
	t.Parallel()
	bothLedgers(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		w, req := newRedemptionWorld(t, backend, foyer.Reminders{})
		w.sync(t)
		old := w.deltaToken(t)
		w.later(time.Hour)
		if err := w.sim.Redeem("kim@tailwind.example"); err != nil {
			t.Fatal(err)
		}
		killed := errors.New("killed before commit")
		w.eng.SetDeltaApplied(func() error { return killed })
		if _, err := w.eng.SyncRedemptions(ctx); !errors.Is(err, killed) {
			t.Fatalf("sync with a failing transaction: %v", err)
		}
		w.eng.SetDeltaApplied(nil)
		if tok := w.deltaToken(t); tok != old {
			t.Fatalf("token after a failed transaction: %q, want the old %q", tok, old)
		}
		if v, err := w.eng.View(ctx, req.ID); err != nil || v.Request.State != foyer.StateInvited {
			t.Fatalf("request after a failed transaction: %v, %v; want invited", v.Request.State, err)
		}
		if sum := w.sync(t); sum.Accepted != 1 {
			t.Fatalf("the sync after: %+v, want 1 accepted", sum)
		}
		w.waitState(t, req.ID, foyer.StateActive)
		w.mail(t, string(adele.Email), "accepted the invitation")
		w.noDuplicates(t)
	})
}

// TestRedemptionDeltaCost: the first sync reads every user of the tenant
// once, in pages; a sync after three changes reads one page.
func TestRedemptionDeltaCost(t *testing.T) {
	t.Parallel()
	const n = 1000
	ctx := context.Background()
	w, _ := newRedemptionWorld(t, "sqlite", foyer.Reminders{})
	users := make([]sim.SeedUser, n)
	for i := range users {
		users[i] = sim.SeedUser{DisplayName: fmt.Sprintf("Guest %d", i), Mail: fmt.Sprintf("g%d@northwind.example", i), UserType: "Guest"}
	}
	seeded, err := w.sim.Seed(sim.SeedData{Users: users})
	if err != nil {
		t.Fatal(err)
	}
	w.later(time.Hour)
	all := w.sim.Snapshot().Users
	delta := w.routes(routeDelta)
	sum := w.sync(t)
	first := w.routes(routeDelta) - delta
	if sum.Changes != all || first != int64((all+99)/100) {
		t.Errorf("first sync: %d changes in %d pages, want %d users in %d pages", sum.Changes, first, all, (all+99)/100)
	}
	w.later(time.Hour)
	if err := w.sim.Redeem("kim@tailwind.example"); err != nil {
		t.Fatal(err)
	}
	for _, u := range seeded.Users[:2] {
		if _, _, err := w.dir.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	delta, byID := w.routes(routeDelta), w.routes(routeByID)
	sum = w.sync(t)
	if got := w.routes(routeDelta) - delta; sum.Changes != 3 || got != 1 || w.routes(routeByID) != byID {
		t.Errorf("sync after 3 changes: %d changes in %d pages, %d reads by id; want 3 in 1, none by id",
			sum.Changes, got, w.routes(routeByID)-byID)
	}
	t.Logf("tenant of %d users: first sync %d pages, then 1 page for 3 changes", all, first)
}
