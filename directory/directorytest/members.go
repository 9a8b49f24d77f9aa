package directorytest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

func runMembers(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("a guest given the group is among its members", func(t *testing.T) { t.Parallel(); membersGranted(t, newHarness) })
	t.Run("nested groups, each user once", func(t *testing.T) { t.Parallel(); membersNested(t, newHarness) })
	t.Run("an unknown group is not found", func(t *testing.T) { t.Parallel(); membersUnknown(t, newHarness) })
}

// membersGranted gives the fixture group to a guest invited a moment ago
// and finds the guest, with the invited address as mail, among the
// group's members.
func membersGranted(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	needFixture(t, h.Fixtures.Group, "group")
	d := h.Directory
	g, err := d.Resolve(ctx, foyer.Grant{Kind: foyer.GrantGroup, Ref: h.Fixtures.Group})
	if err != nil {
		t.Fatalf("resolve group %s: %v", h.Fixtures.Group, err)
	}
	to := invited(ctx, t, d, "member")
	if _, err := d.Grant(ctx, to, g); err != nil {
		t.Fatalf("grant %s: %v", g, err)
	}
	eventually(ctx, t, h, to.Email.String()+" among the members of "+h.Fixtures.Group, func() (bool, error) {
		ms, err := d.Members(ctx, g.Target)
		i := slices.IndexFunc(ms, func(p directory.Person) bool { return strings.EqualFold(p.ID, to.UserID) })
		if i < 0 {
			return false, err
		}
		if a, ok := ms[i].Reach(); !ok || a.Key() != to.Email.Key() {
			t.Errorf("member %s reached at %q (mail %q, UPN %q), want %s", to.UserID, a, ms[i].Mail, ms[i].UserPrincipalName, to.Email)
		}
		return true, err
	})
}

// membersNested reads a group holding a user and a group that holds that
// user again and another: both users, once each, reachable by mail or,
// without mail, by user principal name.
func membersNested(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	tn := needTenant(t, h)
	needFixture(t, h.Fixtures.Domain, "verified domain")
	ann, err := tn.AddUser(ctx, User{DisplayName: "Ann Approver", Mail: string(addr(t, "ann"))})
	if err != nil {
		t.Fatalf("add a user: %v", err)
	}
	// A member without mail (no Exchange licence): reached by UPN.
	upn := strings.Replace(string(addr(t, "bob")), "@fabrikam.example", "@"+h.Fixtures.Domain, 1)
	bob, err := tn.AddUser(ctx, User{DisplayName: "Bob Approver", UserPrincipalName: upn})
	if err != nil {
		t.Fatalf("add a user: %v", err)
	}
	inner, err := tn.AddGroup(ctx, "inner approvers", []string{bob, ann})
	if err != nil {
		t.Fatalf("add a group: %v", err)
	}
	outer, err := tn.AddGroup(ctx, "outer approvers", []string{ann, inner})
	if err != nil {
		t.Fatalf("add a group: %v", err)
	}
	eventually(ctx, t, h, "both users among the members", func() (bool, error) {
		ms, err := h.Directory.Members(ctx, outer)
		if err != nil {
			return false, err
		}
		seen := map[string]int{}
		for _, p := range ms {
			seen[strings.ToLower(p.ID)]++
			if _, ok := p.Reach(); !ok {
				t.Errorf("member %s has neither mail nor an address as UPN (%q, %q)", p.ID, p.Mail, p.UserPrincipalName)
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("member %s listed %d times", id, n)
			}
		}
		return len(ms) == 2 && seen[strings.ToLower(ann)] == 1 && seen[strings.ToLower(bob)] == 1, nil
	})
}

func membersUnknown(t *testing.T, newHarness func(t *testing.T) Harness) {
	h, ctx := setup(t, newHarness)
	_, err := h.Directory.Members(ctx, "7f3a0000-0000-4000-8000-000000000002")
	if !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("members of an unknown group: %v, want ErrNotFound", err)
	}
}
