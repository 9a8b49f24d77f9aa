// Package login is the emulated tenant's Microsoft identity platform: the
// Entra ID v2.0 endpoints that azidentity, MSAL and OpenID Connect clients
// call (OIDC discovery, instance discovery, JWKS, the token endpoint with the
// client-credentials and authorization-code grants, the authorize endpoint
// with a small sign-in page, and logout), the signing of Entra-shaped tokens,
// and the verification of those tokens on the resource side (Graph, ARM and
// Exchange in the sim).
//
// An Authority holds tenants, apps and users registered at run time and is
// safe for concurrent use. It keeps no package-level state. What it models and
// what it leaves out is written down in docs/sim-login.md.
//
// Only the sim (package sim and its command) and its tests import this package.
package login

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options shape a new Authority. The zero value is ready to use.
type Options struct {
	// Clock times every token, code and client assertion: it stamps iat, nbf
	// and exp and checks them. nil means time.Now. Give the wall clock (or a
	// fake one in tests), not a simulated clock that jumps ahead: azidentity
	// and MSAL time their token caches and stamp their client assertions with
	// the machine's own clock, so a token stamped by a clock that jumped would
	// look expired to Verify while the client still holds it.
	Clock func() time.Time
	// Rand supplies identifiers that appear in responses and tokens (uti,
	// trace and correlation ids). nil means crypto/rand. Secrets handed to a
	// browser or a client (authorization codes, sign-in form tokens) always
	// come from crypto/rand, so that they cannot be guessed from a seed.
	Rand io.Reader
	// Logger receives one line per issued token and per refused request,
	// never a secret or a token. nil discards.
	Logger *slog.Logger
	// Key signs every token; nil means a new RSA 2048 key (about 50 ms).
	// Tests that start many authorities can share one.
	Key *rsa.PrivateKey
	// CacheSize bounds how many verified access tokens Verify remembers;
	// 0 means 4096.
	CacheSize int
	// UserClaims answers what an id token says of a user beyond their
	// account: the groups to put in its groups claim, as the app's
	// GroupMembershipClaims selects them, and the values of the app roles the
	// user holds on the app (directly or through a group). The authority
	// does not know the directory; the sim sets this. nil: no groups and no
	// roles claim.
	UserClaims func(app App, userOID string) (groups, roles []string)
}

// Authority is one emulated Microsoft identity platform instance serving any
// number of tenants. Create it with New.
type Authority struct {
	clock  func() time.Time
	log    *slog.Logger
	signer *signer
	res    resources

	randMu sync.Mutex // guards rand, which need not be safe for concurrent use
	rand   io.Reader

	mu      sync.RWMutex
	tenants map[string]*tenantState // by lower-case tenant id and domain name

	flows flows       // pending sign-ins and authorization codes
	cache verifyCache // verified access tokens

	userClaims func(app App, userOID string) (groups, roles []string)
}

// New creates an Authority with no tenants.
func New(o Options) (*Authority, error) {
	a := &Authority{
		clock:   o.Clock,
		log:     o.Logger,
		rand:    o.Rand,
		res:     newResources(),
		tenants: make(map[string]*tenantState),

		userClaims: o.UserClaims,
	}
	if a.clock == nil {
		a.clock = time.Now
	}
	if a.rand == nil {
		a.rand = rand.Reader
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	size := o.CacheSize
	if size < 0 {
		return nil, fmt.Errorf("login: cache size %d is negative", size)
	}
	if size == 0 {
		size = 4096
	}
	a.cache.init(size)
	a.flows.init()
	s, err := newSigner(o.Key, a.clock())
	if err != nil {
		return nil, err
	}
	a.signer = s
	return a, nil
}

// now returns the injected time in UTC.
func (a *Authority) now() time.Time { return a.clock().UTC() }

// randomBytes reads n bytes from the injected reader, falling back to
// crypto/rand if it fails: an identifier must never be empty.
func (a *Authority) randomBytes(n int) []byte {
	b := make([]byte, n)
	a.randMu.Lock()
	_, err := io.ReadFull(a.rand, b)
	a.randMu.Unlock()
	if err != nil {
		a.log.Warn("login: injected randomness failed; using crypto/rand", "err", err)
		if _, err := rand.Read(b); err != nil {
			panic("login: crypto/rand failed: " + err.Error())
		}
	}
	return b
}

// newID returns a random UUID (version 4) from the injected reader, the shape
// of Entra's trace, correlation and token ids.
func (a *Authority) newID() string {
	b := a.randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Handler serves the authority's endpoints. Requests for any other path get
// 404. The issuer and endpoint URLs it hands out use the scheme and host of
// each request, so clients see the address they used.
func (a *Authority) Handler() http.Handler { return http.HandlerFunc(a.serveHTTP) }

// route names one of the authority's endpoints.
type route int

const (
	routeNone route = iota
	routeOpenIDConfig
	routeKeys
	routeInstance
	routeToken
	routeAuthorize
	routeSignIn
	routeLogout
	routeIdentity
)

// match maps a URL path to an endpoint and the tenant segment it names.
//
//	/{tenant}/v2.0/.well-known/openid-configuration
//	/{tenant}/discovery/v2.0/keys
//	/{tenant}/discovery/instance          (MSAL calls it on /common)
//	/{tenant}/oauth2/v2.0/token|authorize|logout
//	/{tenant}/login                       (the sign-in form posts here, as on Entra)
//	/{tenant}/msi/token                   (a host's managed identity endpoint, identity.go)
func match(path string) (route, string) {
	p, ok := strings.CutPrefix(path, "/")
	if !ok {
		return routeNone, ""
	}
	tenant, rest, ok := strings.Cut(p, "/")
	if !ok || !validTenantName(tenant) {
		return routeNone, ""
	}
	switch rest {
	case "v2.0/.well-known/openid-configuration":
		return routeOpenIDConfig, tenant
	case "discovery/v2.0/keys":
		return routeKeys, tenant
	case "discovery/instance":
		return routeInstance, tenant
	case "oauth2/v2.0/token":
		return routeToken, tenant
	case "oauth2/v2.0/authorize":
		return routeAuthorize, tenant
	case "oauth2/v2.0/logout":
		return routeLogout, tenant
	case "login":
		return routeSignIn, tenant
	case "msi/token":
		return routeIdentity, tenant
	}
	return routeNone, ""
}

// validTenantName reports whether s can name a tenant in a URL: azidentity accepts
// ^[0-9a-zA-Z-.]+$ (docs/graph-reference.md §8). It keeps paths such as /_sim/login out.
func validTenantName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Serves reports whether path is one of the authority's endpoints, so that a
// server sharing one origin with other APIs knows what to hand to Handler.
func (a *Authority) Serves(path string) bool {
	r, _ := match(path)
	return r != routeNone
}

func (a *Authority) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rt, tenant := match(r.URL.Path)
	switch rt {
	case routeOpenIDConfig:
		a.serveOpenIDConfig(w, r, tenant)
	case routeKeys:
		a.serveKeys(w, r, tenant)
	case routeInstance:
		a.serveInstance(w, r)
	case routeToken:
		a.serveToken(w, r, tenant)
	case routeAuthorize:
		a.serveAuthorize(w, r, tenant)
	case routeSignIn:
		a.serveSignIn(w, r, tenant)
	case routeLogout:
		a.serveLogout(w, r, tenant)
	case routeIdentity:
		a.serveIdentity(w, r, tenant)
	default:
		http.NotFound(w, r)
	}
}

// origin is the scheme and host the client used to reach us.
func origin(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}
