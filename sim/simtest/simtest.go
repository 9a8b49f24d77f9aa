// Package simtest starts the emulated tenant (package sim) in one line for
// Go tests, and builds azidentity credentials and azcore options pointed at
// it. Only tests import it.
package simtest

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/foyer-dev/foyer/sim"
)

// Start starts an emulated tenant on a free loopback port and closes it
// when the test ends.
func Start(t testing.TB, o sim.Options) *sim.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := sim.Start(ctx, o)
	if err != nil {
		cancel()
		t.Fatalf("start the emulated tenant: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := s.Close(); err != nil {
			t.Errorf("close the emulated tenant: %v", err)
		}
	})
	return s
}

// Cloud is the azcore cloud configuration of the sim: its URL as authority
// host, and as Resource Manager endpoint.
func Cloud(s *sim.Server) cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: s.URL() + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Audience: "https://management.azure.com", Endpoint: s.URL()},
		},
	}
}

// ClientOptions are azcore options that reach the sim and trust its CA.
func ClientOptions(s *sim.Server) azcore.ClientOptions {
	return azcore.ClientOptions{Cloud: Cloud(s), Transport: s.Client()}
}

// Credential is an azidentity client-secret credential for the default
// app (instance discovery off, as foyer configures it for a custom cloud).
func Credential(t testing.TB, s *sim.Server) azcore.TokenCredential {
	t.Helper()
	return SecretCredential(t, s, s.ClientID(), s.ClientSecret())
}

// SecretCredential is an azidentity client-secret credential for any app
// of the sim's tenant.
func SecretCredential(t testing.TB, s *sim.Server, clientID, secret string) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(s.TenantID(), clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            ClientOptions(s),
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("client secret credential: %v", err)
	}
	return cred
}

// Bearer returns an http.Client that trusts the sim and sends a token for
// scope ("https://graph.microsoft.com/.default") from cred on every request.
func Bearer(t testing.TB, s *sim.Server, cred azcore.TokenCredential, scope string) *http.Client {
	t.Helper()
	base := s.Client().Transport
	return &http.Client{Transport: &bearer{base: base, cred: cred, scope: scope}}
}

type bearer struct {
	base  http.RoundTripper
	cred  azcore.TokenCredential
	scope string
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	tok, err := b.cred.GetToken(r.Context(), policyOptions(b.scope))
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+tok.Token)
	return b.base.RoundTrip(r)
}
