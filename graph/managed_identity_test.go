package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestManagedIdentityGetsATokenFromTheSim: azidentity's managed identity
// credential, as foyer builds it from the configuration, gets tokens on an
// App Service host (IDENTITY_ENDPOINT and IDENTITY_HEADER, which azidentity
// reads from the process environment) from the sim's identity endpoint: for
// the host's system-assigned identity, and for a user-assigned one named by
// client id or by resource id. Graph takes them. Not parallel: it sets the
// environment.
func TestManagedIdentityGetsATokenFromTheSim(t *testing.T) {
	s := simtest.Start(t, sim.Options{})
	system, err := s.AddApp(sim.App{DisplayName: "foyer-host", ManagedIdentity: "system", Permissions: []string{"Domain.Read.All"}})
	if err != nil {
		t.Fatal(err)
	}
	user, err := s.AddApp(sim.App{DisplayName: "foyer identity", ManagedIdentity: "user", Permissions: []string{"Domain.Read.All"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("IDENTITY_ENDPOINT", s.IdentityEndpoint())
	t.Setenv("IDENTITY_HEADER", s.IdentityHeader())
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		cred    Credential
		wantApp string
	}{
		{"system-assigned", Credential{Type: CredentialManagedIdentity}, system.ClientID},
		{"user-assigned by client id", Credential{Type: CredentialManagedIdentity, ManagedIdentityClientID: user.ClientID}, user.ClientID},
		{"user-assigned by resource id", Credential{Type: CredentialManagedIdentity, ManagedIdentityResourceID: user.ResourceID}, user.ClientID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := simOptions(s, "", "")
			o.Credential = tc.cred
			cred, err := NewCredential(o)
			if err != nil {
				t.Fatal(err)
			}
			at, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			if app := tokenAppID(t, at.Token); app != tc.wantApp {
				t.Errorf("the token is for app %s, want the identity %s", app, tc.wantApp)
			}
			c, err := New(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Domains(ctx); err != nil {
				t.Errorf("Graph with the identity's token: %v", err)
			}
		})
	}

	// A host whose header is wrong gets no token, and the error says why
	// without the header's value. (Another identity: MSAL keeps the tokens
	// it got in a cache shared by the process.)
	other, err := s.AddApp(sim.App{DisplayName: "other identity", ManagedIdentity: "user", Permissions: []string{"Domain.Read.All"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("IDENTITY_HEADER", "not-the-header")
	o := simOptions(s, "", "")
	o.Credential = Credential{Type: CredentialManagedIdentity, ManagedIdentityClientID: other.ClientID}
	cred, err := NewCredential(o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), s.IdentityHeader()) {
		t.Errorf("token with a wrong identity header: %v; want a 401 that does not show the header", err)
	}
}

// tokenAppID reads the appid claim of a JWT without verifying it.
func tokenAppID(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		AppID string `json:"appid"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.AppID
}
