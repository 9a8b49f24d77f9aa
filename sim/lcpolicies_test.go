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

// TestLifecyclePolicyReport: a policy's report counts the users its scope
// holds and says its processing completed; its subjects come $top a page
// with a nextLink, each a user reference with its relationship: effective
// for the first enabled policy holding the guest, inScopeButIneffective
// with that policy named for a later one. A policy without a report yet
// answers 404, one being processed says so, and an unknown policy is 404.
func TestLifecyclePolicyReport(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{Empty: true})
	if _, err := tn.s.AddGuests(sim.BulkGuests{Count: 5, Domain: "partner.example"}); err != nil {
		t.Fatal(err)
	}
	users := do(t, tn.graph, "GET", tn.s.URL()+"/v1.0/users?$filter=userType eq 'Guest'&$select=id", nil)
	wantStatus(t, users, http.StatusOK)
	one := users.str("value.0.id")
	all, err := tn.s.AddLifecyclePolicy(sim.LifecyclePolicy{DisplayName: "All guests", IsEnabled: true, AllGuests: true})
	if err != nil {
		t.Fatal(err)
	}
	some, err := tn.s.AddLifecyclePolicy(sim.LifecyclePolicy{DisplayName: "One partner", IsEnabled: true, Subjects: []string{one},
		ScopeType: "#microsoft.graph.identityGovernance.selectedObjectsSubjectSet"})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := tn.s.AddLifecyclePolicy(sim.LifecyclePolicy{DisplayName: "New", IsEnabled: true, AllGuests: true, Report: "none"})
	if err != nil {
		t.Fatal(err)
	}
	busy, err := tn.s.AddLifecyclePolicy(sim.LifecyclePolicy{DisplayName: "Busy", IsEnabled: true, AllGuests: true, Report: "processing"})
	if err != nil {
		t.Fatal(err)
	}
	base := tn.s.URL() + "/v1.0/identityGovernance/lifecycleWorkflows/lifecyclePolicies/"

	r := do(t, tn.graph, "GET", base+all.ID+"/report", nil)
	wantStatus(t, r, http.StatusOK)
	if r.get("subjectsInScopeCount") != float64(5) || r.str("scopeProcessing.latestAttempt.status") != "completed" ||
		r.str("scopeProcessing.currentStatus") != "idle" || r.get("policyVersion") != float64(1) {
		t.Fatalf("report: %s", r.raw)
	}
	var got []string
	next := base + all.ID + "/report/subjects?$top=2&$select=subject,relationship"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("more than 3 pages of 2 for 5 subjects")
		}
		a := do(t, tn.graph, "GET", next, nil)
		wantStatus(t, a, http.StatusOK)
		for i := range a.list("value") {
			p := "value." + string(rune('0'+i))
			if a.str(p+".relationship") != "effective" || a.str(p+".subject.@odata.type") != "#microsoft.graph.identityGovernance.lifecyclePolicyUserSubjectReference" || a.get(p+".compliance") != nil {
				t.Fatalf("subject of the first policy: %s", a.raw)
			}
			got = append(got, a.str(p+".subject.id"))
		}
		next = a.str("@odata.nextLink")
	}
	if len(got) != 5 || got[0] != one {
		t.Fatalf("subjects = %v, want the 5 guests, %s first", got, one)
	}
	s := do(t, tn.graph, "GET", base+some.ID+"/report/subjects", nil)
	wantStatus(t, s, http.StatusOK)
	if len(s.list("value")) != 1 || s.str("value.0.subject.id") != one || s.str("value.0.relationship") != "inScopeButIneffective" ||
		s.str("value.0.effectivePolicy.id") != all.ID {
		t.Fatalf("subjects of the second policy: %s", s.raw)
	}
	if bad := do(t, tn.graph, "GET", base+all.ID+"/report/subjects?$top=1000", nil); bad.status != http.StatusBadRequest {
		t.Fatalf("$top=1000: %d %s", bad.status, bad.raw)
	}
	wantStatus(t, do(t, tn.graph, "GET", base+pending.ID+"/report", nil), http.StatusNotFound)
	wantStatus(t, do(t, tn.graph, "GET", base+pending.ID+"/report/subjects", nil), http.StatusNotFound)
	b := do(t, tn.graph, "GET", base+busy.ID+"/report", nil)
	if b.str("scopeProcessing.currentStatus") != "processing" || b.get("scopeProcessing.lastSuccessfulProcessingDateTime") != nil {
		t.Fatalf("report being processed: %s", b.raw)
	}
	wantStatus(t, do(t, tn.graph, "GET", base+"00000000-0000-0000-0000-000000000000/report", nil), http.StatusNotFound)
}
