package directorytest

import (
	"errors"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

func runErrors(t *testing.T, newHarness func(t *testing.T) Harness) {

	for _, tc := range []struct {
		name string
		f    func(*testing.T, func(*testing.T) Harness)
	}{
		{"a missing permission is named", errMissingPermission},
		{"not found", errNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.f(t, newHarness)
		})
	}
}

func errMissingPermission(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	if h.Limited == nil {
		t.Skip("the harness has no app with fewer permissions")
	}
	d := h.Limited(t)
	_, err := d.Invite(ctx, directory.Invitation{Email: addr(t, "nope"), RedirectURL: redirectURL})
	if !errors.Is(err, directory.ErrForbidden) {
		t.Fatalf("invite without User.Invite.All: %v, want ErrForbidden", err)
	}
	var de *directory.Error
	if !errors.As(err, &de) || de.Permission != "User.Invite.All" || !strings.Contains(err.Error(), "User.Invite.All") {
		t.Fatalf("error %v does not name User.Invite.All", err)
	}
	if de.RequestID == "" {
		t.Errorf("error %v carries no request-id", err)
	}
	if directory.Code(err) != foyer.EFORBIDDEN || directory.Retryable(err) {
		t.Errorf("code %s retryable %v", directory.Code(err), directory.Retryable(err))
	}
	// Reading still works with the permissions it has.
	if _, err := d.Find(ctx, []foyer.Address{addr(t, "x")}); err != nil {
		t.Errorf("find with User.Read.All: %v", err)
	}
}

func errNotFound(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	g := foyer.Grant{Kind: foyer.GrantGroup, Ref: "x", Target: "7f3a0000-0000-4000-8000-000000000002"}
	_, err := h.Directory.Holders(ctx, g)
	if !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("holders of a missing group: %v, want ErrNotFound", err)
	}
	if directory.Code(err) != foyer.ENOTFOUND {
		t.Errorf("code %s", directory.Code(err))
	}
}
