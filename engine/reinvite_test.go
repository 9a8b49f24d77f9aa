package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
)

// A guest removed from the tenant (a sweep's delete, or an admin's) who
// is listed again is invited again by the normal flow, as a new guest,
// and the ledger keeps the person's whole history: both invitations and
// every move of the one request.
func TestRemovedGuestIsInvitedAgain(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorldOn(t, ledger, sim.Options{})
			csv := people(1, "again")
			const email = "again.000@partner0.example"
			w.apply(t, csv, "first")
			first := findRequest(t, w.store, email)
			if first.UserID == "" || first.State != foyer.StateInvited {
				t.Fatalf("after the first apply: request %s, user %q", first.State, first.UserID)
			}
			lc, ok := any(w.dir).(directory.Lifecycle)
			if !ok {
				t.Fatal("the Graph client cannot delete users")
			}
			if _, _, err := lc.DeleteUser(ctx, first.UserID); err != nil {
				t.Fatal(err)
			}

			w.apply(t, csv, "second")
			again := findRequest(t, w.store, email)
			if got := w.sim.Stats().InvitationsByEmail[email]; got != 2 {
				t.Errorf("%s invited %d times, want 2 (once, then again once removed)", email, got)
			}
			if again.ID != first.ID {
				t.Errorf("a second request %s for the same person and profile, want the first (%s) taken up", again.ID, first.ID)
			}
			if again.UserID == "" || again.UserID == first.UserID {
				t.Errorf("the request's guest is %q, want the new guest, not the removed %q", again.UserID, first.UserID)
			}
			var invitedMoves, invites int
			err := w.store.InTx(ctx, func(tx store.Tx) error {
				hist, err := tx.History(ctx, again.ID)
				if err != nil {
					return err
				}
				for _, tr := range hist {
					if tr.To == foyer.StateInvited {
						invitedMoves++
					}
				}
				return tx.AuditLog(ctx, store.AuditFilter{RequestID: again.ID}, func(e store.AuditEntry) error {
					if e.Kind == store.AuditOutcome && e.Op == "invite" && e.Error == "" {
						invites++
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if invitedMoves != 2 || invites != 2 {
				t.Errorf("the ledger holds %d moves to invited and %d invitations for %s, want 2 and 2", invitedMoves, invites, email)
			}
		})
	}
}

func findRequest(t *testing.T, s store.Store, email string) *foyer.Request {
	t.Helper()
	addr, err := foyer.ParseAddress(email)
	if err != nil {
		t.Fatal(err)
	}
	var r *foyer.Request
	err = s.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		r, err = tx.FindRequest(context.Background(), "partners", addr)
		return err
	})
	if err != nil {
		t.Fatalf("the request of %s: %v", strings.ToLower(email), err)
	}
	return r
}
