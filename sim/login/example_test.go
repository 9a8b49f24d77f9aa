package login_test

import (
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/foyer-dev/foyer/sim/login"
)

// An authority with one tenant and one app; a token issued for the app
// verifies on the resource side with its roles.
func Example() {
	a, err := login.New(login.Options{})
	if err != nil {
		log.Fatal(err)
	}
	const tid, cid = "6f3e2a1b-0c4d-4e5f-8a9b-1c2d3e4f5a6b", "0d1c2b3a-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
	if err := a.AddTenant(login.Tenant{ID: tid, DisplayName: "Contoso", Domains: []string{"contoso.example"}}); err != nil {
		log.Fatal(err)
	}
	err = a.AddApp(login.App{
		TenantID: tid, ClientID: cid, ObjectID: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", DisplayName: "foyer",
		Secrets:     []string{"s3cret"},
		Permissions: map[string][]string{"https://graph.microsoft.com": {"User.Invite.All", "User.Read.All"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	// A server mounts a.Handler() for the paths a.Serves(path) claims; here we
	// skip the wire and mint the token directly.
	tok, err := a.IssueToken(tid, cid, "https://graph.microsoft.com")
	if err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/v1.0/users", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	claims, err := a.Verify(r, "https://graph.microsoft.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.AppID == cid, claims.AppOnly, claims.Roles)

	_, err = a.Verify(r, "https://management.azure.com")
	fmt.Println(err.(*login.TokenError).Message)
	// Output:
	// true true [User.Invite.All User.Read.All]
	// Access token validation failure. Invalid audience.
}
