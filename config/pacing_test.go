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
