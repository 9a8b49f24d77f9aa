package portal_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
	"github.com/foyer-dev/foyer/web/portal"
)

// intake records what the page asks of the engine and answers as the
// test says.
type intake struct {
	mu          sync.Mutex
	submissions []foyer.Submission
	confirms    []string
	submitErr   error
	seen        map[string]bool // addresses already asked for: Again
	views       map[string]foyer.RequestView
	confirmErr  error
	asks        []string // the extensions asked for: until and why (and who, for a sponsor)
	// requests are the views of requests by id, and sponsors the user
	// principal names of their guests' sponsors, for the sponsor's page.
	requests map[string]foyer.RequestView
	sponsors map[string]bool
}

func (in *intake) Submit(_ context.Context, s foyer.Submission) (foyer.Receipt, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.submissions = append(in.submissions, s)
	if in.submitErr != nil {
		return foyer.Receipt{}, in.submitErr
	}
	addr, err := foyer.ParseAddress(s.Email)
	if err != nil {
		return foyer.Receipt{}, foyer.Errorf(foyer.EINVALID, "bad address")
	}
	again := in.seen[addr.Key()]
	in.seen[addr.Key()] = true
	state := foyer.StateReceived
	if s.By != nil {
		state = foyer.StatePendingApproval
	}
	return foyer.Receipt{Request: &foyer.Request{ID: "req-1", Email: addr, Profile: s.Profile, State: state}, Token: "tok", Again: again}, nil
}

func (in *intake) Confirm(_ context.Context, token string) (foyer.RequestView, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.confirms = append(in.confirms, token)
	if in.confirmErr != nil {
		return foyer.RequestView{}, in.confirmErr
	}
	v, ok := in.views[token]
	if !ok {
		return v, foyer.Errorf(foyer.ENOTFOUND, "no such link")
	}
	v.Verified = true
	v.Request.State = foyer.StatePendingApproval
	v.History = append(v.History, foyer.Transition{From: foyer.StateReceived, To: foyer.StatePendingApproval, At: v.Request.CreatedAt.Add(time.Minute)})
	in.views[token] = v
	return v, nil
}

func (in *intake) Status(_ context.Context, token string) (foyer.RequestView, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	v, ok := in.views[token]
	if !ok {
		return v, foyer.Errorf(foyer.ENOTFOUND, "no such link")
	}
	return v, nil
}

// AskExtensionByLink records the ask; an end not after the current one
// is refused as the engine refuses it, else the view shows it pending.
func (in *intake) AskExtensionByLink(_ context.Context, token string, until time.Time, why string) (*foyer.Extension, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	v, ok := in.views[token]
	switch {
	case !ok:
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no such link")
	case !v.CanExtend:
		return nil, foyer.Errorf(foyer.ECONFLICT, "an extension is pending already")
	case !until.After(v.AccessEnds):
		return nil, foyer.Errorf(foyer.EINVALID, "the end asked for is not later than the current end of access")
	}
	in.asks = append(in.asks, until.Format(time.RFC3339)+" "+why)
	x := &foyer.Extension{ID: "ext-1", RequestID: v.Request.ID, Until: until, Justification: why, State: foyer.ExtensionPending, Stage: 1}
	v.Extension, v.CanExtend = x, false
	in.views[token] = v
	return x, nil
}

// SponsorView shows a request to its sponsors, without history; anyone
// else, and a guest of the tenant, is refused as the engine refuses them.
func (in *intake) SponsorView(_ context.Context, id string, who foyer.Principal) (foyer.RequestView, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sponsorView(id, who)
}

func (in *intake) sponsorView(id string, who foyer.Principal) (foyer.RequestView, error) {
	v, ok := in.requests[id]
	switch {
	case !ok:
		return v, foyer.Errorf(foyer.ENOTFOUND, "no request %s", id)
	case who.Guest():
		return foyer.RequestView{}, foyer.Errorf(foyer.EFORBIDDEN, "guests of the tenant ask for more time through the link of the notice they were sent")
	case !in.sponsors[who.UPN]:
		return foyer.RequestView{}, foyer.Errorf(foyer.EFORBIDDEN, "only a sponsor of this guest asks for more time here")
	}
	v.History = nil
	return v, nil
}

// AskExtensionAsSponsor records a sponsor's ask as AskExtensionByLink
// records the guest's.
func (in *intake) AskExtensionAsSponsor(_ context.Context, id string, who foyer.Principal, until time.Time, why string) (*foyer.Extension, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	v, err := in.sponsorView(id, who)
	switch {
	case err != nil:
		return nil, err
	case !v.CanExtend:
		return nil, foyer.Errorf(foyer.ECONFLICT, "an extension is pending already")
	case !until.After(v.AccessEnds):
		return nil, foyer.Errorf(foyer.EINVALID, "the end asked for is not later than the current end of access")
	}
	in.asks = append(in.asks, who.UPN+" "+until.Format(time.RFC3339)+" "+why)
	x := &foyer.Extension{ID: "ext-1", RequestID: id, Until: until, Justification: why, AskedBy: who.String(), State: foyer.ExtensionPending, Stage: 1}
	v = in.requests[id]
	v.Extension, v.CanExtend = x, false
	in.requests[id] = v
	return x, nil
}

func (in *intake) calls() (int, int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.submissions), len(in.confirms)
}

// employee is a SignIn that finds a signed-in employee by a header.
type employee struct{}

func (employee) Authenticate(r *http.Request) (*foyer.Principal, error) {
	if r.Header.Get("X-Employee") == "" {
		return nil, nil
	}
	return &foyer.Principal{ID: "emp-1", UPN: r.Header.Get("X-Employee")}, nil
}

func (employee) SignInURL(next string) string { return "/admin/signin?next=" + url.QueryEscape(next) }

const xss = `"><script>alert(1)</script><img src=x onerror=alert(1)>`

func profiles() map[string]*foyer.Profile {
	return map[string]*foyer.Profile{
		"visitors": {Name: "visitors", Public: true, Questions: []foyer.Question{
			{ID: "role", Label: "Your role", Labels: map[string]string{"fr": "Votre rôle"}, Required: true, Choices: []string{"Partner", "Supplier", xss}},
			{ID: "project", Label: "Project", MaxLen: 20},
		}},
		"staff-only": {Name: "staff-only"},
	}
}

type fixture struct {
	srv    *httptest.Server
	client *http.Client
	in     *intake
	now    *time.Time
}

type limits struct {
	perIP, perEmail, perDomain web.Rate
}

func newFixture(t *testing.T, l limits) *fixture {
	t.Helper()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	f := &fixture{in: &intake{seen: map[string]bool{}, views: map[string]foyer.RequestView{}, requests: map[string]foyer.RequestView{},
		sponsors: map[string]bool{}}, now: &now}
	var mu sync.Mutex
	clock := foyer.ClockFunc(func() time.Time { mu.Lock(); defer mu.Unlock(); return *f.now })
	d := web.DefaultLimits()
	if l.perEmail.N == 0 {
		l.perEmail = d.PerEmail
	}
	if l.perDomain.N == 0 {
		l.perDomain = d.PerDomain
	}
	if l.perIP.N == 0 {
		l.perIP = web.Rate{N: 1000, Per: time.Minute}
	}
	h, err := portal.New(portal.Options{
		Intake:    f.in,
		Profiles:  profiles(),
		SignIn:    employee{},
		PerEmail:  web.NewLimiter(l.perEmail, clock),
		PerDomain: web.NewLimiter(l.perDomain, clock),
		Clock:     clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Options{Routes: h.Routes(), Key: bytes.Repeat([]byte("k"), 32), Clock: clock, Limits: web.Limits{PerIP: l.perIP}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(f.srv.Close)
	jar, _ := cookiejar.New(nil)
	f.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return f
}

type answer struct {
	status int
	header http.Header
	body   string
	doc    *html.Node
}

func (f *fixture) do(t *testing.T, method, path string, form url.Values, hdr ...string) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		a.doc, err = html.Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s %s: the page does not parse: %v", method, path, err)
		}
		checkSafe(t, a.doc)
	}
	return a
}

// checkSafe fails when the page holds what a payload would make: a
// script, an image, an event handler attribute, or a catalogue key left
// untranslated.
func checkSafe(t *testing.T, doc *html.Node) {
	t.Helper()
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "script" || n.Data == "img" {
				t.Errorf("the page holds a <%s> element", n.Data)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s> has an attribute %s", n.Data, a.Key)
				}
			}
		}
		if n.Type == html.TextNode && strings.Contains(n.Data, "[") && strings.Contains(n.Data, "]") && !strings.Contains(n.Data, "<") {
			t.Errorf("a catalogue key is shown: %q", n.Data)
		}
	})
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// find returns the elements for which match holds.
func find(doc *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	})
	return out
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

func (a answer) text() string { return textOf(a.doc) }

// csrf reads the form's token.
func (a answer) csrf(t *testing.T) string {
	t.Helper()
	for _, n := range find(a.doc, func(n *html.Node) bool { return n.Data == "input" && attr(n, "name") == "csrf" }) {
		return attr(n, "value")
	}
	t.Fatalf("no csrf field in %s", a.body)
	return ""
}

func (a answer) value(id string) string {
	for _, n := range find(a.doc, func(n *html.Node) bool { return attr(n, "id") == id }) {
		if n.Data == "textarea" {
			return textOf(n)
		}
		if n.Data == "select" {
			for _, o := range find(n, func(o *html.Node) bool { return o.Data == "option" && hasAttr(o, "selected") }) {
				return attr(o, "value")
			}
			return ""
		}
		return attr(n, "value")
	}
	return "(no field " + id + ")"
}

func hasAttr(n *html.Node, key string) bool {
	return slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == key })
}

func good(token string) url.Values {
	return url.Values{
		"csrf":          {token},
		"name":          {"Ana Lopez"},
		"email":         {"ana@fabrikam.example"},
		"company":       {"Fabrikam"},
		"justification": {"Working on the Q3 launch"},
		"q_role":        {"Partner"},
		"q_project":     {"Atlas"},
	}
}

func TestFormIsAccessible(t *testing.T) {
	f := newFixture(t, limits{})
	a := f.do(t, "GET", "/request/visitors", nil)
	if a.status != 200 {
		t.Fatalf("status %d", a.status)
	}
	htmlEl := find(a.doc, func(n *html.Node) bool { return n.Data == "html" })
	if len(htmlEl) != 1 || attr(htmlEl[0], "lang") != "en" {
		t.Fatalf("no html lang=en")
	}
	labels := map[string]bool{}
	for _, l := range find(a.doc, func(n *html.Node) bool { return n.Data == "label" }) {
		labels[attr(l, "for")] = true
	}
	inputs := find(a.doc, func(n *html.Node) bool {
		return (n.Data == "input" && attr(n, "type") != "hidden") || n.Data == "select" || n.Data == "textarea"
	})
	if len(inputs) != 6 {
		t.Fatalf("%d inputs, want 6 (4 fields and 2 questions)", len(inputs))
	}
	for _, in := range inputs {
		if id := attr(in, "id"); !labels[id] {
			t.Errorf("input %q has no label", id)
		}
	}
	for _, want := range []string{"Your role", "(required)", "Sign in as an employee", "Français"} {
		if !strings.Contains(a.text(), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n, _ := f.in.calls(); n != 0 {
		t.Fatalf("GET submitted")
	}
}

func TestEveryProblemAtOnce(t *testing.T) {
	f := newFixture(t, limits{})
	token := f.do(t, "GET", "/request/visitors", nil).csrf(t)
	form := url.Values{"csrf": {token}, "name": {""}, "email": {"not an address"}, "company": {"Fabrikam"}, "justification": {""}, "q_role": {"Astronaut"}, "q_project": {strings.Repeat("x", 21)}}
	a := f.do(t, "POST", "/request/visitors", form)
	if a.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", a.status)
	}
	var links []string
	for _, n := range find(a.doc, func(n *html.Node) bool { return n.Data == "a" && strings.HasPrefix(attr(n, "href"), "#") }) {
		links = append(links, attr(n, "href"))
	}
	want := []string{"#main", "#name", "#email", "#justification", "#q_role", "#q_project"}
	if !slices.Equal(links, want) {
		t.Fatalf("summary links %v, want %v", links, want)
	}
	for _, id := range want[1:] {
		id = id[1:]
		in := find(a.doc, func(n *html.Node) bool { return attr(n, "id") == id })[0]
		if !strings.Contains(attr(in, "aria-describedby"), id+"-error") || attr(in, "aria-invalid") != "true" {
			t.Errorf("%s: aria-describedby %q aria-invalid %q", id, attr(in, "aria-describedby"), attr(in, "aria-invalid"))
		}
		if len(find(a.doc, func(n *html.Node) bool { return attr(n, "id") == id+"-error" })) != 1 {
			t.Errorf("%s: no error next to it", id)
		}
	}
	if got := a.value("email"); got != "not an address" {
		t.Errorf("email kept as %q", got)
	}
	if got := a.value("company"); got != "Fabrikam" {
		t.Errorf("company kept as %q", got)
	}
	if n, _ := f.in.calls(); n != 0 {
		t.Fatalf("an invalid form was submitted")
	}
}

func TestSubmitAndDuplicate(t *testing.T) {
	f := newFixture(t, limits{})
	token := f.do(t, "GET", "/request/visitors", nil).csrf(t)
	first := f.do(t, "POST", "/request/visitors", good(token))
	if first.status != 200 || !strings.Contains(first.text(), "Check your email") || !strings.Contains(first.text(), "ana@fabrikam.example") {
		t.Fatalf("status %d: %s", first.status, first.text())
	}
	second := f.do(t, "POST", "/request/visitors", good(token))
	if second.status != first.status || second.body != first.body {
		t.Fatalf("a second submission answers differently:\n%s\n---\n%s", first.body, second.body)
	}
	f.in.mu.Lock()
	defer f.in.mu.Unlock()
	if len(f.in.submissions) != 2 {
		t.Fatalf("%d submissions", len(f.in.submissions))
	}
	s := f.in.submissions[0]
	want := foyer.Submission{Profile: "visitors", Email: "ana@fabrikam.example", DisplayName: "Ana Lopez", Origin: foyer.OriginPortal,
		Details: foyer.Details{Company: "Fabrikam", Justification: "Working on the Q3 launch", Answers: map[string]string{"role": "Partner", "project": "Atlas"}, Language: "en"}}
	if s.Profile != want.Profile || s.Email != want.Email || s.DisplayName != want.DisplayName || s.Origin != want.Origin || s.By != nil ||
		s.Details.Company != want.Details.Company || s.Details.Justification != want.Details.Justification || s.Details.Language != "en" ||
		s.Details.Answers["role"] != "Partner" || s.Details.Answers["project"] != "Atlas" {
		t.Fatalf("submission %+v, want %+v", s, want)
	}
}

func TestEngineRefusalOnTheForm(t *testing.T) {
	f := newFixture(t, limits{})
	f.in.submitErr = foyer.Errorf(foyer.EFORBIDDEN, "addresses of contoso.example are internal: employees do not need guest access")
	token := f.do(t, "GET", "/request/visitors", nil).csrf(t)
	a := f.do(t, "POST", "/request/visitors", good(token))
	if a.status != http.StatusForbidden || !strings.Contains(a.text(), "addresses of contoso.example are internal") {
		t.Fatalf("status %d: %s", a.status, a.text())
	}
	if a.value("name") != "Ana Lopez" {
		t.Errorf("the form lost what was typed")
	}
	f.in.submitErr = foyer.Errorf(foyer.EUNAVAILABLE, "ledger: dial tcp 10.0.0.5:5432: secret-dsn")
	a = f.do(t, "POST", "/request/visitors", good(token))
	if a.status != http.StatusServiceUnavailable || strings.Contains(a.body, "secret-dsn") {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t, limits{})
	f.in.views["tok"] = view(false, false)
	token := f.do(t, "GET", "/request/visitors", nil).csrf(t)
	for _, tc := range []struct{ name, path, token string }{
		{"request, no token", "/request/visitors", ""},
		{"request, wrong token", "/request/visitors", "AAAA" + token[4:]},
		{"confirm, no token", "/r/tok", ""},
		{"confirm, wrong token", "/r/tok", token + "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := good(tc.token)
			if tc.token == "" {
				form.Del("csrf")
			}
			a := f.do(t, "POST", tc.path, form)
			if a.status != http.StatusForbidden {
				t.Fatalf("status %d", a.status)
			}
		})
	}
	if s, c := f.in.calls(); s != 0 || c != 0 {
		t.Fatalf("%d submissions and %d confirmations got through", s, c)
	}
}

func view(verified, expired bool) foyer.RequestView {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	return foyer.RequestView{
		Request:  &foyer.Request{ID: "req-1", Email: "ana@fabrikam.example", Profile: "visitors", State: foyer.StateReceived, CreatedAt: at, DisplayName: xss},
		History:  []foyer.Transition{{To: foyer.StateReceived, At: at, Note: "asked on the request page " + xss}},
		Verified: verified,
		Expired:  expired,
	}
}

func TestXSSNeverUnescaped(t *testing.T) {
	f := newFixture(t, limits{})
	f.in.views["tok"] = view(false, false)
	token := f.do(t, "GET", "/request/visitors", nil).csrf(t)
	// Every field carries the payload; the email is invalid so that the
	// form comes back with everything in it.
	form := url.Values{"csrf": {token}, "name": {xss}, "email": {xss}, "company": {xss}, "justification": {xss}, "q_role": {xss}, "q_project": {xss}}
	a := f.do(t, "POST", "/request/visitors", form)
	if a.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", a.status)
	}
	for _, id := range []string{"name", "email", "company", "justification"} {
		if got := a.value(id); got != xss {
			t.Errorf("%s: %q, want the payload kept as text", id, got)
		}
	}
	// A valid submission with the payload in every free field, then the
	// engine's refusal quoting it.
	form = good(token)
	for _, k := range []string{"name", "company", "justification"} {
		form.Set(k, xss)
	}
	form.Set("q_role", xss) // one of the profile's choices
	f.in.submitErr = foyer.Errorf(foyer.ECONFLICT, "%s already holds it", xss)
	if a := f.do(t, "POST", "/request/visitors", form); a.status != http.StatusConflict || !strings.Contains(a.text(), xss+" already holds it") {
		t.Fatalf("refusal: status %d %s", a.status, a.text())
	}
	for _, path := range []string{
		"/request/" + url.PathEscape(xss),
		"/request/visitors?lang=" + url.QueryEscape(xss),
		"/r/tok?lang=" + url.QueryEscape(xss),
		"/r/" + url.PathEscape(xss),
	} {
		a := f.do(t, "GET", path, nil)
		if strings.Contains(a.body, "<script>") {
			t.Errorf("GET %s: the payload is raw", path)
		}
	}
	if a := f.do(t, "GET", "/request/"+url.PathEscape(xss), nil); a.status != 404 || !strings.Contains(a.text(), xss) {
		t.Errorf("unknown profile: status %d, the page should name it as text: %s", a.status, a.text())
	}
}

func TestOversizeBody(t *testing.T) {
	f := newFixture(t, limits{})
	token := f.do(t, "GET", "/request/visitors", nil).csrf(t)
	form := good(token)
	form.Set("justification", strings.Repeat("a", 65<<10))
	if a := f.do(t, "POST", "/request/visitors", form); a.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", a.status)
	}
	if n, _ := f.in.calls(); n != 0 {
		t.Fatal("an oversize form was submitted")
	}
}

func TestRateLimits(t *testing.T) {
	tests := []struct {
		name   string
		l      limits
		email  func(i int) string
		allow  int
		retry  string
		saying string
	}{
		{"per address", limits{}, func(int) string { return "ana@fabrikam.example" }, 5, "720", "12 minutes"},
		{"per domain", limits{perDomain: web.Rate{N: 3, Per: time.Hour}}, func(i int) string { return string(rune('a'+i)) + "@fabrikam.example" }, 3, "1200", "20 minutes"},
		{"per IP", limits{perIP: web.Rate{N: 2, Per: time.Minute}}, func(i int) string { return string(rune('a'+i)) + "@x" + string(rune('a'+i)) + ".example" }, 2, "30", "30 seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.l)
			token := f.do(t, "GET", "/request/visitors", nil).csrf(t)
			for i := range tt.allow {
				form := good(token)
				form.Set("email", tt.email(i))
				if a := f.do(t, "POST", "/request/visitors", form); a.status != 200 {
					t.Fatalf("submission %d: status %d", i+1, a.status)
				}
			}
			form := good(token)
			form.Set("email", tt.email(tt.allow))
			a := f.do(t, "POST", "/request/visitors", form)
			if a.status != http.StatusTooManyRequests {
				t.Fatalf("submission %d: status %d, want 429", tt.allow+1, a.status)
			}
			if got := a.header.Get("Retry-After"); got != tt.retry {
				t.Errorf("Retry-After %q, want %q", got, tt.retry)
			}
			if !strings.Contains(a.text(), "Try again in "+tt.saying) {
				t.Errorf("the page does not say when: %s", a.text())
			}
			if n, _ := f.in.calls(); n != tt.allow {
				t.Errorf("%d submissions reached the engine, want %d", n, tt.allow)
			}
		})
	}
	// Another address of another domain is not held back by the first.
	f := newFixture(t, limits{perEmail: web.Rate{N: 1, Per: time.Hour}})
	token := f.do(t, "GET", "/request/visitors", nil).csrf(t)
	for _, email := range []string{"ana@fabrikam.example", "bo@fabrikam.example"} {
		form := good(token)
		form.Set("email", email)
		if a := f.do(t, "POST", "/request/visitors", form); a.status != 200 {
			t.Fatalf("%s: status %d", email, a.status)
		}
	}
}

func TestStatusAndConfirm(t *testing.T) {
	f := newFixture(t, limits{})
	f.in.views["tok"] = view(false, false)
	a := f.do(t, "GET", "/r/tok", nil)
	if a.status != 200 || !strings.Contains(a.text(), "Waiting for you to confirm") || !strings.Contains(a.text(), "Confirm my address") {
		t.Fatalf("status page: %d %s", a.status, a.text())
	}
	if _, c := f.in.calls(); c != 0 {
		t.Fatal("opening the link confirmed the address: a mail scanner would")
	}
	b := f.do(t, "POST", "/r/tok", url.Values{"csrf": {a.csrf(t)}})
	if b.status != http.StatusSeeOther || b.header.Get("Location") != "/r/tok" {
		t.Fatalf("confirm: %d %q", b.status, b.header.Get("Location"))
	}
	c := f.do(t, "GET", "/r/tok", nil)
	if !strings.Contains(c.text(), "Waiting for approval") || strings.Contains(c.text(), "Confirm my address") {
		t.Fatalf("after confirming: %s", c.text())
	}
	if got := len(find(c.doc, func(n *html.Node) bool { return n.Data == "tr" })); got != 3 {
		t.Errorf("history has %d rows with its header, want 3", got)
	}
	if d := f.do(t, "GET", "/r/nope", nil); d.status != 404 || !strings.Contains(d.text(), "This link is not valid") {
		t.Errorf("unknown link: %d %s", d.status, d.text())
	}
}

func TestExpiredLink(t *testing.T) {
	f := newFixture(t, limits{})
	f.in.views["old"] = view(false, true)
	a := f.do(t, "GET", "/r/old", nil)
	if a.status != http.StatusGone || !strings.Contains(a.text(), "This link has expired") {
		t.Fatalf("GET: %d %s", a.status, a.text())
	}
	links := find(a.doc, func(n *html.Node) bool { return n.Data == "a" && attr(n, "href") == "/request/visitors" })
	if len(links) != 1 {
		t.Fatalf("no link to ask again")
	}
	// The button of a page opened before the link expired.
	f.in.views["late"] = view(false, false)
	token := f.do(t, "GET", "/r/late", nil).csrf(t)
	f.in.mu.Lock()
	f.in.views["late"] = view(false, true)
	f.in.confirmErr = foyer.Errorf(foyer.EINVALID, "the link expired")
	f.in.mu.Unlock()
	b := f.do(t, "POST", "/r/late", url.Values{"csrf": {token}})
	if b.status != http.StatusGone || !strings.Contains(b.text(), "This link has expired") {
		t.Fatalf("POST: %d %s", b.status, b.text())
	}
}

func TestFrench(t *testing.T) {
	f := newFixture(t, limits{})
	for _, tc := range []struct{ path, accept string }{
		{"/request/visitors", "fr-FR,fr;q=0.9"},
		{"/request/visitors?lang=fr", "en"},
	} {
		a := f.do(t, "GET", tc.path, nil, "Accept-Language", tc.accept)
		htmlEl := find(a.doc, func(n *html.Node) bool { return n.Data == "html" })[0]
		if attr(htmlEl, "lang") != "fr" {
			t.Fatalf("%s: lang %q", tc.path, attr(htmlEl, "lang"))
		}
		for _, want := range []string{"Demander un accès : visitors", "Votre rôle", "(obligatoire)", "English"} {
			if !strings.Contains(a.text(), want) {
				t.Errorf("%s lacks %q", tc.path, want)
			}
		}
		form := find(a.doc, func(n *html.Node) bool { return n.Data == "form" })[0]
		if tc.path == "/request/visitors?lang=fr" && attr(form, "action") != "/request/visitors?lang=fr" {
			t.Errorf("the form forgets the chosen language: %q", attr(form, "action"))
		}
	}
	token := f.do(t, "GET", "/request/visitors?lang=fr", nil).csrf(t)
	form := good(token)
	form.Set("email", "")
	a := f.do(t, "POST", "/request/visitors?lang=fr", form)
	if !strings.Contains(a.text(), "Il y a un problème") || !strings.Contains(a.text(), "Saisissez une adresse e-mail") {
		t.Fatalf("French errors: %s", a.text())
	}
}

func TestClosedProfileAndEmployees(t *testing.T) {
	f := newFixture(t, limits{})
	a := f.do(t, "GET", "/request/staff-only", nil)
	if !strings.Contains(a.text(), "employees only") || len(find(a.doc, func(n *html.Node) bool { return n.Data == "form" })) != 0 {
		t.Fatalf("closed profile: %s", a.text())
	}
	if len(find(a.doc, func(n *html.Node) bool {
		return n.Data == "a" && attr(n, "href") == "/admin/signin?next="+url.QueryEscape("/request/staff-only")
	})) != 1 {
		t.Fatalf("no sign-in link: %s", a.body)
	}
	token := f.do(t, "GET", "/request/visitors", nil).csrf(t)
	if b := f.do(t, "POST", "/request/staff-only", good(token)); strings.Contains(b.text(), "Request recorded") {
		t.Fatal("an anonymous person asked for a closed profile")
	}
	b := f.do(t, "GET", "/request/staff-only", nil, "X-Employee", "eli@contoso.example")
	if !strings.Contains(b.text(), "signed in as eli@contoso.example") {
		t.Fatalf("employee form: %s", b.text())
	}
	// A guest of the tenant signed in is no employee: the closed profile
	// stays closed to them.
	g := f.do(t, "GET", "/request/staff-only", nil, "X-Employee", "mallory_evil.example#EXT#@contoso.example")
	if !strings.Contains(g.text(), "employees only") || strings.Contains(g.text(), "signed in as") {
		t.Fatalf("a guest was taken for an employee: %s", g.text())
	}
	c := f.do(t, "POST", "/request/staff-only", good(token), "X-Employee", "eli@contoso.example")
	if c.status != 200 || !strings.Contains(c.text(), "Request recorded") || !strings.Contains(c.text(), "Waiting for approval") {
		t.Fatalf("employee submission: %d %s", c.status, c.text())
	}
	f.in.mu.Lock()
	defer f.in.mu.Unlock()
	if len(f.in.submissions) != 1 || f.in.submissions[0].By == nil || f.in.submissions[0].By.ID != "emp-1" {
		t.Fatalf("submissions %+v", f.in.submissions)
	}
}

// TestStatusTellsTheRequesterOnlyWhatIsTheirs: the history's notes are the
// ledger's (they name approvers and ids) and stay off the requester's
// page; a refusal shows the denying approver's words, not who they are.
func TestStatusTellsTheRequesterOnlyWhatIsTheirs(t *testing.T) {
	f := newFixture(t, limits{})
	v := view(true, false)
	at := v.Request.CreatedAt
	v.Request.State = foyer.StateRejected
	v.History = append(v.History,
		foyer.Transition{From: foyer.StatePendingApproval, To: foyer.StateRejected, At: at, Note: "denied by megan@contoso.example at stage 1: no current project"})
	v.Decisions = []foyer.Decision{{Stage: 1, Approver: "oid-megan", ApproverName: "megan@contoso.example", Justification: "no current project"}}
	f.in.views["tok"] = v
	a := f.do(t, "GET", "/r/tok", nil)
	if strings.Contains(a.body, "megan") || strings.Contains(a.body, "denied by") {
		t.Errorf("the requester's page names the approver:\n%s", a.text())
	}
	if !strings.Contains(a.text(), "Reason given: no current project") {
		t.Errorf("the requester's page does not say why:\n%s", a.text())
	}
}

// TestStatusShowsTheEndAndAsksForMore: a guest's status page says when
// access ends and offers the form asking for more time; a bad day or the
// engine's refusal is shown on the page; an ask goes through with the
// day's start in UTC, and the page then says it waits for approval.
func TestStatusShowsTheEndAndAsksForMore(t *testing.T) {
	f := newFixture(t, limits{})
	v := view(true, false)
	v.Request.State = foyer.StateActive
	v.AccessEnds, v.CanExtend = time.Date(2027, 1, 6, 10, 0, 0, 0, time.UTC), true
	f.in.views["tok"] = v
	a := f.do(t, "GET", "/r/tok", nil)
	if a.status != 200 || !strings.Contains(a.text(), "Access ends on") || !strings.Contains(a.text(), "6 January 2027, 10:00 UTC") {
		t.Fatalf("status page: %d %s", a.status, a.text())
	}
	forms := find(a.doc, func(n *html.Node) bool { return n.Data == "form" && attr(n, "action") == "/r/tok/extension" })
	if len(forms) != 1 {
		t.Fatalf("the page has %d forms asking for more time, want 1", len(forms))
	}
	b := f.do(t, "POST", "/r/tok/extension", url.Values{"csrf": {a.csrf(t)}, "until": {"soon"}, "justification": {xss}})
	if b.status != http.StatusUnprocessableEntity || !strings.Contains(b.text(), "Enter the new end of access as a day") || b.value("extension-why") != xss {
		t.Errorf("a bad day: %d %s", b.status, b.text())
	}
	c := f.do(t, "POST", "/r/tok/extension", url.Values{"csrf": {a.csrf(t)}, "until": {"2027-01-02"}})
	if c.status != http.StatusUnprocessableEntity || !strings.Contains(c.text(), "not later than the current end") {
		t.Errorf("an earlier day: %d %s", c.status, c.text())
	}
	if d := f.do(t, "POST", "/r/tok/extension", url.Values{"until": {"2027-02-01"}}); d.status != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d", d.status)
	}
	e := f.do(t, "POST", "/r/tok/extension", url.Values{"csrf": {a.csrf(t)}, "until": {"2027-02-01"}, "justification": {"the audit runs on"}})
	if e.status != http.StatusSeeOther || e.header.Get("Location") != "/r/tok" {
		t.Fatalf("ask: %d %q", e.status, e.header.Get("Location"))
	}
	if len(f.in.asks) != 1 || f.in.asks[0] != "2027-02-01T00:00:00Z the audit runs on" {
		t.Errorf("asks %q, want one until 2027-02-01 with the reason", f.in.asks)
	}
	g := f.do(t, "GET", "/r/tok", nil)
	if !strings.Contains(g.text(), "You asked for access until 1 February 2027, 00:00 UTC: waiting for approval") ||
		len(find(g.doc, func(n *html.Node) bool { return n.Data == "form" && attr(n, "action") == "/r/tok/extension" })) != 0 {
		t.Errorf("after the ask: %s", g.text())
	}
	if h := f.do(t, "POST", "/r/nope/extension", url.Values{"csrf": {a.csrf(t)}, "until": {"2027-02-01"}}); h.status != 404 {
		t.Errorf("unknown link: %d", h.status)
	}
}

// TestExtensionAsksAreLimited: a link asks for more time at most as often
// as an address may submit a request; the page's own mistakes (a bad day)
// are not counted.
func TestExtensionAsksAreLimited(t *testing.T) {
	f := newFixture(t, limits{perEmail: web.Rate{N: 1, Per: time.Hour}})
	v := view(true, false)
	v.Request.State = foyer.StateActive
	v.AccessEnds, v.CanExtend = time.Date(2027, 1, 6, 10, 0, 0, 0, time.UTC), true
	f.in.views["tok"] = v
	a := f.do(t, "GET", "/r/tok", nil)
	if b := f.do(t, "POST", "/r/tok/extension", url.Values{"csrf": {a.csrf(t)}, "until": {"soon"}}); b.status != http.StatusUnprocessableEntity {
		t.Fatalf("a bad day: %d", b.status)
	}
	if c := f.do(t, "POST", "/r/tok/extension", url.Values{"csrf": {a.csrf(t)}, "until": {"2027-02-01"}}); c.status != http.StatusSeeOther {
		t.Fatalf("the first ask: %d", c.status)
	}
	d := f.do(t, "POST", "/r/tok/extension", url.Values{"csrf": {a.csrf(t)}, "until": {"2027-02-02"}})
	if d.status != http.StatusTooManyRequests || d.header.Get("Retry-After") == "" {
		t.Errorf("a second ask within the hour: %d, Retry-After %q; want 429 with Retry-After", d.status, d.header.Get("Retry-After"))
	}
	if len(f.in.asks) != 1 {
		t.Errorf("the engine was asked %d times, want 1", len(f.in.asks))
	}
	// An automatic policy approved the first ask: the link may ask again,
	// once the hour has passed.
	f.in.mu.Lock()
	f.in.views["tok"] = v
	f.in.mu.Unlock()
	*f.now = f.now.Add(time.Hour)
	f.do(t, "POST", "/r/tok/extension", url.Values{"csrf": {a.csrf(t)}, "until": {"2027-02-02"}})
	if len(f.in.asks) != 2 {
		t.Errorf("an hour later the engine was asked %d times in all, want 2", len(f.in.asks))
	}
}
