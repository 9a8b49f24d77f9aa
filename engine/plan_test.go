package engine_test

import (
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/engine"
)

func addr(t *testing.T, s string) foyer.Address {
	t.Helper()
	a, err := foyer.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestDecide(t *testing.T) {
	t.Parallel()
	group := foyer.Grant{Kind: foyer.GrantGroup, Target: "g1", Name: "DemoApp"}
	role := foyer.Grant{Kind: foyer.GrantAppRole, Target: "sp1", Role: "r1", Name: "DemoApp/Reader"}
	contact := foyer.Grant{Kind: foyer.GrantMailContact}
	grants := []foyer.Grant{group, role, contact}
	held := engine.Holdings{
		group.Key():   {"u-guest": true},
		role.Key():    {},
		contact.Key(): {"held@partner.example": true},
	}
	guest := &directory.Person{ID: "U-GUEST", UserType: "Guest", ExternalUserState: "Accepted"}
	member := &directory.Person{ID: "u-member", UserType: "Member", UserPrincipalName: "m@contoso.example"}
	tests := []struct {
		name       string
		row        foyer.Row
		person     *directory.Person
		want       foyer.Action
		wantGrants []string
		reason     string
	}{
		{"new person", foyer.Row{Email: addr(t, "new@partner.example")}, nil, foyer.ActionInvite,
			[]string{"group DemoApp", "app_role DemoApp/Reader", "mail_contact"}, "no user"},
		{"guest missing some grants", foyer.Row{Email: addr(t, "g@partner.example")}, guest, foyer.ActionExists,
			[]string{"app_role DemoApp/Reader", "mail_contact"}, "missing 2 of 3"},
		{"guest with every grant", foyer.Row{Email: addr(t, "held@partner.example")},
			guest, foyer.ActionExists, []string{"app_role DemoApp/Reader"}, "Accepted"},
		{"member", foyer.Row{Email: addr(t, "m@partner.example")}, member, foyer.ActionSkip, nil, "member of the tenant"},
		{"verdict kept", foyer.Row{Raw: "bad", Action: foyer.ActionInvalid, Reason: "no @"}, nil, foyer.ActionInvalid, nil, "no @"},
	}
	for _, tt := range tests {
		got := engine.Decide(tt.row, tt.person, grants, held)
		if got.Action != tt.want || !strings.Contains(got.Reason, tt.reason) {
			t.Errorf("%s: action %s reason %q; want %s, reason with %q", tt.name, got.Action, got.Reason, tt.want, tt.reason)
		}
		if strings.Join(got.Grants, "|") != strings.Join(tt.wantGrants, "|") {
			t.Errorf("%s: grants %q, want %q", tt.name, got.Grants, tt.wantGrants)
		}
		if tt.person != nil && got.UserID != tt.person.ID {
			t.Errorf("%s: user id %q", tt.name, got.UserID)
		}
	}
}
