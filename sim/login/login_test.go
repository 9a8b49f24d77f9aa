package login

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/sim/pki"
)

const (
	tenantID  = "6f3e2a1b-0c4d-4e5f-8a9b-1c2d3e4f5a6b"
	clientID  = "0d1c2b3a-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
	spID      = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
	readerID  = "11111111-2222-4333-8444-555555555555" // an app with only User.Read.All
	readerSP  = "66666666-7777-4888-9999-aaaaaaaaaaaa"
	webID     = "99999999-8888-4777-a666-555555555555" // a confidential web app for the browser flow
	webSP     = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"
	spaID     = "12121212-3434-4565-8787-909090909090" // a public client (no credentials)
	spaSP     = "21212121-4343-4656-8787-090909090909"
	userOID   = "c0ffee00-1234-4abc-8def-0123456789ab"
	secretVal = "s3cret~value.with-odd/chars+="
	graph     = "https://graph.microsoft.com"
)

// Shared across tests: RSA key generation is slow under the race detector.
var (
	testKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	testPKI = sync.OnceValues(func() (*pki.CA, error) { return pki.New(pki.Options{}) })
	// testCerts are two client certificates: [0] is registered on the app, [1] is not.
	testCerts = sync.OnceValues(func() ([2]*pki.ClientCert, error) {
		var out [2]*pki.ClientCert
		ca, err := testPKI()
		if err != nil {
			return out, err
		}
		for i := range out {
			if out[i], err = ca.IssueClient("foyer test app"); err != nil {
				return out, err
			}
		}
		return out, nil
	})
)

// clock is a settable clock for the Authority.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is an Authority with one tenant, apps and a user, served over TLS
// with the sim's certificates.
type fixture struct {
	a     *Authority
	srv   *httptest.Server
	ca    *pki.CA
	cert  *pki.ClientCert // registered on the app
	other *pki.ClientCert // not registered anywhere
	clock *clock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ca, err := testPKI()
	if err != nil {
		t.Fatal(err)
	}
	certs, err := testCerts()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ca: ca, cert: certs[0], other: certs[1], clock: &clock{t: time.Now().UTC()}}
	f.a, err = New(Options{Clock: f.clock.Now, Key: testKey()})
	if err != nil {
		t.Fatal(err)
	}
	must(t, f.a.AddTenant(Tenant{ID: tenantID, DisplayName: "Contoso", Domains: []string{"contoso.example", "contoso.onmicrosoft.com"}}))
	must(t, f.a.AddApp(App{
		TenantID: tenantID, ClientID: clientID, DisplayName: "foyer", ObjectID: spID,
		Secrets:      []string{"old-secret", secretVal},
		Certificates: []*x509.Certificate{f.cert.Certificate},
		Permissions: map[string][]string{
			graph:                           {"User.Invite.All", "User.ReadWrite.All", "GroupMember.ReadWrite.All", "User.Invite.All"},
			"https://outlook.office365.com": {"Exchange.ManageAsApp"},
		},
	}))
	must(t, f.a.AddApp(App{TenantID: tenantID, ClientID: readerID, DisplayName: "reader", ObjectID: readerSP,
		Secrets: []string{"reader-secret"}, Permissions: map[string][]string{graph: {"User.Read.All"}}}))
	must(t, f.a.AddApp(App{TenantID: tenantID, ClientID: webID, DisplayName: "foyer approvals <web>", ObjectID: webSP,
		Secrets: []string{"web-secret"}, RedirectURIs: []string{"https://app.example/auth/callback", "http://127.0.0.1/cb", "https://app.example"}}))
	must(t, f.a.AddApp(App{TenantID: tenantID, ClientID: spaID, DisplayName: "spa", ObjectID: spaSP,
		RedirectURIs: []string{"https://spa.example/"}}))
	must(t, f.a.AddUser(User{TenantID: tenantID, ObjectID: userOID, UPN: "ada@contoso.example", DisplayName: "Ada Lovelace", Email: "ada@contoso.example", Password: "correct horse"}))

	f.srv = httptest.NewUnstartedServer(f.a.Handler())
	f.srv.TLS = ca.ServerTLSConfig()
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// with changes v by pairs of key and value: an empty value deletes the key.
func with(v url.Values, kv ...string) url.Values {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// client trusts the sim CA and does not follow redirects.
func (f *fixture) client() *http.Client {
	c := f.ca.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func (f *fixture) tokenURL(tenant string) string {
	return f.srv.URL + "/" + tenant + "/oauth2/v2.0/token"
}

// post sends a form to the token endpoint.
func (f *fixture) post(t testing.TB, tenant string, form url.Values, header http.Header) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.tokenURL(tenant), strings.NewReader(form.Encode()))
	must(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return f.do(t, req)
}

func (f *fixture) do(t testing.TB, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := f.client().Do(req)
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(t, err)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s %s: status %d, body is not JSON: %.200s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return resp.StatusCode, m
}

// payload decodes a JWT's claims without verifying it.
func payload(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	return m
}

func TestRegistrationErrors(t *testing.T) {
	t.Parallel()
	a, err := New(Options{Key: testKey()})
	must(t, err)
	must(t, a.AddTenant(Tenant{ID: tenantID, Domains: []string{"contoso.example"}}))
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ec"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, ecKey.Public(), ecKey)
	ecCert, _ := x509.ParseCertificate(der)
	app := App{TenantID: tenantID, ClientID: clientID, ObjectID: spID, Secrets: []string{"x"}}
	cases := []struct {
		name string
		do   func() error
		want error
	}{
		{"tenant id not a GUID", func() error { return a.AddTenant(Tenant{ID: "contoso"}) }, ErrInvalid},
		{"tenant id taken", func() error { return a.AddTenant(Tenant{ID: strings.ToUpper(tenantID)}) }, ErrExists},
		{"domain taken", func() error {
			return a.AddTenant(Tenant{ID: "00000000-0000-4000-8000-000000000001", Domains: []string{"Contoso.Example"}})
		}, ErrExists},
		{"bad domain", func() error {
			return a.AddTenant(Tenant{ID: "00000000-0000-4000-8000-000000000002", Domains: []string{"no dots"}})
		}, ErrInvalid},
		{"app in unknown tenant", func() error {
			x := app
			x.TenantID = "00000000-0000-4000-8000-000000000003"
			return a.AddApp(x)
		}, ErrNotFound},
		{"app without service principal", func() error { x := app; x.ObjectID = ""; return a.AddApp(x) }, ErrInvalid},
		{"unknown resource", func() error {
			x := app
			x.Permissions = map[string][]string{"https://vault.azure.net": {"x"}}
			return a.AddApp(x)
		}, ErrInvalid},
		{"ECDSA certificate", func() error { x := app; x.Certificates = []*x509.Certificate{ecCert}; return a.AddApp(x) }, ErrInvalid},
		{"empty secret", func() error { x := app; x.Secrets = []string{""}; return a.AddApp(x) }, ErrInvalid},
		{"relative redirect", func() error { x := app; x.RedirectURIs = []string{"/cb"}; return a.AddApp(x) }, ErrInvalid},
		{"update unknown app", func() error { return a.UpdateApp(app) }, ErrNotFound},
		{"remove unknown app", func() error { return a.RemoveApp(tenantID, clientID) }, ErrNotFound},
		{"permissions of unknown app", func() error { return a.SetPermissions(tenantID, clientID, nil) }, ErrNotFound},
		{"user without @", func() error {
			return a.AddUser(User{TenantID: tenantID, ObjectID: userOID, UPN: "ada", Password: "p"})
		}, ErrInvalid},
		{"user without password", func() error {
			return a.AddUser(User{TenantID: tenantID, ObjectID: userOID, UPN: "ada@contoso.example"})
		}, ErrInvalid},
		{"remove unknown user", func() error { return a.RemoveUser(tenantID, userOID) }, ErrNotFound},
	}
	for _, tc := range cases {
		if err := tc.do(); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	must(t, a.AddApp(app))
	if err := a.AddApp(app); !errors.Is(err, ErrExists) {
		t.Errorf("second AddApp: err = %v, want ErrExists", err)
	}
	must(t, a.AddUser(User{TenantID: tenantID, ObjectID: userOID, UPN: "ada@contoso.example", Password: "p"}))
	if err := a.AddUser(User{TenantID: tenantID, ObjectID: userOID, UPN: "other@contoso.example", Password: "p"}); !errors.Is(err, ErrExists) {
		t.Errorf("a second user with the same object id: err = %v, want ErrExists", err)
	}
	if _, err := New(Options{CacheSize: -1}); err == nil {
		t.Error("New accepted a negative cache size")
	}
}

func TestAppIsCopied(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app, err := f.a.App(tenantID, clientID)
	must(t, err)
	app.Secrets[0] = "changed"
	app.Permissions[graph][0] = "Directory.ReadWrite.All"
	again, err := f.a.App(strings.ToUpper(tenantID), strings.ToUpper(clientID))
	must(t, err)
	if again.Secrets[0] != "old-secret" || again.Permissions[graph][0] != "User.Invite.All" {
		t.Fatalf("changing a returned App changed the registration: %+v", again)
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, name := range []string{tenantID, "contoso.example", strings.ToUpper(tenantID)} {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/"+name+"/v2.0/.well-known/openid-configuration", nil)
		status, doc := f.do(t, req)
		if status != http.StatusOK {
			t.Fatalf("discovery for %s: status %d", name, status)
		}
		base := f.srv.URL + "/" + tenantID
		want := map[string]string{
			"issuer":                 base + "/v2.0",
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"jwks_uri":               base + "/discovery/v2.0/keys",
			"end_session_endpoint":   base + "/oauth2/v2.0/logout",
			"tenant_region_scope":    "WW",
			"cloud_instance_name":    "microsoftonline.com",
			"msgraph_host":           strings.TrimPrefix(f.srv.URL, "https://"),
		}
		for k, v := range want {
			if doc[k] != v {
				t.Errorf("discovery for %s: %s = %v, want %v", name, k, doc[k], v)
			}
		}
		if algs, _ := doc["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
			t.Errorf("id_token_signing_alg_values_supported = %v", doc["id_token_signing_alg_values_supported"])
		}
	}

	// The issuer follows the host the client used.
	req, _ := http.NewRequest(http.MethodGet, strings.Replace(f.srv.URL, "127.0.0.1", "localhost", 1)+"/"+tenantID+"/v2.0/.well-known/openid-configuration", nil)
	if _, doc := f.do(t, req); !strings.HasPrefix(doc["issuer"].(string), "https://localhost:") {
		t.Errorf("issuer for a localhost request: %v", doc["issuer"])
	}

	req, _ = http.NewRequest(http.MethodGet, f.srv.URL+"/fabrikam.example/v2.0/.well-known/openid-configuration", nil)
	status, body := f.do(t, req)
	if status != http.StatusBadRequest || body["error"] != "invalid_tenant" || !strings.HasPrefix(body["error_description"].(string), "AADSTS90002: Tenant 'fabrikam.example' not found.") {
		t.Errorf("unknown tenant: %d %v", status, body)
	}
}

func TestKeysPublishTheSigningKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/"+tenantID+"/discovery/v2.0/keys", nil)
	status, doc := f.do(t, req)
	keys, _ := doc["keys"].([]any)
	if status != http.StatusOK || len(keys) != 1 {
		t.Fatalf("keys: %d %v", status, doc)
	}
	k := keys[0].(map[string]any)
	if k["kty"] != "RSA" || k["use"] != "sig" || k["kid"] != f.a.signer.kid || k["x5t"] != f.a.signer.kid || k["e"] != "AQAB" {
		t.Errorf("key = %v", k)
	}
	n, err := base64.RawURLEncoding.DecodeString(k["n"].(string))
	must(t, err)
	if new(big.Int).SetBytes(n).Cmp(testKey().N) != 0 {
		t.Error("published modulus is not the signing key's")
	}
	x5c := k["x5c"].([]any)
	der, err := base64.StdEncoding.DecodeString(x5c[0].(string))
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	if !cert.PublicKey.(*rsa.PublicKey).Equal(&testKey().PublicKey) {
		t.Error("x5c certificate does not hold the signing key")
	}
}

func TestInstanceDiscovery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		endpoint string
		status   int
		want     string
	}{
		{f.srv.URL + "/" + tenantID + "/oauth2/v2.0/authorize", http.StatusOK, f.srv.URL + "/" + tenantID + "/v2.0/.well-known/openid-configuration"},
		{"https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/authorize", http.StatusBadRequest, "invalid_instance"},
		{"", http.StatusBadRequest, "invalid_request"},
	}
	for _, tc := range cases {
		u := f.srv.URL + "/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape(tc.endpoint)
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		status, body := f.do(t, req)
		got, _ := body["tenant_discovery_endpoint"].(string)
		if got == "" {
			got, _ = body["error"].(string)
		}
		if status != tc.status || got != tc.want {
			t.Errorf("instance discovery for %q: %d %q, want %d %q", tc.endpoint, status, got, tc.status, tc.want)
		}
	}
}

func TestServesOnlyItsPaths(t *testing.T) {
	t.Parallel()
	a, err := New(Options{Key: testKey()})
	must(t, err)
	for path, want := range map[string]bool{
		"/" + tenantID + "/oauth2/v2.0/token":                    true,
		"/common/discovery/instance":                             true,
		"/contoso.example/v2.0/.well-known/openid-configuration": true,
		"/" + tenantID + "/login":                                true,
		"/v1.0/users":                                            false,
		"/v1.0/login/x":                                          false,
		"/oauth2/v2.0/token":                                     false,
		"//oauth2/v2.0/token":                                    false,
		"":                                                       false,
		"/_sim/stats":                                            false,
		"/_sim/login":                                            false,
		"/a%2Fb/login":                                           false,
	} {
		if got := a.Serves(path); got != want {
			t.Errorf("Serves(%q) = %v, want %v", path, got, want)
		}
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1.0/users", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("a Graph path: status %d, want 404", rec.Code)
	}
}

// BenchmarkNew is an Authority's start-up: mostly RSA 2048 key generation.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
