package foyer

import (
	"strings"
	"time"
)

// Tenant is one Entra directory foyer acts on. Credentials are not here:
// they belong to the configuration and the directory client, never to
// anything that is logged or stored.
type Tenant struct {
	Name     string   // the name the configuration gives it
	ID       string   // the directory (tenant) id
	ClientID string   // the application (client) id foyer signs in as
	Cloud    string   // public, usgov, china or custom
	Domains  []string // extra domains to treat as internal, beside the verified ones
}

// Sender says who sends the invitation email.
type Sender string

// Senders of invitation emails.
const (
	SenderMicrosoft Sender = "microsoft" // Entra sends its own email (sendInvitationMessage)
	SenderFoyer     Sender = "foyer"     // foyer sends its own email with the redeem URL
	SenderNone      Sender = "none"      // nobody sends; the redeem URL is in the report
)

// Profile is a named bundle of access, like an Entra access package:
// everything a guest is granted, how they are invited and when it ends.
type Profile struct {
	Name        string
	Tenant      string // the tenant's name in the configuration
	RedirectURL string
	Message     string // the inviter's words in the invitation
	Language    string // the invitation's language, e.g. en-US
	CC          string // one address copied on the invitation
	Sender      Sender
	Sponsors    []string // object ids or UPNs of the sponsors
	Grants      []Grant
	Allow       []string      // domains allowed; empty means all that are not denied
	Deny        []string      // domains refused
	Expiry      time.Duration // access ends this long after it was granted; 0 never
	// ExpiryNotice: the guest and sponsors are told this long before the
	// end of access; 0 never.
	ExpiryNotice time.Duration
	// ExpiresOn: every access of the profile ends then, or earlier by
	// Expiry; zero never.
	ExpiresOn time.Time
	// ExtensionMax: an extension may move the end to at most this long
	// from when it is asked; 0: ExtensionMaxOf's default.
	ExtensionMax time.Duration
	Inactivity   time.Duration // a guest with no sign-in for this long is inactive; 0 never
	Reminders    Reminders     // invite again a guest still pending; zero: never

	Public    bool       // anyone may ask for it on the request page; else only signed-in employees
	Questions []Question // the profile's own questions on the request page
	Approval  Policy
}

// Reminders say when an invitation still pending is sent again: After
// without redemption (from the invitation, then from the last reminder),
// at most Max times. A zero After or Max sends none.
type Reminders struct {
	After time.Duration
	Max   int
}

// On reports whether reminders are sent.
func (r Reminders) On() bool { return r.After > 0 && r.Max > 0 }

// Question is one of a profile's own questions on the request page.
type Question struct {
	ID       string            // the answer's key: lowercase letters, digits, _
	Label    string            // in English
	Labels   map[string]string // by language tag (fr, de-DE), when translated
	Required bool
	Choices  []string // a fixed list of answers; empty: free text
	MaxLen   int      // 0: 500
}

// LabelFor returns the question's label in lang, or in English.
func (q Question) LabelFor(lang string) string {
	if l, ok := q.Labels[lang]; ok && l != "" {
		return l
	}
	if base, _, ok := strings.Cut(lang, "-"); ok {
		if l := q.Labels[base]; l != "" {
			return l
		}
	}
	return q.Label
}

// DomainVerdict says whether a profile lets in an address's domain, and why
// not.
func (p *Profile) DomainVerdict(a Address) (ok bool, reason string) {
	switch {
	case a.InDomains(p.Deny):
		return false, "domain " + a.Domain() + " is on profile " + p.Name + "'s deny list"
	case len(p.Allow) > 0 && !a.InDomains(p.Allow):
		return false, "domain " + a.Domain() + " is not on profile " + p.Name + "'s allow list"
	}
	return true, ""
}

// GrantKind is what a grant gives.
type GrantKind string

// Kinds of grants.
const (
	GrantGroup         GrantKind = "group"          // membership of a group
	GrantAppRole       GrantKind = "app_role"       // an app role of a service principal
	GrantLicense       GrantKind = "license"        // a license (SKU)
	GrantDirectoryRole GrantKind = "directory_role" // an Entra directory role
	GrantAzureRole     GrantKind = "azure_role"     // an Azure RBAC role at a scope
	GrantAddressBook   GrantKind = "address_book"   // the guest's own Exchange mail user shown in the address book
	// GrantMailContact is an Exchange Online mail contact for the address.
	// foyer no longer gives it (a contact that holds a guest's address keeps
	// the guest from redeeming by direct link); it takes back those it gave.
	GrantMailContact GrantKind = "mail_contact"
)

// Grant is one piece of access a profile gives. Ref is what the
// configuration said (a display name, a role name, a SKU part number); the
// other fields are filled when the directory resolves it, so that a grant
// that reaches the engine names objects by id.
type Grant struct {
	Kind GrantKind
	Ref  string // as configured, for messages: "DemoApp", "Reader", "ENTERPRISEPACK"

	Target        string   // group id, resource service principal id, SKU id, role definition id
	Role          string   // app role id (app_role); before resolution, the configured value or id
	Scope         string   // directory scope (directory_role) or ARM scope (azure_role)
	UsageLocation string   // ISO 3166 code set on the user before a license
	DisabledPlans []string // service plans left off a license
	Name          string   // the resolved display name
}

// Key identifies the grant in the ledger: two grants with the same key give
// the same access.
func (g Grant) Key() string {
	parts := []string{string(g.Kind), strings.ToLower(g.Target)}
	if g.Role != "" || g.Scope != "" {
		parts = append(parts, strings.ToLower(g.Role), strings.ToLower(g.Scope))
	}
	return strings.Join(parts, ":")
}

// ParseGrantKey reads back a key made by Grant.Key into a resolved grant
// (ids lowercased, no names), so that what was granted can be taken back
// even after the profile that granted it changed.
func ParseGrantKey(key string) (Grant, error) {
	parts := strings.Split(key, ":")
	g := Grant{Kind: GrantKind(parts[0])}
	switch {
	case len(parts) == 2:
		g.Target = parts[1]
	case len(parts) == 4:
		g.Target, g.Role, g.Scope = parts[1], parts[2], parts[3]
	default:
		return Grant{}, Errorf(EINVALID, "grant key %q is not kind:target[:role:scope]", key)
	}
	switch g.Kind {
	case GrantGroup, GrantAppRole, GrantLicense, GrantDirectoryRole, GrantAzureRole, GrantAddressBook, GrantMailContact:
	default:
		return Grant{}, Errorf(EINVALID, "grant key %q has unknown kind %q", key, g.Kind)
	}
	if !g.Resolved() {
		return Grant{}, Errorf(EINVALID, "grant key %q lacks an id", key)
	}
	return g, nil
}

// Resolved reports whether the directory has filled the grant's ids.
func (g Grant) Resolved() bool {
	switch g.Kind {
	case GrantAddressBook, GrantMailContact:
		return true
	case GrantAppRole:
		return g.Target != "" && g.Role != ""
	case GrantAzureRole:
		return g.Target != "" && g.Scope != ""
	default:
		return g.Target != ""
	}
}

// String describes the grant for people.
func (g Grant) String() string {
	name := g.Name
	if name == "" {
		name = g.Ref
	}
	if name == "" {
		name = g.Target
	}
	s := string(g.Kind)
	if name != "" {
		s += " " + name
	}
	if g.Kind == GrantAzureRole && g.Scope != "" {
		s += " at " + g.Scope
	}
	return s
}

// GrantNames maps each grant's key to the name people read for it.
func GrantNames(grants []Grant) map[string]string {
	names := make(map[string]string, len(grants))
	for _, g := range grants {
		names[g.Key()] = g.String()
	}
	return names
}
