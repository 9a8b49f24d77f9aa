package sim_test

import (
	"testing"

	"github.com/foyer-dev/foyer/sim"
)

// TestObjectQuota: Graph beta's organization reports the directory object
// quota, counting users, groups and service principals against 300,000 (a
// tenant with a verified domain) or 50,000 (only the initial domain), or
// what the settings say; v1.0 does not know the property; an invitation
// past the quota is refused with Directory_QuotaExceeded.
func TestObjectQuota(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		empty bool
		total float64
	}{
		{"a verified domain", false, 300_000},
		{"only the initial domain", true, 50_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tn := start(t, sim.Options{Empty: tc.empty})
			a := do(t, tn.graph, "GET", tn.s.URL()+"/beta/organization?$select=directorySizeQuota", nil)
			wantStatus(t, a, 200)
			st := tn.s.Snapshot()
			if total := a.get("value.0.directorySizeQuota.total"); total != tc.total {
				t.Errorf("total %v, want %v: %s", total, tc.total, a.raw)
			}
			used, _ := a.get("value.0.directorySizeQuota.used").(float64)
			if int(used) < st.Users+len(st.Groups) {
				t.Errorf("used %v, want at least %d users and %d groups", used, st.Users, len(st.Groups))
			}
			if a.get("value.0.displayName") != nil {
				t.Errorf("$select=directorySizeQuota returned more: %s", a.raw)
			}
		})
	}
	t.Run("v1.0 has no such property", func(t *testing.T) {
		t.Parallel()
		tn := start(t, sim.Options{})
		wantError(t, tn.g("GET", "/organization?$select=directorySizeQuota", nil), 400, "BadRequest",
			"Could not find a property named 'directorySizeQuota' on type 'microsoft.graph.organization'.")
		if a := tn.g("GET", "/organization", nil); a.get("value.0.directorySizeQuota") != nil {
			t.Errorf("v1.0 organization shows the quota: %s", a.raw)
		}
	})
	t.Run("full", func(t *testing.T) {
		t.Parallel()
		tn := start(t, sim.Options{})
		a := do(t, tn.graph, "GET", tn.s.URL()+"/beta/organization", nil)
		used := int(a.get("value.0.directorySizeQuota.used").(float64))
		v := tn.s.Settings()
		v.ObjectQuota = used + 1
		if err := tn.s.SetSettings(v); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, tn.invite("first@fabrikam.example"), 201)
		wantError(t, tn.invite("second@fabrikam.example"), 403, "Directory_QuotaExceeded", "The directory object quota limit for the Tenant has been exceeded.")
		// Inviting someone who exists creates nothing.
		wantStatus(t, tn.invite("first@fabrikam.example"), 201)
		a = do(t, tn.graph, "GET", tn.s.URL()+"/beta/organization", nil)
		if got := a.get("value.0.directorySizeQuota"); got.(map[string]any)["used"] != float64(used+1) || got.(map[string]any)["total"] != float64(used+1) {
			t.Errorf("after the invitation: %v, want used = total = %d", got, used+1)
		}
	})
}
