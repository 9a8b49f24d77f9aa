package foyer_test

import (
	"testing"

	"github.com/foyer-dev/foyer"
)

func TestStateMoves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to foyer.State
		ok       bool
	}{
		{foyer.StateReceived, foyer.StateApproved, true},
		{foyer.StateReceived, foyer.StateInvited, false},
		{foyer.StatePendingApproval, foyer.StateRejected, true},
		{foyer.StateApproved, foyer.StateProvisioning, true},
		{foyer.StateProvisioning, foyer.StateInvited, true},
		{foyer.StateProvisioning, foyer.StateFailed, true},
		{foyer.StateFailed, foyer.StateProvisioning, true},
		{foyer.StateInvited, foyer.StateActive, true},
		{foyer.StateActive, foyer.StateRevoked, true},
		{foyer.StateRejected, foyer.StateApproved, false},
		{foyer.StateRevoked, foyer.StateActive, false},
	}
	for _, tt := range tests {
		err := tt.from.CheckMove(tt.to)
		if (err == nil) != tt.ok {
			t.Errorf("%s -> %s: err = %v, want ok = %v", tt.from, tt.to, err, tt.ok)
		}
		if err != nil && foyer.ErrorCode(err) != foyer.ECONFLICT {
			t.Errorf("%s -> %s: code %q, want conflict", tt.from, tt.to, foyer.ErrorCode(err))
		}
	}
	if err := foyer.StateReceived.CheckMove("bogus"); foyer.ErrorCode(err) != foyer.EINVALID {
		t.Errorf("move to an unknown state: %v", err)
	}
	if !foyer.StateRejected.Final() || foyer.StateFailed.Final() {
		t.Error("Final: rejected is final, failed is not")
	}
}

func TestEveryStateIsReachable(t *testing.T) {
	t.Parallel()
	all := []foyer.State{foyer.StateReceived, foyer.StateVerified, foyer.StatePendingApproval, foyer.StateApproved,
		foyer.StateRejected, foyer.StateProvisioning, foyer.StateInvited, foyer.StateActive, foyer.StateExpired,
		foyer.StateRevoked, foyer.StateRemoved, foyer.StateFailed}
	seen := map[foyer.State]bool{foyer.StateReceived: true}
	for changed := true; changed; {
		changed = false
		for _, from := range all {
			for _, to := range all {
				if seen[from] && !seen[to] && from.CanMove(to) {
					seen[to], changed = true, true
				}
			}
		}
	}
	for _, s := range all {
		if !s.Valid() {
			t.Errorf("%s is not Valid", s)
		}
		if !seen[s] {
			t.Errorf("%s cannot be reached from received", s)
		}
	}
}

func TestGrantKeyAndDomains(t *testing.T) {
	t.Parallel()
	g1 := foyer.Grant{Kind: foyer.GrantAzureRole, Target: "ACDD72A7", Scope: "/subscriptions/S/resourceGroups/RG"}
	g2 := foyer.Grant{Kind: foyer.GrantAzureRole, Target: "acdd72a7", Scope: "/subscriptions/s/resourcegroups/rg", Ref: "Reader"}
	if g1.Key() != g2.Key() {
		t.Errorf("keys differ by case: %q %q", g1.Key(), g2.Key())
	}
	if (foyer.Grant{Kind: foyer.GrantGroup, Target: "a"}).Key() == (foyer.Grant{Kind: foyer.GrantLicense, Target: "a"}).Key() {
		t.Error("grants of different kinds share a key")
	}
	if !g2.Resolved() || (foyer.Grant{Kind: foyer.GrantAppRole, Target: "sp"}).Resolved() {
		t.Error("Resolved")
	}
	p := &foyer.Profile{Name: "p", Allow: []string{"partner.example"}, Deny: []string{"bad.partner.example"}}
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"a@partner.example", true},
		{"a@x.partner.example", true},
		{"a@bad.partner.example", false},
		{"a@other.example", false},
	} {
		a, _ := foyer.ParseAddress(tt.addr)
		if ok, reason := p.DomainVerdict(a); ok != tt.ok || (!ok && reason == "") {
			t.Errorf("DomainVerdict(%s) = %v %q", tt.addr, ok, reason)
		}
	}
}

func TestParseGrantKey(t *testing.T) {
	t.Parallel()
	for _, g := range []foyer.Grant{
		{Kind: foyer.GrantGroup, Target: "0f8b3a5e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
		{Kind: foyer.GrantAppRole, Target: "sp-id", Role: "role-id"},
		{Kind: foyer.GrantAzureRole, Target: "acdd72a7-3385-48ef-bd42-f606fba81ae7", Scope: "/subscriptions/s/resourcegroups/rg"},
		{Kind: foyer.GrantDirectoryRole, Target: "95e79109-95c0-4d8e-aee3-d01accf2d47b", Scope: "/"},
		{Kind: foyer.GrantMailContact},
		{Kind: foyer.GrantAddressBook},
	} {
		back, err := foyer.ParseGrantKey(g.Key())
		if err != nil || back.Key() != g.Key() {
			t.Errorf("ParseGrantKey(%q) = %+v, %v", g.Key(), back, err)
		}
	}
	for _, bad := range []string{"", "group", "group:", "bogus:x", "app_role:sp::", "a:b:c"} {
		if _, err := foyer.ParseGrantKey(bad); err == nil {
			t.Errorf("ParseGrantKey(%q) accepted", bad)
		}
	}
}
