package sim_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/sim"
)

func TestInvitation(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	a := tn.g("POST", "/invitations", map[string]any{
		"invitedUserEmailAddress": "Jane.Doe@Partner.example",
		"invitedUserDisplayName":  "Jane Doe",
		"inviteRedirectUrl":       "https://myapps.microsoft.com/?tenantid=" + tn.s.TenantID(),
		"sendInvitationMessage":   true,
		"invitedUserMessageInfo": map[string]any{
			"messageLanguage":       "fr-FR",
			"customizedMessageBody": "Bienvenue",
			"ccRecipients":          []any{map[string]any{"emailAddress": map[string]any{"name": "Boss", "address": "boss@contoso.example"}}},
		},
	})
	wantStatus(t, a, http.StatusCreated)
	for _, k := range []string{"@odata.context", "id", "inviteRedeemUrl", "invitedUserDisplayName", "invitedUserType", "invitedUserEmailAddress", "sendInvitationMessage", "resetRedemption", "inviteRedirectUrl", "status", "invitedUserMessageInfo", "invitedUser"} {
		if _, ok := a.body[k]; !ok {
			t.Errorf("answer lacks %s: %s", k, a.raw)
		}
	}
	id, userID := a.str("id"), a.str("invitedUser.id")
	if id == "" || userID == "" || id == userID {
		t.Fatalf("invitation id %q and user id %q must be set and differ", id, userID)
	}
	if a.str("status") != "PendingAcceptance" || a.str("invitedUserType") != "Guest" {
		t.Errorf("status %q type %q", a.str("status"), a.str("invitedUserType"))
	}
	if !strings.HasPrefix(a.str("inviteRedeemUrl"), tn.s.URL()+"/redeem?") {
		t.Errorf("inviteRedeemUrl %q does not point at the sim", a.str("inviteRedeemUrl"))
	}

	u := tn.g("GET", "/users/"+userID+"?$select=id,userType,creationType,externalUserState,externalUserStateChangeDateTime,userPrincipalName,mail,otherMails,proxyAddresses,showInAddressList,identities,accountEnabled,createdDateTime,displayName", nil)
	wantStatus(t, u, http.StatusOK)
	want := map[string]any{
		"userType": "Guest", "creationType": "Invitation", "externalUserState": "PendingAcceptance",
		"userPrincipalName": "Jane.Doe_Partner.example#EXT#@contoso.onmicrosoft.com", "mail": "Jane.Doe@Partner.example",
		"showInAddressList": false, "accountEnabled": true, "displayName": "Jane Doe",
	}
	for k, v := range want {
		if u.get(k) != v {
			t.Errorf("%s = %v, want %v", k, u.get(k), v)
		}
	}
	if got := u.list("otherMails"); len(got) != 1 || got[0] != "Jane.Doe@Partner.example" {
		t.Errorf("otherMails %v", got)
	}
	if got := u.list("proxyAddresses"); len(got) != 1 || got[0] != "SMTP:Jane.Doe@Partner.example" {
		t.Errorf("proxyAddresses %v", got)
	}
	if u.str("identities.0.signInType") != "userPrincipalName" || u.str("createdDateTime") == "" || u.str("externalUserStateChangeDateTime") == "" {
		t.Errorf("identities/createdDateTime: %s", u.raw)
	}

	mail := tn.side("GET", "/mail", nil)
	var sent []any
	_ = jsonList(mail.raw, &sent)
	if len(sent) != 1 {
		t.Fatalf("mails: %s", mail.raw)
	}
	m := sent[0].(map[string]any)
	if m["to"] != "Jane.Doe@Partner.example" || m["language"] != "fr-FR" || !strings.Contains(m["body"].(string), "Bienvenue") ||
		!strings.Contains(m["body"].(string), a.str("inviteRedeemUrl")) || len(m["cc"].([]any)) != 1 {
		t.Errorf("mail %v", m)
	}

	// Re-inviting (any case) returns the same user with a fresh redeem URL.
	b := tn.invite("jane.doe@partner.example")
	wantStatus(t, b, http.StatusCreated)
	if b.str("invitedUser.id") != userID || b.str("inviteRedeemUrl") == a.str("inviteRedeemUrl") || b.str("id") == id {
		t.Errorf("re-invite: user %s url %s", b.str("invitedUser.id"), b.str("inviteRedeemUrl"))
	}
	// The first URL was replaced by the second; following the second redeems.
	if r := do(t, tn.plain, "GET", a.str("inviteRedeemUrl"), nil); r.status != http.StatusNotFound {
		t.Errorf("old redeem URL: %d", r.status)
	}
	if r := do(t, tn.plain, "GET", b.str("inviteRedeemUrl"), nil); r.status != http.StatusOK {
		t.Errorf("redeem URL: %d %s", r.status, r.raw)
	}
	u = tn.g("GET", "/users/"+userID+"?$select=externalUserState,identities", nil)
	if u.str("externalUserState") != "Accepted" || u.str("identities.0.signInType") != "federated" {
		t.Errorf("after redemption: %s", u.raw)
	}
	st := tn.s.Stats()
	if st.InvitationsByEmail["jane.doe@partner.example"] != 2 || st.Routes["POST /v1.0/invitations"] != 2 {
		t.Errorf("stats %+v", st)
	}
}

func jsonList(b []byte, v *[]any) error { return jsonUnmarshal(b, v) }

func TestInvitationErrors(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	redirect := "https://myapps.microsoft.com"
	cases := []struct {
		name         string
		body         any
		status       int
		code, prefix string
	}{
		{"verified domain", map[string]any{"invitedUserEmailAddress": "someone@contoso.example", "inviteRedirectUrl": redirect}, 400, "BadRequest",
			"This user cannot be invited because the domain of the user's email address is a verified domain of this directory."},
		{"initial domain", map[string]any{"invitedUserEmailAddress": "x@CONTOSO.onmicrosoft.com", "inviteRedirectUrl": redirect}, 400, "BadRequest", "This user cannot be invited"},
		{"no address", map[string]any{"inviteRedirectUrl": redirect}, 400, "BadRequest", "Missing required property 'invitedUserEmailAddress'"},
		{"no redirect", map[string]any{"invitedUserEmailAddress": "a@b.example"}, 400, "BadRequest", "Missing required property 'inviteRedirectUrl'"},
		{"bad address", map[string]any{"invitedUserEmailAddress": "a!b@partner.example", "inviteRedirectUrl": redirect}, 400, "BadRequest", "The email address"},
		{"dot first", map[string]any{"invitedUserEmailAddress": ".ab@partner.example", "inviteRedirectUrl": redirect}, 400, "BadRequest", "The email address"},
		{"unknown property", map[string]any{"invitedUserEmailAddress": "a@b.example", "inviteRedirectUrl": redirect, "color": "red"}, 400, "BadRequest", "The property 'color' does not exist on type 'microsoft.graph.invitation'"},
		{"reset without id", map[string]any{"invitedUserEmailAddress": "a@b.example", "inviteRedirectUrl": redirect, "resetRedemption": true}, 400, "Request_BadRequest",
			"The id property is required in the request body to reset a redemption status."},
		{"two cc", map[string]any{"invitedUserEmailAddress": "a@b.example", "inviteRedirectUrl": redirect, "invitedUserMessageInfo": map[string]any{"ccRecipients": []any{
			map[string]any{"emailAddress": map[string]any{"address": "c@d.example"}}, map[string]any{"emailAddress": map[string]any{"address": "e@f.example"}}}}}, 400, "BadRequest", "Only one recipient"},
		{"not json", "{", 400, "BadRequest", "Invalid request body"},
		{"empty", "", 400, "BadRequest", "Empty Payload"},
		{"reset unknown user", map[string]any{"invitedUserEmailAddress": "a@b.example", "inviteRedirectUrl": redirect, "resetRedemption": true, "invitedUser": map[string]any{"id": "00000000-0000-0000-0000-000000000001"}}, 404, "Request_ResourceNotFound", "Resource '00000000-0000-0000-0000-000000000001' does not exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, tn.g("POST", "/invitations", c.body), c.status, c.code, c.prefix)
		})
	}
	// An external address held by a member is refused.
	seeded, err := tn.s.Seed(sim.SeedData{Users: []sim.SeedUser{{DisplayName: "Ext Member", UserPrincipalName: "ext@contoso.example", Mail: "ext.member@partner.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, tn.invite("ext.member@partner.example"), 400, "BadRequest", "The invited user already exists in the directory as objectID: "+seeded.Users[0].ID)
	if n := tn.s.Stats().InvitationsByEmail["ext.member@partner.example"]; n != 0 {
		t.Errorf("a refused invitation was counted: %d", n)
	}
}

func TestInvitationExistingGuests(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	// The default tenant's guest whose mail differs from otherMails is found
	// by either address.
	lee := tn.g("GET", "/users?$filter=otherMails/any(x:x eq 'lee@northwind.example')&$select=id,mail", nil)
	wantStatus(t, lee, 200)
	leeID := lee.str("value.0.id")
	if leeID == "" || lee.str("value.0.mail") != "lee.chen@northwind.example" {
		t.Fatalf("lee: %s", lee.raw)
	}
	for _, addr := range []string{"lee@northwind.example", "LEE.CHEN@northwind.example"} {
		a := tn.invite(addr)
		wantStatus(t, a, 201)
		if a.str("invitedUser.id") != leeID {
			t.Errorf("invite %s: user %s, want %s", addr, a.str("invitedUser.id"), leeID)
		}
	}
}

func TestResetRedemption(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	ann := tn.g("GET", "/users?$filter=mail eq 'ann@fabrikam.example'&$select=id,externalUserState", nil)
	id := ann.str("value.0.id")
	if ann.str("value.0.externalUserState") != "Accepted" {
		t.Fatalf("ann: %s", ann.raw)
	}
	a := tn.g("POST", "/invitations", map[string]any{
		"invitedUserEmailAddress": "ann.new@fabrikam.example", "inviteRedirectUrl": "https://myapps.microsoft.com",
		"resetRedemption": true, "invitedUser": map[string]any{"id": id},
	})
	wantStatus(t, a, 201)
	if a.str("invitedUser.id") != id || a.get("resetRedemption") != true {
		t.Errorf("reset: %s", a.raw)
	}
	u := tn.g("GET", "/users/"+id+"?$select=externalUserState,mail,otherMails", nil)
	if u.str("externalUserState") != "PendingAcceptance" || u.str("mail") != "ann.new@fabrikam.example" {
		t.Errorf("after reset: %s", u.raw)
	}
	// Groups are kept.
	m := tn.g("GET", "/users/"+id+"/memberOf?$select=displayName", nil)
	if m.str("value.0.displayName") != "DemoApp" {
		t.Errorf("memberOf after reset: %s", m.raw)
	}
	// The stats count the reset for ann's object, and neither a plain
	// invitation of her address nor a refused reset.
	wantStatus(t, tn.g("POST", "/invitations", map[string]any{
		"invitedUserEmailAddress": "ann.new@fabrikam.example", "inviteRedirectUrl": "https://myapps.microsoft.com",
	}), 201)
	wantStatus(t, tn.g("POST", "/invitations", map[string]any{
		"invitedUserEmailAddress": "x@fabrikam.example", "inviteRedirectUrl": "https://myapps.microsoft.com",
		"resetRedemption": true, "invitedUser": map[string]any{"id": "00000000-0000-0000-0000-000000000001"},
	}), 404)
	side := tn.side("GET", "/stats", nil)
	wantStatus(t, side, 200)
	if got := side.get("resets_by_user"); !reflect.DeepEqual(got, map[string]any{strings.ToLower(id): float64(1)}) {
		t.Errorf("resets_by_user = %v, want one reset of %s", got, id)
	}
	if n := tn.s.Stats().InvitationsByEmail["ann.new@fabrikam.example"]; n != 2 {
		t.Errorf("ann.new invited %d times, want 2 (the reset and the invitation)", n)
	}
}

func TestInvitationSponsorsAndMember(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	megan := tn.g("GET", "/users/megan@contoso.example?$select=id", nil).str("id")
	a := tn.g("POST", "/invitations", map[string]any{
		"invitedUserEmailAddress": "sam@partner.example", "inviteRedirectUrl": "https://a.example", "invitedUserType": "Member",
		"invitedUserSponsors": []any{map[string]any{"@odata.type": "#microsoft.graph.user", "id": megan}},
	})
	wantStatus(t, a, 201)
	if a.str("invitedUserType") != "Member" {
		t.Errorf("type %s", a.str("invitedUserType"))
	}
	sp := tn.g("GET", "/users/"+a.str("invitedUser.id")+"/sponsors", nil)
	if sp.str("value.0.id") != megan {
		t.Errorf("sponsors: %s", sp.raw)
	}
}

func TestGzipBody(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"invitedUserEmailAddress":"zip@partner.example","inviteRedirectUrl":"https://a.example"}`))
	_ = zw.Close()
	a := tn.g("POST", "/invitations", buf.Bytes(), "Content-Encoding", "gzip")
	wantStatus(t, a, 201)
	a = tn.g("POST", "/invitations", []byte("not gzip"), "Content-Encoding", "gzip")
	wantError(t, a, 400, "BadRequest", "The request body is not valid gzip")
}

func TestInviteCap(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{InvitesPerMinute: 2})
	wantStatus(t, tn.invite("a1@partner.example"), 201)
	wantStatus(t, tn.invite("a2@partner.example"), 201)
	wantError(t, tn.invite("a3@partner.example"), 403, "Forbidden", "Invitations are blocked for this directory due to suspicious activity. Please contact Microsoft support for help.")
	tn.s.Advance(61e9)
	wantStatus(t, tn.invite("a3@partner.example"), 201)
}

func TestRedeemURLRedirectsLocally(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	a := tn.g("POST", "/invitations", map[string]any{"invitedUserEmailAddress": "loc@partner.example", "inviteRedirectUrl": "http://127.0.0.1:1/welcome"})
	wantStatus(t, a, 201)
	c := *tn.plain
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r := do(t, &c, "GET", a.str("inviteRedeemUrl"), nil)
	if r.status != http.StatusFound || r.header.Get("Location") != "http://127.0.0.1:1/welcome" {
		t.Errorf("redeem: %d %s", r.status, r.header.Get("Location"))
	}
	u, _ := url.Parse(a.str("inviteRedeemUrl"))
	if u.Query().Get("rd") == "" {
		t.Errorf("redeem URL without rd: %s", u)
	}
}

// TestInvitationAgain: inviting a pending guest's address again (a
// reminder) answers with the same guest and a new redeem URL; the earlier
// URL stops working, the new one redeems, and the tenant holds one guest.
func TestInvitationAgain(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	body := map[string]any{"invitedUserEmailAddress": "again@partner.example", "inviteRedirectUrl": "http://127.0.0.1:1/welcome"}
	first := tn.g("POST", "/invitations", body)
	wantStatus(t, first, 201)
	guests := tn.s.Snapshot().Guests
	second := tn.g("POST", "/invitations", body)
	wantStatus(t, second, 201)
	if second.str("invitedUser.id") != first.str("invitedUser.id") {
		t.Fatalf("invited again as %s, first as %s: want the same guest", second.str("invitedUser.id"), first.str("invitedUser.id"))
	}
	if second.str("inviteRedeemUrl") == first.str("inviteRedeemUrl") {
		t.Errorf("invited again with the same redeem URL")
	}
	if got := tn.s.Snapshot().Guests; got != guests {
		t.Errorf("%d guests after the second invitation, want %d", got, guests)
	}
	c := *tn.plain
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if r := do(t, &c, "GET", first.str("inviteRedeemUrl"), nil); r.status == http.StatusFound {
		t.Errorf("the first redeem URL still redeems")
	}
	if r := do(t, &c, "GET", second.str("inviteRedeemUrl"), nil); r.status != http.StatusFound {
		t.Errorf("the new redeem URL: %d, want a redirect", r.status)
	}
	u := tn.g("GET", "/users/"+first.str("invitedUser.id")+"?$select=externalUserState", nil)
	if u.str("externalUserState") != "Accepted" {
		t.Errorf("after redeeming the new URL: %s", u.raw)
	}
}
