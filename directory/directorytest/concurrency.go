package directorytest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

func runConcurrency(t *testing.T, newHarness func(t *testing.T) Harness) {
	for _, tc := range []struct {
		name string
		f    func(*testing.T, func(*testing.T) Harness)
	}{
		{"many invitations and group adds at once", concurrentInvitesAndGroupAdds},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.f(t, newHarness)
		})
	}
}

func concurrentInvitesAndGroupAdds(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	needFixture(t, h.Fixtures.Group, "group")
	d := h.Directory
	g, err := d.Resolve(ctx, foyer.Grant{Kind: foyer.GrantGroup, Ref: h.Fixtures.Group})
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		ids   = map[string]foyer.Address{}
		addrs []foyer.Address
	)
	for i := range n {
		a := addr(t, fmt.Sprintf("crowd%d", i))
		addrs = append(addrs, a)
		wg.Go(func() {
			inv, err := inviteOnce(ctx, d, directory.Invitation{Email: a, RedirectURL: redirectURL})
			if err != nil {
				t.Errorf("invite %s: %v", a, err)
				return
			}
			if _, err := d.Grant(ctx, directory.Grantee{UserID: inv.UserID, Email: a}, g); err != nil {
				t.Errorf("add %s to %s: %v", a, g, err)
				return
			}
			mu.Lock()
			ids[inv.UserID] = a
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(ids) != n {
		t.Fatalf("%d distinct users for %d addresses", len(ids), n)
	}
	eventually(ctx, t, h, fmt.Sprintf("all %d are in %s", n, g), func() (bool, error) {
		holders, err := d.Holders(ctx, g)
		for id := range ids {
			if !holders[strings.ToLower(id)] {
				return false, err
			}
		}
		return true, err
	})
	if h.Tenant != nil {
		got, err := h.Tenant.Invitations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			if got[a.Key()] != 1 {
				t.Errorf("%s received %d invitations, want 1", a, got[a.Key()])
			}
		}
	}
}
