package sim

import (
	"strings"
	"time"
)

// Guests in Exchange Online: every user an invitation created is a mail
// user (RecipientTypeDetails GuestMailUser), hidden from address lists
// until someone shows it: "By default, guests aren't visible in the
// Exchange Global Address List" (MicrosoftDocs/microsoft-365-docs
// solutions/per-group-guest-access.md). Get-MailUser and Set-MailUser
// -HiddenFromAddressListsEnabled (office-docs-powershell
// exchange-ps/exchange/Set-MailUser.md) read and change that.
//
// What the sim keeps: one flag. Graph's showInAddressList and Exchange's
// HiddenFromAddressListsEnabled are the same field of the user, so a
// change through either shows in both. Entra documents that setting
// showInAddressList updates Exchange's setting, and that Exchange's wins
// where they differ (ED identity/multi-tenant-organizations/
// multi-tenant-organization-known-issues.md); Graph's known issues say
// showInAddressList "may not indicate the same status shown in Microsoft
// Exchange". The sim does not model that drift.
//
// A mail user appears in Exchange once its user has replicated (the same
// delay as Graph's writes; real directory synchronisation to Exchange is
// often slower). Its email addresses are the user's proxyAddresses, so a
// guest created while a mail contact held its address is not found by that
// address. Exchange's GUID is not the Entra object id (that is
// ExternalDirectoryObjectId); the sim derives one from the other.

// isMailUser reports whether Exchange has u as a mail user: a user an
// invitation created, once replicated.
func (c *call) isMailUser(u *user) bool {
	return u.CreationType == "Invitation" && c.visible(&u.objMeta)
}

// hiddenFromAddressLists is Exchange's view of showInAddressList, which
// "if not set, will be treated as true" (GD resources/user.md).
func hiddenFromAddressLists(u *user) bool {
	return u.ShowInAddressList != nil && !*u.ShowInAddressList
}

// exoGUID is the Exchange GUID the sim gives the user with this object id:
// its hex digits reversed, which is its own inverse.
func exoGUID(id string) string {
	hex := []byte(strings.ReplaceAll(strings.ToLower(id), "-", ""))
	if len(hex) != 32 {
		return ""
	}
	for i, j := 0, len(hex)-1; i < j; i, j = i+1, j-1 {
		hex[i], hex[j] = hex[j], hex[i]
	}
	h := string(hex)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// primarySMTP is the user's primary address: its "SMTP:" proxy address.
func primarySMTP(u *user) string {
	for _, p := range u.ProxyAddresses {
		if strings.HasPrefix(p, "SMTP:") {
			return p[5:]
		}
	}
	return ""
}

// hasProxy reports whether u has addr as an SMTP proxy address.
func (u *user) hasProxy(addr string) bool {
	for _, p := range u.ProxyAddresses {
		if len(p) > 5 && strings.EqualFold(p[:5], "smtp:") && strings.EqualFold(p[5:], addr) {
			return true
		}
	}
	return false
}

func renderMailUser(u *user, org string) object {
	when := u.created.UTC().Format(time.RFC3339)
	details := "GuestMailUser"
	if !u.isGuest() {
		details = "MailUser"
	}
	external := u.invitedEmail
	if external == "" {
		external = u.Mail
	}
	return object{
		{"Identity", u.MailNickname},
		{"Id", u.MailNickname},
		{"Name", u.MailNickname},
		{"DisplayName", u.DisplayName},
		{"Alias", u.MailNickname},
		{"ExternalEmailAddress", "SMTP:" + external},
		{"PrimarySmtpAddress", primarySMTP(u)},
		{"EmailAddresses", stringsOrEmpty(u.ProxyAddresses)},
		{"HiddenFromAddressListsEnabled", hiddenFromAddressLists(u)},
		{"RecipientType", "MailUser"},
		{"RecipientTypeDetails", details},
		{"UserPrincipalName", u.UserPrincipalName},
		{"MicrosoftOnlineServicesID", u.UserPrincipalName},
		{"ExternalDirectoryObjectId", u.id},
		{"Guid", exoGUID(u.id)},
		{"DistinguishedName", "CN=" + u.MailNickname + ",OU=" + org + ",OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM"},
		{"OrganizationId", org},
		{"WhenCreated", when},
		{"WhenCreatedUTC", when},
	}
}

// findMailUsers resolves -Identity as Exchange does for a mail user: GUID,
// email address (any of its proxy addresses), user principal name, name,
// alias or display name.
func (c *call) findMailUsers(id string) []*user {
	t := c.t
	id = strings.TrimSpace(id)
	addr := id
	if len(addr) > 5 && strings.EqualFold(addr[:5], "smtp:") {
		addr = addr[5:]
	}
	var found []*user
	add := func(u *user) {
		if u != nil && c.isMailUser(u) && !containsUser(found, u) {
			found = append(found, u)
		}
	}
	if u, ok := t.users.get(exoGUID(id)); ok {
		add(u)
	}
	for _, u := range t.byProxy.get("smtp:" + strings.ToLower(addr)) {
		add(u)
	}
	add(t.byUPN[strings.ToLower(id)])
	if len(found) > 0 {
		return found
	}
	for _, u := range t.users.list {
		if strings.EqualFold(u.MailNickname, id) || strings.EqualFold(u.DisplayName, id) {
			add(u)
		}
	}
	return found
}

func containsUser(us []*user, u *user) bool {
	for _, x := range us {
		if x == u {
			return true
		}
	}
	return false
}

// oneMailUser resolves -Identity to exactly one mail user, or Exchange's
// not-found or ambiguous error.
func (c *call) oneMailUser(id string) (*user, *apiError) {
	switch us := c.findMailUsers(id); len(us) {
	case 0:
		return nil, c.contactNotFound(id) // the same ManagementObjectNotFoundException
	case 1:
		return us[0], nil
	}
	return nil, exoError("Ex9A1A1F", "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException", // [unverified id]
		"The operation couldn't be performed because '%s' matches multiple entries.", id)
}

// getMailUser is Get-MailUser: one by -Identity, or all of them in pages of
// Prefer: odata.maxpagesize (default 1000).
func (c *call) getMailUser(p cmdletParams) *reply {
	if err := p.check([]string{"Identity", "ResultSize"}, nil); err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	if id, ok := p.str("Identity"); ok && id != "" {
		u, err := c.oneMailUser(id)
		if err != nil {
			return c.fail(err)
		}
		return c.exoValue([]object{renderMailUser(u, t.initialDomain)}, "")
	}
	q, err := c.exoPage(t)
	if err != nil {
		return c.fail(err)
	}
	items, last, more := page(t.users.list, q, c.isMailUser)
	value := make([]object, len(items))
	for i, u := range items {
		value[i] = renderMailUser(u, t.initialDomain)
	}
	next := ""
	if more {
		next = c.base + c.path + "?$skiptoken=" + encodeSkipToken(last, t.generation.Load())
	}
	return c.exoValue(value, next)
}

// setMailUser is Set-MailUser -Identity … -HiddenFromAddressListsEnabled
// $true|$false: the one setting the sim changes. Set cmdlets answer no
// object; one that changes nothing warns, as Exchange does.
func (c *call) setMailUser(p cmdletParams) *reply {
	if err := p.check([]string{"Identity", "HiddenFromAddressListsEnabled", "Confirm"}, []string{"Identity"}); err != nil {
		return c.fail(err)
	}
	id, _ := p.str("Identity")
	hidden, set, err := p.boolean("HiddenFromAddressListsEnabled")
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := c.oneMailUser(id)
	if err != nil {
		return c.fail(err)
	}
	if !set || hiddenFromAddressLists(u) == hidden {
		return c.exoReply(nil, "", []string{"The command completed successfully but no settings of '" + u.MailNickname + "' have been modified."})
	}
	show := !hidden
	u.ShowInAddressList = &show
	t.userChanged(u, "showInAddressList")
	return c.exoValue(nil, "")
}

// boolean reads a Boolean parameter: JSON true or false, or PowerShell's
// $true, $false, True, False, 1, 0 as a string.
func (p cmdletParams) boolean(name string) (v, set bool, err *apiError) {
	s, ok := p.str(name)
	if !ok {
		return false, false, nil
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "$true", "1":
		return true, true, nil
	case "false", "$false", "0":
		return false, true, nil
	}
	return false, false, exoError("", "System.Management.Automation.ParameterBindingException",
		"Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.", name, s)
}

// addressBook returns the ids of the mail users shown in address lists.
func (t *tenant) addressBook() []string {
	out := []string{}
	for _, u := range t.users.list {
		if u.CreationType == "Invitation" && !hiddenFromAddressLists(u) {
			out = append(out, u.id)
		}
	}
	return out
}
