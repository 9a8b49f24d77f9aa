package directorytest

import (
	"errors"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

const redirectURL = "https://myapps.microsoft.com/"

func runInvite(t *testing.T, newHarness func(t *testing.T) Harness) {

	for _, tc := range []struct {
		name string
		f    func(*testing.T, func(*testing.T) Harness)
	}{
		{"a new guest, without Entra's email", inviteNew},
		{"a quote in the address", inviteQuote},
		{"again: the same guest", inviteAgain},
		{"an internal address", inviteInternal},
		{"an existing member", inviteMember},
		{"characters Entra refuses", inviteRefusedCharacters},
		{"a look-up sees a new guest at once", lookupNewGuest},
		{"a gate refuses writes", gateRefusesWrites},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.f(t, newHarness)
		})
	}
}

func inviteNew(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	a := addr(t, "new")
	inv, err := inviteOnce(ctx, h.Directory, directory.Invitation{Email: a, DisplayName: "New Guest", RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	if inv.UserID == "" {
		t.Fatalf("invited %+v: no user id", inv)
	}
	// The redeem URL is lost only when the first answer was lost
	// (Existing); otherwise it is what the caller mails.
	if inv.RedeemURL == "" && !inv.Existing {
		t.Fatalf("invited %+v: no redeem URL", inv)
	}
	var p directory.Person
	eventually(ctx, t, h, "the invited guest is found", func() (bool, error) {
		got, err := h.Directory.Find(ctx, []foyer.Address{a})
		p = got[a.Key()]
		return p.ID != "", err
	})
	if p.ID != inv.UserID || !p.Guest() || p.ExternalUserState != foyer.PendingAcceptance {
		t.Fatalf("after the invitation Find gives %+v, want pending guest %s", p, inv.UserID)
	}
	if !strings.Contains(strings.ToLower(p.UserPrincipalName), "#ext#") {
		t.Errorf("guest UPN %q lacks #EXT#", p.UserPrincipalName)
	}
	assertInvitations(t, h, a, 1)
}

func inviteQuote(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	a := addr(t, "o'brien")
	inv, err := inviteOnce(ctx, h.Directory, directory.Invitation{Email: a, RedirectURL: redirectURL, SendEmail: true, Message: "Welcome, O'Brien"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, h, "the invited guest is found", func() (bool, error) {
		got, err := h.Directory.Find(ctx, []foyer.Address{a})
		if p, ok := got[a.Key()]; ok && p.ID != inv.UserID {
			t.Fatalf("Find(%s) = %+v, want %s", a, p, inv.UserID)
		}
		return got[a.Key()].ID != "", err
	})
	assertInvitations(t, h, a, 1)
}

func inviteAgain(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	a := addr(t, "twice")
	first, err := inviteOnce(ctx, h.Directory, directory.Invitation{Email: a, RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	second, err := inviteOnce(ctx, h.Directory, directory.Invitation{Email: a, RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	if first.UserID != second.UserID {
		t.Fatalf("second invitation made user %s, first %s", second.UserID, first.UserID)
	}
	reset, err := h.Directory.Invite(ctx, directory.Invitation{Email: a, RedirectURL: redirectURL, Reset: true, UserID: first.UserID})
	if err != nil {
		t.Fatal(err)
	}
	if reset.UserID != first.UserID {
		t.Fatalf("reset made user %s, want %s", reset.UserID, first.UserID)
	}
}

func inviteInternal(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	needFixture(t, h.Fixtures.Domain, "verified domain")
	a := foyer.Address("someone.new@" + h.Fixtures.Domain)
	_, err := h.Directory.Invite(ctx, directory.Invitation{Email: a, RedirectURL: redirectURL})
	if !errors.Is(err, directory.ErrInternal) {
		t.Fatalf("inviting %s: %v, want ErrInternal", a, err)
	}
}

func inviteMember(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	ten := needTenant(t, h)
	a := addr(t, "member")
	if _, err := ten.AddUser(ctx, User{DisplayName: "Member", Mail: string(a)}); err != nil {
		t.Fatal(err)
	}
	_, err := h.Directory.Invite(ctx, directory.Invitation{Email: a, RedirectURL: redirectURL})
	if !errors.Is(err, directory.ErrInternal) {
		t.Fatalf("inviting member %s: %v, want ErrInternal", a, err)
	}
}

func inviteRefusedCharacters(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	for _, a := range []foyer.Address{"a(b@fabrikam.example", "a,b@fabrikam.example", "a@b", "", ".a@fabrikam.example"} {
		if _, err := h.Directory.Invite(ctx, directory.Invitation{Email: a, RedirectURL: redirectURL}); !errors.Is(err, directory.ErrInvalidAddress) {
			t.Errorf("inviting %q: %v, want ErrInvalidAddress", a, err)
		}
	}
	if ten := h.Tenant; ten != nil {
		n, err := ten.Invitations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(n) != 0 {
			t.Errorf("invitations went out: %v", n)
		}
	}
}

// assertInvitations checks that a received exactly n invitations.
func assertInvitations(t *testing.T, h Harness, a foyer.Address, n int) {
	t.Helper()
	if h.Tenant == nil {
		return
	}
	got, err := h.Tenant.Invitations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got[a.Key()] != n {
		t.Errorf("%s received %d invitations, want %d", a, got[a.Key()], n)
	}
}
