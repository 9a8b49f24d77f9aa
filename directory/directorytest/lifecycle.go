package directorytest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// runLifecycle runs the directory.Lifecycle subtests when the Directory
// implements it. They write (disable, delete) only users they seed, so a
// harness without a Tenant skips them.
func runLifecycle(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("disable, then delete, each idempotent", func(t *testing.T) { t.Parallel(); lifecycleDisableDelete(t, newHarness) })
	t.Run("guests by attribute", func(t *testing.T) { t.Parallel(); lifecycleGuestsWith(t, newHarness) })
	t.Run("sponsors that are users and groups", func(t *testing.T) { t.Parallel(); lifecycleSponsors(t, newHarness) })
	t.Run("guest lifecycle policies", func(t *testing.T) { t.Parallel(); lifecyclePolicies(t, newHarness) })
}

// Sponsoring is the part of a Tenant's side door the sponsor subtest
// needs; a Tenant that does not have it skips it.
type Sponsoring interface {
	// AddMailGroup creates a mail-enabled group (a Microsoft 365 group)
	// with the given members and returns its object id and its mail.
	AddMailGroup(ctx context.Context, name string, members []string) (id, mail string, err error)
	// AddSponsors makes users or groups (object ids) sponsors of the user,
	// as an admin would in the portal.
	AddSponsors(ctx context.Context, userID string, sponsorIDs ...string) error
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

// lifecycleSponsors: a guest sponsored by a user, a mail-enabled group and
// a security group is told at the user's mail, the mail-enabled group's
// own mail (not its members'), and the mail of the security group's
// direct members that have one (not a member without mail, not the
// members of a group nested in it), each address once.
func lifecycleSponsors(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	lc := needLifecycle(t, h)
	sp, ok := h.Tenant.(Sponsoring)
	if !ok {
		t.Skip("the tenant's side door cannot make a group a sponsor")
	}
	member := func(name string, mail foyer.Address) string {
		t.Helper()
		u := User{DisplayName: name, Mail: string(mail)}
		if mail == "" {
			if h.Fixtures.Domain == "" {
				return ""
			}
			local, _, _ := strings.Cut(string(addr(t, "nomail")), "@")
			u.UserPrincipalName = local + "@" + h.Fixtures.Domain
		}
		id, err := h.Tenant.AddUser(ctx, u)
		if err != nil {
			t.Fatalf("add member %s: %v", name, err)
		}
		return id
	}
	ann, bea, cy, dee := addr(t, "ann"), addr(t, "bea"), addr(t, "cy"), addr(t, "dee")
	annID, beaID, cyID, deeID := member("Ann", ann), member("Bea", bea), member("Cy", cy), member("Dee", dee)
	var members []string
	if noMail := member("No Mail", ""); noMail != "" {
		members = append(members, noMail)
	}
	mailGroup, groupMail, err := sp.AddMailGroup(ctx, "Sponsors "+string(cy), []string{cyID})
	if err != nil {
		t.Fatalf("add a mail-enabled group: %v", err)
	}
	nested, err := h.Tenant.AddGroup(ctx, "Nested "+string(dee), []string{deeID})
	if err != nil {
		t.Fatalf("add a group: %v", err)
	}
	security, err := h.Tenant.AddGroup(ctx, "Sponsors "+string(bea), append(members, beaID, annID, nested))
	if err != nil {
		t.Fatalf("add a group: %v", err)
	}
	guest, err := h.Tenant.AddUser(ctx, User{DisplayName: "Sponsored", Mail: string(addr(t, "sponsored")), Guest: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.AddSponsors(ctx, guest, annID, mailGroup, security); err != nil {
		t.Fatalf("add sponsors: %v", err)
	}
	want := []string{string(ann), strings.ToLower(groupMail), string(bea)}
	slices.Sort(want)
	var got []string
	eventually(ctx, t, h, "the sponsors' addresses", func() (bool, error) {
		as, err := lc.Sponsors(ctx, guest)
		got = got[:0]
		for _, a := range as {
			got = append(got, strings.ToLower(string(a)))
		}
		slices.Sort(got)
		return slices.Equal(got, want), err
	})
	if slices.Contains(got, string(cy)) || slices.Contains(got, string(dee)) {
		t.Fatalf("sponsors = %v: a mail-enabled group's members or a nested group's were told", got)
	}
}
