package login

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func (f *fixture) clientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: f.srv.URL + "/"},
		Transport: f.ca.Client(),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

func getToken(cred interface {
	GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error)
}, scope string) (azcore.AccessToken, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
}

func TestAzidentityClientSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		name, tenant, client, secret, scope string
		wantErr                             []string // all must appear in the error
		wantAud                             string
		wantRoles                           []string
	}{
		{name: "graph", tenant: tenantID, client: clientID, secret: secretVal, scope: graph + "/.default",
			wantAud: graph, wantRoles: []string{"GroupMember.ReadWrite.All", "User.Invite.All", "User.ReadWrite.All"}},
		{name: "tenant by domain", tenant: "contoso.example", client: clientID, secret: "old-secret", scope: graph + "/.default",
			wantAud: graph, wantRoles: []string{"GroupMember.ReadWrite.All", "User.Invite.All", "User.ReadWrite.All"}},
		{name: "exchange", tenant: tenantID, client: clientID, secret: secretVal, scope: "https://outlook.office365.com/.default",
			wantAud: "https://outlook.office365.com", wantRoles: []string{"Exchange.ManageAsApp"}},
		{name: "arm without roles", tenant: tenantID, client: clientID, secret: secretVal, scope: "https://management.azure.com//.default",
			wantAud: "https://management.azure.com/"},
		{name: "reader app", tenant: tenantID, client: readerID, secret: "reader-secret", scope: graph + "/.default",
			wantAud: graph, wantRoles: []string{"User.Read.All"}},
		{name: "wrong secret", tenant: tenantID, client: clientID, secret: "nope", scope: graph + "/.default",
			wantErr: []string{"AADSTS7000215", "invalid_client", "401"}},
		{name: "unknown app", tenant: tenantID, client: "00000000-0000-4000-8000-00000000abcd", secret: "x", scope: graph + "/.default",
			wantErr: []string{"AADSTS700016", "unauthorized_client"}},
		{name: "unknown tenant", tenant: "00000000-0000-4000-8000-00000000dcba", client: clientID, secret: secretVal, scope: graph + "/.default",
			wantErr: []string{"AADSTS90002", "invalid_tenant"}},
		{name: "scope without .default", tenant: tenantID, client: clientID, secret: secretVal, scope: graph + "/User.Read.All",
			wantErr: []string{"AADSTS1002012", "invalid_scope"}},
		{name: "unknown resource", tenant: tenantID, client: clientID, secret: secretVal, scope: "https://vault.azure.net/.default",
			wantErr: []string{"AADSTS500011", "invalid_resource"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cred, err := azidentity.NewClientSecretCredential(tc.tenant, tc.client, tc.secret, &azidentity.ClientSecretCredentialOptions{
				ClientOptions: f.clientOptions(), DisableInstanceDiscovery: true,
			})
			must(t, err)
			tok, err := getToken(cred, tc.scope)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("GetToken succeeded")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not mention %q:\n%v", w, err)
					}
				}
				if strings.Contains(err.Error(), tc.secret) && tc.secret != "x" {
					t.Errorf("error quotes the secret")
				}
				return
			}
			must(t, err)
			c, err := f.a.VerifyToken(tok.Token, tc.wantAud)
			if err != nil {
				t.Fatalf("the issued token does not verify: %v", err)
			}
			if c.TenantID != tenantID || c.AppID != tc.client || !c.AppOnly || c.Audience != tc.wantAud || !slices.Equal(c.Roles, tc.wantRoles) {
				t.Errorf("claims = %+v", c)
			}
			if d := time.Until(tok.ExpiresOn); d < 55*time.Minute || d > 61*time.Minute {
				t.Errorf("token expires in %s", d)
			}
		})
	}
}

func TestAzidentityClientCertificate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		name    string
		pem     []byte
		wantErr string
	}{
		{"registered certificate", f.cert.PEM(), ""},
		{"certificate not on the app", f.other.PEM(), "AADSTS700027"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			certs, key, err := azidentity.ParseCertificates(tc.pem, nil)
			must(t, err)
			cred, err := azidentity.NewClientCertificateCredential(tenantID, clientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
				ClientOptions: f.clientOptions(), DisableInstanceDiscovery: true,
			})
			must(t, err)
			tok, err := getToken(cred, graph+"/.default")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "invalid_client") {
					t.Fatalf("GetToken: err = %v, want %s invalid_client", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), "The key was not found") {
					t.Errorf("error does not say the key was not found: %v", err)
				}
				return
			}
			must(t, err)
			c, err := f.a.VerifyToken(tok.Token, graph)
			must(t, err)
			if c.AppID != clientID || !c.HasRole("User.Invite.All") {
				t.Errorf("claims = %+v", c)
			}
			if acr := payload(t, tok.Token)["appidacr"]; acr != "2" {
				t.Errorf("appidacr = %v, want 2 (certificate)", acr)
			}
		})
	}
}

// assertion signs a client assertion by hand, to reach every check.
type assertion struct {
	alg     string // RS256 or PS256
	thumb   string // "x5t", "x5t#S256" or "" for none
	cert    *x509.Certificate
	key     *rsa.PrivateKey
	claims  map[string]any
	rawBody string // replaces the whole assertion if set
}

func (as assertion) sign(t testing.TB) string {
	t.Helper()
	if as.rawBody != "" {
		return as.rawBody
	}
	h := map[string]any{"alg": as.alg, "typ": "JWT"}
	switch as.thumb {
	case "x5t":
		s := sha1.Sum(as.cert.Raw)
		h["x5t"] = base64.RawURLEncoding.EncodeToString(s[:])
	case "x5t#S256":
		s := sha256.Sum256(as.cert.Raw)
		h["x5t#S256"] = base64.StdEncoding.EncodeToString(s[:]) // as MSAL Go writes it
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(as.claims)
	in := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	d := sha256.Sum256([]byte(in))
	var sig []byte
	var err error
	if as.alg == "PS256" {
		sig, err = rsa.SignPSS(rand.Reader, as.key, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	} else {
		sig, err = rsa.SignPKCS1v15(nil, as.key, crypto.SHA256, d[:])
	}
	must(t, err)
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestClientAssertionChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.clock.Now()
	good := func() map[string]any {
		return map[string]any{"aud": f.tokenURL(tenantID), "iss": clientID, "sub": clientID, "jti": "4b3f", "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	}
	with := func(k string, v any) map[string]any {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	reg, regKey, other, otherKey := f.cert.Certificate, f.cert.Key, f.other.Certificate, f.other.Key
	cases := []struct {
		name   string
		as     assertion
		status int
		code   string // "" for success
		aadsts float64
		text   string
	}{
		{"PS256 with x5t#S256", assertion{alg: "PS256", thumb: "x5t#S256", cert: reg, key: regKey, claims: good()}, 200, "", 0, ""},
		{"RS256 with x5t", assertion{alg: "RS256", thumb: "x5t", cert: reg, key: regKey, claims: good()}, 200, "", 0, ""},
		{"aud by domain, v1 path", assertion{alg: "RS256", thumb: "x5t", cert: reg, key: regKey, claims: with("aud", f.srv.URL+"/contoso.example/oauth2/token")}, 200, "", 0, ""},
		{"aud as array", assertion{alg: "PS256", thumb: "x5t#S256", cert: reg, key: regKey, claims: with("aud", []string{"x", f.tokenURL(tenantID)})}, 200, "", 0, ""},
		{"unregistered certificate", assertion{alg: "PS256", thumb: "x5t#S256", cert: other, key: otherKey, claims: good()}, 401, "invalid_client", 700027, "not registered on application"},
		{"no thumbprint", assertion{alg: "PS256", cert: reg, key: regKey, claims: good()}, 401, "invalid_client", 700027, "The key was not found"},
		{"signed by another key", assertion{alg: "PS256", thumb: "x5t#S256", cert: reg, key: otherKey, claims: good()}, 401, "invalid_client", 700027, "did not match the expected signature"},
		{"expired", assertion{alg: "PS256", thumb: "x5t#S256", cert: reg, key: regKey, claims: with("exp", now.Add(-time.Hour).Unix())}, 401, "invalid_client", 700024, "not within its valid time range"},
		{"not yet valid", assertion{alg: "PS256", thumb: "x5t#S256", cert: reg, key: regKey, claims: with("nbf", now.Add(time.Hour).Unix())}, 401, "invalid_client", 700024, "assertion valid from"},
		{"wrong audience", assertion{alg: "PS256", thumb: "x5t#S256", cert: reg, key: regKey, claims: with("aud", "https://login.microsoftonline.com/"+tenantID+"/oauth2/v2.0/token")}, 401, "invalid_client", 700023, "audience claim"},
		{"issuer is not the client", assertion{alg: "PS256", thumb: "x5t#S256", cert: reg, key: regKey, claims: with("iss", readerID)}, 401, "invalid_client", 700021, "application identifier"},
		{"subject differs", assertion{alg: "PS256", thumb: "x5t#S256", cert: reg, key: regKey, claims: with("sub", readerID)}, 401, "invalid_client", 50048, "Subject mismatches"},
		{"no exp", assertion{alg: "PS256", thumb: "x5t#S256", cert: reg, key: regKey, claims: with("exp", nil)}, 400, "invalid_request", 90014, "'exp'"},
		{"no jti", assertion{alg: "PS256", thumb: "x5t#S256", cert: reg, key: regKey, claims: with("jti", nil)}, 400, "invalid_request", 90014, "'jti'"},
		{"not a JWT", assertion{rawBody: "certainly-not-a-jwt"}, 400, "invalid_request", 50027, "invalid or malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {graph + "/.default openid offline_access profile"},
				"client_assertion_type": {jwtBearer}, "client_assertion": {tc.as.sign(t)}}
			status, body := f.post(t, tenantID, form, nil)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if tc.code == "" {
				if body["access_token"] == nil {
					t.Fatalf("no access token: %v", body)
				}
				return
			}
			codes, _ := body["error_codes"].([]any)
			if body["error"] != tc.code || len(codes) != 1 || codes[0] != tc.aadsts || !strings.Contains(body["error_description"].(string), tc.text) {
				t.Errorf("got %v", body)
			}
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cc := func(kv ...string) url.Values {
		return with(url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secretVal}, "scope": {graph + "/.default"}}, kv...)
	}
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(secretVal)))}}
	cases := []struct {
		name   string
		tenant string
		form   url.Values
		header http.Header
		status int
		code   string // "" for success
		aadsts float64
	}{
		{"ok", tenantID, cc(), nil, 200, "", 0},
		{"ok with MSAL's extra scopes and claims", tenantID, cc("scope", graph+"/.default openid offline_access profile", "claims", `{"access_token":{"xms_cc":{"values":["CP1"]}}}`), nil, 200, "", 0},
		{"ok with HTTP Basic", tenantID, cc("client_secret", "", "client_id", ""), basic, 200, "", 0},
		{"unknown tenant", "fabrikam.example", cc(), nil, 400, "invalid_request", 90002},
		{"no grant_type", tenantID, cc("grant_type", ""), nil, 400, "invalid_request", 900144},
		{"unsupported grant", tenantID, cc("grant_type", "password"), nil, 400, "unsupported_grant_type", 70003},
		{"no client_id", tenantID, cc("client_id", ""), nil, 400, "invalid_request", 900144},
		{"unknown client", tenantID, cc("client_id", "00000000-0000-4000-8000-0000000000ff"), nil, 400, "unauthorized_client", 700016},
		{"wrong secret", tenantID, cc("client_secret", "wrong"), nil, 401, "invalid_client", 7000215},
		{"no credential", tenantID, cc("client_secret", ""), nil, 401, "invalid_client", 7000216},
		{"no scope", tenantID, cc("scope", ""), nil, 400, "invalid_request", 900144},
		{"only oidc scopes", tenantID, cc("scope", "openid profile"), nil, 400, "invalid_scope", 70011},
		{"permission scope", tenantID, cc("scope", "User.Read.All"), nil, 400, "invalid_scope", 1002012},
		{"two resources", tenantID, cc("scope", graph+"/.default https://management.azure.com/.default"), nil, 400, "invalid_scope", 700022},
		{"unknown resource", tenantID, cc("scope", "api://foyer/.default"), nil, 400, "invalid_resource", 500011},
		{"secret and assertion", tenantID, cc("client_assertion_type", jwtBearer, "client_assertion", "a.b.c"), nil, 400, "invalid_request", 9002313},
		{"Basic and form secret", tenantID, cc(), basic, 400, "invalid_request", 9002313},
		{"assertion of another type", tenantID, cc("client_secret", "", "client_assertion_type", "urn:x", "client_assertion", "a.b.c"), nil, 400, "invalid_request", 9002313},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hdr := http.Header{"Client-Request-Id": {"0b0c0d0e-1111-4222-8333-444455556666"}}
			for k, v := range tc.header {
				hdr[k] = v
			}
			status, body := f.post(t, tc.tenant, tc.form, hdr)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if tc.code == "" {
				if body["token_type"] != "Bearer" || body["expires_in"] != 3599.0 || body["ext_expires_in"] != 3599.0 || body["access_token"] == "" {
					t.Errorf("success body %v", body)
				}
				return
			}
			desc, _ := body["error_description"].(string)
			codes, _ := body["error_codes"].([]any)
			prefix := fmt.Sprintf("AADSTS%d: ", int(tc.aadsts))
			if body["error"] != tc.code || len(codes) != 1 || codes[0] != tc.aadsts || !strings.HasPrefix(desc, prefix) {
				t.Errorf("got %v, want %s %s", body, tc.code, prefix)
			}
			if !strings.Contains(desc, "\r\nTrace ID: "+body["trace_id"].(string)+"\r\nCorrelation ID: 0b0c0d0e-1111-4222-8333-444455556666\r\nTimestamp: ") {
				t.Errorf("error_description lacks the trace lines: %q", desc)
			}
			if body["correlation_id"] != "0b0c0d0e-1111-4222-8333-444455556666" || body["timestamp"] == "" || !strings.HasSuffix(body["error_uri"].(string), fmt.Sprintf("?code=%d", int(tc.aadsts))) {
				t.Errorf("error fields: %v", body)
			}
			if strings.Contains(desc, secretVal) {
				t.Error("the error quotes the secret")
			}
		})
	}

	// Anything but POST, and a body that is not a form.
	req, _ := http.NewRequest(http.MethodGet, f.tokenURL(tenantID), nil)
	if status, body := f.do(t, req); status != 400 || body["error_codes"].([]any)[0] != 900561.0 {
		t.Errorf("GET: %d %v", status, body)
	}
	req, _ = http.NewRequest(http.MethodPost, f.tokenURL(tenantID), strings.NewReader(`{"grant_type":"client_credentials"}`))
	req.Header.Set("Content-Type", "application/json")
	if status, body := f.do(t, req); status != 400 || body["error_codes"].([]any)[0] != 900144.0 {
		t.Errorf("JSON body: %d %v", status, body)
	}
	req, _ = http.NewRequest(http.MethodPost, f.tokenURL(tenantID), strings.NewReader("grant_type=client_credentials&grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if status, body := f.do(t, req); status != 400 || body["error_codes"].([]any)[0] != 9002313.0 {
		t.Errorf("repeated parameter: %d %v", status, body)
	}
}

func TestAppOnlyTokenClaims(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	status, body := f.post(t, tenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secretVal}, "scope": {graph + "/.default"}}, nil)
	if status != 200 {
		t.Fatalf("status %d: %v", status, body)
	}
	c := payload(t, body["access_token"].(string))
	now := f.clock.Now().Unix()
	want := map[string]any{
		"aud": graph, "iss": "https://sts.windows.net/" + tenantID + "/", "tid": tenantID, "appid": clientID, "azp": clientID,
		"oid": spID, "sub": spID, "idtyp": "app", "ver": "1.0", "appidacr": "1", "app_displayname": "foyer",
		"iat": float64(now - 300), "nbf": float64(now - 300), "exp": float64(now + 3599),
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %v, want %v", k, c[k], v)
		}
	}
	if uti, _ := c["uti"].(string); len(uti) != 22 {
		t.Errorf("uti = %q", uti)
	}
	h := strings.Split(body["access_token"].(string), ".")[0]
	hb, _ := base64.RawURLEncoding.DecodeString(h)
	var hdr map[string]any
	must(t, json.Unmarshal(hb, &hdr))
	if hdr["alg"] != "RS256" || hdr["kid"] != f.a.signer.kid || hdr["x5t"] != f.a.signer.kid || hdr["typ"] != "JWT" {
		t.Errorf("header = %v", hdr)
	}
}

func TestRegistrationChangesAtRunTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	get := func(client, secret string) (int, map[string]any) {
		return f.post(t, tenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}, "scope": {graph + "/.default"}}, nil)
	}
	_, body := get(readerID, "reader-secret")
	before := body["access_token"].(string)

	must(t, f.a.SetPermissions(tenantID, readerID, map[string][]string{"00000003-0000-0000-c000-000000000000": {"User.Read.All", "Group.Read.All"}}))
	_, body = get(readerID, "reader-secret")
	c, err := f.a.VerifyToken(body["access_token"].(string), graph)
	must(t, err)
	if !slices.Equal(c.Roles, []string{"Group.Read.All", "User.Read.All"}) {
		t.Errorf("roles after SetPermissions = %v", c.Roles)
	}
	old, err := f.a.VerifyToken(before, graph)
	must(t, err)
	if !slices.Equal(old.Roles, []string{"User.Read.All"}) {
		t.Errorf("a token issued before keeps its roles; got %v", old.Roles)
	}

	app, err := f.a.App(tenantID, readerID)
	must(t, err)
	app.Secrets = []string{"rotated"}
	must(t, f.a.UpdateApp(app))
	if status, body := get(readerID, "reader-secret"); status != 401 {
		t.Errorf("old secret after rotation: %d %v", status, body)
	}
	if status, _ := get(readerID, "rotated"); status != 200 {
		t.Errorf("new secret after rotation: %d", status)
	}

	must(t, f.a.RemoveApp(tenantID, readerID))
	if status, body := get(readerID, "rotated"); status != 400 || body["error"] != "unauthorized_client" {
		t.Errorf("removed app: %d %v", status, body)
	}
	if _, err := f.a.VerifyToken(before, graph); err != nil {
		t.Errorf("a token stays valid until it expires, even after its app is removed: %v", err)
	}
}

func TestIssueToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok, err := f.a.IssueToken(tenantID, clientID, "https://management.core.windows.net/")
	must(t, err)
	c, err := f.a.VerifyToken(tok, "https://management.azure.com")
	must(t, err)
	if c.Audience != "https://management.core.windows.net/" || len(c.Roles) != 0 {
		t.Errorf("claims = %+v", c)
	}
	for _, tc := range [][3]string{
		{"00000000-0000-4000-8000-000000000009", clientID, graph},
		{tenantID, readerSP, graph},
		{tenantID, clientID, "https://vault.azure.net"},
	} {
		if _, err := f.a.IssueToken(tc[0], tc[1], tc[2]); err == nil {
			t.Errorf("IssueToken%v succeeded", tc)
		}
	}
}
