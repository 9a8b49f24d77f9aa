package config

import (
	"strings"
	"testing"
)

// pacing.invitations takes governed or ceiling (or nothing, the default by
// cloud); anything else is refused with its place in the file.
func TestPacingInvitations(t *testing.T) {
	t.Parallel()
	const base = `tenants:
  contoso:
    tenant_id: 00000000-0000-0000-0000-000000000001
    client_id: 00000000-0000-0000-0000-000000000002
    credential: {type: client_secret, secret_env: FOYER_CLIENT_SECRET}
profiles:
  partners: {tenant: contoso, redirect_url: "https://myapps.microsoft.com/"}
pacing:
  invitations_per_minute: 30
`
	for _, v := range []string{"", "  invitations: governed\n", "  invitations: ceiling\n"} {
		c, err := Parse("foyer.yaml", []byte(base+v))
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if want := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "invitations:")); c.Pacing.Invitations != want {
			t.Errorf("%q read as %q", v, c.Pacing.Invitations)
		}
	}
	_, err := Parse("foyer.yaml", []byte(base+"  invitations: fast\n"))
	if err == nil || !strings.Contains(err.Error(), "foyer.yaml:10:") || !strings.Contains(err.Error(), `not "fast"`) {
		t.Fatalf("invitations: fast gave %v, want a problem at foyer.yaml:10", err)
	}
}

// A tenant's own pacing: overrides the pacing: section for that tenant
// only; a bad value is refused with its place in the file.
func TestTenantPacing(t *testing.T) {
	t.Parallel()
	const text = `tenants:
  north:
    tenant_id: 00000000-0000-0000-0000-000000000001
    client_id: 00000000-0000-0000-0000-000000000002
    credential: {type: client_secret, secret_env: FOYER_CLIENT_SECRET}
    pacing: {invitations_per_minute: 10, invitations: ceiling}
  south:
    tenant_id: 00000000-0000-0000-0000-000000000003
    client_id: 00000000-0000-0000-0000-000000000002
    credential: {type: client_secret, secret_env: FOYER_CLIENT_SECRET}
profiles:
  partners: {tenant: north, redirect_url: "https://myapps.microsoft.com/"}
  vendors: {tenant: south, redirect_url: "https://myapps.microsoft.com/"}
pacing:
  invitations_per_minute: 30
  concurrency: 4
`
	c, err := Parse("foyer.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]Pacing{
		"north": {InvitationsPerMinute: 10, Invitations: "ceiling", Concurrency: 4},
		"south": {InvitationsPerMinute: 30, Concurrency: 4},
	} {
		if got := c.TenantPacing(c.Tenants[name]); got != want {
			t.Errorf("TenantPacing(%s) = %+v, want %+v", name, got, want)
		}
	}
	for _, tt := range []struct{ from, to, where string }{
		{"invitations: ceiling", "invitations: fast", "foyer.yaml:6:"},
		{"invitations_per_minute: 10", "invitations_per_minute: -1", "foyer.yaml:6:"},
		{"invitations_per_minute: 10", "invites_per_minute: 10", "foyer.yaml:6:"},
	} {
		_, err := Parse("foyer.yaml", []byte(strings.Replace(text, tt.from, tt.to, 1)))
		if err == nil || !strings.Contains(err.Error(), tt.where) {
			t.Errorf("%s: %v, want a problem at %s", tt.to, err, tt.where)
		}
	}
}
