package login

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"
)

const (
	// accessLifetime is the expires_in of every access token: the value
	// Entra's client-credentials answers carry (docs/graph-reference.md §8).
	accessLifetime = 3599 * time.Second
	// backdate is how far before issuance Entra stamps iat and nbf, so that a
	// resource whose clock runs a little behind accepts a fresh token.
	backdate = 5 * time.Minute
	// idLifetime is the lifetime of id tokens: one hour on Entra
	// (entra-docs docs/identity-platform/id-tokens.md).
	idLifetime = time.Hour
)

// accessClaims are the claims of a v1.0 access token as Entra issues them for
// Microsoft Graph, ARM and Exchange (entra-docs docs/identity-platform/
// access-token-claims-reference.md; docs/graph-reference.md §8). App-only tokens carry roles
// and idtyp "app"; delegated tokens carry scp, the user and idtyp "user".
type accessClaims struct {
	Aud            string      `json:"aud"`
	Iss            string      `json:"iss"`
	Iat            numericDate `json:"iat"`
	Nbf            numericDate `json:"nbf"`
	Exp            numericDate `json:"exp"`
	Acr            string      `json:"acr,omitempty"`
	Amr            []string    `json:"amr,omitempty"`
	AppDisplayName string      `json:"app_displayname,omitempty"`
	AppID          string      `json:"appid"`
	AppIDAcr       string      `json:"appidacr"`
	Azp            string      `json:"azp,omitempty"`
	Idp            string      `json:"idp,omitempty"`
	Idtyp          string      `json:"idtyp"`
	Name           string      `json:"name,omitempty"`
	Oid            string      `json:"oid"`
	Roles          []string    `json:"roles,omitempty"`
	Scp            string      `json:"scp,omitempty"`
	Sub            string      `json:"sub"`
	Tid            string      `json:"tid"`
	UniqueName     string      `json:"unique_name,omitempty"`
	UPN            string      `json:"upn,omitempty"`
	Uti            string      `json:"uti"`
	Ver            string      `json:"ver"`
}

// idClaims are the claims of a v2.0 id token (entra-docs docs/
// identity-platform/id-token-claims-reference.md).
type idClaims struct {
	Aud               string      `json:"aud"`
	Iss               string      `json:"iss"`
	Iat               numericDate `json:"iat"`
	Nbf               numericDate `json:"nbf"`
	Exp               numericDate `json:"exp"`
	AuthTime          numericDate `json:"auth_time,omitempty"`
	Email             string      `json:"email,omitempty"`
	Name              string      `json:"name,omitempty"`
	Nonce             string      `json:"nonce,omitempty"`
	Oid               string      `json:"oid"`
	PreferredUsername string      `json:"preferred_username,omitempty"`
	Sub               string      `json:"sub"`
	Tid               string      `json:"tid"`
	Uti               string      `json:"uti"`
	Ver               string      `json:"ver"`
	Groups            []string    `json:"groups,omitempty"`
	Roles             []string    `json:"roles,omitempty"`
	// ClaimNames and ClaimSources say where the groups are when there were
	// too many for the token (the group overage).
	ClaimNames   map[string]string      `json:"_claim_names,omitempty"`
	ClaimSources map[string]claimSource `json:"_claim_sources,omitempty"`
}

// claimSource is one entry of _claim_sources: where a client reads the
// claim the token left out.
type claimSource struct {
	Endpoint string `json:"endpoint"`
}

// maxTokenGroups is the most groups a JWT lists: "The number of groups
// emitted in a token is limited to ... 200 for JWT, including nested
// groups" (entra-docs docs/identity/hybrid/connect/how-to-connect-fed-group-
// claims.md). Past it the groups claim is left out and _claim_names points
// to Microsoft Graph instead (entra-docs docs/identity-platform/
// id-token-claims-reference.md, "Groups overage claim").
const maxTokenGroups = 200

// tokenResponse is the token endpoint's success answer (docs/graph-reference.md §8):
// {"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"..."}.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
}

// uti is a token's unique id: 16 random bytes in base64url, 22 characters
// like Entra's.
func (a *Authority) uti() string { return base64.RawURLEncoding.EncodeToString(a.randomBytes(16)) }

// appidacr says how the client authenticated: "0" public client, "1" client
// secret, "2" certificate.
const (
	acrPublic      = "0"
	acrSecret      = "1"
	acrCertificate = "2"
)

// mintAppToken signs an app-only access token for app and the resource named
// by aud, carrying the app's current permissions on that resource. An app with
// none still gets a token, without roles, as on Entra.
func (a *Authority) mintAppToken(tid string, app *appState, res *resource, aud, appidacr string) (string, error) {
	now := a.now()
	c := accessClaims{
		Aud:            aud,
		Iss:            issuerV1(tid),
		Iat:            dateOf(now.Add(-backdate)),
		Nbf:            dateOf(now.Add(-backdate)),
		Exp:            dateOf(now.Add(accessLifetime)),
		AppDisplayName: app.DisplayName,
		AppID:          app.ClientID,
		AppIDAcr:       appidacr,
		Azp:            app.ClientID,
		Idp:            issuerV1(tid),
		Idtyp:          "app",
		Oid:            app.ObjectID,
		Roles:          app.roles[res.appID],
		Sub:            app.ObjectID,
		Tid:            tid,
		Uti:            a.uti(),
		Ver:            "1.0",
	}
	return signRS256(a.signer.key, jwtHeader{Typ: "JWT", X5t: a.signer.kid, Kid: a.signer.kid}, c)
}

// mintUserToken signs a delegated access token for user, used through app.
func (a *Authority) mintUserToken(tid string, app *appState, u *User, aud, scp, appidacr string) (string, error) {
	now := a.now()
	c := accessClaims{
		Aud:            aud,
		Iss:            issuerV1(tid),
		Iat:            dateOf(now.Add(-backdate)),
		Nbf:            dateOf(now.Add(-backdate)),
		Exp:            dateOf(now.Add(accessLifetime)),
		Acr:            "1",
		Amr:            []string{"pwd"},
		AppDisplayName: app.DisplayName,
		AppID:          app.ClientID,
		AppIDAcr:       appidacr,
		Idtyp:          "user",
		Name:           u.DisplayName,
		Oid:            u.ObjectID,
		Scp:            scp,
		Sub:            pairwiseSubject(tid, app.ClientID, u.ObjectID),
		Tid:            tid,
		UniqueName:     u.UPN,
		UPN:            u.UPN,
		Uti:            a.uti(),
		Ver:            "1.0",
	}
	return signRS256(a.signer.key, jwtHeader{Typ: "JWT", X5t: a.signer.kid, Kid: a.signer.kid}, c)
}

// mintIDToken signs a v2.0 id token for user and app. Like Entra, it carries
// name and preferred_username only with the profile scope, email only with
// the email scope.
func (a *Authority) mintIDToken(r *http.Request, tid string, app *appState, u *User, ds delegatedScope, nonce string, authTime time.Time) (string, error) {
	now := a.now()
	c := idClaims{
		Aud:      app.ClientID,
		Iss:      issuerV2(r, tid),
		Iat:      dateOf(now),
		Nbf:      dateOf(now),
		Exp:      dateOf(now.Add(idLifetime)),
		AuthTime: dateOf(authTime),
		Nonce:    nonce,
		Oid:      u.ObjectID,
		Sub:      pairwiseSubject(tid, app.ClientID, u.ObjectID),
		Tid:      tid,
		Uti:      a.uti(),
		Ver:      "2.0",
	}
	if ds.oidc["profile"] {
		c.Name, c.PreferredUsername = u.DisplayName, u.UPN
	}
	if ds.oidc["email"] {
		c.Email = u.Email
	}
	a.addUserClaims(&c, app, u)
	return signRS256(a.signer.key, jwtHeader{Typ: "JWT", Kid: a.signer.kid}, c)
}

// pairwiseSubject is a user's sub for one app: stable, and different for each
// app, like Entra's pairwise subjects (subject_types_supported: pairwise).
func pairwiseSubject(tid, clientID, oid string) string {
	sum := sha256.Sum256([]byte(tid + "|" + clientID + "|" + oid))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:43]
}

// IssueToken returns an app-only access token for an app and a resource
// (e.g. "https://graph.microsoft.com"), exactly as the client-credentials
// grant would issue it with a client secret. It is for tests.
func (a *Authority) IssueToken(tenantID, clientID, resourceID string) (string, error) {
	ts := a.tenant(tenantID)
	if ts == nil {
		return "", fmt.Errorf("issue token: tenant %s: %w", tenantID, ErrNotFound)
	}
	app := a.app(ts, clientID)
	if app == nil {
		return "", fmt.Errorf("issue token: app %s: %w", clientID, ErrNotFound)
	}
	res, ok := a.resource(ts, resourceID)
	if !ok {
		return "", fmt.Errorf("issue token: resource %q (known: %s): %w", resourceID, a.res.names(), ErrNotFound)
	}
	return a.mintAppToken(ts.ID, app, res, resourceID, acrSecret)
}

// addUserClaims adds the groups and roles claims of an id token, as Entra
// does for an app registration that asks for group claims (its
// groupMembershipClaims, entra-docs docs/identity-platform/
// optional-claims.md, "Configure groups optional claims") and whose app
// roles the user is assigned, directly or through a group (entra-docs
// docs/identity-platform/id-token-claims-reference.md: groups, roles;
// howto-add-app-roles-in-apps.md). The directory answers through
// Options.UserClaims.
func (a *Authority) addUserClaims(c *idClaims, app *appState, u *User) {
	if a.userClaims == nil {
		return
	}
	groups, roles := a.userClaims(app.App, u.ObjectID)
	if len(roles) > 0 {
		c.Roles = roles
	}
	switch app.GroupMembershipClaims {
	case "", GroupsNone, GroupsDirectoryRole:
		return
	}
	if len(groups) > maxTokenGroups {
		c.ClaimNames = map[string]string{"groups": "src1"}
		c.ClaimSources = map[string]claimSource{"src1": {Endpoint: "https://graph.microsoft.com/v1.0/users/" + u.ObjectID + "/getMemberObjects"}}
		return
	}
	if len(groups) > 0 {
		c.Groups = groups
	}
}
