package directorytest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/directory"
)

// runLifecycle runs the directory.Lifecycle subtests when the Directory
// implements it. They write (disable, delete) only users they seed, so a
// harness without a Tenant skips them.
func runLifecycle(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("disable, then delete, each idempotent", func(t *testing.T) { t.Parallel(); lifecycleDisableDelete(t, newHarness) })
	t.Run("guests by attribute", func(t *testing.T) { t.Parallel(); lifecycleGuestsWith(t, newHarness) })
	t.Run("guest lifecycle policies", func(t *testing.T) { t.Parallel(); lifecyclePolicies(t, newHarness) })
}

func needLifecycle(t *testing.T, h Harness) directory.Lifecycle {
	t.Helper()
	needTenant(t, h)
	lc, ok := h.Directory.(directory.Lifecycle)
	if !ok {
		t.Skip("the directory does not implement directory.Lifecycle")
	}
	return lc
}

// lifecycleDisableDelete: a seeded guest is read as enabled, disabled
// (twice, the second a no-op), read as disabled, deleted, read as gone,
// and deleted again with gone true; an unknown id reads as gone.
func lifecycleDisableDelete(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	lc := needLifecycle(t, h)
	a := addr(t, "sweep")
	id, err := h.Tenant.AddUser(ctx, User{DisplayName: "Sweep Guest", Mail: string(a), Guest: true})
	if err != nil {
		t.Fatalf("add a guest: %v", err)
	}
	account := func(want bool) directory.Account {
		t.Helper()
		var acct directory.Account
		eventually(ctx, t, h, "the guest's account", func() (bool, error) {
			var exists bool
			var err error
			acct, exists, err = lc.Account(ctx, id)
			return exists == want, err
		})
		return acct
	}
	if acct := account(true); !acct.Enabled || !strings.EqualFold(acct.ID, id) || !strings.EqualFold(acct.Mail, string(a)) || !acct.LastSignIn.IsZero() {
		t.Fatalf("account of a new guest = %+v", acct)
	}
	if si, ok := h.Tenant.(SignIns); ok {
		at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
		if err := si.SignIn(ctx, id, at); err != nil {
			t.Fatalf("record a sign-in: %v", err)
		}
		if acct := account(true); !acct.LastSignIn.Equal(at) {
			t.Fatalf("last sign-in = %v, want %v", acct.LastSignIn, at)
		}
	}
	for i := range 2 {
		if _, err := lc.DisableUser(ctx, id); err != nil {
			t.Fatalf("disable %d: %v", i+1, err)
		}
	}
	if acct := account(true); acct.Enabled {
		t.Fatalf("account after disable = %+v, want disabled", acct)
	}
	if _, gone, err := lc.DeleteUser(ctx, id); err != nil || gone {
		t.Fatalf("delete: gone %v, err %v", gone, err)
	}
	account(false)
	if _, gone, err := lc.DeleteUser(ctx, id); err != nil || !gone {
		t.Fatalf("delete of a deleted guest: gone %v, err %v; want gone and no error", gone, err)
	}
	if _, err := lc.DisableUser(ctx, id); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("disable of a deleted guest: %v, want not found", err)
	}
	if _, exists, err := lc.Account(context.WithoutCancel(ctx), "00000000-0000-0000-0000-00000000beef"); err != nil || exists {
		t.Fatalf("account of an unknown id: exists %v, err %v", exists, err)
	}
}

// lifecycleGuestsWith: GuestsWith finds the guest whose companyName is
// the value, not the others, and refuses a property it does not know.
func lifecycleGuestsWith(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	lc := needLifecycle(t, h)
	company := "Excluded " + strings.TrimSuffix(string(addr(t, "co")), "@fabrikam.example")
	in, err := h.Tenant.AddUser(ctx, User{DisplayName: "In", Mail: string(addr(t, "in")), Guest: true, CompanyName: company})
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Tenant.AddUser(ctx, User{DisplayName: "Out", Mail: string(addr(t, "out")), Guest: true, CompanyName: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, h, "the guest of the company", func() (bool, error) {
		ids, err := lc.GuestsWith(ctx, "companyName", company)
		if slices.Contains(ids, strings.ToLower(out)) {
			t.Fatalf("GuestsWith(companyName, %q) = %v holds the other guest %s", company, ids, out)
		}
		return slices.Contains(ids, strings.ToLower(in)), err
	})
	if _, err := lc.GuestsWith(ctx, "signInActivity", "x"); !errors.Is(err, directory.ErrInvalid) {
		t.Fatalf("GuestsWith of an unknown property: %v, want invalid", err)
	}
}
