package login

import (
	"errors"
	"net/url"
	"slices"
	"testing"
)

// An app of the tenant can expose an API with app roles, and another app
// granted one of them gets a client-credentials token for it, as a CRM gets
// one for foyer's own API.
func TestTenantAppAsResource(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const (
		apiID, apiSP = "5a0e2d3c-0000-4000-8000-00000000a001", "5a0e2d3c-0000-4000-8000-00000000a002"
		crmID, crmSP = "5a0e2d3c-0000-4000-8000-00000000b001", "5a0e2d3c-0000-4000-8000-00000000b002"
		idleID       = "5a0e2d3c-0000-4000-8000-00000000c001"
		apiURI       = "api://foyer.contoso.example"
	)
	must(t, f.a.AddApp(App{TenantID: tenantID, ClientID: apiID, ObjectID: apiSP, DisplayName: "foyer API",
		IdentifierURIs: []string{apiURI}, AppRoles: []string{"Foyer.Invitations", "Foyer.Read"}}))
	must(t, f.a.AddApp(App{TenantID: tenantID, ClientID: crmID, ObjectID: crmSP, DisplayName: "crm", Secrets: []string{"crm-secret"},
		Permissions: map[string][]string{apiURI: {"Foyer.Invitations"}, graph: {"User.Read.All"}}}))
	must(t, f.a.AddApp(App{TenantID: tenantID, ClientID: idleID, ObjectID: "5a0e2d3c-0000-4000-8000-00000000c002", Secrets: []string{"idle-secret"}}))

	cases := []struct {
		name, client, secret, scope string
		wantAud                     string
		wantRoles                   []string
		wantErr                     string
	}{
		{name: "by identifier URI", client: crmID, secret: "crm-secret", scope: apiURI + "/.default", wantAud: apiURI, wantRoles: []string{"Foyer.Invitations"}},
		{name: "by client id", client: crmID, secret: "crm-secret", scope: apiID + "/.default", wantAud: apiID, wantRoles: []string{"Foyer.Invitations"}},
		{name: "graph roles stay graph's", client: crmID, secret: "crm-secret", scope: graph + "/.default", wantAud: graph, wantRoles: []string{"User.Read.All"}},
		{name: "not granted: no roles", client: idleID, secret: "idle-secret", scope: apiURI + "/.default", wantAud: apiURI},
		{name: "unknown API", client: crmID, secret: "crm-secret", scope: "api://nobody.example/.default", wantErr: "invalid_resource"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := f.post(t, tenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {tc.client},
				"client_secret": {tc.secret}, "scope": {tc.scope}}, nil)
			if tc.wantErr != "" {
				if status != 400 || body["error"] != tc.wantErr {
					t.Fatalf("status %d, body %v; want 400 %s", status, body, tc.wantErr)
				}
				return
			}
			if status != 200 {
				t.Fatalf("status %d, body %v", status, body)
			}
			c := payload(t, body["access_token"].(string))
			if c["aud"] != tc.wantAud || c["idtyp"] != "app" || c["iss"] != "https://sts.windows.net/"+tenantID+"/" {
				t.Errorf("aud %v idtyp %v iss %v; want aud %s, app, v1 issuer", c["aud"], c["idtyp"], c["iss"], tc.wantAud)
			}
			var roles []string
			if rs, ok := c["roles"].([]any); ok {
				for _, r := range rs {
					roles = append(roles, r.(string))
				}
			}
			if !slices.Equal(roles, tc.wantRoles) {
				t.Errorf("roles %v, want %v", roles, tc.wantRoles)
			}
		})
	}

	tok, err := f.a.IssueToken(tenantID, crmID, apiURI)
	must(t, err)
	if c := payload(t, tok); c["aud"] != apiURI || !slices.Contains(c["roles"].([]any), any("Foyer.Invitations")) {
		t.Errorf("IssueToken: claims %v", c)
	}
}

func TestTenantResourceRegistrationErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const apiURI = "api://foyer.contoso.example"
	must(t, f.a.AddApp(App{TenantID: tenantID, ClientID: "5a0e2d3c-0000-4000-8000-00000000d001", ObjectID: "5a0e2d3c-0000-4000-8000-00000000d002",
		IdentifierURIs: []string{apiURI}, AppRoles: []string{"Foyer.Invitations"}}))
	cases := []struct {
		name string
		app  App
	}{
		{"a role the API does not define", App{Permissions: map[string][]string{apiURI: {"Foyer.Admin"}}}},
		{"an API not registered", App{Permissions: map[string][]string{"api://nobody.example": {"X"}}}},
		{"an identifier URI that is not a URI", App{IdentifierURIs: []string{"foyer"}}},
		{"a Microsoft API's identifier URI", App{IdentifierURIs: []string{graph}}},
	}
	for i, tc := range cases {
		tc.app.TenantID, tc.app.ObjectID = tenantID, "5a0e2d3c-0000-4000-8000-00000000e00"+string(rune('1'+i))
		tc.app.ClientID = "5a0e2d3c-0000-4000-8000-00000000f00" + string(rune('1'+i))
		if err := f.a.AddApp(tc.app); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: AddApp error %v, want ErrInvalid", tc.name, err)
		}
	}
	// An app may be granted a role on its own API.
	self := App{TenantID: tenantID, ClientID: "5a0e2d3c-0000-4000-8000-00000000aa01", ObjectID: "5a0e2d3c-0000-4000-8000-00000000aa02",
		Secrets: []string{"s"}, IdentifierURIs: []string{"api://self.example"}, AppRoles: []string{"R"},
		Permissions: map[string][]string{"api://self.example": {"R"}}}
	must(t, f.a.AddApp(self))
}
