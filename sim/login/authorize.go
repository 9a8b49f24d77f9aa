package login

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// serveAuthorize answers GET /{tenant}/oauth2/v2.0/authorize (entra-docs
// docs/identity-platform/v2-oauth2-auth-code-flow.md, "Request an
// authorization code"). Until the client and its redirect URI are known good,
// errors are shown on an error page; after, they go back to the app at its
// redirect URI (RFC 6749 §4.1.2.1), as Entra does.
func (a *Authority) serveAuthorize(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	ts, app, oerr := a.authorizeClient(tenant, q)
	if oerr != nil {
		a.errorPage(w, r, oerr)
		return
	}
	ar := authRequest{
		tenantID:     ts.ID,
		clientID:     app.ClientID,
		redirectURI:  q.Get("redirect_uri"),
		responseMode: q.Get("response_mode"),
		state:        q.Get("state"),
		nonce:        q.Get("nonce"),
		challenge:    q.Get("code_challenge"),
		method:       q.Get("code_challenge_method"),
		loginHint:    q.Get("login_hint"),
	}
	switch ar.responseMode {
	case "":
		ar.responseMode = "query"
	case "query", "fragment", "form_post":
	default:
		ar.responseMode = "query"
		a.redirectError(w, r, ar, errResponseMode(q.Get("response_mode")))
		return
	}
	if oerr := a.checkAuthorize(ts, q, &ar); oerr != nil {
		a.redirectError(w, r, ar, oerr)
		return
	}
	p := &pendingSignIn{authRequest: ar, cookie: secret(), expires: a.now().Add(signInLifetime)}
	id := a.flows.addPending(p, a.now())
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(id), Value: p.cookie, Path: "/", MaxAge: int(signInLifetime.Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	a.signInPage(w, tenant, ts, app, id, ar.redirectURI, ar.loginHint, "")
}

// authorizeClient finds the tenant and the app of an authorize request and
// checks its redirect URI: what must hold before an error may be sent there.
func (a *Authority) authorizeClient(tenant string, q url.Values) (*tenantState, *appState, *oauthError) {
	ts := a.tenant(tenant)
	if ts == nil {
		return nil, nil, errTenantNotFound(tenant, "invalid_request")
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return nil, nil, errMissingParameter("client_id")
	}
	app := a.app(ts, clientID)
	if app == nil {
		return nil, nil, errAppNotFound(clientID, ts.DisplayName)
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		return nil, nil, errMissingParameter("redirect_uri")
	}
	if !redirectRegistered(app.RedirectURIs, redirect) {
		return nil, nil, errRedirectURI(redirect, app.ClientID)
	}
	return ts, app, nil
}

// checkAuthorize validates what is sent back to the app on error.
func (a *Authority) checkAuthorize(ts *tenantState, q url.Values, ar *authRequest) *oauthError {
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return errMissingParameter("response_type")
	default:
		return errResponseType(rt)
	}
	ds, oerr := a.parseDelegatedScope(ts, q.Get("scope"))
	if oerr != nil {
		return oerr
	}
	ar.scope = ds
	if ar.challenge == "" {
		if ar.method != "" {
			return errMissingParameter("code_challenge")
		}
	} else {
		switch ar.method {
		case "":
			ar.method = "plain" // RFC 7636 §4.3
		case "plain", "S256":
		default:
			return errChallengeMethod()
		}
		if len(ar.challenge) < 43 || len(ar.challenge) > 128 {
			return errChallengeSize()
		}
	}
	if q.Get("prompt") == "none" {
		return errLoginRequired() // no single sign-on session is kept
	}
	return nil
}

// redirectRegistered reports whether uri matches a registered redirect URI:
// exactly, or, for http://localhost, http://127.0.0.1 and http://[::1], with
// any port ("the port component ... is ignored for the purposes of matching a
// redirect URI", entra-docs docs/identity-platform/reply-url.md, "Localhost
// exceptions"; RFC 8252 §7.3).
func redirectRegistered(registered []string, uri string) bool {
	for _, reg := range registered {
		if reg == uri {
			return true
		}
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || !isLoopback(u.Hostname()) {
		return false
	}
	for _, reg := range registered {
		ru, err := url.Parse(reg)
		if err == nil && ru.Scheme == "http" && ru.Hostname() == u.Hostname() && ru.Path == u.Path && ru.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Authorize errors. AADSTS50011's text is the one Entra shows for a reply
// URL mismatch (reference-error-codes.md: InvalidReplyTo; reply-url.md).
func errRedirectURI(uri, clientID string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 50011, fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", uri, clientID)}
}

// AADSTS70005 (UnsupportedResponseType).
func errResponseType(rt string) *oauthError {
	return &oauthError{http.StatusBadRequest, "unsupported_response_type", 70005, fmt.Sprintf("response_type '%s' is not supported for this application.", rt)}
}

// AADSTS70007 (UnsupportedResponseMode).
func errResponseMode(mode string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 70007, fmt.Sprintf("The application returned an unsupported value '%s' of response_mode when requesting a token.", mode)}
}

// AADSTS50149 (invalid Code_Challenge_Method) and AADSTS501491
// (InvalidCodeChallengeMethodInvalidSize).
func errChallengeMethod() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 50149, "Invalid Code_Challenge_method parameter."}
}

func errChallengeSize() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 501491, "Invalid size of Code_Challenge parameter."}
}

// AADSTS50058 (UserInformationNotProvided), for prompt=none.
func errLoginRequired() *oauthError {
	return &oauthError{http.StatusBadRequest, "login_required", 50058, "A silent sign-in request was sent but no user is signed in."}
}

// cookieName is the name of a sign-in page's cookie: one per page, so that
// two pages open at once do not overwrite each other's.
func cookieName(id string) string {
	if len(id) > 12 {
		id = id[:12]
	}
	return "sim_login_" + id
}

// serveSignIn takes the sign-in form (POST /{tenant}/login, where Entra's
// form posts too).
func (a *Authority) serveSignIn(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		a.errorPage(w, r, errMalformed())
		return
	}
	id := r.PostForm.Get("ctx")
	var cookie string
	if c, err := r.Cookie(cookieName(id)); err == nil {
		cookie = c.Value
	}
	now := a.now()
	p, ok := a.flows.pendingFor(id, cookie, now)
	ts := a.tenant(tenant)
	if !ok || ts == nil || ts.ID != p.tenantID {
		a.errorPage(w, r, errFlowExpired())
		return
	}
	app := a.app(ts, p.clientID)
	if app == nil {
		a.errorPage(w, r, errAppNotFound(p.clientID, ts.DisplayName))
		return
	}
	login := strings.TrimSpace(r.PostForm.Get("loginfmt"))
	u := a.user(ts, login)
	var msg string
	switch {
	case u == nil:
		msg = msgNoSuchUser
	case subtle.ConstantTimeCompare([]byte(u.Password), []byte(r.PostForm.Get("passwd"))) != 1:
		msg = msgWrongPassword
	}
	if msg != "" {
		a.log.Info("login: sign-in refused", "tenant", ts.ID, "client_id", app.ClientID, "known_user", u != nil)
		if a.flows.failed(id) {
			a.errorPage(w, r, errLocked())
			return
		}
		a.signInPage(w, tenant, ts, app, id, p.redirectURI, login, msg)
		return
	}
	code, c, ok := a.flows.complete(id, u.ObjectID, now)
	if !ok {
		a.errorPage(w, r, errFlowExpired())
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName(id), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	a.log.Info("login: signed in", "tenant", ts.ID, "client_id", app.ClientID, "user", u.ObjectID)
	params := url.Values{"code": {code}, "session_state": {a.newID()}}
	if c.state != "" {
		params.Set("state", c.state)
	}
	a.respond(w, r, c.authRequest, params)
}

// The sign-in page's messages: the texts Entra's page shows for an unknown
// account (AADSTS50034, UserAccountNotFound) and a wrong password
// (AADSTS50126, InvalidUserNameOrPassword).
const (
	msgNoSuchUser    = "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin."
	msgWrongPassword = "Your account or password is incorrect. If you don't remember your password, reset it now."
)

// AADSTS50089 (flow token expired): the form came without its page's cookie,
// or after the page expired.
func errFlowExpired() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 50089, "Flow token expired. Authentication failed. Have the user try signing-in again with username -password."}
}

// AADSTS50053 (IdsLocked).
func errLocked() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 50053, "Your account is locked because you've tried to sign in too many times with an incorrect user ID or password."}
}

// redirectError sends an authorize error back to the app.
func (a *Authority) redirectError(w http.ResponseWriter, r *http.Request, ar authRequest, e *oauthError) {
	trace, corr := a.newID(), a.newID()
	ts := a.now().Format(aadTimestamp)
	params := url.Values{
		"error":             {e.code},
		"error_description": {fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", e.aadsts, e.text, trace, corr, ts)},
		"error_uri":         {fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", e.aadsts)},
	}
	if ar.state != "" {
		params.Set("state", ar.state)
	}
	a.log.Info("login: authorize refused", "error", e.code, "aadsts", e.aadsts, "trace_id", trace)
	a.respond(w, r, ar, params)
}

// respond delivers an authorize response to the app in its response mode.
func (a *Authority) respond(w http.ResponseWriter, r *http.Request, ar authRequest, params url.Values) {
	u, err := url.Parse(ar.redirectURI)
	if err != nil { // registered URIs were checked; this cannot happen
		a.errorPage(w, r, errMalformed())
		return
	}
	if u.Path == "" && (u.Scheme == "http" || u.Scheme == "https") {
		u.Path = "/" // reply-url.md: a redirect URI without a path is returned with a trailing slash
	}
	var target string
	switch ar.responseMode {
	case "form_post":
		a.formPostPage(w, r, u.String(), params)
		return
	case "fragment":
		u.Fragment, u.RawFragment = "", ""
		target = u.String() + "#" + params.Encode()
	default:
		q := u.Query()
		for k, v := range params {
			q[k] = v
		}
		u.RawQuery = q.Encode()
		target = u.String()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// serveLogout answers /{tenant}/oauth2/v2.0/logout (entra-docs docs/
// identity-platform/v2-protocols-oidc.md, "Send a sign-out request"). No
// single sign-on session is kept, so there is nothing to end: it redirects to
// post_logout_redirect_uri if that is a redirect URI of the app named by
// client_id or by id_token_hint's audience, and otherwise shows the
// signed-out page.
func (a *Authority) serveLogout(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		a.errorPage(w, r, errMalformed())
		return
	}
	ts := a.tenant(tenant)
	if ts == nil {
		a.errorPage(w, r, errTenantNotFound(tenant, "invalid_request"))
		return
	}
	post := r.Form.Get("post_logout_redirect_uri")
	clientID := r.Form.Get("client_id")
	if clientID == "" {
		clientID = a.idTokenAudience(r.Form.Get("id_token_hint"))
	}
	if app := a.app(ts, clientID); post != "" && app != nil && redirectRegistered(app.RedirectURIs, post) {
		u, err := url.Parse(post)
		if err == nil {
			if state := r.Form.Get("state"); state != "" {
				q := u.Query()
				q.Set("state", state)
				u.RawQuery = q.Encode()
			}
			http.Redirect(w, r, u.String(), http.StatusFound)
			return
		}
	}
	a.signedOutPage(w)
}

// idTokenAudience returns the aud of an id token this authority signed, or "".
// Its lifetime is not checked: an expired id token is a fine hint.
func (a *Authority) idTokenAudience(token string) string {
	if token == "" {
		return ""
	}
	j, err := parseJWS(token)
	if err != nil || j.header.Kid != a.signer.kid || j.verify(&a.signer.key.PublicKey) != nil {
		return ""
	}
	var c idClaims
	if j.claims(&c) != nil {
		return ""
	}
	return c.Aud
}

// cspSource matches origins safe to put in a Content-Security-Policy header.
var cspSource = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:(//[A-Za-z0-9.\-\[\]:]+)?$`)

// formActionSource is the CSP source allowing a form (or the redirect after
// it) to reach uri's origin; "" if uri's origin cannot be written safely.
func formActionSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	src := u.Scheme + ":"
	if u.Host != "" {
		src = u.Scheme + "://" + u.Host
	}
	if !cspSource.MatchString(src) {
		return ""
	}
	return src
}
