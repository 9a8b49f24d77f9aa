package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/foyer-dev/foyer"
)

// sponsored is a guest's request whose access ends, with a ledger's note
// in its history that a sponsor's page does not show.
func sponsored() foyer.RequestView {
	v := view(true, false)
	v.Request.State, v.Request.DisplayName = foyer.StateActive, "Kim "+xss
	v.History = append(v.History, foyer.Transition{To: foyer.StateActive, At: v.Request.CreatedAt, Note: "approved by megan@contoso.example"})
	v.AccessEnds, v.CanExtend = time.Date(2027, 1, 6, 10, 0, 0, 0, time.UTC), true
	return v
}

func extendForms(a answer, action string) int {
	return len(find(a.doc, func(n *html.Node) bool { return n.Data == "form" && attr(n, "action") == action }))
}

// TestSponsorAsksForMoreTime: /extend/{id} sends whoever is not signed in
// to sign in (a form sent without a session gets 401 and the way back);
// a signed-in employee who is no sponsor, or a guest of the tenant, gets
// 403 with the engine's reason; a sponsor sees the guest, the profile and
// the end, and asks, with the CSRF token, for more time: a bad day or the
// engine's refusal is shown on the form, an ask goes through with the
// day's start in UTC and the page then says it waits for approval.
func TestSponsorAsksForMoreTime(t *testing.T) {
	f := newFixture(t, limits{})
	f.in.requests["req-1"] = sponsored()
	f.in.sponsors["eli@contoso.example"] = true
	token := f.do(t, "GET", "/request/visitors", nil).csrf(t)
	const eli, casey = "eli@contoso.example", "casey@contoso.example"

	a := f.do(t, "GET", "/extend/req-1", nil)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/admin/signin?next="+url.QueryEscape("/extend/req-1") {
		t.Fatalf("not signed in, GET: %d %q", a.status, a.header.Get("Location"))
	}
	b := f.do(t, "POST", "/extend/req-1", url.Values{"csrf": {token}, "until": {"2027-02-01"}})
	if b.status != http.StatusUnauthorized || len(find(b.doc, func(n *html.Node) bool {
		return n.Data == "a" && attr(n, "href") == "/admin/signin?next="+url.QueryEscape("/extend/req-1")
	})) != 1 {
		t.Fatalf("not signed in, POST: %d %s", b.status, b.body)
	}
	for _, who := range []string{casey, "eli_fabrikam.example#EXT#@contoso.example"} {
		c := f.do(t, "GET", "/extend/req-1", nil, "X-Employee", who)
		if c.status != http.StatusForbidden || strings.Contains(c.text(), "kim") || strings.Contains(c.text(), "Kim") {
			t.Errorf("%s, GET: %d %s", who, c.status, c.text())
		}
		d := f.do(t, "POST", "/extend/req-1", url.Values{"csrf": {token}, "until": {"2027-02-01"}}, "X-Employee", who)
		if d.status != http.StatusForbidden {
			t.Errorf("%s, POST: %d %s", who, d.status, d.text())
		}
	}
	if c := f.do(t, "GET", "/extend/req-1", nil, "X-Employee", casey); !strings.Contains(c.text(), "only a sponsor of this guest") ||
		!strings.Contains(c.text(), "signed in as "+casey) {
		t.Errorf("the refusal does not say why, or who is signed in: %s", c.text())
	}
	if n := f.do(t, "GET", "/extend/req-2", nil, "X-Employee", eli); n.status != http.StatusNotFound {
		t.Errorf("unknown request: %d", n.status)
	}
	if len(f.in.asks) != 0 {
		t.Fatalf("asks got through: %q", f.in.asks)
	}

	g := f.do(t, "GET", "/extend/req-1", nil, "X-Employee", eli)
	for _, want := range []string{"Kim " + xss, "ana@fabrikam.example", "visitors", "Access granted", "Access ends on", "6 January 2027, 10:00 UTC", "signed in as " + eli} {
		if !strings.Contains(g.text(), want) {
			t.Errorf("the sponsor's page lacks %q: %s", want, g.text())
		}
	}
	if g.status != 200 || extendForms(g, "/extend/req-1") != 1 || strings.Contains(g.body, "megan") {
		t.Fatalf("the sponsor's page: %d, %d forms, the ledger's notes shown? %s", g.status, extendForms(g, "/extend/req-1"), g.text())
	}
	if d := f.do(t, "POST", "/extend/req-1", url.Values{"until": {"2027-02-01"}}, "X-Employee", eli); d.status != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d", d.status)
	}
	h := f.do(t, "POST", "/extend/req-1", url.Values{"csrf": {g.csrf(t)}, "until": {"soon"}, "justification": {xss}}, "X-Employee", eli)
	if h.status != http.StatusUnprocessableEntity || !strings.Contains(h.text(), "Enter the new end of access as a day") || h.value("extension-why") != xss {
		t.Errorf("a bad day: %d %s", h.status, h.text())
	}
	if in := find(h.doc, func(n *html.Node) bool { return attr(n, "id") == "until" }); len(in) != 1 || attr(in[0], "aria-invalid") != "true" {
		t.Errorf("the day's field is not marked invalid")
	}
	i := f.do(t, "POST", "/extend/req-1", url.Values{"csrf": {g.csrf(t)}, "until": {"2027-01-02"}}, "X-Employee", eli)
	if i.status != http.StatusUnprocessableEntity || !strings.Contains(i.text(), "not later than the current end") {
		t.Errorf("an earlier day: %d %s", i.status, i.text())
	}
	if len(f.in.asks) != 0 {
		t.Fatalf("refused asks were recorded: %q", f.in.asks)
	}
	j := f.do(t, "POST", "/extend/req-1", url.Values{"csrf": {g.csrf(t)}, "until": {"2027-02-01"}, "justification": {"the audit runs on"}}, "X-Employee", eli)
	if j.status != http.StatusSeeOther || j.header.Get("Location") != "/extend/req-1" {
		t.Fatalf("ask: %d %q %s", j.status, j.header.Get("Location"), j.text())
	}
	if len(f.in.asks) != 1 || f.in.asks[0] != eli+" 2027-02-01T00:00:00Z the audit runs on" {
		t.Errorf("asks %q, want eli's until 2027-02-01 with the reason", f.in.asks)
	}
	k := f.do(t, "GET", "/extend/req-1", nil, "X-Employee", eli)
	if !strings.Contains(k.text(), "More time was asked for, until 1 February 2027, 00:00 UTC: waiting for approval") || extendForms(k, "/extend/req-1") != 0 {
		t.Errorf("after the ask: %s", k.text())
	}
	l := f.do(t, "POST", "/extend/req-1", url.Values{"csrf": {g.csrf(t)}, "until": {"2027-03-01"}}, "X-Employee", eli)
	if l.status != http.StatusUnprocessableEntity || !strings.Contains(l.text(), "pending already") {
		t.Errorf("a second ask while one is pending: %d %s", l.status, l.text())
	}
}

// TestSponsorPageInFrench: the sponsor's page and its refusal speak the
// visitor's language, and the form keeps it.
func TestSponsorPageInFrench(t *testing.T) {
	f := newFixture(t, limits{})
	f.in.requests["req-1"] = sponsored()
	f.in.sponsors["eli@contoso.example"] = true
	a := f.do(t, "GET", "/extend/req-1?lang=fr", nil, "X-Employee", "eli@contoso.example")
	for _, want := range []string{"Plus de temps pour un invité", "L’accès prend fin le", "6/1/2027 10:00 UTC", "Demander plus de temps"} {
		if !strings.Contains(a.text(), want) {
			t.Errorf("the French page lacks %q: %s", want, a.text())
		}
	}
	if extendForms(a, "/extend/req-1?lang=fr") != 1 {
		t.Errorf("the form forgets the language: %s", a.body)
	}
	b := f.do(t, "GET", "/extend/req-1", nil, "X-Employee", "casey@contoso.example", "Accept-Language", "fr")
	if b.status != http.StatusForbidden || !strings.Contains(b.text(), "Vous ne pouvez pas demander plus de temps") {
		t.Errorf("the French refusal: %d %s", b.status, b.text())
	}
	c := f.do(t, "GET", "/extend/req-1?lang=fr", nil)
	if c.status != http.StatusSeeOther || c.header.Get("Location") != "/admin/signin?next="+url.QueryEscape("/extend/req-1?lang=fr") {
		t.Errorf("not signed in: %d %q", c.status, c.header.Get("Location"))
	}
}
