package sim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// The acceptance test: azidentity gets a token from the sim, and a wrong
// secret fails with Entra's error.
func TestAzidentityClientSecret(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{})
	ctx := context.Background()
	opts := policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}

	tok, err := simtest.Credential(t, s).GetToken(ctx, opts)
	if err != nil {
		t.Fatalf("get token: %v", err)
	}
	if tok.Token == "" || tok.ExpiresOn.IsZero() {
		t.Fatalf("token %+v", tok)
	}

	_, err = simtest.SecretCredential(t, s, s.ClientID(), "not-the-secret").GetToken(ctx, opts)
	if err == nil {
		t.Fatal("a wrong secret got a token")
	}
	for _, want := range []string{"invalid_client", "AADSTS7000215"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not carry %q", err, want)
		}
	}
}

func TestGraphNeedsTokenAndPermission(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	a := do(t, tn.plain, "GET", tn.s.URL()+"/v1.0/users", nil)
	wantError(t, a, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")

	a = do(t, tn.plain, "GET", tn.s.URL()+"/v1.0/users", nil, "Authorization", "Bearer not.a.token")
	wantError(t, a, http.StatusUnauthorized, "InvalidAuthenticationToken", "")

	// A token for ARM is refused by Graph.
	a = do(t, tn.arm, "GET", tn.s.URL()+"/v1.0/users", nil)
	wantError(t, a, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")

	reader, err := tn.s.AddApp(sim.App{DisplayName: "reader", Permissions: []string{"User.Read.All"}})
	if err != nil {
		t.Fatal(err)
	}
	c := simtest.Bearer(t, tn.s, simtest.SecretCredential(t, tn.s, reader.ClientID, reader.Secret), "https://graph.microsoft.com/.default")
	wantStatus(t, do(t, c, "GET", tn.s.URL()+"/v1.0/users", nil), http.StatusOK)
	a = do(t, c, "POST", tn.s.URL()+"/v1.0/invitations", map[string]any{"invitedUserEmailAddress": "x@partner.example", "inviteRedirectUrl": "https://a.example"})
	wantError(t, a, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	// signInActivity needs AuditLog.Read.All besides a user permission.
	a = do(t, c, "GET", tn.s.URL()+"/v1.0/users?$select=id,signInActivity", nil)
	wantError(t, a, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges")
}
