package sim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// Start a tenant, get a token for Graph with azidentity, invite a guest,
// and read the side door's counters.
func ExampleStart() {
	ctx := context.Background()
	s, err := sim.Start(ctx, sim.Options{Seed: 42})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	cred, _ := azidentity.NewClientSecretCredential(s.TenantID(), s.ClientID(), s.ClientSecret(),
		&azidentity.ClientSecretCredentialOptions{ClientOptions: simtest.ClientOptions(s), DisableInstanceDiscovery: true})
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := `{"invitedUserEmailAddress":"jane@partner.example","inviteRedirectUrl":"https://myapps.microsoft.com"}`
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1.0/invitations", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, s.Stats().InvitationsByEmail["jane@partner.example"])
	// Output: 201 1
}
