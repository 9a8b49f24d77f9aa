package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// State is every grant the tenant holds (GET /_sim/state): what tests
// compare against what foyer believes it did.
type State struct {
	TenantID             string                 `json:"tenant_id"`
	Now                  time.Time              `json:"now"`
	Users                int                    `json:"users"`
	Guests               int                    `json:"guests"`
	Groups               []StateGroup           `json:"groups"`
	AppRoleAssignments   []StateAppRole         `json:"app_role_assignments"`
	Licenses             map[string][]string    `json:"licenses"` // user id → SKU ids
	RoleAssignments      []StateDirectoryRole   `json:"role_assignments"`
	AzureRoleAssignments []StateAzureAssignment `json:"azure_role_assignments"`
	MailContacts         []StateMailContact     `json:"mail_contacts"`
	AddressBook          []string               `json:"address_book"` // ids of guests Exchange shows in address lists (mailusers.go)
	Sponsors             map[string][]string    `json:"sponsors"`     // guest id → sponsor ids
	// ObjectQuota is the directory object quota: objects held, and allowed
	// (quota.go).
	ObjectQuota struct {
		Used  int `json:"used"`
		Total int `json:"total"`
	} `json:"object_quota"`
}

// StateGroup is a group and its member ids.
type StateGroup struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"display_name"`
	Members     []string `json:"members"`
}

// StateAppRole is an app role assignment.
type StateAppRole struct {
	ID                  string `json:"id"`
	PrincipalID         string `json:"principal_id"`
	ResourceID          string `json:"resource_id"`
	ResourceDisplayName string `json:"resource_display_name"`
	AppRoleID           string `json:"app_role_id"`
}

// StateDirectoryRole is a directory role assignment.
type StateDirectoryRole struct {
	ID               string `json:"id"`
	PrincipalID      string `json:"principal_id"`
	RoleDefinitionID string `json:"role_definition_id"`
	RoleName         string `json:"role_name"`
	DirectoryScopeID string `json:"directory_scope_id"`
}

// StateAzureAssignment is an Azure role assignment.
type StateAzureAssignment struct {
	Name             string `json:"name"`
	Scope            string `json:"scope"`
	RoleDefinitionID string `json:"role_definition_id"`
	RoleName         string `json:"role_name"`
	PrincipalID      string `json:"principal_id"`
	PrincipalType    string `json:"principal_type"`
}

// StateMailContact is an Exchange mail contact.
type StateMailContact struct {
	Name                 string `json:"name"`
	DisplayName          string `json:"display_name"`
	ExternalEmailAddress string `json:"external_email_address"`
}

// Snapshot returns every grant in the default tenant.
func (s *Server) Snapshot() State { return s.snapshot(s.def) }

func (s *Server) snapshot(t *tenant) State {
	t.mu.RLock()
	defer t.mu.RUnlock()
	st := State{TenantID: t.id, Now: s.clock.Now(), Users: t.users.len(), Licenses: map[string][]string{}, Sponsors: map[string][]string{},
		Groups: []StateGroup{}, AppRoleAssignments: []StateAppRole{}, RoleAssignments: []StateDirectoryRole{},
		AzureRoleAssignments: []StateAzureAssignment{}, MailContacts: []StateMailContact{}}
	st.ObjectQuota.Used, st.ObjectQuota.Total = s.quota(t)
	for _, u := range t.users.list {
		if u.isGuest() {
			st.Guests++
		}
		for _, l := range u.Licenses {
			st.Licenses[u.id] = append(st.Licenses[u.id], l.SkuID)
		}
		if len(u.Sponsors) > 0 {
			st.Sponsors[u.id] = slices.Clone(u.Sponsors)
		}
	}
	for _, g := range t.groups.list {
		sg := StateGroup{ID: g.id, DisplayName: g.DisplayName, Members: []string{}}
		for _, m := range g.members {
			sg.Members = append(sg.Members, m.id)
		}
		st.Groups = append(st.Groups, sg)
	}
	for _, a := range t.appAssigns.list {
		st.AppRoleAssignments = append(st.AppRoleAssignments, StateAppRole{a.id, a.PrincipalID, a.ResourceID, a.ResourceDisplayName, a.AppRoleID})
	}
	for _, a := range t.roleAssigns.list {
		name := ""
		if d := t.roleDefinition(a.RoleDefinitionID); d != nil {
			name = d.DisplayName
		}
		st.RoleAssignments = append(st.RoleAssignments, StateDirectoryRole{a.id, a.PrincipalID, a.RoleDefinitionID, name, a.DirectoryScopeID})
	}
	for _, a := range t.azure.assignments.list {
		name := ""
		if r := azureRoleByID(a.RoleDefinitionID); r != nil {
			name = r.Name
		}
		st.AzureRoleAssignments = append(st.AzureRoleAssignments, StateAzureAssignment{a.id, a.Scope, a.RoleDefinitionID, name, a.PrincipalID, a.PrincipalType})
	}
	for _, m := range t.contacts.list {
		st.MailContacts = append(st.MailContacts, StateMailContact{m.Name, m.DisplayName, m.ExternalEmailAddress})
	}
	st.AddressBook = t.addressBook()
	return st
}

// Mail returns the invitation emails the default tenant "sent".
func (s *Server) Mail() []Mail {
	t := s.def
	t.mu.RLock()
	defer t.mu.RUnlock()
	return slices.Clone(t.mails)
}

// SignIn records a sign-in of the user with this id, userPrincipalName or
// address at the given time (zero: now), for signInActivity
// (GD resources/signinactivity.md).
func (s *Server) SignIn(key string, at time.Time, interactive bool) error {
	t := s.def
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.memberByKey(key)
	u, isUser := o.(*user)
	if !ok || !isUser {
		return fmt.Errorf("sign in %s: no such user", key)
	}
	if at.IsZero() {
		at = s.clock.Now()
	}
	if u.SignIn == nil {
		u.SignIn = &signInActivity{}
	}
	id := s.ids.guid()
	if interactive {
		u.SignIn.LastSignIn, u.SignIn.LastSignInRequest = at, id
	} else {
		u.SignIn.LastNonInteractive, u.SignIn.LastNonInteractiveReq = at, id
	}
	u.SignIn.LastSuccessfulSignIn, u.SignIn.LastSuccessfulSignInReq = at, id
	return nil
}

// SetAccountEnabled enables or disables a user by id, userPrincipalName
// or mail, as an admin would in the portal: not through Graph, so not
// counted in the stats' disables (which count what a client sent).
func (s *Server) SetAccountEnabled(key string, on bool) error {
	t := s.def
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.memberByKey(key)
	u, isUser := o.(*user)
	if !ok || !isUser {
		return fmt.Errorf("set account of %s: no such user", key)
	}
	u.AccountEnabled = on
	t.userChanged(u, "accountEnabled")
	return nil
}

// AddSponsors makes users or groups (by object id; a user also by
// userPrincipalName) sponsors of the user key, as an admin would in the
// portal: a group can sponsor a guest in Entra, and is read back from
// GET /users/{id}/sponsors with its @odata.type.
func (s *Server) AddSponsors(key string, sponsors ...string) error {
	t := s.def
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.userByKey(key)
	if !ok {
		return fmt.Errorf("add sponsors to %s: no such user", key)
	}
	for _, k := range sponsors {
		id, ok := t.sponsorByKey(k)
		if !ok {
			return fmt.Errorf("add sponsors to %s: %q is no user or group", key, k)
		}
		if !slices.Contains(u.Sponsors, id) {
			u.Sponsors = append(u.Sponsors, id)
		}
	}
	return nil
}

// GroupMail returns a group's mail ("" for a group that is not
// mail-enabled, or no group).
func (s *Server) GroupMail(id string) string {
	t := s.def
	t.mu.RLock()
	defer t.mu.RUnlock()
	if g, ok := t.groups.get(id); ok {
		return g.Mail
	}
	return ""
}

// BulkGuests are guests added at once to make a large tenant.
type BulkGuests struct {
	Count    int     `json:"count"`
	Domain   string  `json:"domain"`   // default bulk.example
	Prefix   string  `json:"prefix"`   // default guest
	Accepted float64 `json:"accepted"` // fraction that redeemed, 0 to 1
}

// AddGuests adds many guests quickly (the directory client's tests use a
// 50,000-guest tenant): guest{N}@{domain}, created over the past year.
func (s *Server) AddGuests(b BulkGuests) (int, error) {
	if b.Count < 0 || b.Count > 1_000_000 || b.Accepted < 0 || b.Accepted > 1 {
		return 0, fmt.Errorf("bulk guests: count must be 0 to 1000000 and accepted 0 to 1")
	}
	if b.Domain == "" {
		b.Domain = "bulk.example"
	}
	if b.Prefix == "" {
		b.Prefix = "guest"
	}
	t := s.def
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.isVerifiedDomain(b.Domain) {
		return 0, fmt.Errorf("bulk guests: %s is a verified domain of the tenant", b.Domain)
	}
	now := s.clock.Now()
	hidden := false
	added := 0
	for n := 0; added < b.Count; n++ {
		email := fmt.Sprintf("%s%d@%s", b.Prefix, n, b.Domain)
		if len(t.byAddress(email)) > 0 {
			continue
		}
		upn, nick := guestUPN(email, t.initialDomain, func(x string) bool { _, ok := t.byUPN[strings.ToLower(x)]; return ok })
		created := now.Add(-time.Duration(s.ids.uint64()%(365*24)) * time.Hour)
		u := &user{
			objMeta: objMeta{id: s.ids.guid(), created: created, visibleAt: created}, AccountEnabled: true,
			CreationType: "Invitation", DisplayName: fmt.Sprintf("%s %d", b.Prefix, n), ExternalUserState: "PendingAcceptance",
			ExternalUserStateChangeDateTime: created, Mail: email, MailNickname: nick, OtherMails: []string{email},
			ProxyAddresses: []string{"SMTP:" + email}, ShowInAddressList: &hidden, UserPrincipalName: upn, UserType: "Guest",
			invitedEmail: email,
		}
		u.Identities = []identity{{SignInType: "userPrincipalName", Issuer: t.initialDomain, IssuerAssignedID: &u.UserPrincipalName}}
		if float64(s.ids.uint64()%1000)/1000 < b.Accepted {
			t.redeem(u, created)
		}
		t.seq++
		u.seq = t.seq
		t.users.add(u)
		t.indexUser(u)
		t.userChanged(u)
		added++
	}
	return added, nil
}

// Reset brings the tenant back to how it started: default content (or
// none, if it started empty), no invitations, no mail, counters at zero,
// throttling windows empty. Apps added with AddApp are removed. The clock
// and the settings stay.
func (s *Server) Reset() error {
	t := s.def
	s.mu.Lock()
	extra := s.extraApps
	s.extraApps = nil
	app := s.app
	s.mu.Unlock()
	for _, a := range extra {
		_ = s.auth.RemoveApp(t.id, a.ClientID)
	}
	t.mu.Lock()
	for _, u := range t.users.list {
		if !u.isGuest() {
			_ = s.auth.RemoveUser(t.id, u.id)
		}
	}
	t.clear()
	t.mu.Unlock()
	if err := s.populate(t); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	t.mu.Lock()
	err := t.addAppObjects(app, s.ids)
	t.mu.Unlock()
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	s.stats.reset()
	s.limiter.Reset()
	s.invites.Reset()
	return nil
}
