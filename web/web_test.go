package web_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

var testKey = bytes.Repeat([]byte("k"), 32)

// fakeAuth finds a principal from the X-Test-Principal header: "" none,
// "bad" a refused credential, else a principal of that id with the roles
// and groups the test gave.
type fakeAuth struct {
	who map[string]*foyer.Principal
}

func (a fakeAuth) Authenticate(r *http.Request) (*foyer.Principal, error) {
	id := r.Header.Get("X-Test-Principal")
	switch id {
	case "":
		return nil, nil
	case "bad":
		return nil, foyer.Errorf(foyer.EFORBIDDEN, "the token is expired")
	}
	p, ok := a.who[id]
	if !ok {
		return nil, foyer.Errorf(foyer.EFORBIDDEN, "unknown principal")
	}
	return p, nil
}

func (a fakeAuth) SignInURL(next string) string {
	return "/admin/signin?next=" + url.QueryEscape(next)
}

var principals = map[string]*foyer.Principal{
	"admin":      {ID: "admin-1", UPN: "ada@contoso.example", Groups: []string{"g-admins"}},
	"approver":   {ID: "appr-1", UPN: "bob@contoso.example", Groups: []string{"g-approvers"}},
	"nobody":     {ID: "nob-1", UPN: "eve@contoso.example", Groups: []string{"g-other"}, Roles: []string{"Other.Role"}},
	"app":        {ID: "app-1", App: true, Roles: []string{"Foyer.Invitations"}},
	"app-norole": {ID: "app-2", App: true},
	"app-other":  {ID: "app-3", App: true, Roles: []string{"Other.Role"}},
}

// reached records that a route's handler ran, and who it saw.
type reached struct {
	mu   sync.Mutex
	seen map[string]*foyer.Principal
}

func (rc *reached) handler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.seen[name] = web.PrincipalFrom(r.Context())
		rc.mu.Unlock()
		io.WriteString(w, "reached "+name)
	})
}

func (rc *reached) ran(name string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	_, ok := rc.seen[name]
	return ok
}

// testRoutes stand for the routes of admin and api: the table, not the
// pages, is under test here.
func testRoutes(rc *reached) []web.Route {
	return []web.Route{
		{Method: "GET", Pattern: "/admin", Access: web.Approver, Handler: rc.handler("admin home")},
		{Method: "GET", Pattern: "/admin/requests/{id}", Access: web.Approver, Handler: rc.handler("request")},
		{Method: "POST", Pattern: "/admin/requests/{id}/decide", Access: web.Approver, Handler: rc.handler("decide")},
		{Method: "GET", Pattern: "/admin/runs", Access: web.Admin, Handler: rc.handler("runs")},
		{Method: "POST", Pattern: "/admin/runs/{id}/approve", Access: web.Admin, Handler: rc.handler("approve run")},
		{Method: "GET", Pattern: "/admin/signin", Access: web.Public, Handler: rc.handler("signin")},
		{Method: "POST", Pattern: "/api/v1/invitations", Access: web.API, Handler: rc.handler("invite")},
		{Method: "GET", Pattern: "/api/v1/requests/{id}", Access: web.API, Handler: rc.handler("api request")},
		{Method: "GET", Pattern: "/api/v1/openapi.json", Access: web.Public, Handler: rc.handler("openapi")},
		{Method: "GET", Pattern: "/files/{path...}", Access: web.Public, Handler: rc.handler("files")},
		{Method: "POST", Pattern: "/form", Access: web.Public, Handler: rc.handler("form")},
		{Method: "POST", Pattern: "/hooks/run/{name}", Access: web.Public, Handler: rc.handler("hook")},
		{Method: "GET", Pattern: "/form", Access: web.Public, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `<input type="hidden" name="csrf" value="`+web.CSRFToken(r)+`">`)
		})},
		{Method: "GET", Pattern: "/r/{token}", Access: web.Public, Handler: rc.handler("token")},
		{Method: "GET", Pattern: "/boom", Access: web.Public, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("the secret is hunter2")
		})},
	}
}

type fixture struct {
	srv  *web.Server
	rc   *reached
	logs *bytes.Buffer
	now  *time.Time
}

func newFixture(t *testing.T, mod func(*web.Options)) *fixture {
	t.Helper()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	f := &fixture{rc: &reached{seen: map[string]*foyer.Principal{}}, logs: &bytes.Buffer{}, now: &now}
	var mu sync.Mutex
	auth := fakeAuth{who: principals}
	o := web.Options{
		Routes:    testRoutes(f.rc),
		SignIn:    auth,
		API:       auth,
		Admins:    foyer.Approvers{Groups: []string{"g-admins"}},
		Approvers: foyer.Approvers{Groups: []string{"g-approvers"}},
		APIRole:   "Foyer.Invitations",
		Key:       testKey,
		Log:       slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: f.logs}, nil)),
		Clock:     foyer.ClockFunc(func() time.Time { mu.Lock(); defer mu.Unlock(); return *f.now }),
	}
	if mod != nil {
		mod(&o)
	}
	srv, err := web.New(o)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	f.srv = srv
	return f
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (f *fixture) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, r)
	return w
}

// csrfPair gets a CSRF cookie and its form token from a GET.
func (f *fixture) csrfPair(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	w := f.do(httptest.NewRequest("GET", "/form", nil))
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("GET /form set %d cookies, want 1", len(cookies))
	}
	m := regexp.MustCompile(`value="([^"]+)"`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("GET /form: no token in %q", w.Body.String())
	}
	return cookies[0], m[1]
}

var pathValue = regexp.MustCompile(`\{[^}]+\}`)

// fill makes a path that matches a pattern.
func fill(pattern string) string {
	return pathValue.ReplaceAllStringFunc(pattern, func(v string) string {
		if strings.HasSuffix(v, "...}") {
			return "a/b"
		}
		return "x1"
	})
}

// TestProtectedRoutesRefuse walks every route of the server: each /admin
// and /api route must refuse a caller without a credential, with a bad
// one, and with one lacking the roles, before its handler runs.
func TestProtectedRoutesRefuse(t *testing.T) {
	f := newFixture(t, nil)
	cookie, token := f.csrfPair(t)
	checked := 0
	for _, rt := range f.srv.Routes() {
		isAPI := strings.HasPrefix(rt.Pattern, "/api/")
		if !strings.HasPrefix(rt.Pattern, "/admin") && !isAPI {
			continue
		}
		if rt.Access == web.Public {
			// The sign-in flow and the API's document: checkRoute allows
			// exactly these, nothing else can be public there.
			continue
		}
		checked++
		wrong := []string{"nobody"}
		if isAPI {
			wrong = []string{"nobody", "app-norole", "app-other"}
		} else if rt.Access == web.Admin {
			wrong = append(wrong, "approver", "app")
		}
		cases := []struct {
			who  string
			want []int
		}{
			{"", []int{http.StatusUnauthorized, http.StatusSeeOther}},
			{"bad", []int{http.StatusUnauthorized, http.StatusSeeOther}},
		}
		for _, w := range wrong {
			cases = append(cases, struct {
				who  string
				want []int
			}{w, []int{http.StatusForbidden}})
		}
		for _, c := range cases {
			name := rt.Method + " " + rt.Pattern + " as " + c.who
			t.Run(name, func(t *testing.T) {
				path := fill(rt.Pattern)
				var body io.Reader
				if rt.Method == "POST" {
					body = strings.NewReader(url.Values{"csrf": {token}}.Encode())
				}
				r := httptest.NewRequest(rt.Method, path, body)
				r.AddCookie(cookie)
				if body != nil {
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				if c.who != "" {
					r.Header.Set("X-Test-Principal", c.who)
				}
				before := f.rc.ran(path)
				w := f.do(r)
				if !containsInt(c.want, w.Code) {
					t.Fatalf("status %d, want one of %v; body %s", w.Code, c.want, w.Body)
				}
				if strings.Contains(w.Body.String(), "reached") || before {
					t.Fatalf("the handler ran: %s", w.Body)
				}
				switch {
				case isAPI && w.Code == http.StatusUnauthorized:
					if !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("WWW-Authenticate = %q, want Bearer", w.Header().Get("WWW-Authenticate"))
					}
					if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("Content-Type = %q", ct)
					}
				case !isAPI && w.Code == http.StatusSeeOther:
					if rt.Method != "GET" {
						t.Errorf("a %s was redirected", rt.Method)
					}
					if loc := w.Header().Get("Location"); loc != "/admin/signin?next="+url.QueryEscape(path) {
						t.Errorf("Location = %q", loc)
					}
				}
			})
		}
		// The right caller reaches the handler: the refusals above are
		// the access rule's, not a broken route's.
		right := "approver"
		switch {
		case isAPI:
			right = "app"
		case rt.Access == web.Admin:
			right = "admin"
		}
		t.Run(rt.Method+" "+rt.Pattern+" as "+right, func(t *testing.T) {
			var body io.Reader
			if rt.Method == "POST" {
				body = strings.NewReader(url.Values{"csrf": {token}}.Encode())
			}
			r := httptest.NewRequest(rt.Method, fill(rt.Pattern), body)
			r.AddCookie(cookie)
			if body != nil {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			r.Header.Set("X-Test-Principal", right)
			w := f.do(r)
			if w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), "reached") {
				t.Fatalf("status %d body %q, want the handler", w.Code, w.Body)
			}
		})
	}
	if checked < 6 {
		t.Fatalf("checked %d protected routes, want the 6 of the table", checked)
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestPrincipalInContext(t *testing.T) {
	f := newFixture(t, nil)
	r := httptest.NewRequest("GET", "/admin/runs", nil)
	r.Header.Set("X-Test-Principal", "admin")
	if w := f.do(r); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if p := f.rc.seen["runs"]; p == nil || p.ID != "admin-1" {
		t.Fatalf("the handler saw %+v, want admin-1", p)
	}
}

func TestNoSignInRefusesEveryone(t *testing.T) {
	f := newFixture(t, func(o *web.Options) { o.SignIn = nil; o.API = nil })
	for _, path := range []string{"/admin", "/api/v1/requests/1"} {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("X-Test-Principal", "admin")
		if w := f.do(r); w.Code != http.StatusUnauthorized {
			t.Errorf("GET %s: status %d, want 401", path, w.Code)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	h := http.NotFoundHandler()
	tests := []struct {
		name  string
		o     web.Options
		error string
	}{
		{"short key", web.Options{Key: []byte("short")}, "32 bytes"},
		{"no access", web.Options{Key: testKey, Routes: []web.Route{{Method: "GET", Pattern: "/x", Handler: h}}}, "no access level"},
		{"public admin", web.Options{Key: testKey, Routes: []web.Route{{Method: "GET", Pattern: "/admin/x", Access: web.Public, Handler: h}}}, "approver or admin"},
		{"public api", web.Options{Key: testKey, Routes: []web.Route{{Method: "POST", Pattern: "/api/v1/x", Access: web.Public, Handler: h}}}, "api access"},
		{"twice", web.Options{Key: testKey, Routes: []web.Route{
			{Method: "GET", Pattern: "/x", Access: web.Public, Handler: h},
			{Method: "GET", Pattern: "/x", Access: web.Public, Handler: h},
		}}, "twice"},
		{"clash with web", web.Options{Key: testKey, Routes: []web.Route{{Method: "GET", Pattern: "/healthz", Access: web.Public, Handler: h}}}, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := web.New(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.error) {
				t.Fatalf("err = %v, want one saying %q", err, tt.error)
			}
			if foyer.ErrorCode(err) != foyer.EINVALID {
				t.Errorf("code %q", foyer.ErrorCode(err))
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, func(o *web.Options) { o.Secure = true })
	for _, path := range []string{"/form", "/healthz", "/nowhere", "/static/foyer.css", "/admin"} {
		w := f.do(httptest.NewRequest("GET", path, nil))
		h := w.Header()
		want := map[string]string{
			"Content-Security-Policy":   "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
			"X-Content-Type-Options":    "nosniff",
			"Referrer-Policy":           "no-referrer",
			"X-Frame-Options":           "DENY",
			"Strict-Transport-Security": "max-age=31536000",
		}
		for k, v := range want {
			if h.Get(k) != v {
				t.Errorf("GET %s: %s = %q, want %q", path, k, h.Get(k), v)
			}
		}
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t, func(o *web.Options) { o.Secure = true })
	cookie, token := f.csrfPair(t)
	if !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || !strings.HasPrefix(cookie.Name, "__Host-") {
		t.Fatalf("cookie %+v: want HttpOnly, Secure, SameSite=Lax, Path=/, __Host-", cookie)
	}
	other := newFixture(t, func(o *web.Options) { o.Key = bytes.Repeat([]byte("z"), 32); o.Secure = true })
	foreignCookie, foreignToken := other.csrfPair(t)
	tests := []struct {
		name   string
		cookie *http.Cookie
		token  string
		want   int
	}{
		{"matching", cookie, token, http.StatusOK},
		{"no token", cookie, "", http.StatusForbidden},
		{"wrong token", cookie, token[:len(token)-2] + "AA", http.StatusForbidden},
		{"no cookie", nil, token, http.StatusForbidden},
		{"the cookie's value as token", cookie, cookie.Value, http.StatusForbidden},
		{"a pair signed with another key", foreignCookie, foreignToken, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/form", strings.NewReader(url.Values{"csrf": {tt.token}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.cookie != nil {
				r.AddCookie(tt.cookie)
			}
			w := f.do(r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.want, w.Body)
			}
			if tt.want == http.StatusForbidden && !strings.Contains(w.Body.String(), "did not come from this site") {
				t.Errorf("the 403 page does not say why: %s", w.Body)
			}
		})
	}
	// The API is not a browser's: its POSTs carry no CSRF token.
	r := httptest.NewRequest("POST", "/api/v1/invitations", strings.NewReader(`{}`))
	r.Header.Set("X-Test-Principal", "app")
	if w := f.do(r); w.Code != http.StatusOK {
		t.Fatalf("API POST: status %d, want 200 without a CSRF token", w.Code)
	}
	// Nor are webhooks: they sign their bodies (the handler checks that),
	// and get no cookie. A form elsewhere still needs its token.
	r = httptest.NewRequest("POST", "/hooks/run/nightly", strings.NewReader(`{}`))
	w := f.do(r)
	if w.Code != http.StatusOK || !f.rc.ran("hook") {
		t.Fatalf("webhook POST: status %d, want 200 without a CSRF token", w.Code)
	}
	if c := w.Header().Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("a webhook's answer sets cookies: %q", c)
	}
	r = httptest.NewRequest("POST", "/hooks-not/run", strings.NewReader(`{}`))
	if w := f.do(r); w.Code == http.StatusOK {
		t.Errorf("POST /hooks-not/run: status %d; only /hooks/ is exempt", w.Code)
	}
}

func TestBodyLimits(t *testing.T) {
	f := newFixture(t, nil)
	cookie, token := f.csrfPair(t)
	big := strings.Repeat("a", 70<<10)
	tests := []struct {
		name    string
		path    string
		body    string
		chunked bool
		who     string
		want    int
		ct      string
	}{
		{"form over 64 KiB", "/form", "csrf=" + token + "&x=" + big, false, "", http.StatusRequestEntityTooLarge, "text/html; charset=utf-8"},
		{"form over 64 KiB, no length", "/form", "csrf=" + token + "&x=" + big, true, "", http.StatusRequestEntityTooLarge, "text/html; charset=utf-8"},
		{"form under", "/form", "csrf=" + token + "&x=" + big[:60<<10], false, "", http.StatusOK, ""},
		{"API over 16 KiB", "/api/v1/invitations", `{"x":"` + big[:17<<10] + `"}`, false, "app", http.StatusRequestEntityTooLarge, "application/problem+json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tt.path, strings.NewReader(tt.body))
			if tt.chunked {
				r.ContentLength = -1
			}
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.AddCookie(cookie)
			if tt.who != "" {
				r.Header.Set("X-Test-Principal", tt.who)
			}
			w := f.do(r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d", w.Code, tt.want)
			}
			if tt.ct != "" && w.Header().Get("Content-Type") != tt.ct {
				t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), tt.ct)
			}
			if tt.want == http.StatusRequestEntityTooLarge && tt.ct != "application/problem+json" && !strings.Contains(w.Body.String(), "larger than this page accepts") {
				t.Errorf("the 413 page does not say why: %s", w.Body)
			}
		})
	}
}

func TestRateLimitPerIP(t *testing.T) {
	f := newFixture(t, func(o *web.Options) { o.Limits.PerIP = web.Rate{N: 3, Per: time.Minute} })
	cookie, token := f.csrfPair(t)
	post := func(ip string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/form", strings.NewReader("csrf="+token))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(cookie)
		r.RemoteAddr = ip + ":4321"
		return f.do(r)
	}
	for i := range 3 {
		if w := post("192.0.2.1"); w.Code != http.StatusOK {
			t.Fatalf("POST %d: status %d", i+1, w.Code)
		}
	}
	w := post("192.0.2.1")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("4th POST: status %d, want 429", w.Code)
	}
	if ra := w.Header().Get("Retry-After"); ra != "20" {
		t.Errorf("Retry-After %q, want 20 (one event every 20 s)", ra)
	}
	if !strings.Contains(w.Body.String(), "Try again in 20 seconds") {
		t.Errorf("the 429 page does not say when: %s", w.Body)
	}
	if w := post("192.0.2.2"); w.Code != http.StatusOK {
		t.Fatalf("another address: status %d", w.Code)
	}
	// GETs are not limited.
	for range 5 {
		r := httptest.NewRequest("GET", "/form", nil)
		r.RemoteAddr = "192.0.2.1:1"
		if w := f.do(r); w.Code != http.StatusOK {
			t.Fatalf("GET: status %d", w.Code)
		}
	}
	*f.now = f.now.Add(20 * time.Second)
	if w := post("192.0.2.1"); w.Code != http.StatusOK {
		t.Fatalf("after 20 s: status %d", w.Code)
	}
}

func TestTrustedProxy(t *testing.T) {
	f := newFixture(t, func(o *web.Options) {
		o.Limits.PerIP = web.Rate{N: 1, Per: time.Hour}
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	cookie, token := f.csrfPair(t)
	post := func(remote, xff string) int {
		r := httptest.NewRequest("POST", "/form", strings.NewReader("csrf="+token))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(cookie)
		r.RemoteAddr = remote + ":1"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		return f.do(r).Code
	}
	// Two clients behind the proxy are two clients.
	if c := post("10.1.1.1", "198.51.100.7"); c != 200 {
		t.Fatalf("client 1: %d", c)
	}
	if c := post("10.1.1.1", "198.51.100.8, 10.2.2.2"); c != 200 {
		t.Fatalf("client 2: %d", c)
	}
	if c := post("10.1.1.1", "1.1.1.1, 198.51.100.7"); c != 429 {
		t.Fatalf("client 1 again, a forged first hop: %d, want 429", c)
	}
	// A client not behind the proxy cannot pick its address.
	if c := post("203.0.113.5", "198.51.100.9"); c != 200 {
		t.Fatalf("direct: %d", c)
	}
	if c := post("203.0.113.5", "198.51.100.10"); c != 429 {
		t.Fatalf("direct, another forged header: %d, want 429", c)
	}
}

func TestAccessLogNamesThePattern(t *testing.T) {
	f := newFixture(t, nil)
	const token = "SECRETTOKENabc123"
	f.do(httptest.NewRequest("GET", "/r/"+token, nil))
	f.do(httptest.NewRequest("GET", "/nowhere/"+token, nil))
	logs := f.logs.String()
	if strings.Contains(logs, token) {
		t.Fatalf("the log holds the token:\n%s", logs)
	}
	for _, want := range []string{`route="GET /r/{token}"`, "status=200", "route=unmatched", "status=404", "ip=192.0.2.1", "bytes="} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
}

func TestPanicIs500WithoutDetail(t *testing.T) {
	f := newFixture(t, nil)
	w := f.do(httptest.NewRequest("GET", "/boom", nil))
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", w.Code)
	}
	if strings.Contains(w.Body.String(), "hunter2") {
		t.Fatalf("the page shows the panic: %s", w.Body)
	}
	if !strings.Contains(f.logs.String(), "panic while answering") {
		t.Fatalf("the panic is not logged:\n%s", f.logs)
	}
}

func TestHealthReadyMetricsStatic(t *testing.T) {
	var readyErr error
	var mu sync.Mutex
	f := newFixture(t, func(o *web.Options) {
		o.Ready = func(context.Context) error { mu.Lock(); defer mu.Unlock(); return readyErr }
	})
	get := func(path string) *httptest.ResponseRecorder { return f.do(httptest.NewRequest("GET", path, nil)) }
	if w := get("/healthz"); w.Code != 200 {
		t.Fatalf("/healthz %d", w.Code)
	}
	if w := get("/readyz"); w.Code != 200 {
		t.Fatalf("/readyz %d", w.Code)
	}
	mu.Lock()
	readyErr = errors.New("ledger: connection refused to postgres://user:pw@db")
	mu.Unlock()
	w := get("/readyz")
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "pw@db") {
		t.Fatalf("/readyz not ready: %d %q", w.Code, w.Body)
	}
	w = get("/static/foyer.css")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") || !strings.Contains(w.Body.String(), ":focus-visible") {
		t.Fatalf("/static/foyer.css: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if len(w.Result().Cookies()) != 0 {
		t.Errorf("/static sets a cookie")
	}
	get("/r/abc")
	w = get("/metrics")
	body := w.Body.String()
	for _, want := range []string{
		`foyer_http_requests_total{code="200",method="GET",route="GET /r/{token}"} 1`,
		`foyer_http_requests_total{code="503",method="GET",route="GET /readyz"} 1`,
		`foyer_http_request_duration_seconds_bucket{method="GET",route="GET /r/{token}"`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestMetricsRegister(t *testing.T) {
	m := web.NewMetrics()
	c := newCounter("foyer_test_things_total")
	if err := m.Register(c); err != nil {
		t.Fatal(err)
	}
	if err := m.Register(newCounter("foyer_test_things_total")); err == nil {
		t.Fatal("registered the same metric twice")
	}
	c.Add(3)
	f := newFixture(t, func(o *web.Options) { o.Metrics = m })
	if f.srv.Metrics() != m {
		t.Fatal("the server does not serve the registry it was given")
	}
	if w := f.do(httptest.NewRequest("GET", "/metrics", nil)); !strings.Contains(w.Body.String(), "foyer_test_things_total 3") {
		t.Fatalf("/metrics lacks the registered counter")
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		query, accept, want string
	}{
		{"", "", "en"},
		{"", "fr-CA,fr;q=0.9,en;q=0.8", "fr"},
		{"", "de-DE, en;q=0.5, fr;q=0.7", "fr"},
		{"", "de", "en"},
		{"lang=en", "fr", "en"},
		{"lang=fr", "", "fr"},
		{"lang=<script>", "", "en"},
		{"", "en;q=x, fr;q=0.1", "fr"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/?"+tt.query, nil)
		r.Header.Set("Accept-Language", tt.accept)
		if got := web.Language(r); got != tt.want {
			t.Errorf("Language(%q, %q) = %q, want %q", tt.query, tt.accept, got, tt.want)
		}
	}
}

func TestErrorPageInFrench(t *testing.T) {
	f := newFixture(t, nil)
	r2 := httptest.NewRequest("GET", "/admin", nil)
	r2.Header.Set("Accept-Language", "fr")
	r2.Header.Set("X-Test-Principal", "nobody")
	w := f.do(r2)
	if w.Code != 403 || !strings.Contains(w.Body.String(), `<html lang="fr">`) || !strings.Contains(w.Body.String(), "Accès refusé") {
		t.Fatalf("403 in French: %d %s", w.Code, w.Body)
	}
}

func newCounter(name string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: "things counted in a test"})
}

// TestFormWithoutSessionOffersSignIn: a form sent after the session ended
// (a page left open overnight) does nothing and offers to sign in and come
// back to the page the form was on.
func TestFormWithoutSessionOffersSignIn(t *testing.T) {
	f := newFixture(t, nil)
	cookie, token := f.csrfPair(t)
	r := httptest.NewRequest("POST", "/admin/requests/req-7/decide", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
	r.AddCookie(cookie)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := f.do(r)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", w.Code)
	}
	if f.rc.ran("/admin/requests/req-7/decide") {
		t.Fatal("the handler ran without a session")
	}
	want := `href="/admin/signin?next=%2fadmin%2frequests%2freq-7"`
	if body := w.Body.String(); !strings.Contains(strings.ToLower(body), want) || !strings.Contains(body, "nothing was done") {
		t.Errorf("the page does not offer to sign in and come back (%s):\n%s", want, body)
	}
}
