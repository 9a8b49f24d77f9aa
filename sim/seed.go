package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/foyer-dev/foyer/sim/login"
)

// SeedData is content to put in the tenant as if it had always been there
// (POST /_sim/users, /_sim/groups, ... and Server.Seed). Seeded objects are
// replicated at once. Empty ids are made up; Seed returns the data with
// them filled in.
type SeedData struct {
	Domains           []SeedDomain           `json:"domains,omitempty"`
	Users             []SeedUser             `json:"users,omitempty"`
	Groups            []SeedGroup            `json:"groups,omitempty"`
	SKUs              []SeedSKU              `json:"skus,omitempty"`
	ServicePrincipals []SeedServicePrincipal `json:"service_principals,omitempty"`
	Subscriptions     []SeedSubscription     `json:"subscriptions,omitempty"`
	Apps              []App                  `json:"apps,omitempty"`
}

// SeedDomain is a domain of the tenant.
type SeedDomain struct {
	ID         string `json:"id"`
	IsDefault  bool   `json:"is_default"`
	IsVerified *bool  `json:"is_verified,omitempty"` // default true
}

// SeedUser is a member or a guest.
type SeedUser struct {
	ID                string    `json:"id,omitempty"`
	DisplayName       string    `json:"display_name,omitempty"`
	GivenName         string    `json:"given_name,omitempty"`
	Surname           string    `json:"surname,omitempty"`
	UserPrincipalName string    `json:"user_principal_name,omitempty"` // guests: made from the mail when empty
	Mail              string    `json:"mail,omitempty"`
	OtherMails        []string  `json:"other_mails,omitempty"`     // guests: [mail] when empty
	ProxyAddresses    []string  `json:"proxy_addresses,omitempty"` // ["SMTP:mail"] when empty
	UserType          string    `json:"user_type,omitempty"`       // Member (default) or Guest
	ExternalUserState string    `json:"external_user_state,omitempty"`
	UsageLocation     string    `json:"usage_location,omitempty"`
	JobTitle          string    `json:"job_title,omitempty"`
	Department        string    `json:"department,omitempty"`
	CompanyName       string    `json:"company_name,omitempty"`
	AccountEnabled    *bool     `json:"account_enabled,omitempty"`
	CreatedDateTime   time.Time `json:"created_date_time,omitzero"`
	LastSignIn        time.Time `json:"last_sign_in,omitzero"`
	Licenses          []string  `json:"licenses,omitempty"` // SKU ids
	Password          string    `json:"password,omitempty"` // members: for the sign-in page
	// Sponsors are users seeded before this one, by object id or user
	// principal name, or groups seeded by an earlier seed, by object id,
	// as an invitation's invitedUserSponsors sets them (groups are seeded
	// after users, so a group sponsor needs an earlier call, or
	// POST /_sim/sponsors).
	Sponsors []string `json:"sponsors,omitempty"`
	// Extensions sets extension attributes: directory extension
	// properties by name (extension_{appId without dashes}_{name}) and
	// onPremisesExtensionAttributes/extensionAttribute1..15.
	Extensions map[string]string `json:"extensions,omitempty"`
}

// SeedGroup is a group and its members (ids, userPrincipalNames or mails).
type SeedGroup struct {
	ID              string   `json:"id,omitempty"`
	DisplayName     string   `json:"display_name"`
	Description     string   `json:"description,omitempty"`
	MailNickname    string   `json:"mail_nickname,omitempty"`
	GroupTypes      []string `json:"group_types,omitempty"` // ["Unified"] for a Microsoft 365 group
	SecurityEnabled *bool    `json:"security_enabled,omitempty"`
	Members         []string `json:"members,omitempty"`
}

// SeedSKU is a subscribed SKU.
type SeedSKU struct {
	SkuID         string        `json:"sku_id"`
	SkuPartNumber string        `json:"sku_part_number"`
	Enabled       int           `json:"enabled"`
	ServicePlans  []ServicePlan `json:"service_plans,omitempty"`
}

// ServicePlan is a service plan of a SKU.
type ServicePlan struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SeedServicePrincipal is an enterprise app (a service principal) with the
// app roles guests can be assigned.
type SeedServicePrincipal struct {
	ID          string    `json:"id,omitempty"`
	AppID       string    `json:"app_id,omitempty"`
	DisplayName string    `json:"display_name"`
	AppRoles    []AppRole `json:"app_roles,omitempty"`
}

// SeedSubscription is an Azure subscription with its resource groups.
type SeedSubscription struct {
	ID             string   `json:"id,omitempty"`
	DisplayName    string   `json:"display_name"`
	ResourceGroups []string `json:"resource_groups,omitempty"`
}

// Seed adds content to the default tenant.
func (s *Server) Seed(d SeedData) (SeedData, error) {
	return s.seedTenant(s.def, d)
}

func (s *Server) seedTenant(t *tenant, d SeedData) (SeedData, error) {
	t.mu.Lock()
	err := s.applySeed(t, &d)
	t.mu.Unlock()
	if err != nil {
		return d, err
	}
	for i, a := range d.Apps {
		if d.Apps[i], err = s.addApp(t, a, false); err != nil {
			return d, err
		}
	}
	return d, nil
}

// applySeed adds everything but apps (which also register with the
// identity platform); the caller holds t.mu.
func (s *Server) applySeed(t *tenant, d *SeedData) error {
	steps := []func() error{
		func() error { return s.seedDomains(t, d.Domains) },
		func() error { return s.seedSubscriptions(t, d.Subscriptions) },
		func() error { return s.seedSKUs(t, d.SKUs) },
		func() error { return s.seedUsers(t, d.Users) },
		func() error { return s.seedGroups(t, d.Groups) },
		func() error { return s.seedServicePrincipals(t, d.ServicePrincipals) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

func (s *Server) seedDomains(t *tenant, ds []SeedDomain) error {
	for _, sd := range ds {
		if !validDomain(sd.ID) {
			return fmt.Errorf("domain %q is not a domain name", sd.ID)
		}
		if t.hasDomain(sd.ID) && !strings.EqualFold(sd.ID, t.initialDomain) {
			return fmt.Errorf("domain %s exists", sd.ID)
		}
		verified := sd.IsVerified == nil || *sd.IsVerified
		d := t.domainEntry(sd.ID)
		d.IsVerified = verified
		if sd.IsDefault {
			for _, o := range t.domains {
				o.IsDefault = false
			}
			d.IsDefault = true
		}
	}
	return nil
}

// domainEntry returns the tenant's entry for a domain, adding it.
func (t *tenant) domainEntry(id string) *domain {
	for _, d := range t.domains {
		if strings.EqualFold(d.ID, id) {
			return d
		}
	}
	d := &domain{ID: strings.ToLower(id), SupportedServices: []string{"Email", "OfficeCommunicationsOnline"}}
	t.domains = append(t.domains, d)
	return d
}

func (s *Server) seedSubscriptions(t *tenant, subs []SeedSubscription) error {
	for i := range subs {
		sd := &subs[i]
		if sd.ID == "" {
			sd.ID = s.ids.guid()
		}
		if !isGUID(sd.ID) {
			return fmt.Errorf("subscription id %q is not a GUID", sd.ID)
		}
		t.azure.subscriptions[strings.ToLower(sd.ID)] = &subscription{ID: strings.ToLower(sd.ID), DisplayName: sd.DisplayName, ResourceGroups: append([]string(nil), sd.ResourceGroups...)}
	}
	return nil
}

func (s *Server) seedSKUs(t *tenant, skus []SeedSKU) error {
	for _, sd := range skus {
		if !isGUID(sd.SkuID) || sd.SkuPartNumber == "" || sd.Enabled < 0 {
			return fmt.Errorf("sku %q: want a GUID sku_id, a sku_part_number and enabled >= 0", sd.SkuID)
		}
		if t.sku(sd.SkuID) != nil {
			return fmt.Errorf("sku %s exists", sd.SkuID)
		}
		sk := &sku{SkuID: strings.ToLower(sd.SkuID), SkuPartNumber: sd.SkuPartNumber, Enabled: sd.Enabled, SubscriptionIDs: []string{s.ids.guid()}}
		for _, p := range sd.ServicePlans {
			sk.ServicePlans = append(sk.ServicePlans, servicePlan{ServicePlanID: p.ID, ServicePlanName: p.Name})
		}
		t.skus = append(t.skus, sk)
	}
	return nil
}

func (s *Server) seedUsers(t *tenant, users []SeedUser) error {
	for i := range users {
		u, err := s.seedUser(t, &users[i])
		if err != nil {
			return err
		}
		t.users.add(u)
		t.indexUser(u)
		t.userChanged(u)
		for _, id := range users[i].Licenses {
			sk := t.sku(id)
			if sk == nil {
				return fmt.Errorf("user %s: license %s: no such SKU", u.UserPrincipalName, id)
			}
			u.Licenses = append(u.Licenses, assignedLicense{SkuID: sk.SkuID, DisabledPlans: []string{}})
			sk.ConsumedUnits++
		}
		if sd := users[i]; sd.Password != "" && !u.isGuest() {
			err := s.auth.AddUser(login.User{TenantID: t.id, ObjectID: u.id, UPN: u.UserPrincipalName, DisplayName: u.DisplayName, Email: u.Mail, Password: sd.Password})
			if err != nil {
				return fmt.Errorf("user %s: %w", u.UserPrincipalName, err)
			}
		}
	}
	return nil
}

// seedUser builds one seeded user and fills in its defaults.
func (s *Server) seedUser(t *tenant, sd *SeedUser) (*user, error) {
	guest := strings.EqualFold(sd.UserType, "Guest")
	if sd.ID == "" {
		sd.ID = s.ids.guid()
	}
	if sd.Mail != "" && !validAddress(sd.Mail) {
		return nil, fmt.Errorf("user %q: mail %q is not an address", sd.DisplayName, sd.Mail)
	}
	if guest {
		if err := seedGuestDefaults(t, sd); err != nil {
			return nil, err
		}
	}
	_, domainPart, ok := strings.Cut(sd.UserPrincipalName, "@")
	if !ok || !t.hasDomain(domainPart) {
		return nil, fmt.Errorf("user %q: userPrincipalName %q must be in one of the tenant's domains", sd.DisplayName, sd.UserPrincipalName)
	}
	if _, taken := t.byUPN[strings.ToLower(sd.UserPrincipalName)]; taken {
		return nil, fmt.Errorf("user %s exists", sd.UserPrincipalName)
	}
	if _, taken := t.object(sd.ID); taken || !isGUID(sd.ID) {
		return nil, fmt.Errorf("user %s: id %q is taken or not a GUID", sd.UserPrincipalName, sd.ID)
	}
	created := sd.CreatedDateTime
	if created.IsZero() {
		created = t.seedTime
	}
	u := &user{
		objMeta:           objMeta{id: strings.ToLower(sd.ID), created: created, visibleAt: created},
		AccountEnabled:    sd.AccountEnabled == nil || *sd.AccountEnabled,
		DisplayName:       sd.DisplayName,
		GivenName:         sd.GivenName,
		Surname:           sd.Surname,
		Mail:              sd.Mail,
		MailNickname:      strings.SplitN(sd.UserPrincipalName, "@", 2)[0],
		OtherMails:        sd.OtherMails,
		ProxyAddresses:    sd.ProxyAddresses,
		UserPrincipalName: sd.UserPrincipalName,
		UserType:          "Member",
		UsageLocation:     sd.UsageLocation,
		JobTitle:          sd.JobTitle,
		Department:        sd.Department,
		CompanyName:       sd.CompanyName,
	}
	if err := u.seedExtensions(sd.Extensions); err != nil {
		return nil, fmt.Errorf("user %s: %w", sd.UserPrincipalName, err)
	}
	for _, key := range sd.Sponsors {
		id, ok := t.sponsorByKey(key)
		if !ok {
			return nil, fmt.Errorf("user %s: sponsor %q is not a user or group seeded before it", sd.UserPrincipalName, key)
		}
		u.Sponsors = append(u.Sponsors, id)
	}
	t.seq++
	u.seq = t.seq
	if u.DisplayName == "" {
		u.DisplayName = u.MailNickname
	}
	if len(u.ProxyAddresses) == 0 && u.Mail != "" {
		u.ProxyAddresses = []string{"SMTP:" + u.Mail}
	}
	if guest {
		seedGuest(t, u, sd)
	}
	if !sd.LastSignIn.IsZero() {
		u.SignIn = &signInActivity{LastSignIn: sd.LastSignIn, LastSuccessfulSignIn: sd.LastSignIn, LastSignInRequest: s.ids.guid()}
	}
	return u, nil
}

func seedGuestDefaults(t *tenant, sd *SeedUser) error {
	if sd.Mail == "" {
		return fmt.Errorf("guest %q needs a mail", sd.DisplayName)
	}
	if len(sd.OtherMails) == 0 {
		sd.OtherMails = []string{sd.Mail}
	}
	if sd.UserPrincipalName == "" {
		sd.UserPrincipalName, _ = guestUPN(sd.OtherMails[0], t.initialDomain, func(s string) bool { _, ok := t.byUPN[strings.ToLower(s)]; return ok })
	}
	if sd.ExternalUserState == "" {
		sd.ExternalUserState = "PendingAcceptance"
	}
	if sd.ExternalUserState != "PendingAcceptance" && sd.ExternalUserState != "Accepted" {
		return fmt.Errorf("guest %s: external_user_state is PendingAcceptance or Accepted", sd.Mail)
	}
	return nil
}

func seedGuest(t *tenant, u *user, sd *SeedUser) {
	hidden := false
	upn := u.UserPrincipalName
	u.UserType = "Guest"
	u.CreationType = "Invitation"
	u.ShowInAddressList = &hidden
	u.ExternalUserState = sd.ExternalUserState
	u.ExternalUserStateChangeDateTime = u.created
	u.invitedEmail = sd.OtherMails[0]
	u.Identities = []identity{{SignInType: "userPrincipalName", Issuer: t.initialDomain, IssuerAssignedID: &upn}}
	if u.ExternalUserState == "Accepted" {
		u.Identities = append([]identity{federatedIdentity(u.invitedEmail)}, u.Identities...)
	}
}

func (s *Server) seedGroups(t *tenant, groups []SeedGroup) error {
	for i := range groups {
		sd := &groups[i]
		if sd.ID == "" {
			sd.ID = s.ids.guid()
		}
		if strings.TrimSpace(sd.DisplayName) == "" || !isGUID(sd.ID) {
			return fmt.Errorf("group %q: needs a display_name and a GUID id", sd.ID)
		}
		if _, taken := t.object(sd.ID); taken {
			return fmt.Errorf("group %s: id %s is taken", sd.DisplayName, sd.ID)
		}
		g := &group{
			objMeta:         objMeta{id: strings.ToLower(sd.ID), created: t.seedTime, visibleAt: t.seedTime},
			DisplayName:     sd.DisplayName,
			Description:     sd.Description,
			GroupTypes:      sd.GroupTypes,
			MailNickname:    sd.MailNickname,
			SecurityEnabled: sd.SecurityEnabled == nil || *sd.SecurityEnabled,
			Visibility:      "Private",
		}
		if g.MailNickname == "" {
			g.MailNickname = aliasOf(sd.DisplayName)
		}
		if containsFold(sd.GroupTypes, "Unified") {
			g.MailEnabled = true
			g.Mail = g.MailNickname + "@" + t.defaultDomain()
			g.ProxyAddresses = []string{"SMTP:" + g.Mail}
		}
		t.seq++
		g.seq = t.seq
		for _, m := range sd.Members {
			o, ok := t.memberByKey(m)
			if !ok {
				return fmt.Errorf("group %s: member %q not found", sd.DisplayName, m)
			}
			t.seq++
			g.addMember(o.meta().id, t.seq)
		}
		t.groups.add(g)
	}
	return nil
}

// memberByKey finds an object by id, userPrincipalName or mail.
func (t *tenant) memberByKey(key string) (stored, bool) {
	if o, ok := t.object(key); ok {
		return o, true
	}
	if u, ok := t.byUPN[strings.ToLower(key)]; ok {
		return u, true
	}
	if us := t.byAddress(strings.ToLower(key)); len(us) > 0 {
		return us[0], true
	}
	return nil, false
}

func (t *tenant) defaultDomain() string {
	for _, d := range t.domains {
		if d.IsDefault {
			return d.ID
		}
	}
	return t.initialDomain
}

func (s *Server) seedServicePrincipals(t *tenant, sps []SeedServicePrincipal) error {
	for i := range sps {
		sd := &sps[i]
		if sd.ID == "" {
			sd.ID = s.ids.guid()
		}
		if sd.AppID == "" {
			sd.AppID = s.ids.guid()
		}
		for j := range sd.AppRoles {
			if sd.AppRoles[j].ID == "" {
				sd.AppRoles[j].ID = s.ids.guid()
			}
		}
		a := App{ClientID: sd.AppID, ObjectID: sd.ID, DisplayName: sd.DisplayName, AppRoles: sd.AppRoles}
		if err := t.addAppObjects(a, s.ids); err != nil {
			return err
		}
	}
	return nil
}
