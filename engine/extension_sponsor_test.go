package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/sim"
)

// TestExtensionBySponsor: the request's sponsor (adele, no approver) sees
// the guest's end of access and asks for more time, which the automatic
// policy gives at once; once approvers decide, a profile's sponsor named
// by object id asks and the ask waits at stage 1. A guest whose sponsors
// in the directory are a user and a group lets that user and the group's
// member ask, and nobody else. A stranger and a guest of the tenant are
// refused; the view holds no history.
func TestExtensionBySponsor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, kim, _ := expiryWorld(t, "sqlite")
	casey := foyer.Principal{ID: "id-casey", UPN: "casey@contoso.example", Name: "Casey", Email: "casey@contoso.example"}
	guest := foyer.Principal{ID: "id-g", UPN: "g_partner.example#EXT#@contoso.example", Email: "g@partner.example"}
	lynne := foyer.Principal{ID: w.profile.Sponsors[0], UPN: "lynne@contoso.example", Name: "Lynne", Email: "lynne@contoso.example"}

	w.clock.Advance(20 * day) // the end is 10 days away, extension_max 30
	end, _ := w.planEnd(t, kim.ID)
	for _, who := range []foyer.Principal{casey, guest} {
		_, err := w.eng.SponsorView(ctx, kim.ID, who)
		code(t, err, foyer.EFORBIDDEN)
		_, err = w.eng.AskExtensionAsSponsor(ctx, kim.ID, who, end.Add(day), "")
		code(t, err, foyer.EFORBIDDEN)
	}
	_, err := w.eng.SponsorView(ctx, "no-such-request", adele)
	code(t, err, foyer.ENOTFOUND)

	v, err := w.eng.SponsorView(ctx, kim.ID, adele)
	if err != nil {
		t.Fatal(err)
	}
	if v.Request == nil || v.Request.ID != kim.ID || !v.AccessEnds.Equal(end) || !v.CanExtend || v.History != nil || v.Decisions != nil {
		t.Fatalf("adele's view: %+v; want kim's request ending %v, extensible, without history", v, end)
	}
	until := end.Add(5 * day).Truncate(time.Second)
	x, err := w.eng.AskExtensionAsSponsor(ctx, kim.ID, adele, until, "the audit runs on")
	if err != nil {
		t.Fatal(err)
	}
	if x.State != foyer.ExtensionApproved || x.AskedBy != adele.String() || x.DecidedBy != "policy" {
		t.Fatalf("adele's extension %+v, want approved by the policy, asked by %s", x, adele)
	}
	if got, extended := w.planEnd(t, kim.ID); !got.Equal(until) || !extended {
		t.Fatalf("PlanExpiry: kim ends %v (extended %v), want %v", got, extended, until)
	}

	// Approvers decide now: a profile's sponsor's ask waits for them.
	w.waitRun(t, kim.RunID)
	w.profile.Approval = foyer.Policy{Stages: []foyer.Stage{{Approvers: foyer.Approvers{Users: []string{"alex@contoso.example"}}, Timeout: time.Hour}}}
	y, err := w.eng.AskExtensionAsSponsor(ctx, kim.ID, lynne, until.Add(2*day), "")
	if err != nil {
		t.Fatal(err)
	}
	if y.State != foyer.ExtensionPending || y.Stage != 1 || y.AskedBy != lynne.String() {
		t.Fatalf("lynne's extension %+v, want pending at stage 1", y)
	}
	if v, err := w.eng.SponsorView(ctx, kim.ID, lynne); err != nil || v.Extension == nil || v.Extension.ID != y.ID || v.CanExtend {
		t.Fatalf("lynne's view: %+v, %v; want the pending extension, and no second ask", v, err)
	}
	if got, _ := w.planEnd(t, kim.ID); !got.Equal(until) {
		t.Fatalf("a pending ask moved the end to %v", got)
	}
}

// TestExtensionByDirectorySponsor: a guest whose sponsors in the
// directory are a user and a security group: the user and the group's
// member, named neither by the request nor by the profile, ask for more
// time; a colleague outside both does not.
func TestExtensionByDirectorySponsor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, _, _ := expiryWorld(t, "sqlite")
	seeded, err := w.sim.Seed(sim.SeedData{Users: []sim.SeedUser{
		{DisplayName: "Sam", UserPrincipalName: "sam@contoso.example", Mail: "sam@contoso.example"},
		{DisplayName: "Gia", UserPrincipalName: "gia@contoso.example", Mail: "gia@contoso.example"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sam := foyer.Principal{ID: seeded.Users[0].ID, UPN: "sam@contoso.example", Name: "Sam", Email: "sam@contoso.example"}
	gia := foyer.Principal{ID: seeded.Users[1].ID, UPN: "gia@contoso.example", Name: "Gia", Email: "gia@contoso.example"}
	g, err := w.sim.Seed(sim.SeedData{Groups: []sim.SeedGroup{{DisplayName: "Pat's team", Members: []string{"gia@contoso.example"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.sim.Seed(sim.SeedData{Users: []sim.SeedUser{{DisplayName: "Pat", Mail: "pat@tailwind.example", UserType: "Guest",
		Sponsors: []string{"sam@contoso.example", g.Groups[0].ID}}}}); err != nil {
		t.Fatal(err)
	}
	// An application asks for pat: the request names no sponsor.
	app := foyer.Principal{ID: "apikey:crm", App: true}
	rc, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "pat@tailwind.example", DisplayName: "Pat", By: &app})
	if err != nil {
		t.Fatal(err)
	}
	pat := w.waitState(t, rc.Request.ID, foyer.StateInvited).Request
	if pat.Details.Sponsor != "" || pat.UserID == "" {
		t.Fatalf("pat's request %+v: want no sponsor and the seeded guest", pat)
	}
	w.clock.Advance(20 * day)
	end, _ := w.planEnd(t, pat.ID)

	_, err = w.eng.SponsorView(ctx, pat.ID, adele) // kim's sponsor, not pat's
	code(t, err, foyer.EFORBIDDEN)
	if v, err := w.eng.SponsorView(ctx, pat.ID, gia); err != nil || !v.AccessEnds.Equal(end) {
		t.Fatalf("gia (a member of a sponsor group) sees %+v, %v", v, err)
	}
	x, err := w.eng.AskExtensionAsSponsor(ctx, pat.ID, sam, end.Add(3*day), "")
	if err != nil {
		t.Fatal(err)
	}
	if x.State != foyer.ExtensionApproved || x.AskedBy != sam.String() {
		t.Fatalf("sam's extension %+v, want approved, asked by sam", x)
	}
	_, err = w.eng.AskExtensionAsSponsor(ctx, pat.ID, adele, end.Add(4*day), "")
	code(t, err, foyer.EFORBIDDEN)
}
