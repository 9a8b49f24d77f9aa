package api_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/sim/login"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/web"
	"github.com/foyer-dev/foyer/web/api"
)

const (
	tenantID = "6c1e3a52-0000-4000-8000-000000000001"
	foyerApp = "6c1e3a52-0000-4000-8000-0000000000f1" // foyer's own app registration: the API
	crmApp   = "6c1e3a52-0000-4000-8000-0000000000c1" // granted Foyer.Invitations
	idleApp  = "6c1e3a52-0000-4000-8000-0000000000d1" // granted nothing
	foyerURI = "api://foyer.contoso.example"
)

// authority is an emulated Entra tenant where foyer's app exposes the API
// and a CRM app holds its role.
func authority(t *testing.T, key *rsa.PrivateKey) *login.Authority {
	t.Helper()
	a, err := login.New(login.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		a.AddTenant(login.Tenant{ID: tenantID, Domains: []string{"contoso.example"}}),
		a.AddApp(login.App{TenantID: tenantID, ClientID: foyerApp, ObjectID: "6c1e3a52-0000-4000-8000-0000000000f2", DisplayName: "foyer",
			IdentifierURIs: []string{foyerURI}, AppRoles: []string{api.DefaultRole}}),
		a.AddApp(login.App{TenantID: tenantID, ClientID: crmApp, ObjectID: "6c1e3a52-0000-4000-8000-0000000000c2", DisplayName: "crm",
			Secrets: []string{"s"}, Permissions: map[string][]string{foyerURI: {api.DefaultRole}}}),
		a.AddApp(login.App{TenantID: tenantID, ClientID: idleApp, ObjectID: "6c1e3a52-0000-4000-8000-0000000000d2", DisplayName: "idle", Secrets: []string{"s"}}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func newKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestEntraAppTokens(t *testing.T) {
	t.Parallel()
	idp := authority(t, newKey(t))
	idpSrv := httptest.NewServer(idp.Handler())
	t.Cleanup(idpSrv.Close)
	forger := authority(t, newKey(t)) // the same names, another signing key

	now := time.Now()
	clock := foyer.ClockFunc(func() time.Time { return now })
	e := newEnv(t, func(l store.Store) *api.Authenticator {
		a, err := api.NewAuthenticator(t.Context(), api.AuthOptions{Ledger: l, Clock: clock, Entra: &api.Entra{
			TenantID: tenantID, AuthorityHost: idpSrv.URL, Audiences: []string{foyerURI, foyerApp}}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	})
	issue := func(a *login.Authority, client, resource string) string {
		tok, err := a.IssueToken(tenantID, client, resource)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := issue(idp, crmApp, foyerURI)
	cases := []struct {
		name       string
		auth       string
		later      time.Duration // how long after issuance the call is made
		wantStatus int
		wantError  string // WWW-Authenticate's error
		wantDetail string
	}{
		{name: "app token with the role", auth: "Bearer " + good, wantStatus: 200},
		{name: "by client id", auth: "Bearer " + issue(idp, crmApp, foyerApp), wantStatus: 200},
		{name: "no credential", wantStatus: 401, wantDetail: "Authorization: Bearer"},
		{name: "not bearer", auth: "Basic Y3JtOnM=", wantStatus: 401, wantError: "invalid_token"},
		{name: "another audience", auth: "Bearer " + issue(idp, crmApp, "https://graph.microsoft.com"), wantStatus: 401, wantError: "invalid_token", wantDetail: "another audience"},
		{name: "expired", auth: "Bearer " + good, later: 2 * time.Hour, wantStatus: 401, wantError: "invalid_token", wantDetail: "expired"},
		{name: "signed by another key", auth: "Bearer " + issue(forger, crmApp, foyerURI), wantStatus: 401, wantError: "invalid_token", wantDetail: "not valid"},
		{name: "tampered", auth: "Bearer " + good[:len(good)-4] + "AAAA", wantStatus: 401, wantError: "invalid_token"},
		{name: "garbage", auth: "Bearer not.a.jwt", wantStatus: 401, wantError: "invalid_token"},
		{name: "without the role", auth: "Bearer " + issue(idp, idleApp, foyerURI), wantStatus: 403, wantError: "insufficient_scope", wantDetail: api.DefaultRole},
		{name: "API key", auth: e.bearer(), wantStatus: 200},
		{name: "unknown API key", auth: "Bearer foyer_" + strings.Repeat("A", 43), wantStatus: 401, wantError: "invalid_token", wantDetail: "not known"},
		{name: "malformed API key", auth: "Bearer foyer_short", wantStatus: 401, wantError: "invalid_token", wantDetail: "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now = time.Now().Add(tc.later) // subtests run in turn: the clock is not shared by two
			a := e.do("GET", "/api/v1/guests", tc.auth, "")
			if a.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", a.status, tc.wantStatus, a.raw)
			}
			if tc.wantStatus == 200 {
				return
			}
			ch := a.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, `Bearer realm="foyer"`) || (tc.wantError != "" && !strings.Contains(ch, `error="`+tc.wantError+`"`)) {
				t.Errorf("WWW-Authenticate %q, want error %q", ch, tc.wantError)
			}
			if d, _ := a.body["detail"].(string); !strings.Contains(d, tc.wantDetail) {
				t.Errorf("detail %q, want %q", d, tc.wantDetail)
			}
			if tok := strings.TrimPrefix(tc.auth, "Bearer "); len(tok) > 20 && strings.Contains(string(a.raw)+ch, tok[len(tok)-20:]) {
				t.Error("the answer repeats the credential")
			}
		})
	}
	now = time.Now()
	// The principal an app token makes.
	p := principalOf(t, e, "Bearer "+good)
	if p.ID != "6c1e3a52-0000-4000-8000-0000000000c2" || !p.App || p.Name != "crm" {
		t.Errorf("principal %+v", p)
	}
}

// principalOf authenticates a request with auth.
func principalOf(t *testing.T, e *env, auth string) *foyer.Principal {
	t.Helper()
	a := e.do("POST", "/api/v1/invitations", auth, `{"email":"p@partner.example","display_name":"P","profile":"partners"}`)
	if a.status != 202 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	return e.intake.subs[len(e.intake.subs)-1].By
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if p := principalOf(t, e, e.bearer()); p.ID != "apikey:crm" || !p.App || len(p.Roles) != 1 || p.Roles[0] != api.DefaultRole {
		t.Errorf("principal %+v", p)
	}
	// Revoked: refused at once.
	inTx(t, e.ledger, func(ctx context.Context, tx store.Tx) error { return tx.RevokeAPIKey(ctx, "crm") })
	if a := e.do("GET", "/api/v1/guests", e.bearer(), ""); a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("revoked key: %d %s", a.status, a.raw)
	}
	// A token is refused where only keys are accepted.
	if a := e.do("GET", "/api/v1/guests", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", ""); a.status != 401 || !strings.Contains(string(a.raw), "API key") {
		t.Errorf("token without Entra: %d %s", a.status, a.raw)
	}
}

func TestNewKey(t *testing.T) {
	t.Parallel()
	k1, h1, p1, err := api.NewKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	k2, _, _, _ := api.NewKey(nil)
	if !strings.HasPrefix(k1, "foyer_") || len(k1) != 6+43 || k1 == k2 || len(h1) != 64 || h1 != api.HashKey(k1) || !strings.HasPrefix(k1, p1) || len(p1) >= 20 {
		t.Errorf("key %q hash %q prefix %q", k1, h1, p1)
	}
	if _, _, _, err := api.NewKey(strings.NewReader("short")); err == nil {
		t.Error("a short random source made a key")
	}
}

// Every API route refuses the unauthenticated and the wrongly authorised,
// whether or not the server in front checked; the OpenAPI document is
// public.
func TestEveryRouteRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h, err := api.New(api.Options{Intake: e.intake, Ledger: e.ledger})
	if err != nil {
		t.Fatal(err)
	}
	person := &foyer.Principal{ID: "u1", UPN: "ann@contoso.example", Roles: []string{api.DefaultRole}}
	app := &foyer.Principal{ID: "a1", App: true, Roles: []string{"Other.Role"}}
	for _, rt := range h.Routes() {
		path := strings.ReplaceAll(rt.Pattern, "{id}", "req-1")
		for _, who := range []*foyer.Principal{nil, person, app} {
			req := httptest.NewRequest(rt.Method, path, strings.NewReader(ann))
			req.Header.Set("Content-Type", "application/json")
			if who != nil {
				req = req.WithContext(web.WithPrincipal(req.Context(), who))
			}
			w := httptest.NewRecorder()
			rt.Handler.ServeHTTP(w, req)
			switch {
			case rt.Access == web.Public:
				if w.Code != 200 {
					t.Errorf("%s %s: %d", rt.Method, rt.Pattern, w.Code)
				}
			case rt.Access != web.API:
				t.Errorf("%s %s: access %s", rt.Method, rt.Pattern, rt.Access)
			case who == nil && w.Code != 401, who != nil && w.Code != 403:
				t.Errorf("%s %s as %v: %d", rt.Method, rt.Pattern, who, w.Code)
			}
		}
	}
}
