package engine_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
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
		wantGrants []string // by key: grants travel by key; views name them
		reason     string
	}{
		{"new person", foyer.Row{Email: addr(t, "new@partner.example")}, nil, foyer.ActionInvite,
			[]string{"group:g1", "app_role:sp1:r1:", "mail_contact:"}, "no user"},
		{"guest missing some grants", foyer.Row{Email: addr(t, "g@partner.example")}, guest, foyer.ActionExists,
			[]string{"app_role:sp1:r1:", "mail_contact:"}, "missing 2 of 3"},
		{"guest with every grant", foyer.Row{Email: addr(t, "held@partner.example")},
			guest, foyer.ActionExists, []string{"app_role:sp1:r1:"}, "Accepted"},
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

// planDir is a directory client on a fresh emulated tenant without demo
// content.
func planDir(t *testing.T, o sim.Options) (*sim.Server, *graph.Client) {
	t.Helper()
	s := simtest.Start(t, o)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	dir, err := graph.New(context.Background(), graph.Options{
		TenantID: s.TenantID(), ClientID: s.ClientID(), Cloud: graph.CloudCustom,
		Endpoints:  graph.Endpoints{Authority: s.URL(), Graph: s.URL(), ARM: s.URL(), Exchange: s.URL()},
		RootCAs:    pool,
		Credential: graph.Credential{Type: graph.CredentialClientSecret, SecretEnv: "SECRET"},
		Getenv:     func(string) string { return s.ClientSecret() },
		Pacing:     graph.Pacing{RetryDelay: 20 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

// candidates yields n candidate rows: every other one the address of a
// guest the sim's bulk seeding made (guest0@bulk.example, guest1@…).
func candidates(n int) engine.Rows {
	return func(yield func(foyer.Row) error) error {
		for i := range n {
			a := foyer.Address(fmt.Sprintf("new%d@partner.example", i))
			if i%2 == 0 {
				a = foyer.Address(fmt.Sprintf("guest%d@bulk.example", i/2))
			}
			if err := yield(foyer.Row{Line: i + 2, Email: a}); err != nil {
				return err
			}
		}
		return nil
	}
}

// TestPlanReadsGuestsOnce: a plan looked up in many chunks reads the
// tenant's guests about once, however many chunks there are (it used to
// look every chunk up again: quadratic for a large tenant).
func TestPlanReadsGuestsOnce(t *testing.T) {
	t.Parallel()
	s, dir := planDir(t, sim.Options{Empty: true})
	if n, err := s.AddGuests(sim.BulkGuests{Count: 50}); err != nil || n != 50 {
		t.Fatalf("seed guests: %d, %v", n, err)
	}
	p := &foyer.Profile{Name: "partners", RedirectURL: "https://myapps.microsoft.com"}
	reads := map[int]int64{}
	for _, rows := range []int{100, 200} {
		before := s.Stats().Routes["GET /v1.0/users"]
		pl := &engine.Planner{Dir: dir, Profile: p, Chunk: 10}
		var sum foyer.Summary
		err := pl.Plan(context.Background(), candidates(rows), engine.Holdings{}, func(r foyer.Row) error {
			sum.Count(r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		reads[rows] = s.Stats().Routes["GET /v1.0/users"] - before
		if sum.Actions[foyer.ActionExists] != 50 || sum.Actions[foyer.ActionInvite] != rows-50 {
			t.Errorf("%d rows: %v, want 50 exists and %d invite", rows, sum.Actions, rows-50)
		}
	}
	// 50 guests fit one page of 999: one read, for 10 chunks as for 20.
	if reads[100] != 1 || reads[200] != 1 {
		t.Errorf("GET /users: %d for 100 rows in chunks of 10, %d for 200; want 1 each", reads[100], reads[200])
	}
}

// TestPrepare: the reads a plan makes before its first row, once each:
// verified domains, a look-up, holders of each grant, free seats of each
// license, the object quota. An app that may not read users fails it.
func TestPrepare(t *testing.T) {
	t.Parallel()
	s, dir := planDir(t, sim.Options{})
	ctx := context.Background()
	grants, err := engine.ResolveGrants(ctx, dir, []foyer.Grant{
		{Kind: foyer.GrantGroup, Ref: "DemoApp"},
		{Kind: foyer.GrantLicense, Ref: "ENTERPRISEPACK", UsageLocation: "US"},
		{Kind: foyer.GrantLicense, Ref: "EMS", UsageLocation: "US"}, // every seat taken: it resolves all the same
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pl := &engine.Planner{Dir: dir, Profile: &foyer.Profile{Name: "p", Grants: grants}}
	before := s.Stats().Reads
	pre, err := pl.Prepare(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reads := s.Stats().Reads - before; reads != 8 {
		t.Errorf("%d reads, want 8 (domains, one look-up, 3 holder lists, 2 seat counts, the quota)", reads)
	}
	if !slices.Contains(pre.Verified, "contoso.example") {
		t.Errorf("verified domains %q", pre.Verified)
	}
	if len(pre.Held[grants[0].Key()]) != 2 || len(pre.Held[grants[1].Key()]) != 3 {
		t.Errorf("holders %v", pre.Held)
	}
	if pre.Limits.Seats[grants[1].Key()] != 22 || pre.Limits.Seats[grants[2].Key()] != 0 {
		t.Errorf("free seats %v, want 22 of ENTERPRISEPACK and 0 of EMS", pre.Limits.Seats)
	}
	if q := pre.Limits.Quota; q.Total != 300_000 || q.Used != s.Snapshot().ObjectQuota.Used {
		t.Errorf("quota %+v", q)
	}
}
