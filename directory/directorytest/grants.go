package directorytest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// grantCase is one kind of grant as the fixtures name it.
type grantCase struct {
	name  string
	grant func(f Fixtures) (foyer.Grant, string) // the grant and the fixture it needs ("" = missing)
}

var grantCases = []grantCase{
	{"group", func(f Fixtures) (foyer.Grant, string) {
		return foyer.Grant{Kind: foyer.GrantGroup, Ref: f.Group}, f.Group
	}},
	{"app role", func(f Fixtures) (foyer.Grant, string) {
		return foyer.Grant{Kind: foyer.GrantAppRole, Ref: f.App, Role: f.AppRole}, f.App
	}},
	{"license", func(f Fixtures) (foyer.Grant, string) {
		return foyer.Grant{Kind: foyer.GrantLicense, Ref: f.License, UsageLocation: f.UsageLocation}, f.License
	}},
	{"directory role", func(f Fixtures) (foyer.Grant, string) {
		return foyer.Grant{Kind: foyer.GrantDirectoryRole, Ref: f.DirectoryRole}, f.DirectoryRole
	}},
	{"azure role", func(f Fixtures) (foyer.Grant, string) {
		need := f.AzureRole
		if f.AzureScope == "" {
			need = ""
		}
		return foyer.Grant{Kind: foyer.GrantAzureRole, Ref: f.AzureRole, Scope: f.AzureScope}, need
	}},
	{"address book", func(f Fixtures) (foyer.Grant, string) {
		return foyer.Grant{Kind: foyer.GrantAddressBook}, yes(f.MailContacts)
	}},
}

// holderKey is how Holders names a grantee for g.
func holderKey(g foyer.Grant, to directory.Grantee) string {
	if g.Kind == foyer.GrantMailContact {
		return to.Email.Key()
	}
	return strings.ToLower(to.UserID)
}

// invited invites a fresh guest and returns it as a grantee.
func invited(ctx context.Context, t *testing.T, d directory.Directory, local string) directory.Grantee {
	t.Helper()
	a := addr(t, local)
	inv, err := inviteOnce(ctx, d, directory.Invitation{Email: a, DisplayName: local, RedirectURL: redirectURL})
	if err != nil {
		t.Fatalf("invite %s: %v", a, err)
	}
	return directory.Grantee{UserID: inv.UserID, Email: a, DisplayName: local}
}

func runGrants(t *testing.T, newHarness func(t *testing.T) Harness) {
	for _, gc := range grantCases {
		t.Run(gc.name+": grant right after the invitation, hold, revoke", func(t *testing.T) {
			t.Parallel()
			grantHoldRevoke(t, newHarness, gc)
		})
	}

	t.Run("resolve refusals", func(t *testing.T) { t.Parallel(); resolveRefusals(t, newHarness) })
	t.Run("an unresolved grant is refused before any call", func(t *testing.T) { t.Parallel(); unresolvedRefused(t, newHarness) })
}

func resolveRefusals(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	d := h.Directory
	for _, tc := range []struct {
		g    foyer.Grant
		want error
	}{
		{foyer.Grant{Kind: foyer.GrantGroup, Ref: "No Such Group 7f3a"}, directory.ErrNotFound},
		{foyer.Grant{Kind: foyer.GrantGroup, Ref: "7f3a0000-0000-4000-8000-000000000001"}, directory.ErrNotFound},
		{foyer.Grant{Kind: foyer.GrantDirectoryRole, Ref: "No Such Role 7f3a"}, directory.ErrNotFound},
		{foyer.Grant{Kind: foyer.GrantLicense, Ref: "NO_SUCH_SKU_7F3A"}, directory.ErrNotFound},
		{foyer.Grant{Kind: foyer.GrantGroup, Ref: ""}, directory.ErrInvalid},
		{foyer.Grant{Kind: "teleport", Ref: "x"}, directory.ErrInvalid},
	} {
		if _, err := d.Resolve(ctx, tc.g); !errors.Is(err, tc.want) {
			t.Errorf("resolve %+v: %v, want %v", tc.g, err, tc.want)
		}
	}
	if h.Fixtures.App != "" {
		if _, err := d.Resolve(ctx, foyer.Grant{Kind: foyer.GrantAppRole, Ref: h.Fixtures.App, Role: "NoSuchRole7f3a"}); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("resolve a missing app role: %v, want ErrNotFound", err)
		}
	}
}

func unresolvedRefused(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	to := directory.Grantee{UserID: "00000000-0000-4000-8000-000000000001", Email: "x@fabrikam.example"}
	for _, g := range []foyer.Grant{{Kind: foyer.GrantGroup, Ref: "x"}, {Kind: foyer.GrantAppRole, Ref: "x", Target: "y"}} {
		if _, err := h.Directory.Grant(ctx, to, g); !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("grant %+v: %v, want ErrInvalid", g, err)
		}
		if _, err := h.Directory.Revoke(ctx, to, g); !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("revoke %+v: %v, want ErrInvalid", g, err)
		}
	}
}

// grantHoldRevoke resolves a grant, gives it to a guest invited a moment
// ago (and again), checks the holders, and takes it back (twice).
func grantHoldRevoke(t *testing.T, newHarness func(t *testing.T) Harness, gc grantCase) {
	h, ctx := setup(t, newHarness)
	cfg, need := gc.grant(h.Fixtures)
	needFixture(t, need, gc.name)
	d := h.Directory
	g, err := d.Resolve(ctx, cfg)
	if err != nil {
		t.Fatalf("resolve %s: %v", cfg, err)
	}
	if !g.Resolved() {
		t.Fatalf("resolve %s gave unresolved %+v", cfg, g)
	}
	to := invited(ctx, t, d, "grantee")
	// Replication: the guest was created a moment ago.
	ids, err := d.Grant(ctx, to, g)
	if err != nil {
		t.Fatalf("grant %s: %v", g, err)
	}
	if len(ids) == 0 || ids[0] == "" {
		t.Errorf("grant %s returned no request id for its write", g)
	}
	if _, err := d.Grant(ctx, to, g); err != nil {
		t.Fatalf("grant %s again (held already): %v", g, err)
	}
	key := holderKey(g, to)
	eventually(ctx, t, h, fmt.Sprintf("%s holds %s", key, g), func() (bool, error) {
		holders, err := d.Holders(ctx, g)
		return holders[key], err
	})
	ids, err = d.Revoke(ctx, to, g)
	if err != nil {
		t.Fatalf("revoke %s: %v", g, err)
	}
	if len(ids) == 0 {
		t.Errorf("revoke %s returned no request id for its write", g)
	}
	if _, err := d.Revoke(ctx, to, g); err != nil {
		t.Fatalf("revoke %s again (not held): %v", g, err)
	}
	eventually(ctx, t, h, fmt.Sprintf("%s no longer holds %s", key, g), func() (bool, error) {
		holders, err := d.Holders(ctx, g)
		return !holders[key], err
	})
}
