package sim_test

import (
	"fmt"
	"testing"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
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

// TestTransitiveUsers reads a group's users through nested groups (and a
// cycle), each once, in pages, and with only a group permission gets ids.
func TestTransitiveUsers(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{Empty: true})
	d, err := tn.s.Seed(sim.SeedData{
		Domains: []sim.SeedDomain{{ID: "contoso.example", IsDefault: true}},
		Users: []sim.SeedUser{
			{DisplayName: "Ann", Mail: "ann@contoso.example", UserPrincipalName: "ann@contoso.example", UserType: "Member"},
			{DisplayName: "Bob", UserPrincipalName: "bob@contoso.example", UserType: "Member"},
			{DisplayName: "Cy", Mail: "cy@contoso.example", UserPrincipalName: "cy@contoso.example", UserType: "Member"},
		},
		Groups: []sim.SeedGroup{
			{DisplayName: "Inner", Members: []string{"bob@contoso.example", "ann@contoso.example"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	inner := d.Groups[0].ID
	o, err := tn.s.Seed(sim.SeedData{Groups: []sim.SeedGroup{{DisplayName: "Outer", Members: []string{"ann@contoso.example", inner}}}})
	if err != nil {
		t.Fatal(err)
	}
	outer := o.Groups[0].ID
	// A cycle: Inner holds Outer too.
	wantStatus(t, tn.g("POST", "/groups/"+inner+"/members/$ref", ref(outer)), 204)

	path := "/groups/" + outer + "/transitiveMembers/microsoft.graph.user?$select=id,mail,userPrincipalName,displayName&$top=1"
	var got []string
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatalf("more than 5 pages: %v", got)
		}
		a := tn.g("GET", path, nil)
		wantStatus(t, a, 200)
		for i := range a.list("value") {
			p := fmt.Sprintf("value.%d.", i)
			if a.str(p+"@odata.type") != "#microsoft.graph.user" {
				t.Errorf("item without the user type: %s", a.raw)
			}
			got = append(got, a.str(p+"displayName")+"|"+a.str(p+"mail")+"|"+a.str(p+"userPrincipalName"))
		}
		path = ""
		if next := a.str("@odata.nextLink"); next != "" {
			path = next[len(tn.s.URL()+"/v1.0"):]
		}
	}
	want := []string{"Ann|ann@contoso.example|ann@contoso.example", "Bob||bob@contoso.example"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("transitive users = %v, want %v", got, want)
	}
	wantError(t, tn.g("GET", "/groups/11111111-2222-3333-4444-555555555555/transitiveMembers/microsoft.graph.user", nil), 404, "Request_ResourceNotFound", "")

	// With GroupMember.Read.All alone, users come back with limited
	// information: id and type, the rest null.
	app, err := tn.s.AddApp(sim.App{DisplayName: "groups only", Permissions: []string{"GroupMember.Read.All"}})
	if err != nil {
		t.Fatal(err)
	}
	c := simtest.Bearer(t, tn.s, simtest.SecretCredential(t, tn.s, app.ClientID, app.Secret), "https://graph.microsoft.com/.default")
	a := do(t, c, "GET", tn.s.URL()+"/v1.0/groups/"+inner+"/transitiveMembers/microsoft.graph.user?$select=id,mail", nil)
	wantStatus(t, a, 200)
	if n := len(a.list("value")); n != 2 || a.str("value.0.id") == "" || a.get("value.0.mail") != nil {
		t.Errorf("limited members: %s", a.raw)
	}
	reader, err := tn.s.AddApp(sim.App{DisplayName: "users only", Permissions: []string{"User.Read.All"}})
	if err != nil {
		t.Fatal(err)
	}
	c = simtest.Bearer(t, tn.s, simtest.SecretCredential(t, tn.s, reader.ClientID, reader.Secret), "https://graph.microsoft.com/.default")
	wantError(t, do(t, c, "GET", tn.s.URL()+"/v1.0/groups/"+inner+"/transitiveMembers/microsoft.graph.user", nil), 403, "Authorization_RequestDenied", "")
}
