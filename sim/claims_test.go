package sim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/foyer-dev/foyer/sim"
)

// idTokenOf signs in as login through app's authorization-code flow, as a
// browser would, and returns the id token's claims as go-oidc verified them.
func idTokenOf(t *testing.T, tn *tenant, app sim.App, login, password string) map[string]any {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), tn.plain)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, tn.plain)
	p, err := oidc.NewProvider(ctx, tn.s.URL()+"/"+tn.s.TenantID()+"/v2.0")
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := &oauth2.Config{ClientID: app.ClientID, ClientSecret: app.Secret, Endpoint: p.Endpoint(), RedirectURL: app.RedirectURIs[0], Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	verifier := oauth2.GenerateVerifier()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Transport: tn.plain.Transport, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := b.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n1")))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="ctx" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in form: %.300s", page)
	}
	resp, err = b.PostForm(tn.s.URL()+"/"+tn.s.TenantID()+"/login", url.Values{"ctx": {string(m[1])}, "loginfmt": {login}, "passwd": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: app.ClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func strs(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
	}
	slices.Sort(out)
	return out
}

func TestIDTokenGroupsAndRoles(t *testing.T) {
	t.Parallel()
	const (
		ada       = "5b0f3f4e-0000-4000-8000-00000000ada0"
		bob       = "5b0f3f4e-0000-4000-8000-000000000b0b"
		approvers = "9a000000-0000-4000-8000-000000000001" // security, Ada direct
		outer     = "9a000000-0000-4000-8000-000000000002" // security, holds approvers
		team      = "9a000000-0000-4000-8000-000000000003" // Microsoft 365, not security
		roleAdmin = "7e000000-0000-4000-8000-000000000001"
		roleAppr  = "7e000000-0000-4000-8000-000000000002"
	)
	no := false
	tn := start(t, sim.Options{})
	if _, err := tn.s.Seed(sim.SeedData{
		Users: []sim.SeedUser{
			{ID: ada, UserPrincipalName: "ada@contoso.example", Mail: "ada@contoso.example", DisplayName: "Ada", Password: "pw-ada"},
			{ID: bob, UserPrincipalName: "bob@contoso.example", Mail: "bob@contoso.example", DisplayName: "Bob", Password: "pw-bob"},
		},
		Groups: []sim.SeedGroup{
			{ID: approvers, DisplayName: "Approvers", Members: []string{ada}},
			{ID: outer, DisplayName: "Outer", Members: []string{approvers}},
			{ID: team, DisplayName: "Team", GroupTypes: []string{"Unified"}, SecurityEnabled: &no, Members: []string{ada}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	roles := []sim.AppRole{{ID: roleAdmin, Value: "Foyer.Admin", DisplayName: "Admin"}, {ID: roleAppr, Value: "Foyer.Approver", DisplayName: "Approver"}}
	apps := map[string]sim.App{}
	for _, kind := range []string{"", "SecurityGroup", "All", "ApplicationGroup"} {
		a, err := tn.s.AddApp(sim.App{DisplayName: "foyer " + kind, RedirectURIs: []string{"https://foyer.example/admin/callback"}, AppRoles: roles, GroupMembershipClaims: kind})
		if err != nil {
			t.Fatal(err)
		}
		apps[kind] = a
		// Ada holds Foyer.Admin directly; the Approvers group holds
		// Foyer.Approver; Outer holds Foyer.Admin, which nesting does not
		// pass on.
		for _, as := range []struct{ principal, role string }{{ada, roleAdmin}, {approvers, roleAppr}, {outer, roleAdmin}} {
			body := map[string]any{"principalId": as.principal, "resourceId": a.ObjectID, "appRoleId": as.role}
			wantStatus(t, tn.g("POST", "/servicePrincipals/"+a.ObjectID+"/appRoleAssignedTo", body), 201)
		}
	}
	tests := []struct {
		app, login, pw string
		groups, roles  []string
	}{
		{"", "ada@contoso.example", "pw-ada", nil, []string{"Foyer.Admin", "Foyer.Approver"}},
		{"SecurityGroup", "ada@contoso.example", "pw-ada", []string{approvers, outer}, []string{"Foyer.Admin", "Foyer.Approver"}},
		{"All", "ada@contoso.example", "pw-ada", []string{approvers, outer, team}, []string{"Foyer.Admin", "Foyer.Approver"}},
		{"ApplicationGroup", "ada@contoso.example", "pw-ada", []string{approvers, outer}, []string{"Foyer.Admin", "Foyer.Approver"}},
		{"All", "bob@contoso.example", "pw-bob", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.app+"/"+tc.login, func(t *testing.T) {
			c := idTokenOf(t, tn, apps[tc.app], tc.login, tc.pw)
			if got := strs(c["groups"]); !slices.Equal(got, tc.groups) {
				t.Errorf("groups %v, want %v", got, tc.groups)
			}
			if got := strs(c["roles"]); !slices.Equal(got, tc.roles) {
				t.Errorf("roles %v, want %v", got, tc.roles)
			}
		})
	}
}

func TestIDTokenGroupOverage(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{Empty: true})
	const ada = "5b0f3f4e-0000-4000-8000-00000000ada0"
	d := sim.SeedData{Domains: []sim.SeedDomain{{ID: "contoso.example"}}, Users: []sim.SeedUser{{ID: ada, UserPrincipalName: "ada@contoso.example", Password: "pw"}}}
	for i := range 201 {
		d.Groups = append(d.Groups, sim.SeedGroup{DisplayName: fmt.Sprintf("g%d", i), Members: []string{ada}})
	}
	if _, err := tn.s.Seed(d); err != nil {
		t.Fatal(err)
	}
	app, err := tn.s.AddApp(sim.App{RedirectURIs: []string{"https://foyer.example/cb"}, GroupMembershipClaims: "SecurityGroup"})
	if err != nil {
		t.Fatal(err)
	}
	c := idTokenOf(t, tn, app, "ada@contoso.example", "pw")
	if _, ok := c["groups"]; ok {
		t.Errorf("201 groups listed: the claim should be left out")
	}
	names, _ := c["_claim_names"].(map[string]any)
	if names["groups"] != "src1" {
		t.Errorf("_claim_names %v", c["_claim_names"])
	}
}
