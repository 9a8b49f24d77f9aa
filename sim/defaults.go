package sim

import (
	"fmt"
	"time"

	"github.com/foyer-dev/foyer/sim/login"
)

// The default tenant: Contoso, with the verified domains contoso.example
// (default) and contoso.onmicrosoft.com (initial), a few members, guests in
// every state foyer cares about, groups, an enterprise app with roles, SKUs
// with and without free seats, an Azure subscription, and the default app.
// Every id derives from the seed.

const (
	defaultTenantName = "Contoso"
	defaultDomainName = "contoso.example"
	initialDomainName = "contoso.onmicrosoft.com"
	// MemberPassword is the password of the default members on the sign-in
	// page (throwaway, like Azurite's well-known key).
	MemberPassword = "sim-password"
)

// Well-known SKUs (Microsoft's "Product names and service plan identifiers
// for licensing" list).
const (
	skuEnterprisePack = "6fd2c87f-b296-42f0-b197-1e91e994b900" // Office 365 E3
	skuEMS            = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e" // Enterprise Mobility + Security E3
	skuAADPremium     = "078d2b04-f1bd-4111-bbd4-b4b1b354cef4" // Microsoft Entra ID P1
)

// First-party service principals present in every tenant.
const (
	graphAppID    = "00000003-0000-0000-c000-000000000000"
	exchangeAppID = "00000002-0000-0ff1-ce00-000000000000"
)

// builtInDirectoryRoles are Entra's built-in roles foyer names, with their
// template ids (ED docs/identity/role-based-access-control/permissions-reference.md).
var builtInDirectoryRoles = []roleDefinition{
	{ID: "62e90394-69f5-4237-9190-012177145e10", DisplayName: "Global Administrator", Description: "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.", Actions: []string{"microsoft.directory/allEntities/allProperties/allTasks"}},
	{ID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DisplayName: "Global Reader", Description: "Can read everything that a Global Administrator can, but not update anything.", Actions: []string{"microsoft.directory/allEntities/allProperties/read"}},
	{ID: "95e79109-95c0-4d8e-aee3-d01accf2d47b", DisplayName: "Guest Inviter", Description: "Can invite guest users independent of the 'members can invite guests' setting.", Actions: []string{"microsoft.directory/users/inviteGuest"}},
	{ID: "fe930be7-5e62-47db-91af-98c3a49a38b1", DisplayName: "User Administrator", Description: "Can manage all aspects of users and groups, including resetting passwords for limited admins.", Actions: []string{"microsoft.directory/users/allProperties/allTasks"}},
	{ID: "729827e3-9c14-49f7-bb1b-9608f156bbb8", DisplayName: "Helpdesk Administrator", Description: "Can reset passwords for non-administrators and Helpdesk Administrators.", Actions: []string{"microsoft.directory/users/password/update"}},
	{ID: "fdd7a751-b60b-444a-984c-02652fe8fa1c", DisplayName: "Groups Administrator", Description: "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.", Actions: []string{"microsoft.directory/groups/allProperties/allTasks"}},
	{ID: "4d6ac14f-3453-41d0-bef9-a3e0c569773a", DisplayName: "License Administrator", Description: "Can manage product licenses on users and groups.", Actions: []string{"microsoft.directory/users/assignLicense"}},
	{ID: "29232cdf-9323-42fd-ade2-1d097af3e4de", DisplayName: "Exchange Administrator", Description: "Can manage all aspects of the Exchange product.", Actions: []string{"microsoft.office365.exchange/allEntities/basic/allTasks"}},
	{ID: "31392ffb-586c-42d1-9346-e59415a2cc4e", DisplayName: "Exchange Recipient Administrator", Description: "Can create or update Exchange Online recipients within the Exchange Online organization.", Actions: []string{"microsoft.office365.exchange/recipients/allProperties/allTasks"}},
	{ID: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", DisplayName: "Directory Readers", Description: "Can read basic directory information. Commonly used to grant directory read access to applications and guests.", Actions: []string{"microsoft.directory/users/standard/read"}},
	{ID: "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", DisplayName: "Application Administrator", Description: "Can create and manage all aspects of app registrations and enterprise apps.", Actions: []string{"microsoft.directory/applications/allProperties/allTasks"}},
}

// graphAppRoles are some of Microsoft Graph's application permissions with
// their ids (docs/graph-reference.md §1), so that the Graph service principal looks real.
var graphAppRoles = []AppRole{
	{ID: "09850681-111b-4a89-9bed-3f2cae46d706", Value: "User.Invite.All", DisplayName: "Invite guest users to the organization"},
	{ID: "df021288-bdef-4463-88db-98f22de89214", Value: "User.Read.All", DisplayName: "Read all users' full profiles"},
	{ID: "741f803b-c850-494e-b5df-cde7c675a1ca", Value: "User.ReadWrite.All", DisplayName: "Read and write all users' full profiles"},
	{ID: "dbaae8cf-10b5-4b86-a4a1-f871c94c6695", Value: "GroupMember.ReadWrite.All", DisplayName: "Read and write all group memberships"},
	{ID: "62a82d76-70ea-41e2-9197-370581804d09", Value: "Group.ReadWrite.All", DisplayName: "Read and write all groups"},
	{ID: "19dbc75e-c2e2-444c-a770-ec69d8559fc7", Value: "Directory.ReadWrite.All", DisplayName: "Read and write directory data"},
	{ID: "06b708a9-e830-4db3-a914-8e69da51d44f", Value: "AppRoleAssignment.ReadWrite.All", DisplayName: "Manage app permission grants and app role assignments"},
	{ID: "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", Value: "RoleManagement.ReadWrite.Directory", DisplayName: "Read and write all directory RBAC settings"},
	{ID: "b0afded3-3588-46d8-8b3d-9842eff778da", Value: "AuditLog.Read.All", DisplayName: "Read all audit log data"},
}

// addTenant creates a tenant: its identity-platform registration, built-in
// roles, first-party apps, default content unless empty, and the default
// app.
func (s *Server) addTenant(empty bool) (*tenant, error) {
	now := s.clock.Now()
	t := newTenant(s.ids.guid(), defaultTenantName, initialDomainName, now.AddDate(-2, 0, 0))
	t.seedTime = now.AddDate(0, -3, 0)
	t.identityHeader = s.newSecret()
	err := s.auth.AddTenant(login.Tenant{ID: t.id, DisplayName: t.displayName, Domains: []string{initialDomainName, defaultDomainName},
		IdentityHeader: t.identityHeader})
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	s.mu.Lock()
	s.tenants[t.id] = t
	s.empty = empty
	s.mu.Unlock()
	s.initial = s.defaultContent(t, empty)
	app := App{ClientID: s.ids.guid(), ObjectID: s.ids.guid(), DisplayName: "foyer", Secret: s.newSecret(),
		Permissions: defaultPermissions, ExchangeRoles: []string{"Exchange.ManageAsApp"},
		AzureRoles: []AzureRoleGrant{{Role: "Owner"}}}
	if err := s.populate(t); err != nil {
		return nil, err
	}
	if _, err := s.addApp(t, app, true); err != nil {
		return nil, err
	}
	return t, nil
}

// populate fills a cleared tenant with its built-in and initial content.
func (s *Server) populate(t *tenant) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.domainEntry(initialDomainName).IsVerified = true
	t.domainEntry(initialDomainName).IsInitial = true
	t.domainEntry(initialDomainName).IsDefault = true
	for i := range builtInDirectoryRoles {
		d := builtInDirectoryRoles[i]
		t.roleDefs = append(t.roleDefs, &d)
	}
	d := s.initial
	return s.applySeed(t, &d)
}

// defaultContent is the default tenant's content, with ids made once from
// the seed so that a reset brings the same objects back.
func (s *Server) defaultContent(t *tenant, empty bool) SeedData {
	first := SeedData{
		ServicePrincipals: []SeedServicePrincipal{
			{ID: s.ids.guid(), AppID: graphAppID, DisplayName: "Microsoft Graph", AppRoles: graphAppRoles},
			{ID: s.ids.guid(), AppID: exchangeAppID, DisplayName: "Office 365 Exchange Online", AppRoles: []AppRole{{ID: "dc50a0fb-09a3-484d-be87-e023b12c6440", Value: "Exchange.ManageAsApp", DisplayName: "Manage Exchange As Application"}}},
		},
		Subscriptions: []SeedSubscription{{ID: s.ids.guid(), DisplayName: "Contoso Production"}},
	}
	if empty {
		return first
	}
	now := s.clock.Now()
	content := demoContent(s, now)
	content.ServicePrincipals = append(first.ServicePrincipals, content.ServicePrincipals...)
	content.Subscriptions[0].ID = first.Subscriptions[0].ID
	return content
}

func demoContent(s *Server, now time.Time) SeedData {
	yes := true
	days := func(n int) time.Time { return now.AddDate(0, 0, -n) }
	return SeedData{
		Domains:       []SeedDomain{{ID: defaultDomainName, IsDefault: true, IsVerified: &yes}},
		Subscriptions: []SeedSubscription{{DisplayName: "Contoso Production", ResourceGroups: []string{"rg-demo", "rg-shared"}}},
		SKUs: []SeedSKU{
			{SkuID: skuEnterprisePack, SkuPartNumber: "ENTERPRISEPACK", Enabled: 25, ServicePlans: []ServicePlan{
				{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE"},
				{ID: "5dbe027f-2339-4123-9542-606e4d348a72", Name: "SHAREPOINTENTERPRISE"},
				{ID: "57ff2da0-773e-42df-b2af-ffb7a2317929", Name: "TEAMS1"},
				{ID: "43de0ff5-c92c-492b-9116-175376d08c38", Name: "OFFICESUBSCRIPTION"},
			}},
			{SkuID: skuEMS, SkuPartNumber: "EMS", Enabled: 2, ServicePlans: []ServicePlan{
				{ID: "41781fb2-bc02-4b7c-bd55-b576c07bb09d", Name: "AAD_PREMIUM"},
				{ID: "c1ec4a95-1f05-45b3-a911-aa3fa01094f5", Name: "INTUNE_A"},
			}},
			{SkuID: skuAADPremium, SkuPartNumber: "AAD_PREMIUM", Enabled: 10, ServicePlans: []ServicePlan{
				{ID: "41781fb2-bc02-4b7c-bd55-b576c07bb09d", Name: "AAD_PREMIUM"},
			}},
		},
		Users: []SeedUser{
			{ID: s.ids.guid(), DisplayName: "Alex Wilber", GivenName: "Alex", Surname: "Wilber", UserPrincipalName: "alex@contoso.example", Mail: "alex@contoso.example", JobTitle: "IT Administrator", UsageLocation: "US", Licenses: []string{skuEnterprisePack, skuEMS}, LastSignIn: days(1), Password: MemberPassword},
			{ID: s.ids.guid(), DisplayName: "Megan Bowen", GivenName: "Megan", Surname: "Bowen", UserPrincipalName: "megan@contoso.example", Mail: "megan@contoso.example", JobTitle: "Marketing Manager", UsageLocation: "US", Licenses: []string{skuEnterprisePack, skuEMS}, LastSignIn: days(2), Password: MemberPassword},
			{ID: s.ids.guid(), DisplayName: "Adele Vance", GivenName: "Adele", Surname: "Vance", UserPrincipalName: "adele@contoso.example", Mail: "adele@contoso.example", JobTitle: "Product Manager", UsageLocation: "GB", Licenses: []string{skuEnterprisePack}, LastSignIn: days(3), Password: MemberPassword},
			{ID: s.ids.guid(), DisplayName: "Pat Pending", UserType: "Guest", Mail: "pat@fabrikam.example", ExternalUserState: "PendingAcceptance", CreatedDateTime: days(12)},
			{ID: s.ids.guid(), DisplayName: "Ann Accepted", UserType: "Guest", Mail: "ann@fabrikam.example", ExternalUserState: "Accepted", CreatedDateTime: days(60), LastSignIn: days(5), CompanyName: "Fabrikam"},
			{ID: s.ids.guid(), DisplayName: "Lee Chen", UserType: "Guest", Mail: "lee.chen@northwind.example", OtherMails: []string{"lee@northwind.example"}, ExternalUserState: "Accepted", CreatedDateTime: days(200), LastSignIn: days(150)},
			{ID: s.ids.guid(), DisplayName: "Ida Idle", UserType: "Guest", Mail: "ida@tailspin.example", ExternalUserState: "PendingAcceptance", CreatedDateTime: days(400)},
		},
		Groups: []SeedGroup{
			{ID: s.ids.guid(), DisplayName: "DemoApp", Description: "Access to DemoApp", Members: []string{"adele@contoso.example", "ann@fabrikam.example"}},
			{ID: s.ids.guid(), DisplayName: "Partners", Description: "Partner collaboration", GroupTypes: []string{"Unified"}, Members: []string{"megan@contoso.example"}},
			{ID: s.ids.guid(), DisplayName: "All Staff", Description: "Every employee", Members: []string{"alex@contoso.example", "megan@contoso.example", "adele@contoso.example"}},
		},
		ServicePrincipals: []SeedServicePrincipal{
			{ID: s.ids.guid(), AppID: s.ids.guid(), DisplayName: "DemoApp", AppRoles: []AppRole{
				{ID: s.ids.guid(), Value: "Reader", DisplayName: "Reader", Description: "Can read DemoApp content"},
				{ID: s.ids.guid(), Value: "Writer", DisplayName: "Writer", Description: "Can write DemoApp content"},
			}},
		},
	}
}
