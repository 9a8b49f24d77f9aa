package login

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// browser is a cookie-keeping client that stops at redirects, like a user
// agent whose next hop we want to look at.
type browser struct {
	t *testing.T
	f *fixture
	c *http.Client
}

func (f *fixture) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	must(t, err)
	c := f.client()
	c.Jar = jar
	return &browser{t, f, c}
}

// get fetches a URL and returns status, headers and body.
func (b *browser) get(u string) (int, http.Header, string) {
	b.t.Helper()
	resp, err := b.c.Get(u)
	must(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(b.t, err)
	return resp.StatusCode, resp.Header, string(body)
}

// signIn posts the sign-in form of a page.
func (b *browser) signIn(tenant, ctx, login, password string) (int, http.Header, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.f.srv.URL+"/"+tenant+"/login", url.Values{"ctx": {ctx}, "loginfmt": {login}, "passwd": {password}})
	must(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(b.t, err)
	return resp.StatusCode, resp.Header, string(body)
}

var ctxField = regexp.MustCompile(`name="ctx" value="([^"]+)"`)

func pageCtx(t *testing.T, body string) string {
	t.Helper()
	m := ctxField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no sign-in form in page: %.300s", body)
	}
	return m[1]
}

// oidcSetup discovers the authority with go-oidc and configures x/oauth2 for
// the web app.
func (f *fixture) oidcSetup(t *testing.T, clientID, secret, redirect string) (context.Context, *oidc.Provider, *oauth2.Config) {
	ctx := oidc.ClientContext(context.Background(), f.ca.Client())
	ctx = context.WithValue(ctx, oauth2.HTTPClient, f.ca.Client())
	p, err := oidc.NewProvider(ctx, f.srv.URL+"/"+tenantID+"/v2.0")
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	return ctx, p, &oauth2.Config{
		ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: redirect,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
	}
}

// codeFrom signs in through authURL and returns the redirect's query.
func (b *browser) codeFrom(authURL, login, password string) url.Values {
	b.t.Helper()
	status, _, body := b.get(authURL)
	if status != http.StatusOK {
		b.t.Fatalf("authorize: status %d: %.300s", status, body)
	}
	status, h, body := b.signIn(tenantID, pageCtx(b.t, body), login, password)
	if status != http.StatusFound {
		b.t.Fatalf("sign-in: status %d: %.300s", status, body)
	}
	loc, err := url.Parse(h.Get("Location"))
	must(b.t, err)
	return loc.Query()
}

func TestBrowserFlowWithGoOIDC(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, provider, conf := f.oidcSetup(t, webID, "web-secret", "https://app.example/auth/callback")
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-456"))

	q := f.browser(t).codeFrom(authURL, "Ada@Contoso.example", "correct horse")
	if q.Get("state") != "state-123" || q.Get("code") == "" || q.Get("session_state") == "" {
		t.Fatalf("redirect query %v", q)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: webID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc rejects the id token: %v", err)
	}
	var claims struct {
		Email, Name, Oid, Tid, Ver string
		PreferredUsername          string `json:"preferred_username"`
	}
	must(t, idt.Claims(&claims))
	if idt.Nonce != "nonce-456" || claims.Email != "ada@contoso.example" || claims.Name != "Ada Lovelace" ||
		claims.PreferredUsername != "ada@contoso.example" || claims.Oid != userOID || claims.Tid != tenantID || claims.Ver != "2.0" {
		t.Errorf("id token: nonce %q, claims %+v", idt.Nonce, claims)
	}
	if len(idt.Subject) != 43 || idt.Subject == userOID {
		t.Errorf("sub %q is not pairwise", idt.Subject)
	}
	if got := tok.Extra("scope"); got != "openid profile email offline_access https://graph.microsoft.com/User.Read" {
		t.Errorf("granted scope %q", got)
	}
	c, err := f.a.VerifyToken(tok.AccessToken, graph)
	if err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	if c.AppOnly || c.ObjectID != userOID || c.UPN != "ada@contoso.example" || c.AppID != webID ||
		!c.HasScope("User.Read") || !c.HasScope("openid") || c.HasScope("offline_access") {
		t.Errorf("access token claims %+v", c)
	}

	// A code works once.
	if _, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "AADSTS54005") {
		t.Errorf("second redemption: %v", err)
	}
}

func TestCodeRedemptionErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, _, conf := f.oidcSetup(t, webID, "web-secret", "https://app.example/auth/callback")
	verifier := oauth2.GenerateVerifier()
	fresh := func(opts ...oauth2.AuthCodeOption) string {
		return f.browser(t).codeFrom(conf.AuthCodeURL("s", opts...), "ada@contoso.example", "correct horse").Get("code")
	}
	wrongSecret := *conf
	wrongSecret.ClientSecret = "nope"
	otherRedirect := *conf
	otherRedirect.RedirectURL = "https://app.example"
	cases := []struct {
		name string
		conf *oauth2.Config
		code string
		opts []oauth2.AuthCodeOption
		want string
	}{
		{"wrong PKCE verifier", conf, fresh(oauth2.S256ChallengeOption(verifier)), []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())}, "AADSTS501481"},
		{"no PKCE verifier", conf, fresh(oauth2.S256ChallengeOption(verifier)), nil, "AADSTS501481"},
		{"wrong client secret", &wrongSecret, fresh(), nil, "AADSTS7000215"},
		{"another redirect URI", &otherRedirect, fresh(), nil, "AADSTS70000"},
		{"made-up code", conf, "bm90LWEtY29kZQ", nil, "AADSTS70000"},
	}
	for _, tc := range cases {
		if _, err := tc.conf.Exchange(ctx, tc.code, tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.want)
		}
	}

	// An expired code.
	code := fresh()
	f.clock.Advance(codeLifetime + time.Second)
	if _, err := conf.Exchange(ctx, code); err == nil || !strings.Contains(err.Error(), "AADSTS70008") {
		t.Errorf("expired code: %v", err)
	}
}

func TestPublicClientWithPKCE(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, _, conf := f.oidcSetup(t, spaID, "", "https://spa.example/")
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	verifier := oauth2.GenerateVerifier()
	q := f.browser(t).codeFrom(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "ada@contoso.example", "correct horse")
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("public client exchange: %v", err)
	}
	if acr := payload(t, tok.AccessToken)["appidacr"]; acr != "0" {
		t.Errorf("appidacr = %v, want 0", acr)
	}
	withSecret := *conf
	withSecret.ClientSecret = "anything"
	q = f.browser(t).codeFrom(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "ada@contoso.example", "correct horse")
	if _, err := withSecret.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "AADSTS700025") {
		t.Errorf("public client with a secret: %v", err)
	}
}

func (f *fixture) authorizeURL(tenant string, kv ...string) string {
	q := url.Values{"client_id": {webID}, "response_type": {"code"}, "redirect_uri": {"https://app.example/auth/callback"},
		"scope": {"openid profile"}, "state": {"st"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return f.srv.URL + "/" + tenant + "/oauth2/v2.0/authorize?" + q.Encode()
}

func TestAuthorizeErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pages := []struct {
		name string
		url  string
		want string
	}{
		{"unknown tenant", f.authorizeURL("fabrikam.example"), "AADSTS90002"},
		{"no client_id", f.authorizeURL(tenantID, "client_id", ""), "AADSTS900144"},
		{"unknown client", f.authorizeURL(tenantID, "client_id", "00000000-0000-4000-8000-0000000000aa"), "AADSTS700016"},
		{"no redirect_uri", f.authorizeURL(tenantID, "redirect_uri", ""), "AADSTS900144"},
		{"unregistered redirect_uri", f.authorizeURL(tenantID, "redirect_uri", "https://evil.example/cb"), "AADSTS50011"},
		{"registered URI of another app", f.authorizeURL(tenantID, "redirect_uri", "https://spa.example/"), "AADSTS50011"},
		{"loopback with another host", f.authorizeURL(tenantID, "redirect_uri", "http://localhost:5555/cb"), "AADSTS50011"},
	}
	for _, tc := range pages {
		status, h, body := f.browser(t).get(tc.url)
		if status != http.StatusBadRequest || h.Get("Location") != "" || !strings.Contains(body, tc.want) || !strings.Contains(body, "trouble signing you in") {
			t.Errorf("%s: status %d, Location %q, want an error page with %s: %.200s", tc.name, status, h.Get("Location"), tc.want, body)
		}
		if strings.Contains(body, "evil.example") && !strings.Contains(body, "https://evil.example/cb") {
			t.Errorf("%s: page mangles the URI", tc.name)
		}
	}
	redirects := []struct {
		name      string
		url       string
		wantError string
		wantCode  string
	}{
		{"token response type", f.authorizeURL(tenantID, "response_type", "token"), "unsupported_response_type", "AADSTS70005"},
		{"no response type", f.authorizeURL(tenantID, "response_type", ""), "invalid_request", "AADSTS900144"},
		{"no scope", f.authorizeURL(tenantID, "scope", ""), "invalid_request", "AADSTS900144"},
		{"two resources", f.authorizeURL(tenantID, "scope", "openid https://graph.microsoft.com/User.Read https://management.azure.com/user_impersonation"), "invalid_scope", "AADSTS700022"},
		{"unknown resource", f.authorizeURL(tenantID, "scope", "openid api://nope/read"), "invalid_resource", "AADSTS500011"},
		{"bad challenge method", f.authorizeURL(tenantID, "code_challenge", strings.Repeat("a", 43), "code_challenge_method", "S512"), "invalid_request", "AADSTS50149"},
		{"short challenge", f.authorizeURL(tenantID, "code_challenge", "abc", "code_challenge_method", "S256"), "invalid_request", "AADSTS501491"},
		{"method without challenge", f.authorizeURL(tenantID, "code_challenge_method", "S256"), "invalid_request", "AADSTS900144"},
		{"silent sign-in", f.authorizeURL(tenantID, "prompt", "none"), "login_required", "AADSTS50058"},
		{"bad response mode", f.authorizeURL(tenantID, "response_mode", "web_message"), "invalid_request", "AADSTS70007"},
	}
	for _, tc := range redirects {
		status, h, _ := f.browser(t).get(tc.url)
		loc, err := url.Parse(h.Get("Location"))
		must(t, err)
		q := loc.Query()
		if status != http.StatusFound || loc.Host != "app.example" || q.Get("error") != tc.wantError || !strings.HasPrefix(q.Get("error_description"), tc.wantCode+":") || q.Get("state") != "st" {
			t.Errorf("%s: %d → %s, want error=%s %s", tc.name, status, h.Get("Location"), tc.wantError, tc.wantCode)
		}
	}
}

func TestSignInPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser(t)
	status, h, body := b.get(f.authorizeURL(tenantID, "login_hint", `"><script>alert(1)</script>`))
	if status != http.StatusOK {
		t.Fatalf("authorize: %d %.300s", status, body)
	}
	for _, want := range []string{`id="i0116" name="loginfmt"`, `id="i0118" name="passwd"`, `id="idSIButton9"`, "foyer approvals &lt;web&gt;", "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;", "Contoso"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "web-secret") || strings.Contains(body, "correct horse") {
		t.Error("page carries a script or a secret")
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' https://app.example") || !strings.Contains(csp, "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Cache-Control"), "no-store") {
		t.Errorf("headers: CSP %q, XFO %q, Cache-Control %q", csp, h.Get("X-Frame-Options"), h.Get("Cache-Control"))
	}
	ctx := pageCtx(t, body)

	for _, tc := range []struct{ login, pass, want string }{
		{"ada@contoso.example", "wrong", msgWrongPassword},
		{"nobody@contoso.example", "correct horse", msgNoSuchUser},
	} {
		status, _, body := b.signIn(tenantID, ctx, tc.login, tc.pass)
		if status != http.StatusBadRequest || !strings.Contains(body, strings.ReplaceAll(tc.want, "'", "&#39;")) || pageCtx(t, body) != ctx {
			t.Errorf("sign-in as %s/%s: %d, want the page again with %q: %.300s", tc.login, tc.pass, status, tc.want, body)
		}
	}
	// Another browser (no cookie) cannot use this page's form.
	if status, _, body := f.browser(t).signIn(tenantID, ctx, "ada@contoso.example", "correct horse"); status != http.StatusBadRequest || !strings.Contains(body, "AADSTS50089") {
		t.Errorf("form without its cookie: %d %.200s", status, body)
	}
	// The page's own browser signs in.
	status, h, _ = b.signIn(tenantID, ctx, "ada@contoso.example", "correct horse")
	if status != http.StatusFound || !strings.HasPrefix(h.Get("Location"), "https://app.example/auth/callback?") {
		t.Fatalf("sign-in: %d %s", status, h.Get("Location"))
	}
	// The page is spent.
	if status, _, body := b.signIn(tenantID, ctx, "ada@contoso.example", "correct horse"); status != http.StatusBadRequest || !strings.Contains(body, "AADSTS50089") {
		t.Errorf("second use of a page: %d %.200s", status, body)
	}
}

func TestSignInLocksAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser(t)
	_, _, body := b.get(f.authorizeURL(tenantID))
	ctx := pageCtx(t, body)
	for i := 1; i < maxAttempts; i++ {
		if status, _, _ := b.signIn(tenantID, ctx, "ada@contoso.example", "wrong"); status != http.StatusBadRequest {
			t.Fatalf("attempt %d: status %d", i, status)
		}
	}
	if _, _, body := b.signIn(tenantID, ctx, "ada@contoso.example", "wrong"); !strings.Contains(body, "AADSTS50053") {
		t.Errorf("attempt %d: %.200s", maxAttempts, body)
	}
	if _, _, body := b.signIn(tenantID, ctx, "ada@contoso.example", "correct horse"); !strings.Contains(body, "AADSTS50089") {
		t.Errorf("a locked page still signs in: %.200s", body)
	}
}

func TestResponseModes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	signIn := func(kv ...string) (int, http.Header, string) {
		b := f.browser(t)
		status, _, body := b.get(f.authorizeURL(tenantID, kv...))
		if status != http.StatusOK {
			t.Fatalf("authorize %v: %d %.300s", kv, status, body)
		}
		return b.signIn(tenantID, pageCtx(t, body), "ada@contoso.example", "correct horse")
	}

	_, h, _ := signIn("response_mode", "fragment")
	if loc := h.Get("Location"); !strings.HasPrefix(loc, "https://app.example/auth/callback#") || !strings.Contains(loc, "code=") || !strings.Contains(loc, "state=st") {
		t.Errorf("fragment: %s", loc)
	}

	_, h, _ = signIn("redirect_uri", "https://app.example")
	if loc := h.Get("Location"); !strings.HasPrefix(loc, "https://app.example/?") {
		t.Errorf("a redirect URI without a path comes back with a slash: %s", loc)
	}

	_, h, _ = signIn("redirect_uri", "http://127.0.0.1:5555/cb")
	if loc := h.Get("Location"); !strings.HasPrefix(loc, "http://127.0.0.1:5555/cb?code=") {
		t.Errorf("loopback redirect with a port: %s", loc)
	}

	status, h, body := signIn("response_mode", "form_post")
	csp := h.Get("Content-Security-Policy")
	if status != http.StatusOK || !strings.Contains(body, `action="https://app.example/auth/callback"`) || !strings.Contains(body, `name="code" value="`) ||
		!strings.Contains(body, `name="state" value="st"`) || !strings.Contains(csp, "form-action https://app.example") || !strings.Contains(csp, "script-src 'nonce-") {
		t.Errorf("form_post: %d, CSP %q: %.400s", status, csp, body)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, _, conf := f.oidcSetup(t, webID, "web-secret", "https://app.example/auth/callback")
	q := f.browser(t).codeFrom(conf.AuthCodeURL("s"), "ada@contoso.example", "correct horse")
	tok, err := conf.Exchange(ctx, q.Get("code"))
	must(t, err)
	idToken := tok.Extra("id_token").(string)
	base := f.srv.URL + "/" + tenantID + "/oauth2/v2.0/logout?"
	cases := []struct {
		name     string
		query    url.Values
		location string // "" for the signed-out page
	}{
		{"with client_id", url.Values{"client_id": {webID}, "post_logout_redirect_uri": {"https://app.example"}, "state": {"x"}}, "https://app.example?state=x"},
		{"with id_token_hint", url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://app.example/auth/callback"}}, "https://app.example/auth/callback"},
		{"unregistered target", url.Values{"client_id": {webID}, "post_logout_redirect_uri": {"https://evil.example/"}}, ""},
		{"no client", url.Values{"post_logout_redirect_uri": {"https://app.example"}}, ""},
		{"nothing", url.Values{}, ""},
	}
	for _, tc := range cases {
		status, h, body := f.browser(t).get(base + tc.query.Encode())
		if tc.location != "" {
			if status != http.StatusFound || h.Get("Location") != tc.location {
				t.Errorf("%s: %d → %q, want %q", tc.name, status, h.Get("Location"), tc.location)
			}
			continue
		}
		if status != http.StatusOK || !strings.Contains(body, "You signed out of your account") {
			t.Errorf("%s: %d %.200s", tc.name, status, body)
		}
	}
}

func TestRemovedUserCannotSignInOrRedeem(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, _, conf := f.oidcSetup(t, webID, "web-secret", "https://app.example/auth/callback")
	code := f.browser(t).codeFrom(conf.AuthCodeURL("s"), "ada@contoso.example", "correct horse").Get("code")
	must(t, f.a.RemoveUser(tenantID, userOID))
	if _, err := conf.Exchange(ctx, code); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("redeeming a removed user's code: %v", err)
	}
	b := f.browser(t)
	_, _, body := b.get(conf.AuthCodeURL("s"))
	if status, _, body := b.signIn(tenantID, pageCtx(t, body), "ada@contoso.example", "correct horse"); status != http.StatusBadRequest || !strings.Contains(body, "This username may be incorrect") {
		t.Errorf("removed user signing in: %d %.200s", status, body)
	}
}
