package login

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

const (
	identityHeader = "host-identity-header"
	systemMI       = "3a3a3a3a-1111-4222-8333-444444444444"
	systemMISP     = "3b3b3b3b-1111-4222-8333-444444444444"
	userMI         = "4a4a4a4a-1111-4222-8333-444444444444"
	userMISP       = "4b4b4b4b-1111-4222-8333-444444444444"
	userMIRes      = "/subscriptions/5e5e5e5e-1111-4222-8333-444444444444/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/foyer"
)

// identityFixture is a fixture whose tenant has a managed identity endpoint
// and a host with a system-assigned and a user-assigned identity.
func identityFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	const other = "7c7c7c7c-1111-4222-8333-444444444444"
	must(t, f.a.AddTenant(Tenant{ID: other, Domains: []string{"fabrikam.example"}})) // no endpoint
	f.a.mu.Lock()
	f.a.tenants[tenantID].IdentityHeader = identityHeader
	f.a.mu.Unlock()
	must(t, f.a.AddApp(App{TenantID: tenantID, ClientID: systemMI, ObjectID: systemMISP, DisplayName: "host",
		ManagedIdentity: ManagedSystem, Permissions: map[string][]string{graph: {"User.Invite.All"}}}))
	must(t, f.a.AddApp(App{TenantID: tenantID, ClientID: userMI, ObjectID: userMISP, DisplayName: "foyer-identity",
		ManagedIdentity: ManagedUser, ResourceID: userMIRes, Permissions: map[string][]string{graph: {"User.Read.All"}}}))
	return f
}

func (f *fixture) identity(t *testing.T, tenant, method, header string, q url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+"/"+tenant+"/msi/token?"+q.Encode(), nil)
	must(t, err)
	if header != "" {
		req.Header.Set("X-IDENTITY-HEADER", header)
	}
	return f.do(t, req)
}

func TestManagedIdentityEndpoint(t *testing.T) {
	t.Parallel()
	f := identityFixture(t)
	q := func(kv ...string) url.Values {
		return with(url.Values{"api-version": {"2019-08-01"}, "resource": {graph}}, kv...)
	}
	ok := []struct {
		name            string
		query           url.Values
		wantApp, wantSP string
		wantRole        string
	}{
		{"system-assigned", q(), systemMI, systemMISP, "User.Invite.All"},
		{"user-assigned by client id", q("client_id", userMI), userMI, userMISP, "User.Read.All"},
		{"user-assigned by principal id", q("principal_id", userMISP), userMI, userMISP, "User.Read.All"},
		{"user-assigned by resource id, any case", q("mi_res_id", "/SUBSCRIPTIONS/5e5e5e5e-1111-4222-8333-444444444444/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/foyer"), userMI, userMISP, "User.Read.All"},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.identity(t, tenantID, http.MethodGet, identityHeader, tc.query)
			if status != http.StatusOK {
				t.Fatalf("status %d: %v", status, body)
			}
			if body["token_type"] != "Bearer" || body["resource"] != graph || body["client_id"] != tc.wantApp {
				t.Errorf("answer %v", body)
			}
			exp, err := strconv.ParseInt(body["expires_on"].(string), 10, 64)
			if err != nil || time.Unix(exp, 0).Before(f.clock.Now().Add(50*time.Minute)) {
				t.Errorf("expires_on %v: want seconds since 1970, about an hour ahead", body["expires_on"])
			}
			tok := body["access_token"].(string)
			claims, err := f.a.VerifyToken(tok, graph)
			if err != nil {
				t.Fatalf("the resource refuses the token: %v", err)
			}
			c := payload(t, tok)
			if c["appid"] != tc.wantApp || c["oid"] != tc.wantSP || c["tid"] != tenantID || claims.AppID != tc.wantApp {
				t.Errorf("claims %v", c)
			}
			if roles, _ := c["roles"].([]any); len(roles) != 1 || roles[0] != tc.wantRole {
				t.Errorf("roles %v, want [%s]", c["roles"], tc.wantRole)
			}
		})
	}

	refused := []struct {
		name   string
		tenant string
		method string
		header string
		query  url.Values
		want   int
	}{
		{"no header", tenantID, http.MethodGet, "", q(), http.StatusUnauthorized},
		{"wrong header", tenantID, http.MethodGet, "guess", q(), http.StatusUnauthorized},
		{"POST", tenantID, http.MethodPost, identityHeader, q(), http.StatusMethodNotAllowed},
		{"old api-version", tenantID, http.MethodGet, identityHeader, q("api-version", "2017-09-01"), http.StatusBadRequest},
		{"no resource", tenantID, http.MethodGet, identityHeader, q("resource", ""), http.StatusBadRequest},
		{"unknown resource", tenantID, http.MethodGet, identityHeader, q("resource", "https://vault.azure.net"), http.StatusBadRequest},
		{"unknown identity", tenantID, http.MethodGet, identityHeader, q("client_id", readerID), http.StatusBadRequest},
		{"two ids", tenantID, http.MethodGet, identityHeader, q("client_id", userMI, "principal_id", userMISP), http.StatusBadRequest},
		{"tenant without an endpoint", "7c7c7c7c-1111-4222-8333-444444444444", http.MethodGet, identityHeader, q(), http.StatusNotFound},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.identity(t, tc.tenant, tc.method, tc.header, tc.query)
			if status != tc.want || body["message"] == "" || body["statusCode"] != float64(tc.want) || body["access_token"] != nil {
				t.Errorf("status %d, body %v; want %d with a message and no token", status, body, tc.want)
			}
		})
	}
}

// TestManagedIdentityHasNoSecret: an identity cannot use the token endpoint,
// and the registry refuses a managed identity with credentials, a second
// system-assigned one, or a resource id on an ordinary app.
func TestManagedIdentityRegistration(t *testing.T) {
	t.Parallel()
	f := identityFixture(t)
	status, body := f.post(t, tenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {systemMI},
		"client_secret": {"anything"}, "scope": {graph + "/.default"}}, nil)
	if status == http.StatusOK {
		t.Errorf("a managed identity got a token with a client secret: %v", body)
	}
	bad := []App{
		{TenantID: tenantID, ClientID: "8d8d8d8d-1111-4222-8333-444444444444", ObjectID: "8e8e8e8e-1111-4222-8333-444444444444",
			ManagedIdentity: ManagedSystem},
		{TenantID: tenantID, ClientID: "9d9d9d9d-1111-4222-8333-444444444444", ObjectID: "9e9e9e9e-1111-4222-8333-444444444444",
			ManagedIdentity: ManagedUser, ResourceID: "/x", Secrets: []string{"s"}},
		{TenantID: tenantID, ClientID: "9d9d9d9d-1111-4222-8333-444444444444", ObjectID: "9e9e9e9e-1111-4222-8333-444444444444",
			ManagedIdentity: ManagedUser},
		{TenantID: tenantID, ClientID: "9d9d9d9d-1111-4222-8333-444444444444", ObjectID: "9e9e9e9e-1111-4222-8333-444444444444",
			ResourceID: "/x"},
		{TenantID: tenantID, ClientID: "9d9d9d9d-1111-4222-8333-444444444444", ObjectID: "9e9e9e9e-1111-4222-8333-444444444444",
			ManagedIdentity: "vm"},
	}
	for i, app := range bad {
		err := f.a.AddApp(app)
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExists) {
			t.Errorf("bad registration %d: %v, want ErrInvalid or ErrExists", i, err)
		}
	}
}
