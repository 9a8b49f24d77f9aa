package sim_test

import (
	"testing"
	"time"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

const (
	apiVersion = "?api-version=2022-04-01"
	readerRole = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	ownerRole  = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
)

func subscriptionOf(t *testing.T, tn *tenant) string {
	t.Helper()
	for _, a := range tn.s.Snapshot().AzureRoleAssignments {
		if a.RoleName == "Owner" {
			return a.Scope
		}
	}
	t.Fatal("no subscription with the default app as Owner")
	return ""
}

func assignment(sub, role, principal, ptype string) map[string]any {
	p := map[string]any{"roleDefinitionId": sub + "/providers/Microsoft.Authorization/roleDefinitions/" + role, "principalId": principal}
	if ptype != "" {
		p["principalType"] = ptype
	}
	return map[string]any{"properties": p}
}

func TestARMRoleAssignments(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	sub := subscriptionOf(t, tn)
	scope := sub + "/resourceGroups/rg-demo"
	guest := tn.invite("arm@partner.example").str("invitedUser.id")
	name := "3fc8e5a4-0000-4000-8000-000000000001"
	url := tn.s.URL() + scope + "/providers/Microsoft.Authorization/roleAssignments/" + name + apiVersion

	a := do(t, tn.arm, "PUT", url, assignment(sub, readerRole, guest, "User"))
	wantStatus(t, a, 201)
	if a.str("name") != name || a.str("type") != "Microsoft.Authorization/roleAssignments" || a.str("properties.scope") != scope ||
		a.str("properties.principalId") != guest || a.str("id") != scope+"/providers/Microsoft.Authorization/roleAssignments/"+name {
		t.Errorf("created: %s", a.raw)
	}
	wantStatus(t, do(t, tn.arm, "PUT", url, assignment(sub, readerRole, guest, "User")), 200)
	other := tn.s.URL() + scope + "/providers/Microsoft.Authorization/roleAssignments/3fc8e5a4-0000-4000-8000-000000000002" + apiVersion
	c := do(t, tn.arm, "PUT", other, assignment(sub, readerRole, guest, "User"))
	wantStatus(t, c, 409)
	if c.str("error.code") != "RoleAssignmentExists" || c.str("error.message") != "The role assignment already exists." {
		t.Errorf("conflict: %s", c.raw)
	}
	if c.get("error.innerError") != nil {
		t.Errorf("ARM errors have no innerError: %s", c.raw)
	}
	l := do(t, tn.arm, "GET", tn.s.URL()+sub+"/providers/Microsoft.Authorization/roleAssignments"+apiVersion+"&$filter=principalId%20eq%20'"+guest+"'", nil)
	if len(l.list("value")) != 1 {
		t.Errorf("list: %s", l.raw)
	}
	if l := do(t, tn.arm, "GET", tn.s.URL()+sub+"/providers/Microsoft.Authorization/roleAssignments"+apiVersion+"&$filter=atScope()", nil); len(l.list("value")) != 1 {
		t.Errorf("atScope lists only the subscription's own: %s", l.raw)
	}
	wantStatus(t, do(t, tn.arm, "GET", url, nil), 200)
	wantStatus(t, do(t, tn.arm, "DELETE", url, nil), 200)
	wantStatus(t, do(t, tn.arm, "DELETE", url, nil), 204)

	errCase := func(method, u string, body any, status int, code string) {
		t.Helper()
		a := do(t, tn.arm, method, u, body)
		wantStatus(t, a, status)
		if a.str("error.code") != code {
			t.Errorf("%s %s: code %q want %q: %s", method, u, a.str("error.code"), code, a.raw)
		}
	}
	base := tn.s.URL() + scope + "/providers/Microsoft.Authorization/roleAssignments/"
	errCase("PUT", base+name, assignment(sub, readerRole, guest, ""), 400, "MissingApiVersionParameter")
	errCase("PUT", base+"not-a-guid"+apiVersion, assignment(sub, readerRole, guest, ""), 400, "InvalidRoleAssignmentId")
	errCase("PUT", base+name+apiVersion, assignment(sub, "11111111-2222-3333-4444-555555555555", guest, ""), 400, "RoleDefinitionDoesNotExist")
	errCase("PUT", base+name+apiVersion, assignment(sub, readerRole, "11111111-2222-3333-4444-555555555555", ""), 400, "PrincipalNotFound")
	errCase("PUT", base+name+apiVersion, assignment(sub, readerRole, guest, "ServicePrincipal"), 400, "UnmatchedPrincipalType")
	errCase("PUT", tn.s.URL()+sub+"/resourceGroups/rg-nope/providers/Microsoft.Authorization/roleAssignments/"+name+apiVersion, assignment(sub, readerRole, guest, ""), 404, "ResourceGroupNotFound")
	errCase("PUT", tn.s.URL()+"/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Authorization/roleAssignments/"+name+apiVersion, assignment(sub, readerRole, guest, ""), 404, "SubscriptionNotFound")
	errCase("PUT", base+name+apiVersion, "{", 400, "InvalidRequestContent")

	defs := do(t, tn.arm, "GET", tn.s.URL()+sub+"/providers/Microsoft.Authorization/roleDefinitions"+apiVersion+"&$filter=roleName%20eq%20'Reader'", nil)
	if defs.str("value.0.name") != readerRole || defs.str("value.0.properties.roleName") != "Reader" {
		t.Errorf("role definitions: %s", defs.raw)
	}
	wantStatus(t, do(t, tn.arm, "GET", tn.s.URL()+sub+"/providers/Microsoft.Authorization/roleDefinitions/"+ownerRole+apiVersion, nil), 200)

	// An app without a role on the subscription is refused.
	app, err := tn.s.AddApp(sim.App{DisplayName: "no-rbac"})
	if err != nil {
		t.Fatal(err)
	}
	c2 := simtest.Bearer(t, tn.s, simtest.SecretCredential(t, tn.s, app.ClientID, app.Secret), "https://management.azure.com/.default")
	f := do(t, c2, "PUT", url, assignment(sub, readerRole, guest, "User"))
	wantStatus(t, f, 403)
	if f.str("error.code") != "AuthorizationFailed" {
		t.Errorf("no rbac: %s", f.raw)
	}
}

// Without principalType, ARM looks the principal up and a new one is not
// found until replicated; with it, the lookup is skipped.
func TestARMReplication(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{ReplicationDelay: time.Minute})
	sub := subscriptionOf(t, tn)
	guest := tn.invite("armrep@partner.example").str("invitedUser.id")
	u1 := tn.s.URL() + sub + "/providers/Microsoft.Authorization/roleAssignments/3fc8e5a4-0000-4000-8000-000000000011" + apiVersion
	a := do(t, tn.arm, "PUT", u1, assignment(sub, readerRole, guest, ""))
	wantStatus(t, a, 400)
	if a.str("error.code") != "PrincipalNotFound" {
		t.Errorf("%s", a.raw)
	}
	wantStatus(t, do(t, tn.arm, "PUT", u1, assignment(sub, readerRole, guest, "User")), 201)
}
