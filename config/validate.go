package config

import (
	"fmt"
	"net/url"
	"regexp"

	"github.com/foyer-dev/foyer"
)

var (
	namePattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	guidPattern     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	tenantIDPattern = regexp.MustCompile(`^[0-9a-zA-Z.-]+$`) // azidentity's own rule
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
	envPattern      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func (c *Config) defaults() {
	if c.Ledger.Driver == "" {
		c.Ledger.Driver = "sqlite"
	}
	if c.Ledger.Driver == "sqlite" && c.Ledger.DSN == "" {
		c.Ledger.DSN = "foyer.db"
	}
	for _, t := range c.Tenants {
		if t != nil && t.Cloud == "" {
			t.Cloud = "public"
		}
	}
	if c.SMTP != nil && c.SMTP.TLS == "" {
		c.SMTP.TLS = "starttls"
	}
	if c.SMTP != nil && c.SMTP.Port == 0 {
		c.SMTP.Port = map[string]int{"starttls": 587, "tls": 465, "none": 25}[c.SMTP.TLS]
	}
	c.serveDefaults()
	for _, p := range c.Profiles {
		if p == nil {
			continue
		}
		if p.Sender == "" {
			p.Sender = string(foyer.SenderMicrosoft)
		}
		if p.Tenant == "" && len(c.Tenants) == 1 {
			for name := range c.Tenants {
				p.Tenant = name
			}
		}
	}
}

// checker collects problems with their places.
type checker struct {
	c  *Config
	ps Problems
}

func (k *checker) add(path, format string, args ...any) {
	line, col := k.c.src.pos(path)
	k.ps = append(k.ps, Problem{File: k.c.src.name, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), path: path})
}

func (c *Config) validate() Problems {
	k := &checker{c: c}
	if len(c.Tenants) == 0 {
		k.add("$", "no tenants: add a tenants: section with at least one tenant")
	}
	for _, name := range c.TenantNames() {
		c.checkTenant(k, name)
	}
	c.checkLedger(k)
	if c.Pacing.InvitationsPerMinute < 0 {
		k.add("$.pacing.invitations_per_minute", "invitations_per_minute may not be negative")
	}
	switch c.Pacing.Invitations {
	case "", "governed", "ceiling":
	default:
		k.add("$.pacing.invitations", "invitations must be governed (start slow, the default on Microsoft's clouds) or ceiling (at invitations_per_minute at once), not %q", c.Pacing.Invitations)
	}
	if c.Pacing.Concurrency < 0 || c.Pacing.Concurrency > 64 {
		k.add("$.pacing.concurrency", "concurrency must be between 0 (the default) and 64")
	}
	c.checkNotify(k)
	c.checkSMTP(k)
	c.checkStorage(k)
	c.checkServe(k)
	if len(c.Profiles) == 0 {
		k.add("$", "no profiles: add a profiles: section with at least one profile")
	}
	for _, name := range c.ProfileNames() {
		c.checkProfile(k, name)
	}
	c.checkTriggers(k)
	return k.ps
}

func (c *Config) checkTenant(k *checker, name string) {
	at := "$.tenants." + name
	t := c.Tenants[name]
	if !namePattern.MatchString(name) {
		k.add(at, "tenant name %q: use lowercase letters, digits, - and _", name)
	}
	if t == nil {
		k.add(at, "tenant %s is empty", name)
		return
	}
	switch {
	case t.TenantID == "":
		k.add(at, "tenant %s: tenant_id is missing (the directory id, a GUID)", name)
	case !tenantIDPattern.MatchString(t.TenantID):
		k.add(at+".tenant_id", "tenant %s: tenant_id %q is not a GUID or domain", name, t.TenantID)
	}
	needsClient := map[string]bool{CredClientSecret: true, CredCertificate: true, CredWorkloadIdentity: true}
	if needsClient[t.Credential.Type] && !guidPattern.MatchString(t.ClientID) {
		k.add(at+".client_id", "tenant %s: client_id must be the application (client) id, a GUID", name)
	}
	switch t.Cloud {
	case "public", "usgov", "china":
	case "custom":
		if t.Endpoints.Authority == "" || t.Endpoints.Graph == "" {
			k.add(at+".endpoints", "tenant %s: cloud custom needs endpoints.authority and endpoints.graph", name)
		}
	default:
		k.add(at+".cloud", "tenant %s: cloud %q: want public, usgov, china or custom", name, t.Cloud)
	}
	for key, u := range map[string]string{"authority": t.Endpoints.Authority, "graph": t.Endpoints.Graph, "arm": t.Endpoints.ARM, "exchange": t.Endpoints.Exchange} {
		if u != "" && !isHTTPS(u) {
			k.add(at+".endpoints."+key, "tenant %s: endpoints.%s %q must be an https URL", name, key, u)
		}
	}
	if p := t.Pacing; p != nil {
		if p.InvitationsPerMinute < 0 {
			k.add(at+".pacing.invitations_per_minute", "tenant %s: invitations_per_minute may not be negative", name)
		}
		switch p.Invitations {
		case "", "governed", "ceiling":
		default:
			k.add(at+".pacing.invitations", "tenant %s: invitations must be governed or ceiling, not %q", name, p.Invitations)
		}
	}
	for i, d := range t.InternalDomains {
		if _, err := domainName(d); err != nil {
			k.add(fmt.Sprintf("%s.internal_domains[%d]", at, i), "tenant %s: %s", name, err.Message)
		}
	}
	c.checkCredential(k, at+".credential", name, t.Credential)
	c.checkLifecycle(k, at, name, t.Lifecycle)
}

func (c *Config) checkCredential(k *checker, at, tenant string, cr Credential) {
	switch cr.Type {
	case CredClientSecret:
		if (cr.SecretEnv == "") == (cr.SecretFile == "") {
			k.add(at, "tenant %s: a client_secret credential needs exactly one of secret_env or secret_file", tenant)
		}
	case CredCertificate:
		if cr.CertificateFile == "" {
			k.add(at, "tenant %s: a certificate credential needs certificate_file (PEM or PFX)", tenant)
		}
	case CredManagedIdentity, CredWorkloadIdentity, CredAzureCLI, CredDefault:
	case "":
		k.add(at, "tenant %s: credential.type is missing: client_secret, certificate, managed_identity, workload_identity, azure_cli or default", tenant)
	default:
		k.add(at+".type", "tenant %s: credential type %q: want client_secret, certificate, managed_identity, workload_identity, azure_cli or default", tenant, cr.Type)
	}
	for key, v := range map[string]string{"secret_env": cr.SecretEnv, "certificate_password_env": cr.CertificatePasswordEnv} {
		if v != "" && !envPattern.MatchString(v) {
			k.add(at+"."+key, "tenant %s: %s %q is not an environment variable name", tenant, key, v)
		}
	}
	if cr.ManagedIdentityClientID != "" && !guidPattern.MatchString(cr.ManagedIdentityClientID) {
		k.add(at+".managed_identity_client_id", "tenant %s: managed_identity_client_id must be a GUID", tenant)
	}
}

func (c *Config) checkLedger(k *checker) {
	switch l := c.Ledger; l.Driver {
	case "sqlite":
		if l.DSNEnv != "" {
			k.add("$.ledger.dsn_env", "ledger: dsn_env is for postgres; sqlite takes a file path in dsn")
		}
	case "postgres":
		if (l.DSN == "") == (l.DSNEnv == "") {
			k.add("$.ledger", "ledger: postgres needs exactly one of dsn or dsn_env")
		}
		if where := dsnPassword(l.DSN, 0); where != "" {
			k.add("$.ledger.dsn", "ledger.dsn holds a password (%s); put the whole DSN in an environment variable and name it in dsn_env", where)
		}
	default:
		k.add("$.ledger.driver", "ledger driver %q: want sqlite or postgres", l.Driver)
	}
}

func (c *Config) checkNotify(k *checker) {
	for key, h := range map[string]*Hook{"slack": c.Notify.Slack, "teams": c.Notify.Teams, "webhook": c.Notify.Webhook} {
		if h == nil {
			continue
		}
		at := "$.notify." + key
		if (h.URLEnv == "") == (h.URLFile == "") {
			k.add(at, "notify.%s needs exactly one of url_env or url_file", key)
		}
		if key != "webhook" && (h.SecretEnv != "" || h.SecretFile != "") {
			k.add(at, "notify.%s: only the generic webhook is signed with a secret", key)
		}
	}
	if u := c.Notify.DetailsURL; u != "" && !isHTTPURL(u) {
		k.add("$.notify.details_url", "notify.details_url %q is not an http(s) URL", u)
	}
}

func (c *Config) checkSMTP(k *checker) {
	s := c.SMTP
	if s == nil {
		return
	}
	if s.Host == "" {
		k.add("$.smtp", "smtp.host is missing")
	}
	if s.Port <= 0 || s.Port > 65535 {
		k.add("$.smtp.port", "smtp.port %d is not a port", s.Port)
	}
	if _, err := foyer.ParseAddress(s.From); err != nil {
		k.add("$.smtp.from", "smtp.from: %s", foyer.ErrorMessage(err))
	}
	if s.Username != "" && (s.PasswordEnv == "") == (s.PasswordFile == "") {
		k.add("$.smtp", "smtp: with a username, give exactly one of password_env or password_file")
	}
	switch s.TLS {
	case "starttls", "tls", "none":
	default:
		k.add("$.smtp.tls", "smtp.tls %q: want starttls, tls or none", s.TLS)
	}
}

func (c *Config) checkStorage(k *checker) {
	s := c.Storage
	if s == nil {
		return
	}
	byString := s.ConnectionStringEnv != "" || s.ConnectionStringFile != ""
	switch {
	case s.ConnectionStringEnv != "" && s.ConnectionStringFile != "":
		k.add("$.storage", "storage: give connection_string_env or connection_string_file, not both")
	case byString && (s.AccountURL != "" || s.Tenant != ""):
		k.add("$.storage", "storage: a connection string names its account; leave account_url and tenant out")
	case !byString && (s.AccountURL == "" || s.Tenant == ""):
		k.add("$.storage", "storage: give account_url and tenant (whose credential reads the blobs), or a connection string")
	}
	if s.AccountURL != "" {
		if u, err := url.Parse(s.AccountURL); err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" {
			k.add("$.storage.account_url", "storage.account_url must be an https URL without a query (a SAS token is a secret: use a connection string)")
		}
	}
	if _, ok := c.Tenants[s.Tenant]; s.Tenant != "" && !ok {
		k.add("$.storage.tenant", "storage.tenant %q is not in tenants:", s.Tenant)
	}
}

func isHTTPS(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
