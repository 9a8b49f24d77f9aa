package admin_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/web"
	"github.com/foyer-dev/foyer/web/admin"
)

const (
	adaID       = "5b0f3f4e-0000-4000-8000-00000000ada0"
	approversID = "9a000000-0000-4000-8000-000000000001"
	otherID     = "9a000000-0000-4000-8000-000000000002"
)

// clock is a settable clock for sessions.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time           { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration)      { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock                    { return &clock{t: time.Now().UTC()} }
func csrf(*http.Request) string           { return "test-csrf" }
func mux(h *admin.Handler) *http.ServeMux { return muxAs(h, nil) }

// muxAs serves h's routes; with who, every route sees that principal, as
// web's access check would put it in the context.
func muxAs(h *admin.Handler, who *foyer.Principal) *http.ServeMux {
	m := http.NewServeMux()
	for _, rt := range h.Routes() {
		hh := rt.Handler
		m.Handle(rt.Method+" "+rt.Pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if who != nil {
				r = r.WithContext(web.WithPrincipal(r.Context(), who))
			}
			hh.ServeHTTP(w, r)
		}))
	}
	return m
}

// signInFixture is the sim with Ada, a member of the approvers group, and
// foyer's app registration asking for security group claims, and the
// approver UI on an httptest server registered as its redirect URI.
type signInFixture struct {
	s     *sim.Server
	h     *admin.Handler
	srv   *httptest.Server
	clock *clock
}

func newSignIn(t *testing.T) *signInFixture {
	t.Helper()
	s := simtest.Start(t, sim.Options{})
	if _, err := s.Seed(sim.SeedData{
		Users: []sim.SeedUser{{ID: adaID, UserPrincipalName: "ada@contoso.example", Mail: "ada@contoso.example", DisplayName: "Ada Lovelace", Password: "pw-ada"}},
		Groups: []sim.SeedGroup{
			{ID: approversID, DisplayName: "foyer approvers", Members: []string{adaID}},
			{ID: otherID, DisplayName: "everyone", Members: []string{adaID}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	f := &signInFixture{s: s, clock: newClock()}
	var handler http.Handler
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	app, err := s.AddApp(sim.App{DisplayName: "foyer", RedirectURIs: []string{f.srv.URL + "/admin/callback"}, GroupMembershipClaims: "SecurityGroup"})
	if err != nil {
		t.Fatal(err)
	}
	f.h, err = admin.New(admin.Options{
		Issuer: s.URL() + "/" + s.TenantID() + "/v2.0", ClientID: app.ClientID, ClientSecret: app.Secret,
		RedirectURL: f.srv.URL + "/admin/callback", HTTPClient: s.Client(), Key: []byte(strings.Repeat("k", 32)),
		KnownGroups: []string{approversID}, Clock: f.clock, CSRF: csrf,
		Intake: &fakeIntake{}, Store: &fakeStore{},
	})
	if err != nil {
		t.Fatal(err)
	}
	handler = mux(f.h)
	return f
}

// browser follows redirects with a cookie jar and stops at stop.
func (f *signInFixture) browser(t *testing.T, stop func(*http.Request) bool) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: f.s.Client().Transport, Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if stop(r) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

var ctxField = regexp.MustCompile(`name="ctx" value="([^"]+)"`)

// signIn starts at /admin/signin?next=, posts the sim's sign-in form and
// follows back to the callback; it returns the callback's answer.
func (f *signInFixture) signIn(t *testing.T, b *http.Client, next string) *http.Response {
	t.Helper()
	resp, err := b.Get(f.srv.URL + "/admin/signin?next=" + url.QueryEscape(next))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := ctxField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in form (status %d): %.300s", resp.StatusCode, page)
	}
	resp, err = b.PostForm(f.s.URL()+"/"+f.s.TenantID()+"/login", url.Values{"ctx": {string(m[1])}, "loginfmt": {"ada@contoso.example"}, "passwd": {"pw-ada"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// authenticate asks the handler who the browser's cookies make it.
func (f *signInFixture) authenticate(b *http.Client, mod func(*http.Cookie)) (*foyer.Principal, error) {
	u, _ := url.Parse(f.srv.URL + "/admin")
	r := httptest.NewRequest("GET", "/admin", nil)
	for _, c := range b.Jar.Cookies(u) {
		if mod != nil {
			mod(c)
		}
		r.AddCookie(c)
	}
	return f.h.Authenticate(r)
}

func TestSignInMakesASession(t *testing.T) {
	t.Parallel()
	f := newSignIn(t)
	b := f.browser(t, func(r *http.Request) bool { return r.URL.Path == "/admin/requests" })
	resp := f.signIn(t, b, "/admin/requests?after=x")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/requests?after=x" {
		t.Fatalf("callback answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range resp.Cookies() {
		if c.Name == "foyer_session" && (!c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/") {
			t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/", c)
		}
	}
	p, err := f.authenticate(b, nil)
	if err != nil || p == nil {
		t.Fatalf("authenticate: %v, %v", p, err)
	}
	if p.ID != adaID || p.UPN != "ada@contoso.example" || p.Name != "Ada Lovelace" || p.Email != "ada@contoso.example" {
		t.Errorf("principal %+v", p)
	}
	// KnownGroups keeps the approvers group and drops the other.
	if !slices.Equal(p.Groups, []string{approversID}) {
		t.Errorf("groups %v, want [%s]", p.Groups, approversID)
	}
	if !(foyer.Approvers{Groups: []string{approversID}}).Matches(*p, "") {
		t.Errorf("the approvers group does not match the session's principal")
	}

	t.Run("tampered", func(t *testing.T) {
		p, err := f.authenticate(b, func(c *http.Cookie) {
			v := []byte(c.Value)
			v[len(v)/2] ^= 1
			c.Value = string(v)
		})
		if p != nil || foyer.ErrorCode(err) != foyer.EFORBIDDEN {
			t.Errorf("tampered cookie: %v, %v; want EFORBIDDEN", p, err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		f.clock.add(8*time.Hour + time.Second)
		defer f.clock.add(-8*time.Hour - time.Second)
		if p, err := f.authenticate(b, nil); p != nil || err != nil {
			t.Errorf("expired session: %v, %v; want none", p, err)
		}
	})
}

func TestSignInNextStaysLocal(t *testing.T) {
	t.Parallel()
	f := newSignIn(t)
	for _, next := range []string{"//evil.example/admin", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "admin", "/admin\\..\\x"} {
		b := f.browser(t, func(r *http.Request) bool {
			return r.URL.Host == strings.TrimPrefix(f.srv.URL, "http://") && !strings.HasPrefix(r.URL.Path, "/admin/callback")
		})
		resp := f.signIn(t, b, next)
		if loc := resp.Header.Get("Location"); loc != "/admin" {
			t.Errorf("next=%q: callback sent the browser to %q, want /admin", next, loc)
		}
	}
	if got := f.h.SignInURL("//evil.example"); got != "/admin/signin?next=%2Fadmin" {
		t.Errorf("SignInURL(//evil.example) = %q", got)
	}
}

func TestCallbackRefuses(t *testing.T) {
	t.Parallel()
	f := newSignIn(t)
	// A browser that started a sign-in holds its flow cookie; the answer
	// that comes back carries another state, or comes without the cookie.
	b := f.browser(t, func(r *http.Request) bool { return r.URL.Host != strings.TrimPrefix(f.srv.URL, "http://") })
	resp, err := b.Get(f.srv.URL + "/admin/signin?next=/admin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	auth, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || auth.Query().Get("code_challenge_method") != "S256" || auth.Query().Get("nonce") == "" || auth.Query().Get("state") == "" {
		t.Fatalf("authorize URL %q: want PKCE S256, a nonce and a state", resp.Header.Get("Location"))
	}
	tests := []struct {
		name   string
		client *http.Client
		query  func(state string) string
		want   int
	}{
		{"state mismatch", b, func(string) string { return "state=forged&code=abc" }, http.StatusBadRequest},
		{"no flow cookie", &http.Client{}, func(s string) string { return "state=" + url.QueryEscape(s) + "&code=abc" }, http.StatusBadRequest},
		{"refused by Entra", b, func(s string) string { return "state=" + url.QueryEscape(s) + "&error=access_denied" }, http.StatusForbidden},
	}
	for _, tc := range tests {
		resp, err := tc.client.Get(f.srv.URL + "/admin/callback?" + tc.query(auth.Query().Get("state")))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		for _, c := range resp.Cookies() {
			if c.Name == "foyer_session" && c.MaxAge >= 0 {
				t.Errorf("%s: a session was made", tc.name)
			}
		}
		if tc.name == "state mismatch" { // the flow cookie is spent: start again
			resp, _ = b.Get(f.srv.URL + "/admin/signin?next=/admin")
			resp.Body.Close()
			auth, _ = url.Parse(resp.Header.Get("Location"))
		}
	}
}
