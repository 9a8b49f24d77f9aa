package directorytest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// SignIns is the part of a Tenant's side door the activity subtests need;
// a Tenant that does not have it skips them.
type SignIns interface {
	// SignIn records an interactive sign-in of the user with this object
	// id at a time, for signInActivity.
	SignIn(ctx context.Context, userID string, at time.Time) error
	// SetPremium makes the tenant one with Entra ID P1 (true) or without.
	SetPremium(ctx context.Context, on bool) error
}

func runActivity(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("guests with sign-in activity", func(t *testing.T) { t.Parallel(); activityRead(t, newHarness) })
	t.Run("a tenant without P1 is told apart", func(t *testing.T) { t.Parallel(); activityNoPremium(t, newHarness) })
}

func needSignIns(t *testing.T, h Harness) SignIns {
	t.Helper()
	s, ok := needTenant(t, h).(SignIns)
	if !ok {
		t.Skip("the tenant's side door cannot record sign-ins")
	}
	return s
}

// activityRead seeds a guest who signed in, a guest who did not and a
// member: GuestActivity returns both guests, not the member, with the
// recorded sign-in as the guest's latest.
func activityRead(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	tn, si := needTenant(t, h), needSignIns(t, h)
	active, err := tn.AddUser(ctx, User{DisplayName: "Active Guest", Mail: string(addr(t, "active")), Guest: true})
	if err != nil {
		t.Fatalf("add a guest: %v", err)
	}
	idle, err := tn.AddUser(ctx, User{DisplayName: "Idle Guest", Mail: string(addr(t, "idle")), Guest: true})
	if err != nil {
		t.Fatalf("add a guest: %v", err)
	}
	member, err := tn.AddUser(ctx, User{DisplayName: "A Member", Mail: string(addr(t, "member"))})
	if err != nil {
		t.Fatalf("add a member: %v", err)
	}
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	if err := si.SignIn(ctx, active, at); err != nil {
		t.Fatalf("record a sign-in: %v", err)
	}
	eventually(ctx, t, h, "both guests in the guest activity", func() (bool, error) {
		gs, err := h.Directory.GuestActivity(ctx)
		if err != nil {
			return false, err
		}
		byID := map[string]foyer.GuestActivity{}
		for _, g := range gs {
			byID[g.ID] = g
		}
		if _, ok := byID[member]; ok {
			t.Errorf("member %s among the guests", member)
		}
		a, okA := byID[active]
		i, okI := byID[idle]
		if !okA || !okI {
			return false, nil
		}
		if got := a.SignIn.Latest(); !got.Equal(at) {
			t.Errorf("active guest's latest sign-in = %v, want %v", got, at)
		}
		if !i.SignIn.Latest().IsZero() {
			t.Errorf("idle guest signed in at %v, want never", i.SignIn.Latest())
		}
		if !a.AccountEnabled || a.CreatedAt.IsZero() || a.ExternalUserState == "" {
			t.Errorf("active guest read as %+v: want enabled, a creation time and a redemption state", a)
		}
		return true, nil
	})
}

// activityNoPremium: without Entra ID P1 the read fails with ErrNoPremium
// (a forbidden kind of its own), and succeeds again once the tenant has it.
func activityNoPremium(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	si := needSignIns(t, h)
	if err := si.SetPremium(ctx, false); err != nil {
		t.Fatalf("take P1 away: %v", err)
	}
	_, err := h.Directory.GuestActivity(ctx)
	if !errors.Is(err, directory.ErrNoPremium) || foyer.ErrorCode(err) != foyer.EFORBIDDEN {
		t.Fatalf("without P1: err = %v, want ErrNoPremium (forbidden)", err)
	}
	if err := si.SetPremium(ctx, true); err != nil {
		t.Fatalf("give P1 back: %v", err)
	}
	if _, err := h.Directory.GuestActivity(ctx); err != nil {
		t.Fatalf("with P1: %v", err)
	}
}
