// Package config reads foyer's configuration file (YAML): the tenants foyer
// acts on and how it signs in to them, the ledger, pacing, notifications,
// SMTP and the profiles. Every problem is reported at once, with its line,
// column and field: unknown keys (with the key that was probably meant),
// values of the wrong type, durations it cannot read, then the checks of
// each part whose shape is sound. The file is bounded (1 MiB, 32 levels,
// no YAML anchors or aliases; see limits.go) before go-yaml parses it.
//
// Secrets are never written in the file: it names the environment variable
// or the file that holds each one. This package reads neither (it only
// looks at the files' permissions, for Warnings); the CLI does, when it
// builds the clients. docs/config.md has the details.
//
// The serve: section and the profiles' public, questions and approval keys
// are for foyer serve; Config.ServeSettings hands them over with their
// defaults filled in.
//
// The CLI imports this package; nothing else should.
package config

import (
	"time"
)

// Config is a whole configuration file.
type Config struct {
	Tenants  map[string]*Tenant  `yaml:"tenants,omitempty"`
	Ledger   Ledger              `yaml:"ledger,omitempty"`
	Pacing   Pacing              `yaml:"pacing,omitempty"`
	Notify   Notify              `yaml:"notify,omitempty"`
	SMTP     *SMTP               `yaml:"smtp,omitempty"`
	Storage  *Storage            `yaml:"storage,omitempty"`
	Serve    *Serve              `yaml:"serve,omitempty"`
	Profiles map[string]*Profile `yaml:"profiles,omitempty"`
	Triggers map[string]*Trigger `yaml:"triggers,omitempty"`
	// EventGrid authenticates Azure Event Grid's deliveries to
	// /hooks/eventgrid (trigger.go).
	EventGrid *EventGrid `yaml:"event_grid,omitempty"`

	src      *source   // where each key is, for messages
	warnings []Problem // see Warnings
}

// Tenant is one Entra directory and how foyer signs in to it.
type Tenant struct {
	TenantID        string     `yaml:"tenant_id,omitempty"`
	ClientID        string     `yaml:"client_id,omitempty"`
	Cloud           string     `yaml:"cloud,omitempty"` // public (default), usgov, china or custom
	Endpoints       Endpoints  `yaml:"endpoints,omitempty"`
	CAFile          string     `yaml:"ca_file,omitempty"`          // extra CA to trust (the emulated tenant's)
	Credential      Credential `yaml:"credential,omitempty"`       // how foyer gets tokens
	InternalDomains []string   `yaml:"internal_domains,omitempty"` // treated as the organisation's own, beside the verified domains
	Lifecycle       *Lifecycle `yaml:"lifecycle,omitempty"`        // what foyer sweep does to the tenant's guests (lifecycle.go)
	// Pacing overrides, for this tenant's invitations, the pacing:
	// section's invitations_per_minute and invitations (TenantPacing).
	Pacing *InvitePacing `yaml:"pacing,omitempty"`
}

// InvitePacing is how fast foyer invites into one tenant; an empty field
// keeps the pacing: section's value.
type InvitePacing struct {
	InvitationsPerMinute int    `yaml:"invitations_per_minute,omitempty"` // 0: pacing.invitations_per_minute
	Invitations          string `yaml:"invitations,omitempty"`            // governed or ceiling; "": pacing.invitations
}

// TenantPacing is the pacing of a tenant's directory client: the pacing:
// section with the tenant's own pacing: over it. Every tenant has its own
// client, so its own pace and governor, whatever the values.
func (c *Config) TenantPacing(t *Tenant) Pacing {
	p := c.Pacing
	if t != nil && t.Pacing != nil {
		if t.Pacing.InvitationsPerMinute > 0 {
			p.InvitationsPerMinute = t.Pacing.InvitationsPerMinute
		}
		if t.Pacing.Invitations != "" {
			p.Invitations = t.Pacing.Invitations
		}
	}
	return p
}

// Endpoints override a cloud's hosts (cloud: custom).
type Endpoints struct {
	Authority string `yaml:"authority,omitempty"` // e.g. https://login.microsoftonline.com/
	Graph     string `yaml:"graph,omitempty"`     // e.g. https://graph.microsoft.com
	ARM       string `yaml:"arm,omitempty"`       // e.g. https://management.azure.com
	Exchange  string `yaml:"exchange,omitempty"`  // e.g. https://outlook.office365.com
}

// Credential types.
const (
	CredClientSecret     = "client_secret"
	CredCertificate      = "certificate"
	CredManagedIdentity  = "managed_identity"
	CredWorkloadIdentity = "workload_identity"
	CredAzureCLI         = "azure_cli"
	CredDefault          = "default"
)

// Credential says how foyer gets tokens. It names where secrets are; it
// never holds one.
type Credential struct {
	Type                    string `yaml:"type,omitempty"`
	SecretEnv               string `yaml:"secret_env,omitempty"`                 // client_secret: the variable holding it
	SecretFile              string `yaml:"secret_file,omitempty"`                // client_secret: the file holding it
	CertificateFile         string `yaml:"certificate_file,omitempty"`           // certificate: PEM (cert + key) or PFX
	CertificatePasswordEnv  string `yaml:"certificate_password_env,omitempty"`   // certificate: the PFX or key password
	ManagedIdentityClientID string `yaml:"managed_identity_client_id,omitempty"` // managed_identity: a user-assigned identity
	TokenFile               string `yaml:"token_file,omitempty"`                 // workload_identity: default $AZURE_FEDERATED_TOKEN_FILE
}

// Ledger says where foyer keeps its ledger.
type Ledger struct {
	Driver string `yaml:"driver,omitempty"`  // sqlite (default) or postgres
	DSN    string `yaml:"dsn,omitempty"`     // sqlite: a file path; postgres: a DSN without a password
	DSNEnv string `yaml:"dsn_env,omitempty"` // postgres: the variable holding a DSN with its password
}

// Pacing bounds how fast foyer writes to the directory, below what the
// service itself allows.
type Pacing struct {
	InvitationsPerMinute int `yaml:"invitations_per_minute,omitempty"` // 0: no ceiling of foyer's own
	Concurrency          int `yaml:"concurrency,omitempty"`            // workers; 0: the default
	// LookupGrace is how long after an invitation whose answer was lost
	// foyer keeps looking the person up (replication can hide a new guest)
	// before inviting again. 0: 30 s.
	LookupGrace Duration `yaml:"lookup_grace,omitempty"`
	// Invitations is "governed" (start slow, speed up to the ceiling while
	// Entra blocks nothing) or "ceiling" (at the ceiling at once). Empty:
	// governed on Microsoft's clouds, ceiling on cloud: custom.
	Invitations string `yaml:"invitations,omitempty"`
	// WriteBudget is the write quota shared by every process on the
	// ledger (foyer serve replicas), kept in the ledger.
	WriteBudget WriteBudget `yaml:"write_budget,omitempty"`
}

// WriteBudget is Graph's write quota as the processes on one ledger spend
// it together: every write reserves a slot first, so that replicas do not
// each spend the whole quota. Zero values are the defaults.
type WriteBudget struct {
	// Shared is auto (the default: on for foyer serve on a PostgreSQL
	// ledger, where replicas may run; off otherwise, where one process
	// writes and its own pacer suffices), on or off.
	Shared string `yaml:"shared,omitempty"`
	// Writes per Window per app and tenant (Graph's 3,000 per 150 s).
	Writes int      `yaml:"writes,omitempty"`
	Window Duration `yaml:"window,omitempty"`
	// AppWrites per AppWindow per app across its tenants (Graph's 35,000
	// per 5 min): the tenants of one app share it.
	AppWrites int      `yaml:"app_writes,omitempty"`
	AppWindow Duration `yaml:"app_window,omitempty"`
	// Margin lengthens each window on foyer's side, so that network
	// jitter cannot land more writes in one of the service's windows than
	// the budget allows. Default 2s.
	Margin Duration `yaml:"margin,omitempty"`
}

// Write budget defaults: Graph's published identity write limits
// (docs/graph-reference.md §7).
const (
	DefaultBudgetWrites    = 3_000
	DefaultBudgetWindow    = 150 * time.Second
	DefaultBudgetAppWrites = 35_000
	DefaultBudgetAppWindow = 5 * time.Minute
	DefaultBudgetMargin    = 2 * time.Second
)

// Budget returns the write budget with its defaults, and whether it is
// on for a process of the given kind (serve: foyer serve) on this
// configuration's ledger.
func (c *Config) Budget(serve bool) (WriteBudget, bool) {
	b := c.Pacing.WriteBudget
	if b.Writes == 0 {
		b.Writes = DefaultBudgetWrites
	}
	if b.Window == 0 {
		b.Window = Duration(DefaultBudgetWindow)
	}
	if b.AppWrites == 0 {
		b.AppWrites = DefaultBudgetAppWrites
	}
	if b.AppWindow == 0 {
		b.AppWindow = Duration(DefaultBudgetAppWindow)
	}
	if b.Margin == 0 {
		b.Margin = Duration(DefaultBudgetMargin)
	}
	switch b.Shared {
	case "on":
		return b, true
	case "off":
		return b, false
	}
	return b, serve && c.Ledger.Driver == "postgres"
}

// Notify lists where run reports go. URLs are secrets (they carry tokens),
// so the file names where they are.
type Notify struct {
	Slack      *Hook  `yaml:"slack,omitempty"`
	Teams      *Hook  `yaml:"teams,omitempty"`
	Webhook    *Hook  `yaml:"webhook,omitempty"`
	DetailsURL string `yaml:"details_url,omitempty"` // a link to put in reports, e.g. the results file's location
}

// Hook is a webhook destination.
type Hook struct {
	URLEnv     string `yaml:"url_env,omitempty"`
	URLFile    string `yaml:"url_file,omitempty"`
	SecretEnv  string `yaml:"secret_env,omitempty"`  // webhook: the HMAC signing secret
	SecretFile string `yaml:"secret_file,omitempty"` // webhook: the HMAC signing secret
}

// SMTP is the mail server foyer sends its own invitation emails through.
type SMTP struct {
	Host         string `yaml:"host,omitempty"`
	Port         int    `yaml:"port,omitempty"` // default 587 (starttls), 465 (tls), 25 (none)
	From         string `yaml:"from,omitempty"`
	Username     string `yaml:"username,omitempty"`
	PasswordEnv  string `yaml:"password_env,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	TLS          string `yaml:"tls,omitempty"` // starttls (default), tls or none (loopback only)
	CAFile       string `yaml:"ca_file,omitempty"`
}

// Storage is the Azure Storage account that azblob://container/blob inputs
// are read from.
type Storage struct {
	AccountURL           string `yaml:"account_url,omitempty"`            // https://<account>.blob.core.windows.net/
	ConnectionStringEnv  string `yaml:"connection_string_env,omitempty"`  // or a connection string, from this variable
	ConnectionStringFile string `yaml:"connection_string_file,omitempty"` // or from this file
	Tenant               string `yaml:"tenant,omitempty"`                 // else sign in with this tenant's credential (Storage Blob Data Reader)
}

// Profile is a named bundle of access; see foyer.Profile.
type Profile struct {
	Tenant         string      `yaml:"tenant,omitempty"` // default: the only tenant
	RedirectURL    string      `yaml:"redirect_url,omitempty"`
	Message        string      `yaml:"message,omitempty"`
	Language       string      `yaml:"language,omitempty"`
	CC             string      `yaml:"cc,omitempty"`
	Sender         string      `yaml:"sender,omitempty"` // microsoft (default), foyer or none
	Sponsors       []string    `yaml:"sponsors,omitempty"`
	Groups         []string    `yaml:"groups,omitempty"`
	AppRoles       []AppRole   `yaml:"app_roles,omitempty"`
	Licenses       []License   `yaml:"licenses,omitempty"`
	DirectoryRoles []string    `yaml:"directory_roles,omitempty"`
	AzureRoles     []AzureRole `yaml:"azure_roles,omitempty"`
	AddressBook    bool        `yaml:"address_book,omitempty"` // show the guest in the address book
	MailContact    bool        `yaml:"mail_contact,omitempty"` // the old name of address_book, read with a warning
	AllowDomains   []string    `yaml:"allow_domains,omitempty"`
	DenyDomains    []string    `yaml:"deny_domains,omitempty"`
	Expiry         Duration    `yaml:"expiry,omitempty"`
	ExpiryNotice   *Duration   `yaml:"expiry_notice,omitempty"` // tell guest and sponsors this long before the end; absent: 7d with smtp
	ExpiresOn      string      `yaml:"expires_on,omitempty"`    // a day (2027-06-30): every access ends then (00:00 UTC), or earlier by expiry
	ExtensionMax   Duration    `yaml:"extension_max,omitempty"` // an extension asked for may end at most this long from the ask; absent: expiry, or 90d
	Inactivity     Duration    `yaml:"inactivity,omitempty"`
	Reminders      *Reminders  `yaml:"reminders,omitempty"` // invite again a guest still pending; absent: never
	Email          *Email      `yaml:"email,omitempty"`

	// What foyer serve's request page and API need (serve.go).
	Public    bool       `yaml:"public,omitempty"`    // anyone may ask on the request page; else only signed-in employees
	Questions []Question `yaml:"questions,omitempty"` // the profile's own questions on the request page
	Approval  *Approval  `yaml:"approval,omitempty"`  // how requests from the page and the API are approved; absent: they are rejected
}

// Reminders say when an invitation still pending is sent again: after
// After without redemption (counted from the invitation, then from the
// last reminder), at most Max times.
type Reminders struct {
	After Duration `yaml:"after,omitempty"`
	Max   int      `yaml:"max,omitempty"`
}

// AppRole is an app role of an application's service principal.
type AppRole struct {
	ServicePrincipal string `yaml:"service_principal,omitempty"` // display name, appId or object id
	Role             string `yaml:"role,omitempty"`              // value or id; empty for the default access role
}

// License is a license to assign.
type License struct {
	SKU           string   `yaml:"sku,omitempty"`            // part number (ENTERPRISEPACK) or SKU id
	UsageLocation string   `yaml:"usage_location,omitempty"` // ISO 3166 alpha-2, set on the guest first
	DisabledPlans []string `yaml:"disabled_plans,omitempty"` // service plan ids or names
}

// AzureRole is an Azure RBAC role at a scope.
type AzureRole struct {
	Role  string `yaml:"role,omitempty"`  // role name (Reader) or definition GUID
	Scope string `yaml:"scope,omitempty"` // /subscriptions/…[/resourceGroups/…[/providers/…]] or a management group
}

// Email customises the invitation email foyer sends (sender: foyer).
type Email struct {
	AppName      string `yaml:"app_name,omitempty"`     // what the guest is invited to, e.g. "Contoso Partner Portal"
	Organization string `yaml:"organization,omitempty"` // who invites, e.g. "Contoso"
	// TemplateDir holds subject.txt, invitation.txt and invitation.html
	// (any of them; the built-in template fills the rest).
	TemplateDir string `yaml:"template_dir,omitempty"`
}

// Duration is a time.Duration written as Go writes durations ("36h") or in
// days and weeks ("90d", "2w").
type Duration time.Duration
