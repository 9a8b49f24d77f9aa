package login

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// clockSkew is how far past exp (and before nbf) a token is still accepted:
// the default ClockSkew of Microsoft.IdentityModel's TokenValidationParameters
// (300 seconds), which Microsoft's APIs validate tokens with.
const clockSkew = 5 * time.Minute

// Claims is what a verified access token says.
type Claims struct {
	TenantID       string
	AppID          string // the client application (appid)
	AppDisplayName string
	ObjectID       string // oid: the app's service principal, or the signed-in user
	UPN            string // the signed-in user's UPN; empty in app-only tokens
	AppOnly        bool   // idtyp "app": no user
	Roles          []string
	Scopes         []string // delegated permissions (scp)
	Audience       string
	IssuedAt       time.Time
	NotBefore      time.Time
	ExpiresAt      time.Time
	TokenID        string // uti
}

// HasRole reports whether the token carries the application permission role.
func (c *Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// HasAnyRole reports whether the token carries at least one of roles.
func (c *Claims) HasAnyRole(roles ...string) bool {
	return slices.ContainsFunc(roles, c.HasRole)
}

// HasScope reports whether the token carries the delegated permission scope.
func (c *Claims) HasScope(scope string) bool {
	return slices.ContainsFunc(c.Scopes, func(s string) bool { return strings.EqualFold(s, scope) })
}

// Verify checks the request's "Authorization: Bearer" token: signed by this
// authority, issued for a registered tenant, within its lifetime by the
// injected clock, and for one of audiences (an audience matches any
// identifier of the same resource: "https://management.azure.com" accepts a
// token for "https://management.core.windows.net/"). A refusal is a
// *TokenError. Tokens that verified once are remembered, so that a busy
// server does not check the same RSA signature on every request.
func (a *Authority) Verify(r *http.Request, audiences ...string) (*Claims, error) {
	token, err := bearerToken(r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	return a.VerifyToken(token, audiences...)
}

// bearerToken extracts the token of an "Authorization: Bearer <token>" header
// (RFC 6750 §2.1; the scheme is case-insensitive).
func bearerToken(h string) (string, error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", tokenError(ErrTokenMissing, "")
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return "", tokenError(ErrTokenMissing, "")
	}
	if strings.ContainsAny(token, " \t") {
		return "", tokenError(ErrTokenMalformed, "spaces in the token")
	}
	return token, nil
}

// VerifyToken is Verify for a bare token.
func (a *Authority) VerifyToken(token string, audiences ...string) (*Claims, error) {
	c, ok := a.cache.get(token)
	if !ok {
		var err error
		if c, err = a.verifyFresh(token); err != nil {
			return nil, err
		}
		a.cache.put(token, c)
	}
	now := a.now()
	if now.Before(c.NotBefore.Add(-clockSkew)) || now.After(c.ExpiresAt.Add(clockSkew)) {
		return nil, tokenError(ErrTokenExpired, "")
	}
	if !a.audienceMatches(c.Audience, audiences) {
		return nil, tokenError(ErrTokenAudience, "")
	}
	out := *c
	return &out, nil
}

func (a *Authority) audienceMatches(aud string, want []string) bool {
	got, gotKnown := a.res.find(aud)
	for _, w := range want {
		if strings.EqualFold(w, aud) {
			return true
		}
		if r, ok := a.res.find(w); ok && gotKnown && r == got {
			return true
		}
	}
	return false
}

// verifyFresh checks a token's signature, issuer and form; lifetime and
// audience are checked on every use by VerifyToken.
func (a *Authority) verifyFresh(token string) (*Claims, error) {
	j, err := parseJWS(token)
	if err != nil {
		return nil, tokenError(ErrTokenMalformed, err.Error())
	}
	if j.header.Alg != "RS256" || j.header.Kid != a.signer.kid {
		return nil, tokenError(ErrTokenInvalid, "Invalid signature.")
	}
	if err := j.verify(&a.signer.key.PublicKey); err != nil {
		return nil, tokenError(ErrTokenInvalid, "Invalid signature.")
	}
	var ac accessClaims
	if err := j.claims(&ac); err != nil {
		return nil, tokenError(ErrTokenMalformed, err.Error())
	}
	// Only this authority's v1.0 access tokens reach here: an id token (v2.0,
	// issued to a client, not a resource) is not a bearer token for an API.
	if ac.Ver != "1.0" || ac.Tid == "" || ac.Iss != issuerV1(ac.Tid) || a.tenant(ac.Tid) == nil {
		return nil, tokenError(ErrTokenInvalid, "Invalid issuer.")
	}
	if ac.Exp == 0 || ac.Aud == "" || ac.AppID == "" || ac.Oid == "" {
		return nil, tokenError(ErrTokenMalformed, "missing claims")
	}
	c := &Claims{
		TenantID:       ac.Tid,
		AppID:          ac.AppID,
		AppDisplayName: ac.AppDisplayName,
		ObjectID:       ac.Oid,
		UPN:            ac.UPN,
		AppOnly:        ac.Idtyp == "app",
		Roles:          slices.Clip(ac.Roles),
		Scopes:         slices.Clip(strings.Fields(ac.Scp)),
		Audience:       ac.Aud,
		IssuedAt:       ac.Iat.time(),
		NotBefore:      ac.Nbf.time(),
		ExpiresAt:      ac.Exp.time(),
		TokenID:        ac.Uti,
	}
	return c, nil
}

// verifyCache remembers verified tokens' claims, bounded. When full it drops
// an arbitrary eighth of its entries (Go's map order is random), which is
// enough for the few live tokens a sim sees.
type verifyCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]*Claims
}

func (vc *verifyCache) init(max int) {
	vc.max = max
	vc.m = make(map[string]*Claims)
}

func (vc *verifyCache) get(token string) (*Claims, bool) {
	vc.mu.RLock()
	c, ok := vc.m[token]
	vc.mu.RUnlock()
	return c, ok
}

func (vc *verifyCache) put(token string, c *Claims) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if len(vc.m) >= vc.max {
		drop := max(1, vc.max/8)
		for k := range vc.m {
			delete(vc.m, k)
			if drop--; drop == 0 {
				break
			}
		}
	}
	vc.m[token] = c
}

func (vc *verifyCache) len() int {
	vc.mu.RLock()
	defer vc.mu.RUnlock()
	return len(vc.m)
}
