package login

import (
	"net/http"
	"net/url"
	"strings"
)

// openIDConfig is the OIDC discovery document, with the fields of Entra's v2.0
// document (entra-docs docs/identity-platform/v2-protocols-oidc.md and
// docs/graph-reference.md §8) that describe what this authority serves. MSAL Go requires
// authorization_endpoint, token_endpoint and issuer, and the issuer's scheme
// and host must equal the authority's (microsoft-authentication-library-for-go
// apps/internal/oauth/ops/authority/authority.go, TenantDiscoveryResponse.
// Validate and ValidateIssuerMatchesAuthority): hence every URL is built from
// the host the client used.
type openIDConfig struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	TenantRegionScope                 string   `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MSGraphHost                       string   `json:"msgraph_host"`
}

// issuerV2 is the issuer of v2.0 id tokens: https://{host}/{tid}/v2.0.
func issuerV2(r *http.Request, tid string) string { return origin(r) + "/" + tid + "/v2.0" }

// issuerV1 is the issuer of v1.0 access tokens, Graph's included
// (docs/graph-reference.md §8: iss=https://sts.windows.net/{tid}/).
func issuerV1(tid string) string { return "https://sts.windows.net/" + tid + "/" }

func (a *Authority) serveOpenIDConfig(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ts := a.tenant(tenant)
	if ts == nil {
		a.writeOAuthError(w, r, errTenantNotFound(tenant, "invalid_tenant"))
		return
	}
	base := origin(r) + "/" + ts.ID
	doc := openIDConfig{
		TokenEndpoint:                     base + "/oauth2/v2.0/token",
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		JWKSURI:                           base + "/discovery/v2.0/keys",
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ResponseTypesSupported:            []string{"code"},
		ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
		Issuer:                            issuerV2(r, ts.ID),
		AuthorizationEndpoint:             base + "/oauth2/v2.0/authorize",
		CodeChallengeMethodsSupported:     []string{"plain", "S256"},
		HTTPLogoutSupported:               true,
		FrontchannelLogoutSupported:       true,
		EndSessionEndpoint:                base + "/oauth2/v2.0/logout",
		ClaimsSupported:                   []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		TenantRegionScope:                 "WW",
		CloudInstanceName:                 "microsoftonline.com",
		CloudGraphHostName:                "graph.windows.net",
		MSGraphHost:                       r.Host, // the sim serves Graph on the same origin
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, doc)
}

func (a *Authority) serveKeys(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ts := a.tenant(tenant)
	if ts == nil {
		a.writeOAuthError(w, r, errTenantNotFound(tenant, "invalid_tenant"))
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, struct {
		Keys []jwk `json:"keys"`
	}{[]jwk{a.signer.jwk(issuerV2(r, ts.ID))}})
}

// serveInstance answers MSAL's instance discovery
// (GET /common/discovery/instance?api-version=1.1&authorization_endpoint=...;
// docs/graph-reference.md §8) for this host only: any other instance is unknown.
func (a *Authority) serveInstance(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	endpoint := r.URL.Query().Get("authorization_endpoint")
	if endpoint == "" {
		a.writeOAuthError(w, r, errInstanceRequest())
		return
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || !strings.EqualFold(u.Host, r.Host) {
		a.writeOAuthError(w, r, errInstance())
		return
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if tenant == "" {
		a.writeOAuthError(w, r, errInstance())
		return
	}
	type metadata struct {
		PreferredNetwork string   `json:"preferred_network"`
		PreferredCache   string   `json:"preferred_cache"`
		Aliases          []string `json:"aliases"`
	}
	writeJSON(w, http.StatusOK, struct {
		TenantDiscoveryEndpoint string     `json:"tenant_discovery_endpoint"`
		APIVersion              string     `json:"api-version"`
		Metadata                []metadata `json:"metadata"`
	}{
		TenantDiscoveryEndpoint: origin(r) + "/" + url.PathEscape(tenant) + "/v2.0/.well-known/openid-configuration",
		APIVersion:              "1.1",
		Metadata:                []metadata{{r.Host, r.Host, []string{r.Host}}},
	})
}
