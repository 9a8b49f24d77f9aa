package login

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	graphTok, err := f.a.IssueToken(tenantID, clientID, graph)
	must(t, err)
	armTok, err := f.a.IssueToken(tenantID, clientID, "https://management.core.windows.net/")
	must(t, err)
	other, err := New(Options{Clock: f.clock.Now}) // another authority: another key
	must(t, err)
	must(t, other.AddTenant(Tenant{ID: tenantID}))
	must(t, other.AddApp(App{TenantID: tenantID, ClientID: clientID, ObjectID: spID, Secrets: []string{"x"}}))
	foreignTok, err := other.IssueToken(tenantID, clientID, graph)
	must(t, err)

	parts := strings.Split(graphTok, ".")
	tampered := parts[0] + "." + parts[1][:10] + flip(parts[1][10]) + parts[1][11:] + "." + parts[2]
	badSig := parts[0] + "." + parts[1] + "." + parts[2][:20] + flip(parts[2][20]) + parts[2][21:]

	// An id token is signed by the same key but is not an access token.
	ctx, _, conf := f.oidcSetup(t, webID, "web-secret", "https://app.example/auth/callback")
	tok, err := conf.Exchange(ctx, f.browser(t).codeFrom(conf.AuthCodeURL("s"), "ada@contoso.example", "correct horse").Get("code"))
	must(t, err)
	idTok := tok.Extra("id_token").(string)

	cases := []struct {
		name      string
		header    string
		audiences []string
		want      error
		message   string
	}{
		{"graph token for graph", "Bearer " + graphTok, []string{graph}, nil, ""},
		{"scheme in lower case", "bearer " + graphTok, []string{graph}, nil, ""},
		{"graph token, audience by app id", "Bearer " + graphTok, []string{"00000003-0000-0000-c000-000000000000"}, nil, ""},
		{"arm token, other identifier", "Bearer " + armTok, []string{"https://management.azure.com"}, nil, ""},
		{"one of several audiences", "Bearer " + armTok, []string{graph, "https://management.azure.com"}, nil, ""},
		{"delegated token", "Bearer " + tok.AccessToken, []string{graph}, nil, ""},
		{"no header", "", []string{graph}, ErrTokenMissing, "Access token is empty."},
		{"empty bearer", "Bearer ", []string{graph}, ErrTokenMissing, "Access token is empty."},
		{"basic scheme", "Basic dXNlcjpwYXNz", []string{graph}, ErrTokenMissing, "Access token is empty."},
		{"no dots", "Bearer abcdef", []string{graph}, ErrTokenMalformed, "IDX14100: JWT is not well formed, there are no dots (.)."},
		{"garbage parts", "Bearer a.b.c", []string{graph}, ErrTokenMalformed, "Access token validation failure. The token is malformed."},
		{"space inside", "Bearer abc def", []string{graph}, ErrTokenMalformed, ""},
		{"tampered payload", "Bearer " + tampered, []string{graph}, ErrTokenInvalid, "Access token validation failure. Invalid signature."},
		{"tampered signature", "Bearer " + badSig, []string{graph}, ErrTokenInvalid, "Access token validation failure. Invalid signature."},
		{"another authority's token", "Bearer " + foreignTok, []string{graph}, ErrTokenInvalid, ""},
		{"id token as bearer", "Bearer " + idTok, []string{graph, webID}, ErrTokenInvalid, "Access token validation failure. Invalid issuer."},
		{"wrong audience", "Bearer " + graphTok, []string{"https://management.azure.com"}, ErrTokenAudience, "Access token validation failure. Invalid audience."},
		{"no audience asked", "Bearer " + graphTok, nil, ErrTokenAudience, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1.0/users", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			c, err := f.a.Verify(r, tc.audiences...)
			if tc.want == nil {
				if err != nil || c == nil || c.TenantID != tenantID {
					t.Fatalf("Verify: %v, %+v", err, c)
				}
				return
			}
			var te *TokenError
			if !errors.Is(err, tc.want) || !errors.As(err, &te) {
				t.Fatalf("Verify: err = %v, want %v", err, tc.want)
			}
			if te.Code != "InvalidAuthenticationToken" || te.Status() != http.StatusUnauthorized || (tc.message != "" && !strings.HasPrefix(te.Message, tc.message)) {
				t.Errorf("TokenError %+v, want message %q", te, tc.message)
			}
			if strings.Contains(te.Error(), graphTok[:40]) {
				t.Error("the error quotes the token")
			}
		})
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestVerifyLifetime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok, err := f.a.IssueToken(tenantID, clientID, graph)
	must(t, err)
	steps := []struct {
		advance time.Duration
		want    error
	}{
		{0, nil},
		{accessLifetime, nil},          // at exp: still inside the skew
		{clockSkew - time.Second, nil}, // just inside
		{2 * time.Second, ErrTokenExpired},
	}
	for i, s := range steps {
		f.clock.Advance(s.advance)
		_, err := f.a.VerifyToken(tok, graph) // cached after the first step: the lifetime is checked on every call
		if !errors.Is(err, s.want) {
			t.Errorf("step %d: err = %v, want %v", i, err, s.want)
		}
	}
	// A token from the future (the clock went back) is not yet valid.
	f.clock.Advance(-3 * time.Hour)
	if _, err := f.a.VerifyToken(tok, graph); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("before nbf: err = %v", err)
	}
}

func TestVerifyCacheIsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, err := New(Options{Clock: f.clock.Now, Key: testKey(), CacheSize: 8})
	must(t, err)
	must(t, a.AddTenant(Tenant{ID: tenantID}))
	must(t, a.AddApp(App{TenantID: tenantID, ClientID: clientID, ObjectID: spID, Secrets: []string{"x"}}))
	for i := range 50 {
		tok, err := a.IssueToken(tenantID, clientID, graph)
		must(t, err)
		if _, err := a.VerifyToken(tok, graph); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		if n := a.cache.len(); n > 8 {
			t.Fatalf("cache holds %d tokens, more than 8", n)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				status, body := f.post(t, tenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secretVal}, "scope": {graph + "/.default"}}, nil)
				if status != 200 {
					errs <- fmt.Errorf("goroutine %d, request %d: %d %v", g, i, status, body)
					return
				}
				if _, err := f.a.VerifyToken(body["access_token"].(string), graph); err != nil {
					errs <- err
					return
				}
				if g%4 == 0 {
					errs <- f.a.SetPermissions(tenantID, readerID, map[string][]string{graph: {fmt.Sprint("Role", i)}})
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// FuzzVerifyHeader feeds arbitrary Authorization headers to Verify: it must
// never panic, and must accept nothing but tokens the authority issued.
func FuzzVerifyHeader(f *testing.F) {
	a, err := New(Options{Key: testKey()})
	if err != nil {
		f.Fatal(err)
	}
	must(f, a.AddTenant(Tenant{ID: tenantID}))
	must(f, a.AddApp(App{TenantID: tenantID, ClientID: clientID, ObjectID: spID, Secrets: []string{"x"}}))
	tok, err := a.IssueToken(tenantID, clientID, graph)
	must(f, err)
	for _, s := range []string{"", "Bearer", "Bearer " + tok, "bearer  " + tok, "Bearer a.b.c", "Bearer e30.e30.e30", "Bearer eyJhbGciOiJub25lIn0.e30.",
		"Bearer " + tok[:len(tok)-4], "Basic Zm9vOmJhcg==", "Bearer " + strings.Repeat("A", maxJWT+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{h}
		c, err := a.Verify(r, graph)
		if err == nil {
			got, _ := bearerToken(h)
			if got != tok || c.AppID != clientID {
				t.Fatalf("accepted a token the authority did not issue: %q", h)
			}
			return
		}
		var te *TokenError
		if !errors.As(err, &te) || te.Message == "" {
			t.Fatalf("error %v is not a TokenError with a message", err)
		}
	})
}

// FuzzParseJWS checks the compact JWS parser alone: no panic, and what it
// accepts re-assembles to the input.
func FuzzParseJWS(f *testing.F) {
	for _, s := range []string{"a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "eyJhbGciOiJSUzI1NiIsImNyaXQiOlsieCJdfQ.e30.c2ln", "...", "e30.e30.e30.e30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := parseJWS(s)
		if err != nil {
			return
		}
		if j.header.Alg == "" || len(j.signature) == 0 || !strings.HasPrefix(s, j.signed+".") {
			t.Fatalf("parseJWS(%q) accepted %+v", s, j)
		}
	})
}

// FuzzTokenRequest feeds arbitrary bodies and headers to the token endpoint's
// parser: no panic, and no request with two client authentications passes.
func FuzzTokenRequest(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=a&client_secret=b&scope=x%2F.default", "")
	f.Add("application/x-www-form-urlencoded; charset=utf-8", "grant_type=client_credentials&scope=s", "Basic YTpi")
	f.Add("application/x-www-form-urlencoded", "client_secret=a&client_assertion=b", "")
	f.Add("application/x-www-form-urlencoded", "a=1&a=2", "")
	f.Add("application/json", `{"grant_type":"client_credentials"}`, "")
	f.Add("application/x-www-form-urlencoded", "%zz", "Basic %%%")
	f.Fuzz(func(t *testing.T, ct, body, authz string) {
		tr, oerr := parseTokenRequest(ct, []byte(body), authz)
		if oerr != nil {
			if oerr.status < 400 || oerr.aadsts == 0 || oerr.code == "" {
				t.Fatalf("malformed error %+v", oerr)
			}
			return
		}
		if tr.basic && tr.clientSecret == "" {
			t.Fatalf("Basic authentication without a secret passed: %+v", tr)
		}
		if tr.clientSecret != "" && tr.clientAssertion != "" {
			t.Fatalf("a secret and an assertion passed together: %+v", tr)
		}
	})
}

func benchAuthority(b *testing.B) (*Authority, string) {
	a, err := New(Options{Key: testKey()})
	must(b, err)
	must(b, a.AddTenant(Tenant{ID: tenantID}))
	must(b, a.AddApp(App{TenantID: tenantID, ClientID: clientID, ObjectID: spID, Secrets: []string{"x"},
		Permissions: map[string][]string{graph: {"User.Invite.All", "User.ReadWrite.All", "GroupMember.ReadWrite.All"}}}))
	tok, err := a.IssueToken(tenantID, clientID, graph)
	must(b, err)
	return a, tok
}

// BenchmarkVerifyCached is the steady state of a busy sim: the same few
// tokens on every request.
func BenchmarkVerifyCached(b *testing.B) {
	a, tok := benchAuthority(b)
	r := httptest.NewRequest(http.MethodGet, "/v1.0/users", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Verify(r, graph); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyFresh is a token seen for the first time: parse, RSA
// signature check, claims.
func BenchmarkVerifyFresh(b *testing.B) {
	a, tok := benchAuthority(b)
	r := httptest.NewRequest(http.MethodGet, "/v1.0/users", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		a.cache.init(a.cache.max)
		if _, err := a.Verify(r, graph); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClientCredentials is one token request through the handler.
func BenchmarkClientCredentials(b *testing.B) {
	a, _ := benchAuthority(b)
	h := a.Handler()
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {"x"}, "scope": {graph + "/.default"}}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/"+tenantID+"/oauth2/v2.0/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
