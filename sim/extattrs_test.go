package sim_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/foyer-dev/foyer/sim"
)

// TestExtensionAttributes: a directory extension property and an
// on-premises extension attribute set by PATCH (or the side door's seed)
// are read back with $select, and filtered with eq: the directory
// extension with or without the advanced query parameters, the
// on-premises attribute only with them; null clears; a malformed
// extension name is an unknown property.
func TestExtensionAttributes(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{Empty: true})
	const ext = "extension_b7d8e648520f41d3b9c0fdeb91768a0a_partnerTier"
	d, err := tn.s.Seed(sim.SeedData{Users: []sim.SeedUser{
		{DisplayName: "a", Mail: "a@partner.example", UserType: "Guest"},
		{DisplayName: "b", Mail: "b@partner.example", UserType: "Guest", Extensions: map[string]string{ext: "gold", "onPremisesExtensionAttributes/extensionAttribute3": "keep"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := d.Users[0].ID, d.Users[1].ID
	users := tn.s.URL() + "/v1.0/users/"
	wantStatus(t, do(t, tn.graph, "PATCH", users+a, map[string]any{ext: "gold",
		"onPremisesExtensionAttributes": map[string]any{"extensionAttribute3": "keep", "extensionAttribute4": "x"}}), http.StatusNoContent)
	r := do(t, tn.graph, "GET", users+a+"?$select=id,"+ext+",onPremisesExtensionAttributes", nil)
	wantStatus(t, r, http.StatusOK)
	if r.str(ext) != "gold" || r.str("onPremisesExtensionAttributes.extensionAttribute3") != "keep" ||
		r.str("onPremisesExtensionAttributes.extensionAttribute4") != "x" || r.get("onPremisesExtensionAttributes.extensionAttribute1") != nil {
		t.Fatalf("user read back: %s", r.raw)
	}
	if r := do(t, tn.graph, "GET", users+a, nil); r.get(ext) != nil {
		t.Fatalf("an extension property without $select: %s", r.raw)
	}
	list := func(filter string, headers ...string) answer {
		return do(t, tn.graph, "GET", tn.s.URL()+"/v1.0/users?$select=id&$filter="+url.QueryEscape(filter)+"&$count=true", nil, headers...)
	}
	ids := func(a answer) map[string]bool {
		out := map[string]bool{}
		for i := range a.list("value") {
			out[a.str("value."+string(rune('0'+i))+".id")] = true
		}
		return out
	}
	for _, h := range [][]string{nil, eventual} {
		got := list("userType eq 'Guest' and "+ext+" eq 'GOLD'", h...)
		wantStatus(t, got, http.StatusOK)
		if g := ids(got); len(g) != 2 || !g[a] || !g[b] {
			t.Fatalf("%v: guests with %s gold: %s", h, ext, got.raw)
		}
	}
	onPrem := "userType eq 'Guest' and onPremisesExtensionAttributes/extensionAttribute3 eq 'keep'"
	if r := list(onPrem); r.status != http.StatusBadRequest || r.str("error.code") != "Request_UnsupportedQuery" {
		t.Fatalf("an on-premises attribute without the advanced parameters: %d %s", r.status, r.raw)
	}
	got := list(onPrem, eventual...)
	wantStatus(t, got, http.StatusOK)
	if g := ids(got); len(g) != 2 {
		t.Fatalf("guests with extensionAttribute3 keep: %s", got.raw)
	}
	wantStatus(t, do(t, tn.graph, "PATCH", users+b, map[string]any{ext: nil,
		"onPremisesExtensionAttributes": map[string]any{"extensionAttribute3": nil}}), http.StatusNoContent)
	if g := ids(list("userType eq 'Guest' and "+ext+" eq 'gold'", eventual...)); len(g) != 1 || !g[a] {
		t.Fatalf("after clearing b's extension: %v", g)
	}
	if g := ids(list(onPrem, eventual...)); len(g) != 1 || !g[a] {
		t.Fatalf("after clearing b's extensionAttribute3: %v", g)
	}
	if r := list("extension_nothex_partnerTier eq 'gold'", eventual...); r.status != http.StatusBadRequest {
		t.Fatalf("a malformed extension name: %d %s", r.status, r.raw)
	}
	if r := do(t, tn.graph, "PATCH", users+a, map[string]any{"onPremisesExtensionAttributes": map[string]any{"extensionAttribute16": "x"}}); r.status != http.StatusBadRequest {
		t.Fatalf("extensionAttribute16: %d %s", r.status, r.raw)
	}
}
