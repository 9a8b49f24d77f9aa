package sim

import (
	"fmt"
	"strings"

	"github.com/foyer-dev/foyer/sim/login"
)

// App is an app registration with its service principal in the tenant and
// what it was granted: Graph application permissions, Exchange app roles,
// Azure roles, and the app roles it defines itself.
type App struct {
	ClientID      string           `json:"client_id"`
	ObjectID      string           `json:"object_id"` // its service principal's id: the oid of its tokens
	DisplayName   string           `json:"display_name"`
	Secret        string           `json:"secret,omitempty"`
	Permissions   []string         `json:"permissions"`              // Graph application permissions, e.g. User.Invite.All
	ExchangeRoles []string         `json:"exchange_roles,omitempty"` // e.g. Exchange.ManageAsApp
	AzureRoles    []AzureRoleGrant `json:"azure_roles,omitempty"`
	AppRoles      []AppRole        `json:"app_roles,omitempty"` // roles the app defines, for assignments to it
	// IdentifierURIs make the app an API other apps get tokens for
	// (api://…): a client-credentials scope "{uri}/.default" names it.
	IdentifierURIs []string `json:"identifier_uris,omitempty"`
	// APIPermissions are app roles granted on the tenant's own APIs (apps
	// added before this one with IdentifierURIs), by identifier URI or
	// client id: {"api://foyer": ["Foyer.Invitations"]}.
	APIPermissions map[string][]string `json:"api_permissions,omitempty"`
	RedirectURIs   []string            `json:"redirect_uris,omitempty"`
	// GroupMembershipClaims is the registration's groupMembershipClaims:
	// which groups its id tokens list ("SecurityGroup", "All",
	// "ApplicationGroup"; "" or "None": no groups claim). Its id tokens also
	// carry the app roles a user is assigned on its service principal.
	GroupMembershipClaims string `json:"group_membership_claims,omitempty"`
	// ManagedIdentity makes it a managed identity of the host foyer runs on
	// ("system" or "user") instead of an app registration: it has no secret
	// and gets tokens from IdentityEndpoint.
	ManagedIdentity string `json:"managed_identity,omitempty"`
	// ResourceID is a user-assigned identity's ARM id; made up when empty.
	ResourceID string `json:"resource_id,omitempty"`
}

// AzureRoleGrant gives an app's service principal an Azure role at a scope
// (empty scope: the default subscription).
type AzureRoleGrant struct {
	Role  string `json:"role"`  // name (Owner) or definition GUID
	Scope string `json:"scope"` // /subscriptions/…
}

// AppRole is a role an app defines (GD resources/approle.md).
type AppRole struct {
	ID          string `json:"id"`
	Value       string `json:"value"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
}

// defaultPermissions are the Graph application permissions of the default
// app: every one foyer's calls need (graph.md).
var defaultPermissions = []string{
	"User.Invite.All", "User.ReadWrite.All", "GroupMember.ReadWrite.All", "AppRoleAssignment.ReadWrite.All",
	"Application.Read.All", "RoleManagement.ReadWrite.Directory", "LicenseAssignment.ReadWrite.All",
	"Organization.Read.All", "Domain.Read.All", "AuditLog.Read.All", "Directory.Read.All",
	"LifecyclePolicies-Guests.Read.All",
}

// AddApp registers another app in the default tenant, for example one with
// only User.Read.All to see Graph's 403. Empty ids and secret are made up.
func (s *Server) AddApp(a App) (App, error) {
	return s.addApp(s.def, a, false)
}

func (s *Server) addApp(t *tenant, a App, isDefault bool) (App, error) {
	if a.ClientID == "" {
		a.ClientID = s.ids.guid()
	}
	if a.ObjectID == "" {
		a.ObjectID = s.ids.guid()
	}
	if a.DisplayName == "" {
		a.DisplayName = "app " + a.ClientID[:8]
	}
	var secrets []string
	switch a.ManagedIdentity {
	case "":
		if a.Secret == "" {
			a.Secret = s.newSecret()
		}
		secrets = []string{a.Secret}
	case login.ManagedSystem, login.ManagedUser:
		if a.Secret != "" || len(a.RedirectURIs) > 0 {
			return App{}, fmt.Errorf("add app %s: a managed identity has no secret and no redirect URIs", a.DisplayName)
		}
		if a.ManagedIdentity == login.ManagedUser && a.ResourceID == "" {
			sub := ""
			t.mu.RLock()
			for _, sb := range t.azure.subscriptions {
				sub = sb.ID
			}
			t.mu.RUnlock()
			a.ResourceID = "/subscriptions/" + sub + "/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" +
				strings.ReplaceAll(strings.ToLower(a.DisplayName), " ", "-")
		}
	default:
		return App{}, fmt.Errorf("add app %s: managed identity %q: want system or user", a.DisplayName, a.ManagedIdentity)
	}
	if !isGUID(a.ClientID) || !isGUID(a.ObjectID) {
		return App{}, fmt.Errorf("add app: client id and object id must be GUIDs")
	}
	la := login.App{
		TenantID: t.id, ClientID: a.ClientID, DisplayName: a.DisplayName, ObjectID: a.ObjectID,
		Secrets: secrets, RedirectURIs: a.RedirectURIs, ManagedIdentity: a.ManagedIdentity, ResourceID: a.ResourceID,
		GroupMembershipClaims: a.GroupMembershipClaims,
		Permissions: map[string][]string{
			"https://graph.microsoft.com":   a.Permissions,
			"https://outlook.office365.com": a.ExchangeRoles,
		},
		IdentifierURIs: a.IdentifierURIs,
	}
	for _, r := range a.AppRoles {
		la.AppRoles = append(la.AppRoles, r.Value)
	}
	for res, roles := range a.APIPermissions {
		la.Permissions[res] = append(la.Permissions[res], roles...)
	}
	if err := s.auth.AddApp(la); err != nil {
		return App{}, fmt.Errorf("add app %s: %w", a.DisplayName, err)
	}
	t.mu.Lock()
	err := t.addAppObjects(a, s.ids)
	t.mu.Unlock()
	if err != nil {
		_ = s.auth.RemoveApp(t.id, a.ClientID)
		return App{}, err
	}
	s.mu.Lock()
	if isDefault {
		s.app = a
	} else {
		s.extraApps = append(s.extraApps, a)
	}
	s.mu.Unlock()
	return a, nil
}

// addAppObjects creates the app's service principal and its Azure grants.
func (t *tenant) addAppObjects(a App, g *ids) error {
	if _, ok := t.object(a.ObjectID); ok {
		return fmt.Errorf("add app %s: object id %s is taken", a.DisplayName, a.ObjectID)
	}
	sp := &servicePrincipal{
		objMeta:                t.nextMeta(a.ObjectID, t.seedTime, 0),
		AccountEnabled:         true,
		AppDisplayName:         a.DisplayName,
		AppID:                  a.ClientID,
		AppOwnerOrganizationID: t.id,
		DisplayName:            a.DisplayName,
		ServicePrincipalNames:  append([]string{a.ClientID}, a.IdentifierURIs...),
		ServicePrincipalType:   "Application",
	}
	if a.ManagedIdentity != "" {
		sp.ServicePrincipalType = "ManagedIdentity" // servicePrincipalType's documented value for one
	}
	for _, r := range a.AppRoles {
		sp.AppRoles = append(sp.AppRoles, appRole{AllowedMemberTypes: []string{"User"}, Description: r.Description, DisplayName: r.DisplayName, ID: r.ID, IsEnabled: true, Origin: "Application", Value: r.Value})
	}
	t.sps.add(sp)
	for _, grant := range a.AzureRoles {
		if err := t.grantAzure(a.ObjectID, "ServicePrincipal", grant, g); err != nil {
			return err
		}
	}
	return nil
}

// grantAzure seeds an Azure role assignment.
func (t *tenant) grantAzure(principal, ptype string, grant AzureRoleGrant, g *ids) error {
	role := azureRoleByID(grant.Role)
	for i := range builtInRoles {
		if strings.EqualFold(builtInRoles[i].Name, grant.Role) {
			role = &builtInRoles[i]
		}
	}
	if role == nil {
		return fmt.Errorf("azure role %q: not a built-in role the sim knows", grant.Role)
	}
	scope := grant.Scope
	if scope == "" {
		for _, sub := range t.azure.subscriptions {
			scope = "/subscriptions/" + sub.ID
		}
	}
	if err := t.checkScope(scope); err != nil {
		return fmt.Errorf("azure role %s at %q: %s", role.Name, scope, err.message)
	}
	t.azure.assignments.add(&azureAssignment{
		objMeta:          t.nextMeta(g.guid(), t.seedTime, 0),
		Scope:            scope,
		RoleDefinitionID: role.ID,
		PrincipalID:      strings.ToLower(principal),
		PrincipalType:    ptype,
	})
	return nil
}

// newSecret makes a client secret shaped like Entra's (40 characters with
// the "8Q~" marker).
func (s *Server) newSecret() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
	b := make([]byte, 37)
	s.ids.read(b)
	out := make([]byte, 0, 40)
	for i, c := range b {
		if i == 3 {
			out = append(out, '8', 'Q', '~')
		}
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out[:40])
}
