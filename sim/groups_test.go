package sim_test

import (
	"fmt"
	"testing"

	"github.com/foyer-dev/foyer/sim"
)

func ref(id string) map[string]any {
	return map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id}
}

func bind(ids ...string) map[string]any {
	var refs []string
	for _, id := range ids {
		refs = append(refs, "https://graph.microsoft.com/v1.0/directoryObjects/"+id)
	}
	return map[string]any{"members@odata.bind": refs}
}

func TestGroups(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	l := tn.g("GET", "/groups?$filter=displayName eq 'DemoApp'", nil)
	wantStatus(t, l, 200)
	gid := l.str("value.0.id")
	if gid == "" || l.get("value.0.securityEnabled") != true || len(l.list("value")) != 1 {
		t.Fatalf("groups: %s", l.raw)
	}
	if s := tn.g("GET", "/groups?$filter=startsWith(displayName,'part')&$select=displayName", nil); s.str("value.0.displayName") != "Partners" {
		t.Errorf("startsWith: %s", s.raw)
	}
	wantStatus(t, tn.g("GET", "/groups/"+gid, nil), 200)
	wantError(t, tn.g("GET", "/groups?$filter=createdDateTime ge 2021-11-01&$count=true", nil, eventual...), 400, "Request_UnsupportedQuery",
		"Unsupported or invalid query filter clause specified for property 'createdDateTime' of resource 'Group'.")

	guest := tn.invite("member@partner.example").str("invitedUser.id")
	wantStatus(t, tn.g("POST", "/groups/"+gid+"/members/$ref", ref(guest)), 204)
	wantError(t, tn.g("POST", "/groups/"+gid+"/members/$ref", ref(guest)), 400, "Request_BadRequest",
		"One or more added object references already exist for the following modified properties: 'members'.")
	missing := "11111111-2222-3333-4444-555555555555"
	wantError(t, tn.g("POST", "/groups/"+gid+"/members/$ref", ref(missing)), 404, "Request_ResourceNotFound",
		"Resource '"+missing+"' does not exist or one of its queried reference-property objects are not present.")
	wantError(t, tn.g("POST", "/groups/"+missing+"/members/$ref", ref(guest)), 404, "Request_ResourceNotFound", "Resource '"+missing+"'")
	wantError(t, tn.g("POST", "/groups/"+gid+"/members/$ref", map[string]any{"@odata.id": "nonsense"}), 400, "Request_BadRequest", "Invalid object identifier")

	m := tn.g("GET", "/groups/"+gid+"/members?$select=id,mail", nil)
	wantStatus(t, m, 200)
	if n := len(m.list("value")); n != 3 || m.str("value.2.id") != guest || m.str("value.2.@odata.type") != "#microsoft.graph.user" {
		t.Errorf("members: %s", m.raw)
	}
	wantStatus(t, tn.g("DELETE", "/groups/"+gid+"/members/"+guest+"/$ref", nil), 204)
	wantError(t, tn.g("DELETE", "/groups/"+gid+"/members/"+guest+"/$ref", nil), 404, "Request_ResourceNotFound", "Resource '"+guest+"'")
}

func TestGroupBind(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{Empty: true})
	g, err := tn.s.Seed(sim.SeedData{Groups: []sim.SeedGroup{{DisplayName: "Bulk"}}})
	if err != nil {
		t.Fatal(err)
	}
	gid := g.Groups[0].ID
	var ids []string
	for i := range 21 {
		ids = append(ids, tn.invite(fmt.Sprintf("b%02d@partner.example", i)).str("invitedUser.id"))
	}
	wantError(t, tn.g("PATCH", "/groups/"+gid, bind(ids...)), 400, "Request_BadRequest", "The request exceeds the limit of 20")
	// All or nothing: one missing reference adds none.
	wantError(t, tn.g("PATCH", "/groups/"+gid, bind(ids[0], "11111111-2222-3333-4444-555555555555")), 404, "Request_ResourceNotFound", "")
	if n := len(tn.g("GET", "/groups/"+gid+"/members", nil).list("value")); n != 0 {
		t.Fatalf("%d members after a failed bind", n)
	}
	wantStatus(t, tn.g("PATCH", "/groups/"+gid, bind(ids[:20]...)), 204)
	wantError(t, tn.g("PATCH", "/groups/"+gid, bind(ids[19], ids[20])), 400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'members'.")
	// Group properties need Group.ReadWrite.All, which the default app
	// (GroupMember.ReadWrite.All) lacks.
	wantError(t, tn.g("PATCH", "/groups/"+gid, map[string]any{"description": "d"}), 403, "Authorization_RequestDenied", "")
	wantError(t, tn.g("PATCH", "/groups/"+gid, map[string]any{"color": "red"}), 400, "BadRequest", "The property 'color' does not exist on type 'microsoft.graph.group'.")

	// Members page like any collection.
	next := tn.s.URL() + "/v1.0/groups/" + gid + "/members?$top=7&$select=id"
	pages, total := 0, 0
	for next != "" {
		a := do(t, tn.graph, "GET", next, nil)
		wantStatus(t, a, 200)
		total += len(a.list("value"))
		next = a.str("@odata.nextLink")
		pages++
	}
	if pages != 3 || total != 20 {
		t.Errorf("%d pages, %d members", pages, total)
	}
	c := tn.g("GET", "/groups/"+gid+"/members/$count", nil, eventual...)
	if string(c.raw) != "20" {
		t.Errorf("members/$count %q", c.raw)
	}
}
