package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/web"
)

// Entra says which Entra app tokens the API accepts: app-only tokens
// (client credentials) that the tenant issued for foyer's own app
// registration, carrying the API's app role.
type Entra struct {
	TenantID string
	// AuthorityHost is the identity platform's origin:
	// https://login.microsoftonline.com, or the emulated tenant's URL.
	AuthorityHost string
	// Audiences name foyer's app registration as a token's aud may: its
	// client id (v2.0 tokens) and its identifier URIs (v1.0 tokens for
	// api://…). At least one.
	Audiences []string
	// JWKSURL is where the tenant's signing keys are; "" means
	// {AuthorityHost}/{TenantID}/discovery/v2.0/keys.
	JWKSURL string
	// Client fetches the keys; nil is http.DefaultClient.
	Client *http.Client
}

// Issuers returns the issuers an Entra tenant signs access tokens as: the
// v1.0 form https://sts.windows.net/{tid}/ and the v2.0 form
// {AuthorityHost}/{tid}/v2.0, depending on the resource's
// requestedAccessTokenVersion.
func (e Entra) Issuers() []string {
	return []string{"https://sts.windows.net/" + e.TenantID + "/", strings.TrimSuffix(e.AuthorityHost, "/") + "/" + e.TenantID + "/v2.0"}
}

// AuthOptions shape an Authenticator. A nil Ledger turns API keys off, a
// nil Entra app tokens.
type AuthOptions struct {
	Ledger store.Store
	Entra  *Entra
	// Role is the app role a token must carry, and the role API keys are
	// given; "" means DefaultRole.
	Role   string
	Clock  foyer.Clock  // nil: the system clock
	Logger *slog.Logger // nil discards; it never sees a key or a token
}

// Authenticator finds the application calling the API from its
// Authorization header: "Bearer foyer_…" is an API key, any other bearer
// token an Entra access token. It is a web.Authenticator.
type Authenticator struct {
	ledger    store.Store
	verifier  *oidc.IDTokenVerifier
	issuers   []string
	audiences []string
	role      string
	log       *slog.Logger
}

var _ web.Authenticator = (*Authenticator)(nil)

// NewAuthenticator returns an Authenticator. ctx carries the HTTP client
// that fetches Entra's keys and lives as long as the Authenticator.
func NewAuthenticator(ctx context.Context, o AuthOptions) (*Authenticator, error) {
	a := &Authenticator{ledger: o.Ledger, role: o.Role, log: o.Logger}
	if a.role == "" {
		a.role = DefaultRole
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	clock := o.Clock
	if clock == nil {
		clock = foyer.SystemClock{}
	}
	if e := o.Entra; e != nil {
		if e.TenantID == "" || e.AuthorityHost == "" || len(e.Audiences) == 0 {
			return nil, errors.New("api: Entra tokens need a tenant id, an authority host and foyer's app's audiences")
		}
		jwks := e.JWKSURL
		if jwks == "" {
			jwks = strings.TrimSuffix(e.AuthorityHost, "/") + "/" + e.TenantID + "/discovery/v2.0/keys"
		}
		if e.Client != nil {
			ctx = oidc.ClientContext(ctx, e.Client)
		}
		keys := oidc.NewRemoteKeySet(ctx, jwks)
		// The issuer and the audience are checked below: Entra has two
		// issuer forms, and an app has several names an aud may use.
		a.verifier = oidc.NewVerifier("", keys, &oidc.Config{SkipClientIDCheck: true, SkipIssuerCheck: true,
			SupportedSigningAlgs: []string{oidc.RS256}, Now: clock.Now})
		a.issuers, a.audiences = e.Issuers(), slices.Clone(e.Audiences)
	}
	return a, nil
}

// refused is a credential that was given and is not good. Its text is
// shown to the caller, so it never holds the credential.
func refused(format string, args ...any) error {
	return foyer.Errorf(foyer.EFORBIDDEN, format, args...)
}

// Authenticate implements web.Authenticator.
func (a *Authenticator) Authenticate(r *http.Request) (*foyer.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	scheme, cred, _ := strings.Cut(strings.TrimSpace(h), " ")
	cred = strings.TrimSpace(cred)
	if !strings.EqualFold(scheme, "Bearer") || cred == "" {
		return nil, foyer.Errorf(foyer.EINVALID, "the Authorization header must be Bearer with an API key or an access token")
	}
	if strings.HasPrefix(cred, KeyPrefix) {
		return a.apiKey(r.Context(), cred)
	}
	return a.token(r.Context(), cred)
}

func (a *Authenticator) apiKey(ctx context.Context, key string) (*foyer.Principal, error) {
	if a.ledger == nil {
		return nil, refused("API keys are not accepted here")
	}
	if !looksLikeKey(key) {
		return nil, refused("the API key is malformed")
	}
	var k store.APIKey
	err := a.ledger.InTx(ctx, func(tx store.Tx) error {
		var err error
		k, err = tx.APIKeyByHash(ctx, HashKey(key))
		return err
	})
	switch {
	case foyer.ErrorCode(err) == foyer.ENOTFOUND:
		return nil, refused("the API key is not known, or was revoked")
	case err != nil:
		return nil, fmt.Errorf("look an API key up: %w", err)
	}
	return &foyer.Principal{ID: "apikey:" + k.Name, Name: k.Name, Roles: []string{a.role}, App: true}, nil
}

// appClaims are the claims of an Entra access token the API reads.
type appClaims struct {
	Tid            string   `json:"tid"`
	Oid            string   `json:"oid"`
	AppID          string   `json:"appid"` // v1.0
	Azp            string   `json:"azp"`   // v2.0
	AppDisplayName string   `json:"app_displayname"`
	Idtyp          string   `json:"idtyp"`
	Scp            string   `json:"scp"`
	Roles          []string `json:"roles"`
}

// token validates an Entra access token: signature against the tenant's
// keys, expiry, issuer (either form), audience (foyer's app), that it is
// an app-only token (idtyp "app", no scp: a user's delegated token is not
// an application calling), and who it names. Whether it carries the API's
// role is the guard's question (403, not 401).
func (a *Authenticator) token(ctx context.Context, raw string) (*foyer.Principal, error) {
	if a.verifier == nil {
		return nil, refused("access tokens are not accepted here; use an API key")
	}
	tok, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, refused("the access token has expired")
		}
		a.log.InfoContext(ctx, "api: access token refused", "err", err)
		return nil, refused("the access token is not valid")
	}
	if !slices.Contains(a.issuers, tok.Issuer) {
		return nil, refused("the access token was not issued by this tenant")
	}
	if !slices.ContainsFunc(tok.Audience, func(aud string) bool {
		return slices.ContainsFunc(a.audiences, func(want string) bool { return strings.EqualFold(aud, want) })
	}) {
		return nil, refused("the access token is for another audience than foyer's app")
	}
	var c appClaims
	if err := tok.Claims(&c); err != nil {
		return nil, refused("the access token's claims are malformed")
	}
	if c.Scp != "" || (c.Idtyp != "" && c.Idtyp != "app") {
		return nil, refused("the access token is a user's; the API takes application tokens")
	}
	if c.Oid == "" {
		return nil, refused("the access token names no application")
	}
	name := c.AppDisplayName
	if name == "" {
		name = c.AppID + c.Azp
	}
	return &foyer.Principal{ID: c.Oid, Name: name, Roles: c.Roles, App: true}, nil
}

// challenge is the WWW-Authenticate header of a refusal (RFC 6750 §3).
func challenge(code, desc string) string {
	v := `Bearer realm="foyer"`
	if code != "" {
		v += `, error="` + code + `", error_description="` + strings.ReplaceAll(desc, `"`, "'") + `"`
	}
	return v
}

// guard lets a call through only for an application holding the API's
// role: the principal the server in front found or, when there is none,
// the one h.auth finds. No credential or a bad one is 401 with a
// challenge, a principal without the role 403.
func (h *Handler) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := web.PrincipalFrom(r.Context())
		if p == nil && h.auth != nil {
			var err error
			if p, err = h.auth.Authenticate(r); err != nil {
				if c := foyer.ErrorCode(err); c != foyer.EFORBIDDEN && c != foyer.EINVALID {
					h.writeError(w, r, "authenticate", err)
					return
				}
				msg := foyer.ErrorMessage(err)
				w.Header().Set("WWW-Authenticate", challenge("invalid_token", msg))
				writeProblem(w, http.StatusUnauthorized, problemUnauthorized, msg, nil)
				return
			}
		}
		if p == nil {
			w.Header().Set("WWW-Authenticate", challenge("", ""))
			writeProblem(w, http.StatusUnauthorized, problemUnauthorized, "send an API key or an access token as Authorization: Bearer", nil)
			return
		}
		if !p.App || !slices.Contains(p.Roles, h.role) {
			msg := fmt.Sprintf("the caller does not hold the app role %s", h.role)
			w.Header().Set("WWW-Authenticate", challenge("insufficient_scope", msg))
			writeProblem(w, http.StatusForbidden, foyer.EFORBIDDEN, msg, nil)
			return
		}
		next.ServeHTTP(w, r.WithContext(web.WithPrincipal(r.Context(), p)))
	})
}
