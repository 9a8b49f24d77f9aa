package directorytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	t.Run("redemption states by id", func(t *testing.T) { t.Parallel(); redemptionRead(t, newHarness) })
}

func needSignIns(t *testing.T, h Harness) SignIns {
	t.Helper()
	s, ok := needTenant(t, h).(SignIns)
	if !ok {
		t.Skip("the tenant's side door cannot record sign-ins")
	}
	return s
}

// activityRead seeds a guest who signed in recently, one who signed in
// long ago, one who never did and a member: GuestActivity since a day
// before the recent sign-in returns the three guests, not the member, with
// the recent sign-in as the first one's latest and no sign-in for the
// other two; without a since it reads no sign-in at all.
func activityRead(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	tn, si := needTenant(t, h), needSignIns(t, h)
	add := func(name string, guest bool) string {
		id, err := tn.AddUser(ctx, User{DisplayName: name, Mail: string(addr(t, name)), Guest: guest})
		if err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
		return id
	}
	active, old, idle, member := add("active", true), add("old", true), add("idle", true), add("member", false)
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	if err := si.SignIn(ctx, active, at); err != nil {
		t.Fatalf("record a sign-in: %v", err)
	}
	if err := si.SignIn(ctx, old, at.AddDate(0, 0, -30)); err != nil {
		t.Fatalf("record a sign-in: %v", err)
	}
	if err := si.SignIn(ctx, member, at); err != nil {
		t.Fatalf("record a sign-in: %v", err)
	}
	since := at.Add(-24 * time.Hour)
	eventually(ctx, t, h, "the guests in the guest activity", func() (bool, error) {
		gs, err := h.Directory.GuestActivity(ctx, since)
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
		o, okO := byID[old]
		i, okI := byID[idle]
		if !okA || !okO || !okI {
			return false, nil
		}
		if got := a.SignIn.Latest(); !got.Equal(at) {
			t.Errorf("active guest's latest sign-in = %v, want %v", got, at)
		}
		for name, g := range map[string]foyer.GuestActivity{"old": o, "idle": i} {
			if g.SignIn != nil {
				t.Errorf("%s guest read with a sign-in %+v, want none since %v", name, *g.SignIn, since)
			}
		}
		for _, g := range []foyer.GuestActivity{a, o, i} {
			if !g.SignInSince.Equal(since) {
				t.Errorf("guest %s: SignInSince = %v, want %v", g.ID, g.SignInSince, since)
			}
		}
		if !a.AccountEnabled || a.CreatedAt.IsZero() || a.ExternalUserState == "" {
			t.Errorf("active guest read as %+v: want enabled, a creation time and a redemption state", a)
		}
		return true, nil
	})
	gs, err := h.Directory.GuestActivity(ctx, time.Time{})
	if err != nil {
		t.Fatalf("read without sign-ins: %v", err)
	}
	for _, g := range gs {
		if g.SignIn != nil || !g.SignInSince.IsZero() {
			t.Errorf("read without a since: guest %s has sign-in %+v since %v, want none read", g.ID, g.SignIn, g.SignInSince)
		}
	}
}

// activityNoPremium: without Entra ID P1 a read of sign-ins fails with
// ErrNoPremium (a forbidden kind of its own), a read without them
// succeeds, and both succeed once the tenant has P1 again.
func activityNoPremium(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	si := needSignIns(t, h)
	if err := si.SetPremium(ctx, false); err != nil {
		t.Fatalf("take P1 away: %v", err)
	}
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := h.Directory.GuestActivity(ctx, since)
	if !errors.Is(err, directory.ErrNoPremium) || foyer.ErrorCode(err) != foyer.EFORBIDDEN {
		t.Fatalf("without P1: err = %v, want ErrNoPremium (forbidden)", err)
	}
	if _, err := h.Directory.GuestActivity(ctx, time.Time{}); err != nil {
		t.Fatalf("without P1, no sign-ins asked: %v", err)
	}
	if err := si.SetPremium(ctx, true); err != nil {
		t.Fatalf("give P1 back: %v", err)
	}
	if _, err := h.Directory.GuestActivity(ctx, since); err != nil {
		t.Fatalf("with P1: %v", err)
	}
}

// redemptionRead: Redemptions reads a pending guest's state by its id,
// whatever the case of the id, and leaves out an id the tenant does not
// have.
func redemptionRead(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	rd, ok := h.Directory.(directory.Redemptions)
	if !ok {
		t.Skip("the directory does not read redemption states")
	}
	tn := needTenant(t, h)
	var ids []string
	for i := range 17 { // more than one request's worth
		id, err := tn.AddUser(ctx, User{DisplayName: fmt.Sprintf("Pending %d", i), Mail: string(addr(t, fmt.Sprintf("pending%d", i))), Guest: true})
		if err != nil {
			t.Fatalf("add a guest: %v", err)
		}
		ids = append(ids, id)
	}
	ids[0] = strings.ToUpper(ids[0])
	gone := "00000000-0000-0000-0000-00000000dead"
	eventually(ctx, t, h, "the guests' redemption states", func() (bool, error) {
		got, err := rd.Redemptions(ctx, append(slices.Clone(ids), gone))
		if err != nil {
			return false, err
		}
		if _, ok := got[gone]; ok {
			t.Errorf("an id the tenant does not have was answered: %+v", got[gone])
		}
		if len(got) < len(ids) {
			return false, nil
		}
		for _, id := range ids {
			if r := got[id]; r.State != foyer.PendingAcceptance || !strings.EqualFold(r.UserID, id) {
				t.Errorf("guest %s: %+v, want PendingAcceptance", id, r)
			}
		}
		return true, nil
	})
}
