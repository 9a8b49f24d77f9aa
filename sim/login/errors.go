package login

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// oauthError is an error response of the token and discovery endpoints, in
// Entra's shape (entra-docs docs/identity-platform/reference-error-codes.md,
// "Handling error codes in your application"):
//
//	{"error":"invalid_scope","error_description":"AADSTS70011: ...\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: 2016-01-09 02:02:12Z",
//	 "error_codes":[70011],"timestamp":"2016-01-09 02:02:12Z","trace_id":"...","correlation_id":"...",
//	 "error_uri":"https://login.microsoftonline.com/error?code=70011"}
type oauthError struct {
	status int    // HTTP status
	code   string // the OAuth error: invalid_request, invalid_client, ...
	aadsts int    // the AADSTS number
	text   string // the message after "AADSTSnnn: "
}

func (e *oauthError) Error() string { return fmt.Sprintf("%s: AADSTS%d: %s", e.code, e.aadsts, e.text) }

// The catalogue. Texts follow what Entra returns, as quoted in the error-code
// reference above and in issue threads that paste real responses; where Entra
// has a code but no text we could find, the text is the reference's
// description of the code. Statuses: 400 for request errors, 401 for client
// authentication failures (RFC 6749 §5.2; Entra's invalid_client answers are
// 401).

// AADSTS90002 (reference-error-codes.md: InvalidTenantName); text as pasted in
// Azure/azure-cli#22145. Discovery answers it as invalid_tenant, the token
// endpoint as invalid_request.
func errTenantNotFound(name, oauthCode string) *oauthError {
	return &oauthError{http.StatusBadRequest, oauthCode, 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", name)}
}

// AADSTS700016 (UnauthorizedClient_DoesNotMatchRequest); text as pasted in
// MicrosoftDocs/azure-docs#21690.
func errAppNotFound(clientID, directory string) *oauthError {
	return &oauthError{http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, directory)}
}

// AADSTS7000215 (Invalid client secret is provided); text as pasted in
// hoppscotch/hoppscotch#3868.
func errBadSecret(clientID string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID)}
}

// AADSTS7000216 for client_credentials and AADSTS7000218 for the other grants
// (reference-error-codes.md); 7000218's text as pasted in
// Azure-Samples/ms-identity-javascript-v2#18.
func errNoCredential(grant string) *oauthError {
	if grant == "client_credentials" {
		return &oauthError{http.StatusUnauthorized, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."}
	}
	return &oauthError{http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
}

// AADSTS700025 (InvalidClientPublicClientWithCredential).
func errPublicClientWithCredential() *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."}
}

// AADSTS900144 (reference-error-codes.md).
func errMissingParameter(name string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 900144, fmt.Sprintf("The request body must contain the following parameter: '%s'.", name)}
}

// AADSTS900561 (BadResourceRequestInvalidRequest).
func errMethod(method string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 900561, fmt.Sprintf("The endpoint only accepts POST, OPTIONS requests. Received a %s request.", method)}
}

// AADSTS9002313 (InvalidRequest - Request is malformed or invalid): the
// catch-all for a body we cannot read, repeated parameters (RFC 6749 §3.1) or
// two client authentication methods at once (RFC 6749 §2.3).
func errMalformed() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid."}
}

// AADSTS70003 (UnsupportedGrantType).
func errGrantType(grant string) *oauthError {
	return &oauthError{http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant)}
}

// AADSTS1002012: a client-credentials scope without /.default; text as pasted
// in MicrosoftDocs/azure-docs#99862.
func errScopeNotDefault(scope string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)}
}

// AADSTS70011 (InvalidScope); text as in reference-error-codes.md's sample.
func errScope(scope string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_scope", 70011, fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", scope)}
}

// AADSTS700022 (InvalidMultipleResourcesScope).
func errScopeResources(scope string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_scope", 700022, fmt.Sprintf("The provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", scope)}
}

// AADSTS500011 (InvalidResourceServicePrincipalNotFound); text as pasted in
// Azure/azure-cli#29113.
func errResourceNotFound(resource, directory string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_resource", 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, directory)}
}

// certificateDocs is the pointer Entra appends to client-assertion errors.
const certificateDocs = "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."

// AADSTS50027 (InvalidJwtToken) for an assertion that is not a JWT at all.
func errAssertionMalformed() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."}
}

// AADSTS700027, the key not registered; text as pasted in keycloak/keycloak#19425.
func errAssertionKeyNotFound(thumbprint, clientID string) *oauthError {
	var tp string
	if thumbprint != "" {
		tp = fmt.Sprintf(" Thumbprint of key used by client: '%s',", thumbprint)
	}
	return &oauthError{http.StatusUnauthorized, "invalid_client", 700027, fmt.Sprintf("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found.,%s Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/%s']", tp, clientID, clientID)}
}

// AADSTS700027, a registered key that did not verify the signature or has
// expired ("Client assertion contains an invalid signature", as pasted in
// pnp/cli-microsoft365#1621).
func errAssertionSignature(reason, thumbprint, start, end string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 700027, fmt.Sprintf("Client assertion contains an invalid signature. [Reason - %s, Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s']", reason, thumbprint, start, end)}
}

// AADSTS700024; text as pasted in AzureAD/microsoft-authentication-library-for-java#984.
func errAssertionTime(now, from, to string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. %s", now, from, to, certificateDocs)}
}

// AADSTS700023 (client assertion audience claim does not match Realm issuer).
func errAssertionAudience() *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 700023, "Client assertion audience claim does not match Realm issuer. " + certificateDocs}
}

// AADSTS700021 (client assertion application identifier doesn't match client_id).
func errAssertionIssuer() *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter. " + certificateDocs}
}

// AADSTS50048 (SubjectMismatchesIssuer).
func errAssertionSubject() *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 50048, "Subject mismatches Issuer claim in the client assertion."}
}

// AADSTS90014 (MissingRequiredField): an assertion without exp or jti.
func errAssertionClaim(name string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 90014, fmt.Sprintf("The required field '%s' is missing from the credential. Ensure that you have all the necessary parameters for the login request.", name)}
}

// AADSTS70000 (InvalidGrant) for a code we never issued, issued to another
// client, or redeemed with another redirect URI.
func errCode(what string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_grant", 70000, fmt.Sprintf("The provided value for the '%s' is not valid.", what)}
}

// AADSTS70008 (ExpiredOrRevokedGrant).
func errCodeExpired() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."}
}

// AADSTS54005 (authorization code already redeemed).
func errCodeRedeemed() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."}
}

// AADSTS700005 (InvalidGrantRedeemAgainstWrongTenant).
func errCodeTenant() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_grant", 700005, "Provided Authorization Code is intended to use against other tenant, thus rejected."}
}

// AADSTS501481; text as pasted in AzureAD/microsoft-authentication-library-for-js#2694.
func errPKCE() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request."}
}

// AADSTS50049 (NoSuchInstanceForDiscovery) and AADSTS50050 (MalformedDiscoveryRequest).
func errInstance() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance."}
}

func errInstanceRequest() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 50050, "The request is malformed."}
}

// aadTimestamp is the format of Entra's timestamp fields: "2016-01-09 02:02:12Z".
const aadTimestamp = "2006-01-02 15:04:05Z"

// writeOAuthError answers with e in Entra's shape. The correlation id echoes
// the client-request-id header MSAL sends, as Entra does.
func (a *Authority) writeOAuthError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	trace := a.newID()
	corr := r.Header.Get("client-request-id")
	if !isGUID(corr) {
		corr = a.newID()
	}
	ts := a.now().Format(aadTimestamp)
	body := struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		Timestamp     string `json:"timestamp"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
		URI           string `json:"error_uri"`
	}{
		Error:         e.code,
		Description:   fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", e.aadsts, e.text, trace, corr, ts),
		Codes:         []int{e.aadsts},
		Timestamp:     ts,
		TraceID:       trace,
		CorrelationID: corr,
		URI:           "https://login.microsoftonline.com/error?code=" + strconv.Itoa(e.aadsts),
	}
	a.log.Info("login: request refused", "path", r.URL.Path, "error", e.code, "aadsts", e.aadsts, "trace_id", trace)
	h := w.Header()
	h.Set("x-ms-request-id", trace)
	h.Set("client-request-id", corr)
	writeJSON(w, e.status, body)
}

// writeJSON answers with v as JSON, not cacheable, as Entra's token endpoint does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Entra writes "&" in URLs as is
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func isGUID(s string) bool {
	_, err := canonicalGUID(s)
	return err == nil
}

// TokenError is why Verify refused a request, in Microsoft Graph's terms: the
// server answers 401 with {"error":{"code":Code,"message":Message}}.
type TokenError struct {
	Code    string // always "InvalidAuthenticationToken"
	Message string // Graph's message, safe to show: it never quotes the token
	Reason  error  // one of the ErrToken* values, for errors.Is
}

func (e *TokenError) Error() string { return "login: " + e.Code + ": " + e.Message }

// Is lets errors.Is match the reason.
func (e *TokenError) Is(target error) bool { return e.Reason == target }

// Unwrap returns the reason.
func (e *TokenError) Unwrap() error { return e.Reason }

// Status is the HTTP status Graph answers with: 401.
func (e *TokenError) Status() int { return http.StatusUnauthorized }

// Reasons Verify refuses a token.
var (
	ErrTokenMissing   = tokenReason("no bearer token")
	ErrTokenMalformed = tokenReason("token is not a well-formed JWT")
	ErrTokenInvalid   = tokenReason("token signature or issuer is not valid")
	ErrTokenExpired   = tokenReason("token has expired or is not yet valid")
	ErrTokenAudience  = tokenReason("token is for another audience")
)

type tokenReasonError string

func (e tokenReasonError) Error() string { return string(e) }

func tokenReason(s string) error { return tokenReasonError(s) }

// Graph's messages for InvalidAuthenticationToken. "Access token is empty.",
// "Access token has expired or is not yet valid." and "Access token
// validation failure. Invalid audience." are what Graph answers
// (docs/graph-reference.md §6; microsoftgraph/microsoft-graph-docs#16208); the IDX14100 text
// is what Graph answers for a token with no dots (MaikuB/flutter_appauth#575).
// The signature and issuer messages follow the same "Access token validation
// failure." pattern; we found no pasted example of their exact wording.
func tokenError(reason error, detail string) *TokenError {
	var msg string
	switch reason {
	case ErrTokenMissing:
		msg = "Access token is empty."
	case ErrTokenExpired:
		msg = "Access token has expired or is not yet valid."
	case ErrTokenAudience:
		msg = "Access token validation failure. Invalid audience."
	case ErrTokenMalformed:
		if detail == errNoDots.Error() {
			msg = "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EncodedPayload.EncodedSignature'. (JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag'."
		} else {
			msg = "Access token validation failure. The token is malformed."
		}
	default:
		msg = "Access token validation failure. " + strings.TrimSpace(detail)
	}
	return &TokenError{Code: "InvalidAuthenticationToken", Message: msg, Reason: reason}
}
