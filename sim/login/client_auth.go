package login

import (
	"bytes"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// jwtBearer is the only client_assertion_type (RFC 7523 §2.2).
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// authenticateClient checks the client's credential and returns its appidacr.
// A confidential app (one with a secret or a certificate) must present one; a
// public app (neither) must present none.
func (a *Authority) authenticateClient(r *http.Request, ts *tenantState, pathTenant string, app *appState, tr tokenRequest) (string, *oauthError) {
	presented := tr.clientSecret != "" || tr.clientAssertion != "" || tr.clientAssertionType != ""
	if len(app.Secrets) == 0 && len(app.certs) == 0 && tr.grantType != "client_credentials" {
		if presented {
			return "", errPublicClientWithCredential()
		}
		return acrPublic, nil
	}
	switch {
	case tr.clientAssertion != "" || tr.clientAssertionType != "":
		if tr.clientAssertionType != jwtBearer || tr.clientAssertion == "" {
			return "", errMalformed()
		}
		if oerr := a.checkAssertion(r, ts, pathTenant, app, tr.clientAssertion); oerr != nil {
			return "", oerr
		}
		return acrCertificate, nil
	case tr.clientSecret != "":
		for _, s := range app.Secrets {
			if subtle.ConstantTimeCompare([]byte(s), []byte(tr.clientSecret)) == 1 {
				return acrSecret, nil
			}
		}
		return "", errBadSecret(app.ClientID)
	}
	return "", errNoCredential(tr.grantType)
}

// assertionClaims are the claims of a client assertion (entra-docs docs/
// identity-platform/certificate-credentials.md): aud the token endpoint,
// iss and sub the client id, jti unique, exp and nbf its lifetime. MSAL Go
// signs it with PS256 and an x5t#S256 header, or RS256 and x5t for ADFS
// (microsoft-authentication-library-for-go apps/internal/oauth/ops/
// accesstokens/accesstokens.go, Credential.JWT).
type assertionClaims struct {
	Aud audience     `json:"aud"`
	Iss string       `json:"iss"`
	Sub string       `json:"sub"`
	Jti string       `json:"jti"`
	Exp *numericDate `json:"exp"`
	Nbf *numericDate `json:"nbf"`
}

// assertionTime is the time format of AADSTS700024's message.
const assertionTime = "2006-01-02T15:04:05.0000000Z"

// keyTime is the time format of AADSTS700027's "Found key" part.
const keyTime = "01/02/2006 15:04:05"

// checkAssertion verifies a client assertion against the app's certificates.
// The replay of a jti is not refused: MSAL .NET reuses a signed assertion
// until it nears expiry, and Entra accepts that.
func (a *Authority) checkAssertion(r *http.Request, ts *tenantState, pathTenant string, app *appState, assertion string) *oauthError {
	j, err := parseJWS(assertion)
	if err != nil {
		return errAssertionMalformed()
	}
	cert, thumb := findCert(app, j.header)
	if cert == nil {
		return errAssertionKeyNotFound(thumb, app.ClientID)
	}
	now := a.now()
	start, end := cert.cert.NotBefore.UTC().Format(keyTime), cert.cert.NotAfter.UTC().Format(keyTime)
	if now.After(cert.cert.NotAfter) || now.Before(cert.cert.NotBefore) {
		return errAssertionSignature("The key used is expired.", thumb, start, end)
	}
	if err := j.verify(cert.key); err != nil {
		return errAssertionSignature("The provided signature value did not match the expected signature value.", thumb, start, end)
	}
	var c assertionClaims
	if err := j.claims(&c); err != nil {
		return errAssertionMalformed()
	}
	switch {
	case c.Exp == nil:
		return errAssertionClaim("exp")
	case c.Jti == "":
		return errAssertionClaim("jti")
	case !strings.EqualFold(c.Iss, app.ClientID):
		return errAssertionIssuer()
	case c.Sub != c.Iss:
		return errAssertionSubject()
	case !audienceIsTokenEndpoint(r, ts, pathTenant, c.Aud):
		return errAssertionAudience()
	}
	from := time.Unix(0, 0).UTC()
	if c.Nbf != nil {
		from = c.Nbf.time()
	}
	if now.After(c.Exp.time().Add(clockSkew)) || now.Before(from.Add(-clockSkew)) {
		return errAssertionTime(now.Format(assertionTime), from.Format(assertionTime), c.Exp.time().Format(assertionTime))
	}
	return nil
}

// findCert finds the app certificate an assertion header names by its
// x5t#S256 or x5t thumbprint. It also returns the thumbprint in upper-case
// hex, as Entra quotes it.
func findCert(app *appState, h jwtHeader) (*appCert, string) {
	var want []byte
	var pick func(*appCert) []byte
	switch {
	case h.X5tS256 != "":
		want, _ = decodeThumbprint(h.X5tS256)
		pick = func(c *appCert) []byte { return c.sha256 }
	case h.X5t != "":
		want, _ = decodeThumbprint(h.X5t)
		pick = func(c *appCert) []byte { return c.sha1 }
	default:
		return nil, ""
	}
	thumb := strings.ToUpper(hex.EncodeToString(want))
	if len(want) == 0 {
		return nil, thumb
	}
	for i := range app.certs {
		if bytes.Equal(pick(&app.certs[i]), want) {
			return &app.certs[i], thumb
		}
	}
	return nil, thumb
}

// audienceIsTokenEndpoint accepts the token endpoint's URL, v2.0 or v1.0, with
// the tenant named by id, by any of its domains or as the request named it.
func audienceIsTokenEndpoint(r *http.Request, ts *tenantState, pathTenant string, aud audience) bool {
	base := origin(r) + "/"
	names := append([]string{ts.ID, pathTenant}, ts.Domains...)
	for _, got := range aud {
		for _, n := range names {
			for _, path := range []string{"/oauth2/v2.0/token", "/oauth2/token"} {
				if strings.EqualFold(got, base+n+path) {
					return true
				}
			}
		}
	}
	return false
}
