package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// holdingAccess are the states of a request whose guest holds the
// profile's access.
var holdingAccess = []foyer.State{foyer.StateInvited, foyer.StateActive}

// syncGuestRow brings the ledger's row of the guest userID in line with
// its requests: Profiles lists, sorted, the profiles of the requests of
// that object (whatever address each was made for) that hold access. It
// runs in the transaction of every move that may change the list, so the
// guest list (API, admin) never shows access foyer took back or misses
// access it gave. A guest without a row gets none here: rows are written
// when foyer invites or finds the guest.
func syncGuestRow(ctx context.Context, tx store.Tx, userID string) error {
	if userID == "" {
		return nil
	}
	g, err := tx.Guest(ctx, userID)
	switch foyer.ErrorCode(err) {
	case "":
	case foyer.ENOTFOUND:
		return nil
	default:
		return err
	}
	var profiles []string
	if err := tx.Requests(ctx, store.RequestFilter{UserID: userID, States: holdingAccess}, func(r *foyer.Request) error {
		profiles = append(profiles, r.Profile)
		return nil
	}); err != nil {
		return fmt.Errorf("read the requests of guest %s: %w", userID, err)
	}
	slices.Sort(profiles)
	profiles = slices.Compact(profiles)
	if slices.Equal(g.Profiles, profiles) {
		return nil // unchanged: its updated_at stays, which GuestByEmail orders by
	}
	g.Profiles = profiles
	return tx.PutGuest(ctx, g)
}

// ensureGuestRow writes, in tx, a row for the guest of a request that now
// holds access when the ledger has none: a guest that was in the tenant
// before foyer (found by the plan, "exists") is granted without being
// invited, so the invite step that writes rows never ran for it. The row
// takes the request's address and name, and the redemption state the
// request's state says (active: Accepted). A row that exists is left to
// the steps that keep it.
func ensureGuestRow(ctx context.Context, tx store.Tx, r *foyer.Request) error {
	if r.UserID == "" || !slices.Contains(holdingAccess, r.State) {
		return nil
	}
	_, err := tx.Guest(ctx, r.UserID)
	if foyer.ErrorCode(err) != foyer.ENOTFOUND {
		return err
	}
	redemption := foyer.PendingAcceptance
	if r.State == foyer.StateActive {
		redemption = foyer.Accepted
	}
	return tx.PutGuest(ctx, &foyer.Guest{UserID: r.UserID, Email: r.Email, DisplayName: r.DisplayName,
		Redemption: redemption, Enabled: true})
}

// guestDisabled records in tx that the sweep disabled the guest's account.
func guestDisabled(ctx context.Context, tx store.Tx, userID string) error {
	g, err := tx.Guest(ctx, userID)
	switch foyer.ErrorCode(err) {
	case "":
	case foyer.ENOTFOUND:
		return nil
	default:
		return err
	}
	if !g.Enabled {
		return nil
	}
	g.Enabled = false
	return tx.PutGuest(ctx, g)
}

// removeGuest records in tx that the sweep run deleted the guest's
// object: every request of it that held access, or failed while it
// existed, is removed (the state for a deleted guest object, from which a
// later apply provisions it again), a pending ask for more time lapses,
// and the guest's row goes. The requests' history, the grants foyer
// recorded and the audit log stay.
func (e *Engine) removeGuest(ctx context.Context, tx store.Tx, userID, runID string) error {
	var reqs []*foyer.Request
	if err := tx.Requests(ctx, store.RequestFilter{UserID: userID,
		States: []foyer.State{foyer.StateInvited, foyer.StateActive, foyer.StateFailed}}, func(r *foyer.Request) error {
		reqs = append(reqs, r)
		return nil
	}); err != nil {
		return fmt.Errorf("read the requests of guest %s: %w", userID, err)
	}
	for _, r := range reqs {
		if err := tx.MoveRequest(ctx, r, foyer.StateRemoved, "deleted by sweep run "+runID); err != nil {
			return err
		}
		if err := e.lapseExtensions(ctx, tx, r.ID, "the guest was deleted before a decision"); err != nil {
			return err
		}
	}
	return tx.DeleteGuest(ctx, userID)
}
