package login

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
)

// The managed identity endpoint, as App Service and Azure Functions serve
// it to the code they host (IDENTITY_ENDPOINT, IDENTITY_HEADER, API version
// 2019-08-01, as MSAL Go's managedidentity package speaks it):
//
//	GET /{tenant}/msi/token?api-version=2019-08-01&resource=R[&client_id=|&principal_id=|&mi_res_id=]
//	X-IDENTITY-HEADER: {the tenant's IdentityHeader}
//
// No parameter naming an identity means the host's system-assigned one.
// The answer is the resource's app-only token for the identity:
//
//	{"access_token", "expires_on", "not_before", "resource", "token_type", "client_id"}
//
// with the times in seconds since 1970 as strings. Real hosts answer errors
// with 400 or 401 and a body of their own; the sim's bodies are
// {"statusCode", "message"} with its own wording.

const identityAPIVersion = "2019-08-01"

// identityResponse is the endpoint's answer.
type identityResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresOn   string `json:"expires_on"`
	NotBefore   string `json:"not_before"`
	Resource    string `json:"resource"`
	TokenType   string `json:"token_type"`
	ClientID    string `json:"client_id"`
}

type identityError struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

func (a *Authority) serveIdentity(w http.ResponseWriter, r *http.Request, tenant string) {
	fail := func(status int, msg string) {
		a.log.Info("login: managed identity request refused", "path", r.URL.Path, "status", status, "reason", msg)
		writeJSON(w, status, identityError{StatusCode: status, Message: msg})
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		fail(http.StatusMethodNotAllowed, "the identity endpoint answers GET only")
		return
	}
	ts := a.tenant(tenant)
	if ts == nil || ts.IdentityHeader == "" {
		fail(http.StatusNotFound, "no managed identity endpoint here")
		return
	}
	got := r.Header.Get("X-IDENTITY-HEADER")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ts.IdentityHeader)) != 1 {
		fail(http.StatusUnauthorized, "X-IDENTITY-HEADER is missing or wrong")
		return
	}
	q := r.URL.Query()
	if v := q.Get("api-version"); v != identityAPIVersion {
		fail(http.StatusBadRequest, "api-version "+strconv.Quote(v)+" is not supported; use "+identityAPIVersion)
		return
	}
	resourceID := q.Get("resource")
	if resourceID == "" {
		fail(http.StatusBadRequest, "resource is required")
		return
	}
	res, ok := a.resource(ts, resourceID)
	if !ok {
		fail(http.StatusBadRequest, "resource "+strconv.Quote(resourceID)+" is not known to the tenant")
		return
	}
	app, msg := a.managedIdentity(ts, q.Get("client_id"), q.Get("principal_id"), q.Get("mi_res_id"))
	if app == nil {
		fail(http.StatusBadRequest, msg)
		return
	}
	tok, err := a.mintAppToken(ts.ID, app, res, resourceID, acrCertificate)
	if err != nil {
		a.log.Error("login: sign managed identity token", "err", err)
		fail(http.StatusInternalServerError, "the token could not be signed")
		return
	}
	now := a.now()
	a.log.Info("login: token issued", "grant", "managed_identity", "tenant", ts.ID, "client_id", app.ClientID, "audience", resourceID, "roles", len(app.roles[res.appID]))
	writeJSON(w, http.StatusOK, identityResponse{
		AccessToken: tok,
		ExpiresOn:   strconv.FormatInt(now.Add(accessLifetime).Unix(), 10),
		NotBefore:   strconv.FormatInt(now.Add(-backdate).Unix(), 10),
		Resource:    resourceID,
		TokenType:   "Bearer",
		ClientID:    app.ClientID,
	})
}

// managedIdentity finds the identity a request names: by client id, by
// service principal (object) id, by ARM resource id, or the system-assigned
// one when none is named. It returns nil and why when there is none.
func (a *Authority) managedIdentity(ts *tenantState, clientID, principalID, resourceID string) (*appState, string) {
	named := 0
	for _, v := range []string{clientID, principalID, resourceID} {
		if v != "" {
			named++
		}
	}
	if named > 1 {
		return nil, "name the identity once: client_id, principal_id or mi_res_id"
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, app := range ts.apps {
		switch {
		case app.ManagedIdentity == "":
		case named == 0 && app.ManagedIdentity == ManagedSystem,
			clientID != "" && strings.EqualFold(app.ClientID, clientID),
			principalID != "" && strings.EqualFold(app.ObjectID, principalID),
			resourceID != "" && strings.EqualFold(app.ResourceID, resourceID):
			return app, ""
		}
	}
	if named == 0 {
		return nil, "the host has no system-assigned identity"
	}
	return nil, "no managed identity assigned to the host matches " + strings.TrimSpace(clientID+" "+principalID+" "+resourceID)
}
