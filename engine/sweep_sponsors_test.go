package engine_test

import (
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/sim"
)

// TestSweepTellsSponsorGroups: a stale guest whose sponsors are groups is
// told together with the members of its security group that have mail
// (not a member without mail, not a nested group's members) and the
// mail-enabled group's own address (not its members).
func TestSweepTellsSponsorGroups(t *testing.T) {
	t.Parallel()
	w := newSweepWorld(t, foyer.SweepRules{NoSignInDays: 90, NoticeDays: 7})
	w.active(t)
	dom := domainOf(t, w.sim)
	members := []sim.SeedUser{
		{DisplayName: "Ann", Mail: "ann@" + dom, UserPrincipalName: "ann@" + dom},
		{DisplayName: "Bo", Mail: "bo@" + dom, UserPrincipalName: "bo@" + dom},
		{DisplayName: "No Mail", UserPrincipalName: "nomail@" + dom},
		{DisplayName: "Cy", Mail: "cy@" + dom, UserPrincipalName: "cy@" + dom},
		{DisplayName: "Dee", Mail: "dee@" + dom, UserPrincipalName: "dee@" + dom},
	}
	if _, err := w.sim.Seed(sim.SeedData{Users: members}); err != nil {
		t.Fatal(err)
	}
	g, err := w.sim.Seed(sim.SeedData{Groups: []sim.SeedGroup{
		{DisplayName: "Nested", Members: []string{"dee@" + dom}},
		{DisplayName: "Partner Owners", MailNickname: "partner-owners", GroupTypes: []string{"Unified"}, Members: []string{"cy@" + dom}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	nested, owners := g.Groups[0].ID, g.Groups[1].ID
	g, err = w.sim.Seed(sim.SeedData{Groups: []sim.SeedGroup{
		{DisplayName: "Partner Team", Members: []string{"ann@" + dom, "bo@" + dom, "nomail@" + dom, nested}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	team := g.Groups[0].ID
	old := w.sim.Now().AddDate(0, 0, -200)
	ids := seedSweepGuests(t, w.sim, staleGuest("stale@partner.example", old, team, owners))
	if err := w.sim.SignIn(ids["stale@partner.example"], old, true); err != nil {
		t.Fatal(err)
	}
	run, _ := w.sweep(t, nil)
	if r := w.results(t, run); r["stale@partner.example"] != "notice_disable notified" {
		t.Fatalf("results %v", r)
	}
	teamMail := w.sim.GroupMail(owners)
	waitUntil(t, func() bool {
		return len(w.post.to("stale@partner.example")) == 1 && len(w.post.to("ann@"+dom)) == 1 &&
			len(w.post.to("bo@"+dom)) == 1 && len(w.post.to(teamMail)) == 1
	})
	for _, a := range []string{"cy@" + dom, "dee@" + dom, "nomail@" + dom} {
		if got := w.post.to(a); len(got) != 0 {
			t.Fatalf("%s was told %v; only the security group's direct members with mail, and the mail-enabled group itself, are", a, got)
		}
	}
	if teamMail == "" {
		t.Fatal("the mail-enabled group has no mail")
	}
}
