package sim_test

import (
	"net/http"
	"testing"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestGuestLifecyclePolicies: the list is empty in a new tenant, shows a
// policy made through the side door as a guestLifecyclePolicy with its
// scope's type only, forgets it once removed, and refuses an app without
// LifecyclePolicies-Guests.Read.All.
func TestGuestLifecyclePolicies(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	list := tn.s.URL() + "/v1.0/identityGovernance/lifecycleWorkflows/lifecyclePolicies"
	a := do(t, tn.graph, "GET", list, nil)
	wantStatus(t, a, http.StatusOK)
	if v, _ := a.get("value").([]any); v == nil || len(v) != 0 {
		t.Fatalf("a new tenant's policies: %s", a.raw)
	}
	side := do(t, tn.plain, "POST", tn.s.URL()+"/_sim/lifecycle_policies", map[string]any{
		"displayName": "Partners", "isEnabled": true, "scopeType": "#microsoft.graph.identityGovernance.allExcludingGroupsSubjectSet"})
	wantStatus(t, side, http.StatusCreated)
	id := side.str("id")
	if bad := do(t, tn.plain, "POST", tn.s.URL()+"/_sim/lifecycle_policies", map[string]any{"displayName": "x", "scopeType": "everyone"}); bad.status != http.StatusBadRequest {
		t.Fatalf("an unknown scope type: %d %s", bad.status, bad.raw)
	}
	a = do(t, tn.graph, "GET", list+"?$select=id,displayName,isEnabled,scope", nil)
	wantStatus(t, a, http.StatusOK)
	if a.str("value.0.@odata.type") != "#microsoft.graph.identityGovernance.guestLifecyclePolicy" || a.str("value.0.id") != id ||
		a.str("value.0.displayName") != "Partners" || a.get("value.0.isEnabled") != true ||
		a.str("value.0.scope.@odata.type") != "#microsoft.graph.identityGovernance.allExcludingGroupsSubjectSet" {
		t.Fatalf("policies: %s", a.raw)
	}
	wantStatus(t, do(t, tn.plain, "POST", tn.s.URL()+"/_sim/lifecycle_policies/delete", map[string]any{"id": id}), http.StatusOK)
	a = do(t, tn.graph, "GET", list, nil)
	if v, _ := a.get("value").([]any); len(v) != 0 {
		t.Fatalf("after the delete: %s", a.raw)
	}

	reader, err := tn.s.AddApp(sim.App{DisplayName: "reader", Permissions: []string{"User.Read.All"}})
	if err != nil {
		t.Fatal(err)
	}
	c := simtest.Bearer(t, tn.s, simtest.SecretCredential(t, tn.s, reader.ClientID, reader.Secret), "https://graph.microsoft.com/.default")
	wantError(t, do(t, c, "GET", list, nil), http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges")
}
