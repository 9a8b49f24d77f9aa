package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/web"
)

// TestEveryServedRouteRefusesStrangers enumerates the routes foyer serve
// really serves (the request page's, the approver UI's, the API's and
// web's own, assembled as the serve command assembles them) and proves
// that every /admin and /api route refuses, before its handler runs,
// whoever is not signed in, a signed-in employee who is neither approver
// nor admin, an approver on an admin's route, and the wrong kind of
// credential (an API key on the pages, a session or a forged token on the
// API). A route added tomorrow is in the table, so it is checked too.
// The sponsor's page (/extend/{id}) is public to web but needs a
// signed-in sponsor of the guest: on a real request nobody signed in is
// sent to sign in, and an employee or an approver who does not sponsor
// the guest is refused.
func TestEveryServedRouteRefusesStrangers(t *testing.T) {
	t.Parallel()
	w := startServeE2E(t, nil)
	ctx := context.Background()
	routes, err := cli.ServeRoutes(ctx, w.config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.sim.Seed(sim.SeedData{Users: []sim.SeedUser{{UserPrincipalName: "casey@contoso.example",
		Mail: "casey@contoso.example", DisplayName: "Casey Outsider", Password: "pw-casey"}}}); err != nil {
		t.Fatal(err)
	}
	code, key, errs := runIn(ctx, cli.Env{Args: []string{"apikeys", "create", "crm", "--config", w.config}})
	if code != cli.ExitOK {
		t.Fatalf("apikeys create: %d %s", code, errs)
	}
	key = strings.TrimSpace(key)
	// A request that names no sponsor, for the sponsor's page.
	body := `{"email":"kofi@tailspin.example","display_name":"Kofi","profile":"` + e2eProfile + `","answers":{"project":"Apollo"}}`
	req, err := http.NewRequest("POST", w.url+"/api/v1/invitations", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var made struct{ ID string }
	err = json.NewDecoder(res.Body).Decode(&made)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusAccepted || made.ID == "" {
		t.Fatalf("POST /api/v1/invitations: %d %+v %v", res.StatusCode, made, err)
	}

	callers := map[string]*caller{
		"nobody":    w.caller(t, "", ""),
		"casey":     w.caller(t, "casey@contoso.example", "pw-casey"), // an employee, in no access list
		"alternate": w.caller(t, e2eAlternate, w.password),            // an approver, not an admin
		"api key":   w.caller(t, "", ""),
		"forged":    w.caller(t, "", ""),
	}
	callers["api key"].bearer = key
	callers["forged"].bearer = "eyJhbGciOiJub25lIn0.eyJyb2xlcyI6WyJGb3llci5JbnZpdGF0aW9ucyJdfQ."

	checked, sponsors := 0, 0
	for _, rt := range routes {
		admin, api, sponsor := strings.HasPrefix(rt.Pattern, "/admin"), strings.HasPrefix(rt.Pattern, "/api/"), strings.HasPrefix(rt.Pattern, "/extend/")
		if !sponsor && ((!admin && !api) || rt.Access == web.Public) {
			continue
		}
		checked++
		path := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(rt.Pattern, "x")
		if sponsor {
			sponsors++
			path = strings.Replace(rt.Pattern, "{id}", made.ID, 1)
		}
		refused := func(who string, want ...int) {
			t.Helper()
			got, loc := callers[who].do(t, rt.Method, w.url+path)
			ok := false
			for _, c := range want {
				ok = ok || got == c
			}
			if got == http.StatusSeeOther && !strings.Contains(loc, "/admin/signin") {
				ok = false
			}
			if !ok {
				t.Errorf("%s %s as %s: %d %s, want one of %v", rt.Method, rt.Pattern, who, got, loc, want)
			}
		}
		switch {
		case sponsor && rt.Method == http.MethodGet:
			refused("nobody", http.StatusSeeOther)
			refused("api key", http.StatusSeeOther)
			refused("casey", http.StatusForbidden)
			refused("alternate", http.StatusForbidden)
		case sponsor:
			refused("nobody", http.StatusUnauthorized)
			refused("api key", http.StatusUnauthorized)
			refused("casey", http.StatusForbidden)
			refused("alternate", http.StatusForbidden)
		case api:
			refused("nobody", http.StatusUnauthorized)
			refused("casey", http.StatusUnauthorized)
			refused("alternate", http.StatusUnauthorized)
			refused("forged", http.StatusUnauthorized)
		case rt.Method == http.MethodGet:
			refused("nobody", http.StatusSeeOther)
			refused("api key", http.StatusSeeOther)
			refused("casey", http.StatusForbidden)
		default:
			refused("nobody", http.StatusUnauthorized)
			refused("api key", http.StatusUnauthorized)
			refused("casey", http.StatusForbidden)
		}
		if admin && rt.Access == web.Admin {
			refused("alternate", http.StatusForbidden)
		}
	}
	if checked < 15 {
		t.Errorf("checked %d /admin and /api routes; the table has fewer than expected", checked)
	}
	if sponsors != 2 {
		t.Errorf("checked %d routes of the sponsor's page, want GET and POST /extend/{id}", sponsors)
	}
}

// caller is a browser (a cookie jar, no redirects followed) or an
// application (a bearer token) calling foyer serve.
type caller struct {
	c      *http.Client
	csrf   string
	bearer string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// caller signs in as upn (none when ""), through the emulated tenant's
// sign-in page, and picks up a CSRF token, so that a refusal is the
// access rule's and not the missing token's.
func (w *serveE2E) caller(t *testing.T, upn, password string) *caller {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	follow := &http.Client{Transport: w.sim.Client().Transport, Jar: jar}
	if upn != "" {
		res, err := follow.Get(w.url + "/admin/signin?next=%2Fadmin")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := regexp.MustCompile(`name="ctx" value="([^"]+)"`).FindSubmatch(page)
		if m == nil {
			t.Fatalf("no sign-in form for %s (%d): %.300s", upn, res.StatusCode, page)
		}
		res, err = follow.PostForm(w.sim.URL()+"/"+w.sim.TenantID()+"/login", url.Values{"ctx": {string(m[1])}, "loginfmt": {upn}, "passwd": {password}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if u, _ := url.Parse(w.url); len(jar.Cookies(u)) == 0 {
			t.Fatalf("signing in as %s left no cookie (%d at %s)", upn, res.StatusCode, res.Request.URL)
		}
	}
	res, err := follow.Get(w.url + "/request/" + e2eProfile)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the request page: %.300s", page)
	}
	return &caller{c: &http.Client{Transport: follow.Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, csrf: string(m[1])}
}

// do calls method on u and returns the status and the Location header.
func (c *caller) do(t *testing.T, method, u string) (int, string) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(url.Values{"csrf": {c.csrf}}.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	res, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}
