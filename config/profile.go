package config

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/foyer-dev/foyer"
)

func (c *Config) checkProfile(k *checker, name string) {
	at := "$.profiles." + name
	p := c.Profiles[name]
	if !namePattern.MatchString(name) {
		k.add(at, "profile name %q: use lowercase letters, digits, - and _", name)
	}
	if p == nil {
		k.add(at, "profile %s is empty", name)
		return
	}
	switch _, ok := c.Tenants[p.Tenant]; {
	case p.Tenant == "":
		k.add(at, "profile %s: tenant is missing (there are %d tenants)", name, len(c.Tenants))
	case !ok:
		k.add(at+".tenant", "profile %s: tenant %q is not in tenants:", name, p.Tenant)
	}
	if !isHTTPURL(p.RedirectURL) {
		k.add(at+".redirect_url", "profile %s: redirect_url must be an absolute http(s) URL (where guests land after redeeming)", name)
	}
	switch foyer.Sender(p.Sender) {
	case foyer.SenderMicrosoft, foyer.SenderNone:
	case foyer.SenderFoyer:
		if c.SMTP == nil {
			k.add(at+".sender", "profile %s: sender foyer needs an smtp: section", name)
		}
	default:
		k.add(at+".sender", "profile %s: sender %q: want microsoft, foyer or none", name, p.Sender)
	}
	if p.CC != "" {
		if _, err := foyer.ParseAddress(p.CC); err != nil {
			k.add(at+".cc", "profile %s: cc: %s", name, foyer.ErrorMessage(err))
		}
	}
	if len(p.Message) > 10000 {
		k.add(at+".message", "profile %s: message is longer than 10,000 characters", name)
	}
	checkList(k, at+".sponsors", name, "sponsor", p.Sponsors)
	checkList(k, at+".groups", name, "group", p.Groups)
	checkList(k, at+".directory_roles", name, "directory role", p.DirectoryRoles)
	for i, r := range p.AppRoles {
		if strings.TrimSpace(r.ServicePrincipal) == "" {
			k.add(fmt.Sprintf("%s.app_roles[%d]", at, i), "profile %s: app role needs service_principal", name)
		}
	}
	for i, l := range p.Licenses {
		lat := fmt.Sprintf("%s.licenses[%d]", at, i)
		if strings.TrimSpace(l.SKU) == "" {
			k.add(lat, "profile %s: license needs sku (a part number such as ENTERPRISEPACK, or a SKU id)", name)
		}
		if !countryPattern.MatchString(l.UsageLocation) {
			k.add(lat+".usage_location", "profile %s: license %s needs usage_location, two capital letters (ISO 3166), e.g. US", name, l.SKU)
		}
	}
	for i, r := range p.AzureRoles {
		rat := fmt.Sprintf("%s.azure_roles[%d]", at, i)
		if strings.TrimSpace(r.Role) == "" {
			k.add(rat, "profile %s: azure role needs role (a name such as Reader, or a definition id)", name)
		}
		if !strings.HasPrefix(strings.ToLower(r.Scope), "/subscriptions/") &&
			!strings.HasPrefix(strings.ToLower(r.Scope), "/providers/microsoft.management/managementgroups/") {
			k.add(rat+".scope", "profile %s: azure role scope %q must start with /subscriptions/ or /providers/Microsoft.Management/managementGroups/", name, r.Scope)
		}
	}
	checkDomains(k, at+".allow_domains", name, p.AllowDomains)
	checkDomains(k, at+".deny_domains", name, p.DenyDomains)
	if on := strings.TrimSpace(p.ExpiresOn); on != "" {
		if _, err := time.Parse(time.DateOnly, on); err != nil {
			k.add(at+".expires_on", "profile %s: expires_on %q is not a day written 2027-06-30", name, on)
		}
	}
	if n := p.ExpiryNotice; n != nil {
		switch {
		case *n < 0:
			k.add(at+".expiry_notice", "profile %s: expiry_notice must not be negative", name)
		case p.Expiry <= 0 && strings.TrimSpace(p.ExpiresOn) == "" && *n > 0:
			k.add(at+".expiry_notice", "profile %s: expiry_notice needs expiry or expires_on (the notice is sent that long before access ends)", name)
		case p.Expiry > 0 && *n >= p.Expiry:
			k.add(at+".expiry_notice", "profile %s: expiry_notice (%s) must be shorter than expiry (%s)", name, time.Duration(*n), time.Duration(p.Expiry))
		}
	}
	if p.ExtensionMax > 0 && p.Expiry <= 0 && strings.TrimSpace(p.ExpiresOn) == "" {
		k.add(at+".extension_max", "profile %s: extension_max needs expiry or expires_on (it bounds how far an extension moves the end of access)", name)
	}
	if r := p.Reminders; r != nil {
		switch {
		case time.Duration(r.After) < time.Hour:
			k.add(at+".reminders.after", "profile %s: reminders.after must be at least 1h (how long an invitation stays pending before it is sent again)", name)
		case r.Max < 1 || r.Max > 10:
			k.add(at+".reminders.max", "profile %s: reminders.max must be 1 to 10 (how many times an invitation is sent again)", name)
		}
	}
	c.checkRequestPage(k, at, name, p)
}

func checkList(k *checker, at, profile, what string, items []string) {
	seen := map[string]bool{}
	for i, s := range items {
		key := strings.ToLower(strings.TrimSpace(s))
		switch {
		case key == "":
			k.add(fmt.Sprintf("%s[%d]", at, i), "profile %s: empty %s", profile, what)
		case seen[key]:
			k.add(fmt.Sprintf("%s[%d]", at, i), "profile %s: %s %q is listed twice", profile, what, s)
		}
		seen[key] = true
	}
}

func checkDomains(k *checker, at, profile string, ds []string) {
	for i, d := range ds {
		if _, err := domainName(d); err != nil {
			k.add(fmt.Sprintf("%s[%d]", at, i), "profile %s: %s", profile, err.Message)
		}
	}
}

// domainName reads a domain as a configuration lists it: "@" in front and
// case do not matter, and an internationalised name (bücher.example) becomes
// its ASCII form (xn--bcher-kva.example), which is how addresses compare.
func domainName(d string) (string, *foyer.Error) {
	d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	if strings.ContainsFunc(d, func(r rune) bool { return r > 0x7f }) {
		ascii, err := idna.Lookup.ToASCII(d)
		if err != nil {
			return "", foyer.Errorf(foyer.EINVALID, "domain %q is not a valid internationalised domain name (%s)", d, strings.TrimPrefix(err.Error(), "idna: "))
		}
		d = ascii
	}
	if err := foyer.CheckDomain(d); err != nil {
		return "", err
	}
	return d, nil
}

// domainNames returns the ASCII form of each valid domain of ds.
func domainNames(ds []string) []string {
	var out []string
	for _, d := range ds {
		if n, err := domainName(d); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// DefaultExpiryNotice is how long before a profile's expiry its guest and
// sponsors are told, when the profile has an expiry, says no
// expiry_notice, and the configuration has an smtp: section.
const DefaultExpiryNotice = 7 * 24 * time.Hour

// Profile returns the named profile as foyer's domain type, with its grants
// unresolved (Ref set; ids filled later by the directory). GrantPaths gives,
// for each grant, the place in the file it came from, for messages.
func (c *Config) Profile(name string) (p *foyer.Profile, grantPaths []string, err error) {
	cp, ok := c.Profiles[name]
	if !ok {
		return nil, nil, foyer.Errorf(foyer.ENOTFOUND, "no profile %q in %s (profiles: %s)", name, c.Name(), strings.Join(c.ProfileNames(), ", "))
	}
	at := "$.profiles." + name
	p = &foyer.Profile{
		Name:         name,
		Tenant:       cp.Tenant,
		RedirectURL:  cp.RedirectURL,
		Message:      cp.Message,
		Language:     cp.Language,
		CC:           cp.CC,
		Sender:       foyer.Sender(cp.Sender),
		Sponsors:     cp.Sponsors,
		Allow:        domainNames(cp.AllowDomains),
		Deny:         domainNames(cp.DenyDomains),
		Expiry:       time.Duration(cp.Expiry),
		ExtensionMax: time.Duration(cp.ExtensionMax),
		Inactivity:   time.Duration(cp.Inactivity),
	}
	if d, err := time.Parse(time.DateOnly, strings.TrimSpace(cp.ExpiresOn)); err == nil {
		p.ExpiresOn = d.UTC()
	}
	switch {
	case cp.ExpiryNotice != nil:
		p.ExpiryNotice = time.Duration(*cp.ExpiryNotice)
	case (cp.Expiry > 0 || !p.ExpiresOn.IsZero()) && c.SMTP != nil:
		p.ExpiryNotice = DefaultExpiryNotice
	}
	if r := cp.Reminders; r != nil {
		p.Reminders = foyer.Reminders{After: time.Duration(r.After), Max: r.Max}
	}
	cp.requestPage(p)
	add := func(path string, g foyer.Grant) {
		p.Grants = append(p.Grants, g)
		grantPaths = append(grantPaths, path)
	}
	for i, g := range cp.Groups {
		add(fmt.Sprintf("%s.groups[%d]", at, i), foyer.Grant{Kind: foyer.GrantGroup, Ref: strings.TrimSpace(g)})
	}
	for i, r := range cp.AppRoles {
		add(fmt.Sprintf("%s.app_roles[%d]", at, i), foyer.Grant{Kind: foyer.GrantAppRole, Ref: strings.TrimSpace(r.ServicePrincipal), Role: strings.TrimSpace(r.Role)})
	}
	for i, l := range cp.Licenses {
		add(fmt.Sprintf("%s.licenses[%d]", at, i), foyer.Grant{Kind: foyer.GrantLicense, Ref: strings.TrimSpace(l.SKU), UsageLocation: l.UsageLocation, DisabledPlans: l.DisabledPlans})
	}
	for i, r := range cp.DirectoryRoles {
		add(fmt.Sprintf("%s.directory_roles[%d]", at, i), foyer.Grant{Kind: foyer.GrantDirectoryRole, Ref: strings.TrimSpace(r), Scope: "/"})
	}
	for i, r := range cp.AzureRoles {
		add(fmt.Sprintf("%s.azure_roles[%d]", at, i), foyer.Grant{Kind: foyer.GrantAzureRole, Ref: strings.TrimSpace(r.Role), Scope: strings.TrimSpace(r.Scope)})
	}
	switch {
	case cp.AddressBook:
		add(at+".address_book", foyer.Grant{Kind: foyer.GrantAddressBook})
	case cp.MailContact: // the old name; see deprecations
		add(at+".mail_contact", foyer.Grant{Kind: foyer.GrantAddressBook})
	}
	return p, grantPaths, nil
}

// deprecations warns about keys foyer still reads under an old meaning.
// mail_contact: true used to make an Exchange mail contact before the
// invitation; a contact that holds the address keeps Entra from giving the
// guest that address, and the guest cannot redeem by direct link (ED
// external-id/troubleshoot.md). It now gives address_book, which shows the
// guest's own mail user in the address book instead (docs/graph.md).
func (c *Config) deprecations() []Problem {
	var ws []Problem
	for _, name := range c.ProfileNames() {
		if p := c.Profiles[name]; p != nil && p.MailContact {
			at := "$.profiles." + name + ".mail_contact"
			line, col := c.src.pos(at)
			ws = append(ws, Problem{File: c.src.name, Line: line, Column: col, path: at, Msg: fmt.Sprintf(
				"profile %s: mail_contact no longer makes a mail contact (a contact holding a guest's address keeps the guest from redeeming by direct link); "+
					"it shows the guest itself in the address book: write address_book: true", name)})
		}
	}
	return ws
}

// Tenant returns the named tenant as foyer's domain type.
func (c *Config) Tenant(name string) (*foyer.Tenant, error) {
	t, ok := c.Tenants[name]
	if !ok {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no tenant %q in %s", name, c.Name())
	}
	return &foyer.Tenant{Name: name, ID: t.TenantID, ClientID: t.ClientID, Cloud: t.Cloud, Domains: domainNames(t.InternalDomains)}, nil
}
