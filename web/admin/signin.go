package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

const (
	// flowLifetime bounds a sign-in from /admin/signin to the callback.
	flowLifetime = 10 * time.Minute
	// maxCookie is the most a cookie may carry: browsers keep 4096 bytes
	// of name and value.
	maxCookie = 4000
	// home is where a sign-in goes when it was not given somewhere to go.
	home = "/admin"
)

// session is what the session cookie holds: the principal and its end.
type session struct {
	OID     string   `json:"oid"`
	Name    string   `json:"name,omitempty"`
	UPN     string   `json:"upn,omitempty"`
	Email   string   `json:"email,omitempty"`
	Groups  []string `json:"groups,omitempty"`
	Roles   []string `json:"roles,omitempty"`
	Expires int64    `json:"exp"` // Unix seconds
}

// flow is what the sign-in cookie holds between /admin/signin and the
// callback.
type flow struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
	Expires  int64  `json:"exp"`
}

// sessionCookie and flowCookie name the cookies; with Secure they carry
// the prefixes that make browsers refuse them from plain http or another
// path.
func (h *Handler) sessionCookie() string {
	if h.o.Secure {
		return "__Host-foyer_session"
	}
	return "foyer_session"
}

func (h *Handler) flowCookie() string {
	if h.o.Secure {
		return "__Secure-foyer_signin"
	}
	return "foyer_signin"
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: h.o.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// SignInURL is where web sends a browser that asked for next unsigned.
func (h *Handler) SignInURL(next string) string {
	return "/admin/signin?next=" + url.QueryEscape(localPath(next))
}

// localPath returns next if it is a path of this server, and home
// otherwise: a sign-in must not become an open redirect. It refuses
// anything that a browser could read as another origin: "//host",
// "/\host", schemes, backslashes and control characters anywhere.
func localPath(next string) string {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return home
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return home
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return home
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return home
	}
	return next
}

// Authenticate returns the principal of the request's session: nil with
// no session or an expired one (the browser signs in again), an
// EFORBIDDEN error for a cookie this server did not seal.
func (h *Handler) Authenticate(r *http.Request) (*foyer.Principal, error) {
	c, err := r.Cookie(h.sessionCookie())
	if err != nil || c.Value == "" {
		return nil, nil
	}
	var s session
	if err := h.session.open(h.sessionCookie(), c.Value, &s); err != nil {
		h.log.Info("admin: refused a session cookie", "reason", err)
		return nil, foyer.Errorf(foyer.EFORBIDDEN, "your session is not valid: sign in again")
	}
	if s.OID == "" || !h.clock.Now().Before(time.Unix(s.Expires, 0)) {
		return nil, nil
	}
	p := &foyer.Principal{ID: s.OID, Name: s.Name, UPN: s.UPN, Groups: s.Groups, Roles: s.Roles}
	if a, err := foyer.ParseAddress(s.Email); err == nil {
		p.Email = a
	}
	return p, nil
}

// oauth returns the provider (discovering it once) and the client's
// configuration, and a context that makes their calls with HTTPClient.
func (h *Handler) oauth(ctx context.Context) (context.Context, *oidc.Provider, *oauth2.Config, error) {
	ctx = oidc.ClientContext(ctx, h.client)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, h.client)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.provider == nil {
		p, err := oidc.NewProvider(ctx, h.o.Issuer)
		if err != nil {
			h.log.Error("admin: OpenID Connect discovery", "issuer", h.o.Issuer, "err", err)
			return ctx, nil, nil, foyer.Errorf(foyer.EUNAVAILABLE, "the sign-in service cannot be reached; try again in a moment")
		}
		h.provider = p
	}
	conf := &oauth2.Config{
		ClientID: h.o.ClientID, ClientSecret: h.o.ClientSecret, RedirectURL: h.o.RedirectURL,
		Endpoint: h.provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
	}
	return ctx, h.provider, conf, nil
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signIn answers GET /admin/signin?next=: it keeps state, nonce and the
// PKCE verifier in a sealed cookie and sends the browser to Entra.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	_, _, conf, err := h.oauth(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := flow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: localPath(r.URL.Query().Get("next")), Expires: h.clock.Now().Add(flowLifetime).Unix()}
	v, err := h.flow.seal(h.flowCookie(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.setCookie(w, h.flowCookie(), v, "/admin/callback", int(flowLifetime.Seconds()))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, conf.AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier), oidc.Nonce(f.Nonce)), http.StatusFound)
}

// idClaims are the id token's claims a session keeps (entra-docs
// docs/identity-platform/id-token-claims-reference.md).
type idClaims struct {
	OID               string              `json:"oid"`
	TID               string              `json:"tid"`
	Name              string              `json:"name"`
	PreferredUsername string              `json:"preferred_username"`
	Email             string              `json:"email"`
	Groups            []string            `json:"groups"`
	Roles             []string            `json:"roles"`
	ClaimNames        map[string]string   `json:"_claim_names"`
	ClaimSources      map[string]struct{} `json:"_claim_sources"`
}

// callback answers GET /admin/callback: it checks the state against the
// sign-in cookie, redeems the code with the PKCE verifier, verifies the id
// token (signature, issuer, audience, expiry, nonce) and makes a session.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var f flow
	c, err := r.Cookie(h.flowCookie())
	if err == nil {
		err = h.flow.open(h.flowCookie(), c.Value, &f)
	}
	h.setCookie(w, h.flowCookie(), "", "/admin/callback", -1)
	q := r.URL.Query()
	switch {
	case err != nil || !h.clock.Now().Before(time.Unix(f.Expires, 0)):
		h.signInFailed(w, r, http.StatusBadRequest, "This sign-in expired or was started in another browser. Sign in again.")
		return
	case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1:
		h.log.Warn("admin: sign-in callback with a state that does not match its cookie")
		h.signInFailed(w, r, http.StatusBadRequest, "This sign-in answer does not belong to the sign-in this browser started. Sign in again.")
		return
	case q.Get("error") != "":
		h.log.Info("admin: the identity provider refused the sign-in", "error", q.Get("error"), "description", q.Get("error_description"))
		h.signInFailed(w, r, http.StatusForbidden, "Microsoft Entra refused the sign-in ("+q.Get("error")+").")
		return
	case q.Get("code") == "":
		h.signInFailed(w, r, http.StatusBadRequest, "The sign-in answer carries no code. Sign in again.")
		return
	}
	s, err := h.redeem(r.Context(), q.Get("code"), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.session.seal(h.sessionCookie(), s)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(h.sessionCookie())+len(v) > maxCookie {
		h.log.Warn("admin: session too large for a cookie", "user", s.OID, "groups", len(s.Groups))
		h.signInFailed(w, r, http.StatusForbidden, "Your account is in too many groups for a session. Ask the operator to list the groups foyer uses in its configuration.")
		return
	}
	h.setCookie(w, h.sessionCookie(), v, "/", int(h.o.SessionTTL.Seconds()))
	h.log.Info("admin: signed in", "user", s.OID, "upn", s.UPN)
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// redeem exchanges the code and turns the verified id token into a session.
func (h *Handler) redeem(ctx context.Context, code string, f flow) (session, error) {
	ctx, p, conf, err := h.oauth(ctx)
	if err != nil {
		return session{}, err
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		h.log.Warn("admin: redeem the authorization code", "err", err)
		return session{}, foyer.Errorf(foyer.EFORBIDDEN, "the sign-in could not be completed: sign in again")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return session{}, foyer.Errorf(foyer.EFORBIDDEN, "the sign-in answer carries no id token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: h.o.ClientID, Now: h.clock.Now}).Verify(ctx, raw)
	if err != nil {
		h.log.Warn("admin: id token refused", "err", err)
		return session{}, foyer.Errorf(foyer.EFORBIDDEN, "the sign-in answer could not be verified: sign in again")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		h.log.Warn("admin: id token nonce does not match the sign-in")
		return session{}, foyer.Errorf(foyer.EFORBIDDEN, "the sign-in answer does not belong to this sign-in: sign in again")
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil || c.OID == "" {
		return session{}, foyer.Errorf(foyer.EFORBIDDEN, "the id token names no user (oid)")
	}
	if _, over := c.ClaimNames["groups"]; over {
		// The group overage: the groups are in Graph, not the token. The
		// session goes on with app roles only, which do not overflow.
		h.log.Warn("admin: the id token's groups overflowed; only app roles decide for this user", "user", c.OID)
	}
	email := c.Email
	if _, err := foyer.ParseAddress(email); err != nil {
		email = c.PreferredUsername // Entra's email claim is optional; members sign in with an address
	}
	if _, err := foyer.ParseAddress(email); err != nil {
		email = ""
	}
	return session{OID: c.OID, Name: c.Name, UPN: c.PreferredUsername, Email: email,
		Groups: h.keepGroups(c.Groups), Roles: c.Roles, Expires: h.clock.Now().Add(h.o.SessionTTL).Unix()}, nil
}

// keepGroups keeps the groups named in KnownGroups, all when it is empty.
func (h *Handler) keepGroups(groups []string) []string {
	if len(h.o.KnownGroups) == 0 {
		return groups
	}
	var out []string
	for _, g := range groups {
		if slices.ContainsFunc(h.o.KnownGroups, func(k string) bool { return strings.EqualFold(k, g) }) {
			out = append(out, g)
		}
	}
	return out
}

// signOut answers POST /admin/signout (web checks its CSRF token): the
// session cookie is dropped.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	h.setCookie(w, h.sessionCookie(), "", "/", -1)
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, "signedout", "Signed out", nil)
}

func (h *Handler) signInFailed(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.render(w, r, status, "signinfailed", "Sign-in failed", msg)
}

// fail shows err's user-safe message with the status its code calls for.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		h.log.Error("admin: request failed", "pattern", r.Pattern, "err", err)
	}
	h.render(w, r, status, "error", "Something went wrong", foyer.ErrorMessage(err))
}

func statusOf(err error) int { return web.Status(foyer.ErrorCode(err)) }
