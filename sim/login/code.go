package login

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	// signInLifetime bounds how long a sign-in page stays usable.
	signInLifetime = 15 * time.Minute
	// codeLifetime: "Authorization codes are short lived, typically expiring
	// after about 10 minutes" (entra-docs docs/identity-platform/
	// v2-oauth2-auth-code-flow.md).
	codeLifetime = 10 * time.Minute
	// maxAttempts is how many wrong passwords one sign-in page takes before it
	// is locked (AADSTS50053).
	maxAttempts = 10
	// maxFlows bounds the pending sign-ins and the codes kept.
	maxFlows = 4096
)

// authRequest is a validated authorize request.
type authRequest struct {
	tenantID     string
	clientID     string
	redirectURI  string
	responseMode string // query, fragment or form_post
	state        string
	nonce        string
	scope        delegatedScope
	challenge    string
	method       string // PKCE code_challenge_method: plain or S256
	loginHint    string
}

// pendingSignIn is a sign-in page handed out and not yet completed. Its id
// travels in the form, its cookie in a cookie: both must come back (a
// double-submit token against cross-site request forgery).
type pendingSignIn struct {
	authRequest
	cookie   string
	expires  time.Time
	attempts int
}

// authCode is an issued authorization code.
type authCode struct {
	authRequest
	userOID  string
	authTime time.Time
	expires  time.Time
	redeemed bool
}

// flows holds pending sign-ins and codes, bounded.
type flows struct {
	mu      sync.Mutex
	pending map[string]*pendingSignIn
	codes   map[string]*authCode
}

func (f *flows) init() {
	f.pending = make(map[string]*pendingSignIn)
	f.codes = make(map[string]*authCode)
}

// secret returns 32 bytes from crypto/rand in base64url: values a browser or
// client holds must not be guessable from an injected seed.
func secret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("login: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// prune drops expired entries and, if still full, arbitrary ones. Redeemed
// codes are kept until they expire, to answer a second redemption with
// AADSTS54005.
func prune[V any](m map[string]V, expired func(V) bool) {
	for k, v := range m {
		if expired(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < maxFlows {
			break
		}
		delete(m, k)
	}
}

func (f *flows) addPending(p *pendingSignIn, now time.Time) string {
	id := secret()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) >= maxFlows {
		prune(f.pending, func(p *pendingSignIn) bool { return now.After(p.expires) })
	}
	f.pending[id] = p
	return id
}

// pendingFor returns the pending sign-in id names if cookie matches it and it
// has not expired.
func (f *flows) pendingFor(id, cookie string, now time.Time) (*pendingSignIn, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pending[id]
	if p == nil || now.After(p.expires) || subtle.ConstantTimeCompare([]byte(p.cookie), []byte(cookie)) != 1 {
		return nil, false
	}
	return p, true
}

// failed counts a wrong password; it reports whether the page is now locked.
func (f *flows) failed(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pending[id]
	if p == nil {
		return true
	}
	p.attempts++
	if p.attempts >= maxAttempts {
		delete(f.pending, id)
		return true
	}
	return false
}

// complete ends a pending sign-in and issues its code.
func (f *flows) complete(id string, userOID string, now time.Time) (string, *authCode, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pending[id]
	if p == nil {
		return "", nil, false
	}
	delete(f.pending, id)
	if len(f.codes) >= maxFlows {
		prune(f.codes, func(c *authCode) bool { return now.After(c.expires) })
	}
	c := &authCode{authRequest: p.authRequest, userOID: userOID, authTime: now, expires: now.Add(codeLifetime)}
	code := secret()
	f.codes[code] = c
	return code, c, true
}

// redeem marks a code redeemed after check accepts it, atomically.
func (f *flows) redeem(code string, check func(*authCode) *oauthError) (*authCode, *oauthError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.codes[code]
	if c == nil {
		return nil, errCode("code")
	}
	if oerr := check(c); oerr != nil {
		return nil, oerr
	}
	c.redeemed = true
	cp := *c
	return &cp, nil
}

// delegatedScope is a parsed scope of the authorization-code flow: OIDC scopes
// and the permissions asked of one resource (Microsoft Graph if none is named).
type delegatedScope struct {
	oidc     map[string]bool
	resource *resource
	audience string   // the resource as named, the token's aud
	prefix   string   // how granted permissions are written back in "scope"
	perms    []string // delegated permissions
}

// graphAppID is Microsoft Graph's app id, the audience Entra gives a token
// asked for with bare permission names ("User.Read").
const graphAppID = "00000003-0000-0000-c000-000000000000"

// parseDelegatedScope reads "openid profile email offline_access" and
// permissions written "{resource}/{permission}", "{resource}/.default" or bare
// ("User.Read", a Graph permission), of a single resource. Consent is not
// modelled: what is asked is granted, and /.default grants User.Read.
func (a *Authority) parseDelegatedScope(ts *tenantState, scope string) (delegatedScope, *oauthError) {
	ds := delegatedScope{oidc: make(map[string]bool)}
	fields := strings.Fields(scope)
	if len(fields) == 0 {
		return ds, errMissingParameter("scope")
	}
	for _, f := range fields {
		if isOIDCScope(f) {
			ds.oidc[strings.ToLower(f)] = true
			continue
		}
		aud, perm := graphAppID, f
		if i := strings.LastIndex(f, "/"); i >= 0 {
			aud, perm = f[:i], f[i+1:]
		}
		if aud == "" || perm == "" {
			return ds, errScope(scope)
		}
		res, ok := a.res.find(aud)
		if !ok {
			return ds, errResourceNotFound(aud, ts.DisplayName)
		}
		if ds.resource != nil && ds.resource != res {
			return ds, errScopeResources(scope)
		}
		ds.resource, ds.audience = res, aud
		if perm == ".default" {
			perm = "User.Read"
		}
		if !slices.Contains(ds.perms, perm) {
			ds.perms = append(ds.perms, perm)
		}
	}
	if ds.resource == nil {
		ds.resource, _ = a.res.find(graphAppID)
		ds.audience, ds.perms = graphAppID, []string{"User.Read"}
	}
	ds.prefix = ds.audience + "/"
	if ds.audience == graphAppID {
		ds.prefix = "https://graph.microsoft.com/"
	}
	return ds, nil
}

// scp is the token's scp claim: the OIDC scopes but offline_access, then the
// permissions, as Entra writes it ("email openid profile User.Read").
func (ds delegatedScope) scp() string {
	var out []string
	for _, s := range oidcScopes {
		if ds.oidc[s] && s != "offline_access" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return strings.Join(append(out, ds.perms...), " ")
}

// granted is the response's scope: OIDC scopes and fully written permissions.
func (ds delegatedScope) granted() string {
	var out []string
	for _, s := range oidcScopes {
		if ds.oidc[s] {
			out = append(out, s)
		}
	}
	for _, p := range ds.perms {
		out = append(out, ds.prefix+p)
	}
	return strings.Join(out, " ")
}

// pkceMatches checks a code_verifier against the challenge (RFC 7636 §4.6).
func pkceMatches(method, challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 || strings.Trim(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
		return false
	}
	want := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// authorizationCode is the authorization-code grant (entra-docs docs/
// identity-platform/v2-oauth2-auth-code-flow.md, "Redeem a code for an access
// token"), with PKCE when the authorize request carried a challenge.
func (a *Authority) authorizationCode(r *http.Request, ts *tenantState, pathTenant string, tr tokenRequest) (*tokenResponse, *oauthError) {
	app, acr, oerr := a.clientApp(r, ts, pathTenant, tr)
	if oerr != nil {
		return nil, oerr
	}
	switch {
	case tr.code == "":
		return nil, errMissingParameter("code")
	case tr.redirectURI == "":
		return nil, errMissingParameter("redirect_uri")
	}
	now := a.now()
	c, oerr := a.flows.redeem(tr.code, func(c *authCode) *oauthError {
		switch {
		case c.tenantID != ts.ID:
			return errCodeTenant()
		case !strings.EqualFold(c.clientID, app.ClientID):
			return errCode("code")
		case now.After(c.expires):
			return errCodeExpired()
		case c.redeemed:
			return errCodeRedeemed()
		case c.redirectURI != tr.redirectURI:
			return errCode("redirect_uri")
		case c.challenge != "" && !pkceMatches(c.method, c.challenge, tr.codeVerifier):
			return errPKCE()
		}
		return nil
	})
	if oerr != nil {
		return nil, oerr
	}
	u := a.userByID(ts, c.userOID)
	if u == nil {
		return nil, errCode("code") // the user was removed since signing in
	}
	access, err := a.mintUserToken(ts.ID, app, u, c.scope.audience, c.scope.scp(), acr)
	if err != nil {
		a.log.Error("login: sign access token", "err", err)
		return nil, &oauthError{http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token."}
	}
	resp := &tokenResponse{TokenType: "Bearer", Scope: c.scope.granted(), ExpiresIn: int(accessLifetime.Seconds()), ExtExpiresIn: int(accessLifetime.Seconds()), AccessToken: access}
	if c.scope.oidc["openid"] {
		if resp.IDToken, err = a.mintIDToken(r, ts.ID, app, u, c.scope, c.nonce, c.authTime); err != nil {
			a.log.Error("login: sign id token", "err", err)
			return nil, &oauthError{http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token."}
		}
	}
	a.log.Info("login: token issued", "grant", "authorization_code", "tenant", ts.ID, "client_id", app.ClientID, "user", u.ObjectID)
	return resp, nil
}

func (a *Authority) userByID(ts *tenantState, oid string) *User {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, u := range ts.users {
		if u.ObjectID == oid {
			return u
		}
	}
	return nil
}
