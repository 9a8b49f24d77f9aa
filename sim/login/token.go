package login

import (
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxForm bounds a token request body. MSAL's are well under 8 KiB, even with
// a client assertion carrying a certificate chain.
const maxForm = 64 << 10

// tokenRequest is a parsed token endpoint request.
type tokenRequest struct {
	grantType           string
	clientID            string
	clientSecret        string
	basic               bool // the secret came in HTTP Basic authentication
	clientAssertionType string
	clientAssertion     string
	scope               string
	code                string
	redirectURI         string
	codeVerifier        string
}

// parseTokenRequest reads a token request body (application/x-www-form-
// urlencoded, RFC 6749 §3.2) and the Authorization header. A body of another
// type has no parameters, so its grant_type is missing, as on Entra. Parameters
// may not repeat (RFC 6749 §3.1). The claims parameter (client capabilities
// and claims challenges that MSAL sends) is accepted and ignored.
func parseTokenRequest(contentType string, body []byte, authorization string) (tokenRequest, *oauthError) {
	var tr tokenRequest
	form := url.Values{}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt == "application/x-www-form-urlencoded" {
		var perr error
		if form, perr = url.ParseQuery(string(body)); perr != nil {
			return tr, errMalformed()
		}
	}
	for _, v := range form {
		if len(v) > 1 {
			return tr, errMalformed()
		}
	}
	tr.grantType = form.Get("grant_type")
	tr.clientID = form.Get("client_id")
	tr.clientSecret = form.Get("client_secret")
	tr.clientAssertionType = form.Get("client_assertion_type")
	tr.clientAssertion = form.Get("client_assertion")
	tr.scope = form.Get("scope")
	tr.code = form.Get("code")
	tr.redirectURI = form.Get("redirect_uri")
	tr.codeVerifier = form.Get("code_verifier")
	if authorization != "" {
		id, secret, err := basicCredentials(authorization)
		if err != nil {
			return tr, err
		}
		if tr.clientSecret != "" || tr.clientID != "" && tr.clientID != id {
			return tr, errMalformed() // two client authentications (RFC 6749 §2.3)
		}
		tr.clientID, tr.clientSecret, tr.basic = id, secret, true
	}
	if tr.clientSecret != "" && (tr.clientAssertion != "" || tr.clientAssertionType != "") {
		return tr, errMalformed()
	}
	return tr, nil
}

// basicCredentials decodes HTTP Basic client authentication: client id and
// secret, each form-urlencoded, joined by a colon (RFC 6749 §2.3.1).
func basicCredentials(h string) (string, string, *oauthError) {
	scheme, b64, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", errMalformed()
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return "", "", errMalformed()
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errMalformed()
	}
	id, err1 := url.QueryUnescape(id)
	secret, err2 := url.QueryUnescape(secret)
	if err1 != nil || err2 != nil || id == "" || secret == "" {
		return "", "", errMalformed()
	}
	return id, secret, nil
}

func (a *Authority) serveToken(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodPost {
		a.writeOAuthError(w, r, errMethod(r.Method))
		return
	}
	ts := a.tenant(tenant)
	if ts == nil {
		a.writeOAuthError(w, r, errTenantNotFound(tenant, "invalid_request"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxForm))
	if err != nil {
		a.writeOAuthError(w, r, errMalformed())
		return
	}
	tr, oerr := parseTokenRequest(r.Header.Get("Content-Type"), body, r.Header.Get("Authorization"))
	if oerr != nil {
		a.writeOAuthError(w, r, oerr)
		return
	}
	var resp *tokenResponse
	switch tr.grantType {
	case "client_credentials":
		resp, oerr = a.clientCredentials(r, ts, tenant, tr)
	case "authorization_code":
		resp, oerr = a.authorizationCode(r, ts, tenant, tr)
	case "":
		oerr = errMissingParameter("grant_type")
	default:
		oerr = errGrantType(tr.grantType)
	}
	if oerr != nil {
		a.writeOAuthError(w, r, oerr)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// clientApp finds and authenticates the client of a token request.
func (a *Authority) clientApp(r *http.Request, ts *tenantState, pathTenant string, tr tokenRequest) (*appState, string, *oauthError) {
	if tr.clientID == "" {
		return nil, "", errMissingParameter("client_id")
	}
	app := a.app(ts, tr.clientID)
	if app == nil {
		return nil, "", errAppNotFound(tr.clientID, ts.DisplayName)
	}
	acr, oerr := a.authenticateClient(r, ts, pathTenant, app, tr)
	return app, acr, oerr
}

// clientCredentials is the client-credentials grant (entra-docs docs/
// identity-platform/v2-oauth2-client-creds-grant-flow.md): an app-only token
// for the one resource named by scope "{resource}/.default".
func (a *Authority) clientCredentials(r *http.Request, ts *tenantState, pathTenant string, tr tokenRequest) (*tokenResponse, *oauthError) {
	app, acr, oerr := a.clientApp(r, ts, pathTenant, tr)
	if oerr != nil {
		return nil, oerr
	}
	res, aud, oerr := a.appScope(ts, tr.scope)
	if oerr != nil {
		return nil, oerr
	}
	tok, err := a.mintAppToken(ts.ID, app, res, aud, acr)
	if err != nil {
		a.log.Error("login: sign access token", "err", err)
		return nil, &oauthError{http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token."}
	}
	a.log.Info("login: token issued", "grant", "client_credentials", "tenant", ts.ID, "client_id", app.ClientID, "audience", aud, "roles", len(app.roles[res.appID]))
	return &tokenResponse{TokenType: "Bearer", ExpiresIn: int(accessLifetime.Seconds()), ExtExpiresIn: int(accessLifetime.Seconds()), AccessToken: tok}, nil
}

// oidcScopes are the OpenID Connect scopes; MSAL adds "openid offline_access
// profile" to every request, the client-credentials one included (docs/graph-reference.md §8).
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

func isOIDCScope(s string) bool { return slices.Contains(oidcScopes, strings.ToLower(s)) }

// appScope reads a client-credentials scope: exactly one "{resource}/.default"
// besides OIDC scopes. It returns the resource and the audience as named.
func (a *Authority) appScope(ts *tenantState, scope string) (*resource, string, *oauthError) {
	fields := strings.Fields(scope)
	if len(fields) == 0 {
		return nil, "", errMissingParameter("scope")
	}
	var aud string
	for _, f := range fields {
		if isOIDCScope(f) {
			continue
		}
		id, ok := strings.CutSuffix(f, "/.default")
		if !ok || id == "" {
			return nil, "", errScopeNotDefault(f)
		}
		if aud != "" && aud != id {
			return nil, "", errScopeResources(scope)
		}
		aud = id
	}
	if aud == "" {
		return nil, "", errScope(scope)
	}
	res, ok := a.resource(ts, aud)
	if !ok {
		return nil, "", errResourceNotFound(aud, ts.DisplayName)
	}
	return res, aud, nil
}
