package sim_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

func TestServicePrincipalsAndAppRoles(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	l := tn.g("GET", "/servicePrincipals?$filter=displayName eq 'DemoApp'&$select=id,appId,appRoles", nil)
	wantStatus(t, l, 200)
	spID, appID := l.str("value.0.id"), l.str("value.0.appId")
	reader := ""
	for _, r := range l.list("value.0.appRoles") {
		if r.(map[string]any)["value"] == "Reader" {
			reader = r.(map[string]any)["id"].(string)
		}
	}
	if spID == "" || reader == "" {
		t.Fatalf("DemoApp: %s", l.raw)
	}
	if a := tn.g("GET", "/servicePrincipals(appId='"+appID+"')?$select=id", nil); a.str("id") != spID {
		t.Errorf("by appId: %s", a.raw)
	}
	if a := tn.g("GET", "/servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'&$select=displayName", nil); a.str("value.0.displayName") != "Microsoft Graph" {
		t.Errorf("Graph SP: %s", a.raw)
	}

	guest := tn.invite("app@partner.example").str("invitedUser.id")
	body := map[string]any{"principalId": guest, "resourceId": spID, "appRoleId": reader}
	a := tn.g("POST", "/servicePrincipals/"+spID+"/appRoleAssignedTo", body)
	wantStatus(t, a, 201)
	for _, k := range []string{"id", "appRoleId", "createdDateTime", "principalDisplayName", "principalId", "principalType", "resourceDisplayName", "resourceId"} {
		if a.get(k) == nil {
			t.Errorf("assignment lacks %s: %s", k, a.raw)
		}
	}
	if a.str("principalType") != "User" || a.str("resourceDisplayName") != "DemoApp" {
		t.Errorf("assignment: %s", a.raw)
	}
	aid := a.str("id")
	wantError(t, tn.g("POST", "/servicePrincipals/"+spID+"/appRoleAssignedTo", body), 400, "Request_BadRequest", "Permission being assigned already exists on the object")
	bad := map[string]any{"principalId": guest, "resourceId": spID, "appRoleId": "11111111-2222-3333-4444-555555555555"}
	wantError(t, tn.g("POST", "/servicePrincipals/"+spID+"/appRoleAssignedTo", bad), 400, "Request_BadRequest", "Permission being assigned was not found on application '"+appID+"'.")
	nobody := map[string]any{"principalId": "11111111-2222-3333-4444-555555555555", "resourceId": spID, "appRoleId": reader}
	wantError(t, tn.g("POST", "/servicePrincipals/"+spID+"/appRoleAssignedTo", nobody), 400, "Request_BadRequest", "Not a valid reference update.")

	list := tn.g("GET", "/servicePrincipals/"+spID+"/appRoleAssignedTo?$filter=principalId eq "+guest, nil)
	if len(list.list("value")) != 1 || list.str("value.0.id") != aid {
		t.Errorf("list with filter: %s", list.raw)
	}
	mine := tn.g("GET", "/users/"+guest+"/appRoleAssignments", nil)
	if len(mine.list("value")) != 1 {
		t.Errorf("user's assignments: %s", mine.raw)
	}
	wantStatus(t, tn.g("DELETE", "/servicePrincipals/"+spID+"/appRoleAssignedTo/"+aid, nil), 204)
	wantError(t, tn.g("DELETE", "/servicePrincipals/"+spID+"/appRoleAssignedTo/"+aid, nil), 404, "Request_ResourceNotFound", "")

	// The other way in: POST /users/{id}/appRoleAssignments, default access role.
	b := tn.g("POST", "/users/"+guest+"/appRoleAssignments", map[string]any{"principalId": guest, "resourceId": spID, "appRoleId": "00000000-0000-0000-0000-000000000000"})
	wantStatus(t, b, 201)
	wantStatus(t, tn.g("DELETE", "/users/"+guest+"/appRoleAssignments/"+b.str("id"), nil), 204)
}

func TestDirectoryRoles(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	d := tn.g("GET", "/roleManagement/directory/roleDefinitions?$filter=displayName eq 'Guest Inviter'", nil)
	wantStatus(t, d, 200)
	if d.str("value.0.id") != "95e79109-95c0-4d8e-aee3-d01accf2d47b" || d.str("value.0.templateId") != "95e79109-95c0-4d8e-aee3-d01accf2d47b" {
		t.Fatalf("Guest Inviter: %s", d.raw)
	}
	wantStatus(t, tn.g("GET", "/roleManagement/directory/roleDefinitions/fe930be7-5e62-47db-91af-98c3a49a38b1", nil), 200)
	guest := tn.invite("role@partner.example").str("invitedUser.id")
	body := map[string]any{"@odata.type": "#microsoft.graph.unifiedRoleAssignment", "roleDefinitionId": "95e79109-95c0-4d8e-aee3-d01accf2d47b", "principalId": guest, "directoryScopeId": "/"}
	a := tn.g("POST", "/roleManagement/directory/roleAssignments", body)
	wantStatus(t, a, 201)
	if a.str("id") == "" || a.str("principalId") != guest || a.str("directoryScopeId") != "/" {
		t.Errorf("assignment: %s", a.raw)
	}
	wantError(t, tn.g("POST", "/roleManagement/directory/roleAssignments", body), 400, "Request_BadRequest",
		"A conflicting object with one or more of the specified property values is present in the directory.")
	l := tn.g("GET", "/roleManagement/directory/roleAssignments?$filter=principalId eq '"+guest+"' and roleDefinitionId eq '95e79109-95c0-4d8e-aee3-d01accf2d47b'", nil)
	if len(l.list("value")) != 1 {
		t.Errorf("filtered list: %s", l.raw)
	}
	// A guest holding a directory role cannot have its redemption reset by an app.
	wantError(t, tn.g("POST", "/invitations", map[string]any{"invitedUserEmailAddress": "role@partner.example", "inviteRedirectUrl": "https://a.example", "resetRedemption": true, "invitedUser": map[string]any{"id": guest}}),
		403, "Authorization_RequestDenied", "")
	wantStatus(t, tn.g("DELETE", "/roleManagement/directory/roleAssignments/"+a.str("id"), nil), 204)
	wantError(t, tn.g("GET", "/roleManagement/directory/roleAssignments/"+a.str("id"), nil), 404, "Request_ResourceNotFound", "")
}

func TestLicenses(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	skus := tn.g("GET", "/subscribedSkus", nil)
	wantStatus(t, skus, 200)
	var e3 map[string]any
	for _, s := range skus.list("value") {
		if s.(map[string]any)["skuPartNumber"] == "ENTERPRISEPACK" {
			e3 = s.(map[string]any)
		}
	}
	if e3 == nil || e3["prepaidUnits"].(map[string]any)["enabled"] != float64(25) || e3["consumedUnits"] != float64(3) {
		t.Fatalf("skus: %s", skus.raw)
	}
	e3ID := e3["skuId"].(string)
	guest := tn.invite("lic@partner.example").str("invitedUser.id")
	add := map[string]any{"addLicenses": []any{map[string]any{"skuId": e3ID, "disabledPlans": []string{}}}, "removeLicenses": []string{}}
	wantError(t, tn.g("POST", "/users/"+guest+"/assignLicense", add), 400, "Request_BadRequest", "License assignment cannot be done for user with invalid usage location.")
	wantStatus(t, tn.g("PATCH", "/users/"+guest, map[string]any{"usageLocation": "US"}), 204)
	a := tn.g("POST", "/users/"+guest+"/assignLicense", add)
	wantStatus(t, a, 200)
	if a.str("id") != guest {
		t.Errorf("assignLicense answers the user: %s", a.raw)
	}
	d := tn.g("GET", "/users/"+guest+"/licenseDetails", nil)
	if d.str("value.0.skuPartNumber") != "ENTERPRISEPACK" {
		t.Errorf("licenseDetails: %s", d.raw)
	}
	u := tn.g("GET", "/users?$filter=assignedLicenses/any(x:x/skuId eq "+e3ID+")&$count=true&$select=id", nil, eventual...)
	if u.get("@odata.count") != float64(4) {
		t.Errorf("holders: %s", u.raw)
	}
	ems := "efccb6f7-5641-4e0e-bd10-b4976e1bf68e"
	wantError(t, tn.g("POST", "/users/"+guest+"/assignLicense", map[string]any{"addLicenses": []any{map[string]any{"skuId": ems}}, "removeLicenses": []string{}}),
		400, "Request_BadRequest", "Subscription with SKU "+ems+" does not have any available licenses.")
	bogus := "11111111-2222-3333-4444-555555555555"
	wantError(t, tn.g("POST", "/users/"+guest+"/assignLicense", map[string]any{"addLicenses": []any{map[string]any{"skuId": bogus}}, "removeLicenses": []string{}}),
		400, "Request_BadRequest", "License "+bogus+" does not correspond to a valid company License.")
	wantStatus(t, tn.g("POST", "/users/"+guest+"/assignLicense", map[string]any{"addLicenses": []any{}, "removeLicenses": []string{e3ID}}), 200)
	after := tn.g("GET", "/subscribedSkus/"+tn.s.TenantID()+"_"+e3ID, nil)
	if after.get("consumedUnits") != float64(3) {
		t.Errorf("consumed after removal: %s", after.raw)
	}
}

func TestDomainsAndOrganization(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	d := tn.g("GET", "/domains", nil)
	wantStatus(t, d, 200)
	seen := map[string]map[string]any{}
	for _, v := range d.list("value") {
		seen[v.(map[string]any)["id"].(string)] = v.(map[string]any)
	}
	if seen["contoso.example"]["isDefault"] != true || seen["contoso.onmicrosoft.com"]["isInitial"] != true || seen["contoso.example"]["isVerified"] != true {
		t.Errorf("domains: %s", d.raw)
	}
	o := tn.g("GET", "/organization", nil)
	if o.str("value.0.id") != tn.s.TenantID() || len(o.list("value.0.verifiedDomains")) != 2 {
		t.Errorf("organization: %s", o.raw)
	}
}

// An app added with identifier URIs and app roles is an API: another app
// granted one of its roles gets a token for it through azidentity, with
// the API as audience and the role in its roles, as an application gets
// one for foyer's own API.
func TestAppAsAPI(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{})
	const uri = "api://foyer.test"
	api, err := s.AddApp(sim.App{DisplayName: "foyer API", IdentifierURIs: []string{uri},
		AppRoles: []sim.AppRole{{ID: "3b1a4f0e-0000-4000-8000-000000000001", Value: "Foyer.Invitations", DisplayName: "Ask for invitations"}}})
	if err != nil {
		t.Fatal(err)
	}
	crm, err := s.AddApp(sim.App{DisplayName: "crm", APIPermissions: map[string][]string{uri: {"Foyer.Invitations"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddApp(sim.App{DisplayName: "greedy", APIPermissions: map[string][]string{uri: {"Foyer.Admin"}}}); err == nil {
		t.Error("a role the API does not define was granted")
	}
	cred, err := azidentity.NewClientSecretCredential(s.TenantID(), crm.ClientID, crm.Secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: simtest.ClientOptions(s), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, scope := range []string{uri + "/.default", api.ClientID + "/.default"} {
		tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{scope}})
		if err != nil {
			t.Fatalf("%s: %v", scope, err)
		}
		parts := strings.Split(tok.Token, ".")
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Aud   string   `json:"aud"`
			Oid   string   `json:"oid"`
			Roles []string `json:"roles"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		if c.Aud != strings.TrimSuffix(scope, "/.default") || c.Oid != crm.ObjectID || !slices.Equal(c.Roles, []string{"Foyer.Invitations"}) {
			t.Errorf("%s: claims %+v", scope, c)
		}
	}
}
