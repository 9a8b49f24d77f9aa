package directorytest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// Redeeming is the part of a Tenant's side door the redemption subtests
// need: a guest redeems as they would by following their invitation.
// A Tenant that does not have it skips the step that needs it.
type Redeeming interface {
	Redeem(ctx context.Context, email foyer.Address) error
}

// DeltaExpiring lets a Tenant make every change-tracking token handed
// out so far expired, as seven days would; a Tenant without it skips
// that step.
type DeltaExpiring interface {
	ExpireDeltaTokens(ctx context.Context) error
}

// runRedemption runs the directory.RedemptionDelta subtests when the
// Directory implements it.
func runRedemption(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("changes since a token", func(t *testing.T) { t.Parallel(); redemptionChanges(t, newHarness) })
	t.Run("an expired token asks for a full round", func(t *testing.T) { t.Parallel(); redemptionResync(t, newHarness) })
}

func needDelta(t *testing.T, h Harness) directory.RedemptionDelta {
	t.Helper()
	needTenant(t, h)
	rd, ok := h.Directory.(directory.RedemptionDelta)
	if !ok {
		t.Skip("the directory does not implement directory.RedemptionDelta")
	}
	return rd
}

// findChange returns the last change of id in changes.
func findChange(changes []directory.RedemptionChange, id string) (directory.RedemptionChange, bool) {
	var got directory.RedemptionChange
	found := false
	for _, c := range changes {
		if strings.EqualFold(c.UserID, id) {
			got, found = c, true
		}
	}
	return got, found
}

// redemptionChanges: a full round shows a seeded pending guest; the
// round from its token does not (nothing of it changed); after the guest
// redeems, a round shows it Accepted with its change time; after it is
// deleted, a round shows it removed; a round with nothing new of it does
// not show it.
func redemptionChanges(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	rd := needDelta(t, h)
	a := addr(t, "delta")
	id, err := h.Tenant.AddUser(ctx, User{DisplayName: "Delta Guest", Mail: string(a), Guest: true})
	if err != nil {
		t.Fatalf("add a guest: %v", err)
	}
	var token string
	eventually(ctx, t, h, "a full round showing the new guest pending", func() (bool, error) {
		changes, next, err := rd.RedemptionChanges(ctx, "")
		if err != nil {
			return false, err
		}
		c, ok := findChange(changes, id)
		token = next
		return ok && c.State == foyer.PendingAcceptance && !c.Removed, nil
	})
	if token == "" {
		t.Fatal("a full round gave no token")
	}
	changes, next, err := rd.RedemptionChanges(ctx, token)
	if err != nil {
		t.Fatalf("a round from the full round's token: %v", err)
	}
	if c, ok := findChange(changes, id); ok {
		t.Errorf("the guest shows in a round where nothing of it changed: %+v", c)
	}
	token = next

	// since follows rounds from token until check accepts the guest's
	// change, and leaves token at the round that showed it.
	since := func(what string, check func(directory.RedemptionChange) bool) {
		t.Helper()
		eventually(ctx, t, h, what, func() (bool, error) {
			changes, next, err := rd.RedemptionChanges(ctx, token)
			if err != nil {
				return false, err
			}
			token = next
			c, ok := findChange(changes, id)
			return ok && check(c), nil
		})
	}
	if r, ok := h.Tenant.(Redeeming); ok {
		if err := r.Redeem(ctx, a); err != nil {
			t.Fatalf("redeem: %v", err)
		}
		since("a round showing the guest accepted", func(c directory.RedemptionChange) bool {
			return c.State == foyer.Accepted && !c.StateChangedAt.IsZero() && !c.Removed
		})
	}
	if lc, ok := h.Directory.(directory.Lifecycle); ok {
		if _, _, err := lc.DeleteUser(ctx, id); err != nil {
			t.Fatalf("delete the guest: %v", err)
		}
		since("a round showing the guest removed", func(c directory.RedemptionChange) bool { return c.Removed })
	}
	changes, _, err = rd.RedemptionChanges(ctx, token)
	if err != nil {
		t.Fatalf("a last round: %v", err)
	}
	if c, ok := findChange(changes, id); ok {
		t.Errorf("the guest shows again in a round after the one that showed its change: %+v", c)
	}
}

// redemptionResync: a token the directory no longer honours, or one it
// did not make, is ErrResync; a full round works after it.
func redemptionResync(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	rd := needDelta(t, h)
	_, token, err := rd.RedemptionChanges(ctx, "")
	if err != nil {
		t.Fatalf("a full round: %v", err)
	}
	if _, _, err := rd.RedemptionChanges(ctx, "not a token this directory made"); !errors.Is(err, directory.ErrResync) {
		t.Errorf("a made-up token: %v, want ErrResync", err)
	}
	ex, ok := h.Tenant.(DeltaExpiring)
	if !ok {
		return
	}
	if err := ex.ExpireDeltaTokens(ctx); err != nil {
		t.Fatalf("expire the tokens: %v", err)
	}
	_, _, err = rd.RedemptionChanges(ctx, token)
	if !errors.Is(err, directory.ErrResync) {
		t.Fatalf("an expired token: %v, want ErrResync", err)
	}
	if foyer.ErrorCode(err) == "" {
		t.Errorf("an expired token's error has no foyer code: %v", err)
	}
	if _, next, err := rd.RedemptionChanges(ctx, ""); err != nil || next == "" {
		t.Errorf("a full round after an expired token: %q, %v", next, err)
	}
}
