package login

import (
	"crypto/rsa"
	"crypto/sha1" // #nosec: x5t thumbprints are SHA-1 by definition (RFC 7515 §4.1.7)
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Errors of the registration calls. Callers branch with errors.Is.
var (
	ErrNotFound = errors.New("not registered")
	ErrExists   = errors.New("already registered")
	ErrInvalid  = errors.New("invalid registration")
)

// Tenant is an Entra directory the authority issues tokens for.
type Tenant struct {
	ID          string   // the tenant id, a GUID
	DisplayName string   // the directory's name, as AADSTS700016 quotes it
	Domains     []string // verified domains; each also names the tenant in URLs
	// IdentityHeader is the secret a host's code sends as X-IDENTITY-HEADER
	// to the managed identity endpoint (App Service's IDENTITY_HEADER);
	// "" turns the endpoint off for the tenant.
	IdentityHeader string
}

// App is an app registration with its service principal in its tenant.
type App struct {
	TenantID     string
	ClientID     string // the application (client) id, a GUID
	DisplayName  string
	ObjectID     string              // the service principal's object id: the oid of app-only tokens
	Secrets      []string            // client secret values
	Certificates []*x509.Certificate // certificate credentials (RSA keys)
	RedirectURIs []string            // for the authorization-code flow
	// GroupMembershipClaims is the app registration's groupMembershipClaims
	// (Graph's application resource): which groups its id tokens list in a
	// groups claim. "" or GroupsNone: no groups claim.
	GroupMembershipClaims string
	// Permissions are the application permissions (app roles) granted to the
	// app, by resource: "https://graph.microsoft.com" → ["User.Invite.All", ...].
	// A resource may be named by any of its identifier URIs or its app id:
	// Microsoft's APIs, or an app of the same tenant that exposes an API
	// (IdentifierURIs), registered first, whose AppRoles hold every role
	// granted on it.
	Permissions map[string][]string
	// IdentifierURIs make the app a resource other apps get tokens for
	// (its Application ID URIs, api://…): a client-credentials scope
	// "{uri}/.default" or "{client id}/.default" names it, and the token's
	// aud is the name the scope used, as in v1.0 access tokens.
	IdentifierURIs []string
	// AppRoles are the values of the app roles the app defines for
	// applications: what may be granted on it.
	AppRoles []string
	// ManagedIdentity makes the service principal a managed identity's:
	// ManagedSystem (the host's own, one per tenant) or ManagedUser. It gets
	// tokens only from the managed identity endpoint, and has no secrets.
	ManagedIdentity string
	// ResourceID is a user-assigned identity's ARM id
	// (/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME).
	ResourceID string
}

// Values of App.GroupMembershipClaims (Graph's application resource,
// groupMembershipClaims). DirectoryRole alone adds no groups claim: Entra
// sends directory roles in a wids claim, which the sim does not model.
const (
	GroupsNone             = "None"
	GroupsSecurityGroup    = "SecurityGroup"    // security groups the user is a member of, nested ones too
	GroupsAll              = "All"              // security groups, distribution lists and Microsoft 365 groups
	GroupsDirectoryRole    = "DirectoryRole"    // directory roles only (wids, not modelled)
	GroupsApplicationGroup = "ApplicationGroup" // only the groups assigned to the app
)

// Kinds of managed identity.
const (
	ManagedSystem = "system"
	ManagedUser   = "user"
)

// User is a member who can sign in on the authorize page.
type User struct {
	TenantID    string
	ObjectID    string // a GUID
	UPN         string // the sign-in name, user@domain
	DisplayName string
	Email       string
	Password    string
}

// tenantState is a registered tenant with its apps and users.
type tenantState struct {
	Tenant
	apps  map[string]*appState // by lower-case client id
	users map[string]*User     // by lower-case UPN
}

// appState is an app with what is derived from it once, at registration.
type appState struct {
	App
	roles map[string][]string // by resource app id, sorted
	certs []appCert
}

// appCert is a registered certificate with its thumbprints and RSA key.
type appCert struct {
	cert   *x509.Certificate
	key    *rsa.PublicKey
	sha1   []byte
	sha256 []byte
}

// AddTenant registers a tenant. Its id and domain names must not name another.
func (a *Authority) AddTenant(t Tenant) error {
	id, err := canonicalGUID(t.ID)
	if err != nil {
		return fmt.Errorf("add tenant %q: tenant id: %w", t.ID, err)
	}
	t.ID = id
	domains := make([]string, 0, len(t.Domains))
	for _, d := range t.Domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || !strings.Contains(d, ".") || strings.ContainsAny(d, "/ @:?#") {
			return fmt.Errorf("add tenant %s: domain %q: %w", id, d, ErrInvalid)
		}
		domains = append(domains, d)
	}
	t.Domains = domains
	if t.DisplayName == "" {
		t.DisplayName = id
	}
	ts := &tenantState{Tenant: t, apps: make(map[string]*appState), users: make(map[string]*User)}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, name := range append([]string{id}, domains...) {
		if _, ok := a.tenants[name]; ok {
			return fmt.Errorf("add tenant %s: %s: %w", id, name, ErrExists)
		}
	}
	for _, name := range append([]string{id}, domains...) {
		a.tenants[name] = ts
	}
	return nil
}

// tenant finds a tenant by id or domain name, as a URL segment names it.
func (a *Authority) tenant(name string) *tenantState {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.tenants[strings.ToLower(name)]
}

// AddApp registers an app in its tenant.
func (a *Authority) AddApp(app App) error {
	as, err := a.checkApp(app)
	if err != nil {
		return fmt.Errorf("add app %q: %w", app.ClientID, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := a.tenants[as.TenantID]
	if ts == nil {
		return fmt.Errorf("add app %s: tenant %s: %w", as.ClientID, as.TenantID, ErrNotFound)
	}
	key := strings.ToLower(as.ClientID)
	if _, ok := ts.apps[key]; ok {
		return fmt.Errorf("add app %s: %w", as.ClientID, ErrExists)
	}
	if as.ManagedIdentity == ManagedSystem {
		for _, other := range ts.apps {
			if other.ManagedIdentity == ManagedSystem {
				return fmt.Errorf("add app %s: the tenant's host already has a system-assigned identity, %s: %w", as.ClientID, other.ClientID, ErrExists)
			}
		}
	}
	ts.apps[key] = as
	return nil
}

// UpdateApp replaces an app's registration (secrets, certificates, redirect
// URIs, permissions, names). Tokens already issued keep their claims, as on
// Entra, until they expire.
func (a *Authority) UpdateApp(app App) error {
	as, err := a.checkApp(app)
	if err != nil {
		return fmt.Errorf("update app %q: %w", app.ClientID, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := a.tenants[as.TenantID]
	key := strings.ToLower(as.ClientID)
	if ts == nil || ts.apps[key] == nil {
		return fmt.Errorf("update app %s: %w", as.ClientID, ErrNotFound)
	}
	ts.apps[key] = as
	return nil
}

// SetPermissions replaces the application permissions granted to an app; the
// next token it gets carries them.
func (a *Authority) SetPermissions(tenantID, clientID string, perms map[string][]string) error {
	app, err := a.App(tenantID, clientID)
	if err != nil {
		return fmt.Errorf("set permissions: %w", err)
	}
	app.Permissions = perms
	return a.UpdateApp(app)
}

// RemoveApp deletes an app registration: it can get no more tokens.
func (a *Authority) RemoveApp(tenantID, clientID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := a.tenants[strings.ToLower(tenantID)]
	key := strings.ToLower(clientID)
	if ts == nil || ts.apps[key] == nil {
		return fmt.Errorf("remove app %s: %w", clientID, ErrNotFound)
	}
	delete(ts.apps, key)
	return nil
}

// App returns a copy of an app's registration.
func (a *Authority) App(tenantID, clientID string) (App, error) {
	as := a.app(a.tenant(tenantID), clientID)
	if as == nil {
		return App{}, fmt.Errorf("app %s in tenant %s: %w", clientID, tenantID, ErrNotFound)
	}
	app := as.App
	app.Secrets = slices.Clone(app.Secrets)
	app.Certificates = slices.Clone(app.Certificates)
	app.RedirectURIs = slices.Clone(app.RedirectURIs)
	app.IdentifierURIs = slices.Clone(app.IdentifierURIs)
	app.AppRoles = slices.Clone(app.AppRoles)
	app.Permissions = make(map[string][]string, len(as.Permissions))
	for k, v := range as.Permissions {
		app.Permissions[k] = slices.Clone(v)
	}
	return app, nil
}

func (a *Authority) app(ts *tenantState, clientID string) *appState {
	if ts == nil {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return ts.apps[strings.ToLower(clientID)]
}

// checkApp validates an app and derives its lookup tables.
func (a *Authority) checkApp(app App) (*appState, error) {
	var err error
	if app.TenantID, err = canonicalGUID(app.TenantID); err != nil {
		return nil, fmt.Errorf("tenant id: %w", err)
	}
	if app.ClientID, err = canonicalGUID(app.ClientID); err != nil {
		return nil, fmt.Errorf("client id: %w", err)
	}
	if app.ObjectID, err = canonicalGUID(app.ObjectID); err != nil {
		return nil, fmt.Errorf("service principal object id: %w", err)
	}
	if app.DisplayName == "" {
		app.DisplayName = app.ClientID
	}
	for i, s := range app.Secrets {
		if s == "" {
			return nil, fmt.Errorf("secret %d is empty: %w", i, ErrInvalid)
		}
	}
	switch app.GroupMembershipClaims {
	case "", GroupsNone, GroupsSecurityGroup, GroupsAll, GroupsDirectoryRole, GroupsApplicationGroup:
	default:
		return nil, fmt.Errorf("group membership claims %q: want None, SecurityGroup, All, DirectoryRole or ApplicationGroup: %w", app.GroupMembershipClaims, ErrInvalid)
	}
	switch app.ManagedIdentity {
	case "":
		if app.ResourceID != "" {
			return nil, fmt.Errorf("resource id %q on an app that is not a managed identity: %w", app.ResourceID, ErrInvalid)
		}
	case ManagedSystem, ManagedUser:
		if len(app.Secrets) > 0 || len(app.Certificates) > 0 || len(app.RedirectURIs) > 0 {
			return nil, fmt.Errorf("a managed identity has no secrets, certificates or redirect URIs: %w", ErrInvalid)
		}
		if (app.ManagedIdentity == ManagedUser) != (app.ResourceID != "") {
			return nil, fmt.Errorf("a user-assigned identity, and only one, has a resource id: %w", ErrInvalid)
		}
	default:
		return nil, fmt.Errorf("managed identity %q: want %q or %q: %w", app.ManagedIdentity, ManagedSystem, ManagedUser, ErrInvalid)
	}
	as := &appState{roles: make(map[string][]string)}
	for i, c := range app.Certificates {
		if c == nil {
			return nil, fmt.Errorf("certificate %d is nil: %w", i, ErrInvalid)
		}
		pub, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("certificate %d has a %T key; client assertions are signed with RSA: %w", i, c.PublicKey, ErrInvalid)
		}
		s1 := sha1.Sum(c.Raw) // #nosec: thumbprint
		s256 := sha256.Sum256(c.Raw)
		as.certs = append(as.certs, appCert{cert: c, key: pub, sha1: s1[:], sha256: s256[:]})
	}
	for _, u := range app.RedirectURIs {
		p, err := url.Parse(u)
		if err != nil || !p.IsAbs() || p.Host == "" || p.Fragment != "" {
			return nil, fmt.Errorf("redirect URI %q must be an absolute URL without a fragment: %w", u, ErrInvalid)
		}
	}
	for _, u := range app.IdentifierURIs {
		p, err := url.Parse(u)
		if err != nil || p.Scheme == "" || strings.HasSuffix(u, "/.default") {
			return nil, fmt.Errorf("identifier URI %q must be an absolute URI (api://…, https://…): %w", u, ErrInvalid)
		}
		if _, ok := a.res.find(u); ok {
			return nil, fmt.Errorf("identifier URI %q is a Microsoft API's: %w", u, ErrInvalid)
		}
	}
	ts := a.tenant(app.TenantID)
	self := appResource(&app)
	for name, roles := range app.Permissions {
		r, ok := a.res.find(name)
		if !ok && self.names(name) {
			r, ok = self, true
		}
		if !ok && ts != nil {
			r, ok = a.tenantResource(ts, name)
		}
		if !ok {
			return nil, fmt.Errorf("permissions for %q: unknown resource (known: %s, and the tenant's apps with identifier URIs): %w", name, a.res.names(), ErrInvalid)
		}
		if r.roles != nil {
			for _, role := range roles {
				if !slices.Contains(r.roles, role) {
					return nil, fmt.Errorf("permissions for %q: %s defines no app role %q (it defines %s): %w", name, r.name, role, strings.Join(r.roles, ", "), ErrInvalid)
				}
			}
		}
		merged := append(as.roles[r.appID], roles...)
		slices.Sort(merged)
		as.roles[r.appID] = slices.Compact(merged)
	}
	app.Secrets = slices.Clone(app.Secrets)
	app.Certificates = slices.Clone(app.Certificates)
	app.RedirectURIs = slices.Clone(app.RedirectURIs)
	perms := make(map[string][]string, len(app.Permissions))
	for k, v := range app.Permissions {
		perms[k] = slices.Clone(v)
	}
	app.Permissions = perms
	app.IdentifierURIs = slices.Clone(app.IdentifierURIs)
	app.AppRoles = slices.Clone(app.AppRoles)
	as.App = app
	return as, nil
}

// AddUser registers a user who can sign in on the authorize page.
func (a *Authority) AddUser(u User) error {
	var err error
	if u.TenantID, err = canonicalGUID(u.TenantID); err != nil {
		return fmt.Errorf("add user %q: tenant id: %w", u.UPN, err)
	}
	if u.ObjectID, err = canonicalGUID(u.ObjectID); err != nil {
		return fmt.Errorf("add user %q: object id: %w", u.UPN, err)
	}
	local, domain, ok := strings.Cut(u.UPN, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(u.UPN, " \t\r\n") {
		return fmt.Errorf("add user %q: a UPN is user@domain: %w", u.UPN, ErrInvalid)
	}
	if u.Password == "" {
		return fmt.Errorf("add user %s: empty password: %w", u.UPN, ErrInvalid)
	}
	if u.DisplayName == "" {
		u.DisplayName = local
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := a.tenants[u.TenantID]
	if ts == nil {
		return fmt.Errorf("add user %s: tenant %s: %w", u.UPN, u.TenantID, ErrNotFound)
	}
	key := strings.ToLower(u.UPN)
	if _, ok := ts.users[key]; ok {
		return fmt.Errorf("add user %s: %w", u.UPN, ErrExists)
	}
	for _, other := range ts.users {
		if other.ObjectID == u.ObjectID {
			return fmt.Errorf("add user %s: object id %s: %w", u.UPN, u.ObjectID, ErrExists)
		}
	}
	ts.users[key] = &u
	return nil
}

// RemoveUser deletes a user: they can no longer sign in.
func (a *Authority) RemoveUser(tenantID, objectID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := a.tenants[strings.ToLower(tenantID)]
	if ts != nil {
		for k, u := range ts.users {
			if strings.EqualFold(u.ObjectID, objectID) {
				delete(ts.users, k)
				return nil
			}
		}
	}
	return fmt.Errorf("remove user %s: %w", objectID, ErrNotFound)
}

func (a *Authority) user(ts *tenantState, upn string) *User {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return ts.users[strings.ToLower(strings.TrimSpace(upn))]
}

// canonicalGUID checks that s is a GUID and returns it in lower case.
func canonicalGUID(s string) (string, error) {
	if len(s) != 36 {
		return "", fmt.Errorf("%q is not a GUID: %w", s, ErrInvalid)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", fmt.Errorf("%q is not a GUID: %w", s, ErrInvalid)
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return "", fmt.Errorf("%q is not a GUID: %w", s, ErrInvalid)
			}
		}
	}
	return strings.ToLower(s), nil
}

// resource is an API the authority issues tokens for: one of Microsoft's,
// or an app of a tenant that exposes one.
type resource struct {
	name  string   // for messages
	appID string   // the resource's application id
	ids   []string // identifier URIs a scope or an audience may name it by
	roles []string // a tenant app's app roles; nil for Microsoft's APIs, which are not checked
}

// appResource is app as a resource: named by its client id or one of its
// identifier URIs.
func appResource(app *App) *resource {
	roles := app.AppRoles
	if roles == nil {
		roles = []string{}
	}
	return &resource{name: app.DisplayName, appID: strings.ToLower(app.ClientID), ids: app.IdentifierURIs, roles: roles}
}

// names reports whether id names r.
func (r *resource) names(id string) bool {
	return strings.EqualFold(id, r.appID) || slices.ContainsFunc(r.ids, func(u string) bool { return strings.EqualFold(u, id) })
}

// tenantResource finds an app of ts that exposes an API named id.
func (a *Authority) tenantResource(ts *tenantState, id string) (*resource, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, app := range ts.apps {
		if len(app.IdentifierURIs) == 0 && !strings.EqualFold(app.ClientID, id) {
			continue
		}
		if r := appResource(&app.App); r.names(id) {
			return r, true
		}
	}
	return nil, false
}

// resource finds the API a scope or a resource parameter names in ts: one
// of Microsoft's, or one of the tenant's apps.
func (a *Authority) resource(ts *tenantState, id string) (*resource, bool) {
	if r, ok := a.res.find(id); ok {
		return r, true
	}
	return a.tenantResource(ts, id)
}

// resources looks resources up by identifier.
type resources struct {
	list []resource
	by   map[string]*resource // by lower-case identifier or app id
}

// newResources lists the APIs foyer calls. App ids and identifier URIs are
// Microsoft's published first-party values (Graph 00000003-0000-0000-c000-
// 000000000000; Azure Service Management 797f4846-ba00-4fd7-ba43-dac1f8f63013,
// whose tokens azcore requests as https://management.azure.com or
// https://management.core.windows.net/; Office 365 Exchange Online
// 00000002-0000-0ff1-ce00-000000000000).
func newResources() resources {
	rs := resources{list: []resource{
		{"Microsoft Graph", "00000003-0000-0000-c000-000000000000",
			[]string{"https://graph.microsoft.com", "https://graph.microsoft.com/", "https://canary.graph.microsoft.com"}, nil},
		{"Windows Azure Service Management API", "797f4846-ba00-4fd7-ba43-dac1f8f63013",
			[]string{"https://management.azure.com", "https://management.azure.com/", "https://management.core.windows.net/", "https://management.core.windows.net"}, nil},
		{"Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000",
			[]string{"https://outlook.office365.com", "https://outlook.office365.com/", "https://outlook.office.com", "https://outlook.office.com/"}, nil},
	}}
	rs.by = make(map[string]*resource)
	for i := range rs.list {
		r := &rs.list[i]
		rs.by[r.appID] = r
		for _, id := range r.ids {
			rs.by[strings.ToLower(id)] = r
		}
	}
	return rs
}

func (rs resources) find(id string) (*resource, bool) {
	r, ok := rs.by[strings.ToLower(id)]
	return r, ok
}

func (rs resources) names() string {
	var out []string
	for _, r := range rs.list {
		out = append(out, r.ids[0])
	}
	return strings.Join(out, ", ")
}
