package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
)

// Serve is the serve: section, for foyer serve: where it listens, the
// address people reach it at, who signs in and what they may do, the API's
// tokens, and the request page's limits. ServeSettings gives it with its
// defaults filled in.
type Serve struct {
	Addr          string       `yaml:"addr,omitempty"`            // host:port to listen on; default 127.0.0.1:8080
	PublicURL     string       `yaml:"public_url,omitempty"`      // the address in links foyer sends; default http://{addr}
	Tenant        string       `yaml:"tenant,omitempty"`          // whose users sign in; default: the only tenant
	SessionKeyEnv string       `yaml:"session_key_env,omitempty"` // the variable holding the session key (base64, 32 bytes or more)
	SignIn        *SignIn      `yaml:"sign_in,omitempty"`         // foyer's web app registration; default: the tenant's client_id and credential
	Access        Access       `yaml:"access,omitempty"`
	API           *API         `yaml:"api,omitempty"` // Entra app tokens on /api/v1; absent: API keys only
	Limits        ServeLimits  `yaml:"limits,omitempty"`
	Verification  Verification `yaml:"verification,omitempty"`
	// TrustedProxies are the reverse proxies (CIDR prefixes or addresses)
	// whose X-Forwarded-For foyer believes for the client's address: the
	// per-address rate limits and the access log use it.
	TrustedProxies []string `yaml:"trusted_proxies,omitempty"`
	// DrainTimeout is how long foyer serve, told to stop (SIGTERM), lets
	// the jobs under way finish before it cancels them; default 30s.
	DrainTimeout Duration `yaml:"drain_timeout,omitempty"`
	// LifecycleInterval is how often foyer serve syncs redemption states,
	// sends the reminders due and does the expiry due (it also does them
	// at start); default 1h.
	LifecycleInterval Duration `yaml:"lifecycle_interval,omitempty"`
}

// SignIn is the app registration people sign in to foyer's pages through
// (authorization code with PKCE). It names where its secret is.
type SignIn struct {
	ClientID   string     `yaml:"client_id,omitempty"`
	Credential Credential `yaml:"credential,omitempty"` // client_secret or certificate
}

// Access says who may use the approver UI.
type Access struct {
	Admins    Members `yaml:"admins,omitempty"`    // everything: requests, runs, guests, the audit log
	Approvers Members `yaml:"approvers,omitempty"` // the pending requests they may decide
}

// Members names people by group, app role or user.
type Members struct {
	Groups []string `yaml:"groups,omitempty"` // object ids of groups (the groups claim carries ids)
	Roles  []string `yaml:"roles,omitempty"`  // app role values of foyer's app registration
	Users  []string `yaml:"users,omitempty"`  // object ids or user principal names
}

// API says which Entra app tokens the API takes.
type API struct {
	Audience string `yaml:"audience,omitempty"` // the token's aud, e.g. api://foyer
	Role     string `yaml:"role,omitempty"`     // the app role the calling app must hold, e.g. Foyer.Invitations
}

// ServeLimits bound the public request page. 0 means the default; there is
// no way to turn a limit off, on purpose.
type ServeLimits struct {
	PerIPPerMinute   int `yaml:"per_ip_per_minute,omitempty"`   // default 30
	PerEmailPerHour  int `yaml:"per_email_per_hour,omitempty"`  // default 5
	PerDomainPerHour int `yaml:"per_domain_per_hour,omitempty"` // default 50
}

// Verification is how the request page proves an address.
type Verification struct {
	LinkTTL Duration `yaml:"link_ttl,omitempty"` // how long the emailed link works; default 30m
}

// Defaults of the serve: section.
const (
	DefaultServeAddr        = "127.0.0.1:8080"
	DefaultPerIPPerMinute   = 30
	DefaultPerEmailPerHour  = 5
	DefaultPerDomainPerHour = 50
	DefaultLinkTTL          = 30 * time.Minute
	minLinkTTL              = time.Minute
	maxLinkTTL              = 7 * 24 * time.Hour
	DefaultDrainTimeout     = 30 * time.Second
	maxDrainTimeout         = time.Hour
	DefaultLifecycle        = time.Hour
	maxLifecycle            = 24 * time.Hour
	maxLimit                = 1_000_000
)

// ServeSettings is the serve: section as foyer serve uses it: defaults
// filled in, the sign-in app resolved, the people as foyer.Approvers. It
// names where secrets are and holds none.
type ServeSettings struct {
	// Addr is the host:port to listen on (--addr overrides it).
	Addr string
	// PublicURL is the address people reach foyer at, without a trailing
	// slash: the requester's link is PublicURL/r/{token}, an approver's
	// PublicURL/admin/requests/{id}, and the sign-in redirect URI
	// PublicURL/admin/callback. Its scheme says whether cookies are Secure.
	PublicURL string
	// Tenant is the name (in tenants:) of the directory whose users sign
	// in and whose JWKS checks the API's tokens.
	Tenant string
	// SessionKeyEnv is the environment variable holding the key that signs
	// and encrypts session cookies (base64, 32 bytes or more). Empty: the
	// process makes a random key, so sessions end when it stops and only
	// one replica can serve; foyer serve should warn.
	SessionKeyEnv string
	// SignInClientID and SignInCredential are foyer's web app registration
	// (the tenant's own when serve.sign_in is absent). The credential is
	// client_secret or certificate; its secret is read by the CLI.
	SignInClientID   string
	SignInCredential Credential
	// Admins may do everything in /admin; Approvers may decide the
	// requests their stage names them for (the policy decides who decides
	// which request; Approvers only lets them in). Sponsor is never set.
	Admins    foyer.Approvers
	Approvers foyer.Approvers
	// APIAudience and APIRole are what an Entra app token on /api/v1 must
	// carry (aud, and the app role in roles). Empty APIAudience: the API
	// takes API keys only.
	APIAudience string
	APIRole     string
	// The request page's rate limits.
	PerIPPerMinute   int
	PerEmailPerHour  int
	PerDomainPerHour int
	// LinkTTL is how long an email verification link works.
	LinkTTL time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed.
	TrustedProxies []netip.Prefix
	// DrainTimeout is how long the jobs under way may run once foyer
	// serve is told to stop; those still running then are cancelled.
	DrainTimeout time.Duration
	// LifecycleInterval is how often the redemption sync, the reminders
	// and the expiry run.
	LifecycleInterval time.Duration
}

// ServeSettings returns the serve: section with its defaults, or an
// EINVALID error saying to add one when the file has none.
func (c *Config) ServeSettings() (ServeSettings, error) {
	s := c.Serve
	if s == nil {
		return ServeSettings{}, foyer.Errorf(foyer.EINVALID, "%s has no serve: section; foyer serve needs one, with at least serve.access.admins (docs/config.md)", c.Name())
	}
	out := ServeSettings{
		Addr:              s.Addr,
		PublicURL:         strings.TrimSuffix(s.PublicURL, "/"),
		Tenant:            s.Tenant,
		SessionKeyEnv:     s.SessionKeyEnv,
		Admins:            s.Access.Admins.approvers(),
		Approvers:         s.Access.Approvers.approvers(),
		PerIPPerMinute:    s.Limits.PerIPPerMinute,
		PerEmailPerHour:   s.Limits.PerEmailPerHour,
		PerDomainPerHour:  s.Limits.PerDomainPerHour,
		LinkTTL:           time.Duration(s.Verification.LinkTTL),
		DrainTimeout:      time.Duration(s.DrainTimeout),
		LifecycleInterval: time.Duration(s.LifecycleInterval),
	}
	for _, p := range s.TrustedProxies {
		if pre, err := parsePrefix(p); err == nil {
			out.TrustedProxies = append(out.TrustedProxies, pre)
		}
	}
	if s.API != nil {
		out.APIAudience, out.APIRole = strings.TrimSpace(s.API.Audience), strings.TrimSpace(s.API.Role)
	}
	switch t := c.Tenants[s.Tenant]; {
	case s.SignIn != nil:
		out.SignInClientID, out.SignInCredential = s.SignIn.ClientID, s.SignIn.Credential
	case t != nil:
		out.SignInClientID, out.SignInCredential = t.ClientID, t.Credential
	}
	return out, nil
}

func (m Members) approvers() foyer.Approvers {
	return foyer.Approvers{Groups: trimmed(m.Groups), Roles: trimmed(m.Roles), Users: trimmed(m.Users)}
}

func (m Members) empty() bool { return m.approvers().Empty() }

func trimmed(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// serveDefaults fills what the serve: section leaves out.
func (c *Config) serveDefaults() {
	s := c.Serve
	if s == nil {
		return
	}
	if s.Addr == "" {
		s.Addr = DefaultServeAddr
	}
	if s.PublicURL == "" {
		s.PublicURL = "http://" + s.Addr
	}
	if s.Tenant == "" && len(c.Tenants) == 1 {
		for name := range c.Tenants {
			s.Tenant = name
		}
	}
	l := &s.Limits
	if l.PerIPPerMinute == 0 {
		l.PerIPPerMinute = DefaultPerIPPerMinute
	}
	if l.PerEmailPerHour == 0 {
		l.PerEmailPerHour = DefaultPerEmailPerHour
	}
	if l.PerDomainPerHour == 0 {
		l.PerDomainPerHour = DefaultPerDomainPerHour
	}
	if s.Verification.LinkTTL == 0 {
		s.Verification.LinkTTL = Duration(DefaultLinkTTL)
	}
	if s.DrainTimeout == 0 {
		s.DrainTimeout = Duration(DefaultDrainTimeout)
	}
	if s.LifecycleInterval == 0 {
		s.LifecycleInterval = Duration(DefaultLifecycle)
	}
}

func (c *Config) checkServe(k *checker) {
	s := c.Serve
	if s == nil {
		return
	}
	const at = "$.serve"
	if err := checkAddr(s.Addr); err != "" {
		k.add(at+".addr", "serve.addr %q: %s", s.Addr, err)
	}
	if err := checkPublicURL(s.PublicURL); err != "" {
		k.add(at+".public_url", "serve.public_url %q: %s", s.PublicURL, err)
	}
	switch t, ok := c.Tenants[s.Tenant]; {
	case s.Tenant == "":
		k.add(at, "serve: tenant is missing (there are %d tenants): name the one whose users sign in", len(c.Tenants))
	case !ok:
		k.add(at+".tenant", "serve.tenant %q is not in tenants:", s.Tenant)
	case t != nil && s.SignIn == nil && !signsIn(t.Credential.Type):
		k.add(at+".tenant", "serve: tenant %s signs in with %s, which cannot sign people in to foyer's pages; add serve.sign_in with foyer's web app registration (client_id and a client_secret or certificate credential)",
			s.Tenant, credName(t.Credential.Type))
	}
	for i, p := range s.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			k.add(fmt.Sprintf("%s.trusted_proxies[%d]", at, i), "serve.trusted_proxies: %q is neither an address nor a CIDR prefix (10.0.0.0/8, 2001:db8::/32)", p)
		}
	}
	if s.SessionKeyEnv != "" && !envPattern.MatchString(s.SessionKeyEnv) {
		k.add(at+".session_key_env", "serve.session_key_env %q is not an environment variable name", s.SessionKeyEnv)
	}
	if si := s.SignIn; si != nil {
		if !guidPattern.MatchString(si.ClientID) {
			k.add(at+".sign_in.client_id", "serve.sign_in.client_id must be the web app's application (client) id, a GUID")
		}
		if !signsIn(si.Credential.Type) && si.Credential.Type != "" {
			k.add(at+".sign_in.credential.type", "serve.sign_in: credential type %q cannot sign people in; want client_secret or certificate", si.Credential.Type)
		} else {
			c.checkCredential(k, at+".sign_in.credential", "serve.sign_in", si.Credential)
		}
	}
	if s.Access.Admins.empty() {
		k.add(at+".access", "serve.access.admins names nobody: name at least one admin (groups, roles or users), or nobody could use /admin")
	}
	checkMembers(k, at+".access.admins", "serve.access.admins", s.Access.Admins)
	checkMembers(k, at+".access.approvers", "serve.access.approvers", s.Access.Approvers)
	if a := s.API; a != nil {
		if strings.TrimSpace(a.Audience) == "" {
			k.add(at+".api", "serve.api: audience is missing (the aud of the tokens foyer takes, e.g. api://foyer)")
		}
		if strings.TrimSpace(a.Role) == "" {
			k.add(at+".api", "serve.api: role is missing (the app role a calling app must hold, e.g. Foyer.Invitations)")
		}
	}
	for key, n := range map[string]int{"per_ip_per_minute": s.Limits.PerIPPerMinute, "per_email_per_hour": s.Limits.PerEmailPerHour, "per_domain_per_hour": s.Limits.PerDomainPerHour} {
		if n < 0 || n > maxLimit {
			k.add(at+".limits."+key, "serve.limits.%s must be between 1 and %d (0 or absent: the default)", key, maxLimit)
		}
	}
	if ttl := time.Duration(s.Verification.LinkTTL); ttl < minLinkTTL || ttl > maxLinkTTL {
		k.add(at+".verification.link_ttl", "serve.verification.link_ttl %s: want between 1m and 7d (a link in an email is a key to the request)", ttl)
	}
	if d := time.Duration(s.DrainTimeout); d < time.Second || d > maxDrainTimeout {
		k.add(at+".drain_timeout", "serve.drain_timeout %s: want between 1s and 1h (and below the time the supervisor waits before SIGKILL)", d)
	}
	if d := time.Duration(s.LifecycleInterval); d < time.Second || d > maxLifecycle {
		k.add(at+".lifecycle_interval", "serve.lifecycle_interval %s: want between 1s and 24h (each round reads every pending guest's state)", d)
	}
}

func signsIn(credType string) bool {
	return credType == CredClientSecret || credType == CredCertificate
}

func credName(credType string) string {
	if credType == "" {
		return "no credential"
	}
	return "a " + credType + " credential"
}

// checkAddr returns what is wrong with a listen address, or "".
func checkAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "want host:port, such as 127.0.0.1:8080 or :8080"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "the port must be a number from 0 to 65535"
	}
	if strings.ContainsAny(host, "/ ") {
		return "the host must be a name or an IP address"
	}
	return ""
}

// checkPublicURL returns what is wrong with serve.public_url, or "".
func checkPublicURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return "want an absolute http(s) URL, such as https://foyer.example.com"
	case u.User != nil:
		return "a URL with a user name or password is not accepted"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return "links are made by adding paths to it: leave out the query and fragment"
	}
	return ""
}

// checkMembers checks a list of people by group, role and user.
func checkMembers(k *checker, at, what string, m Members) {
	for key, items := range map[string][]string{"groups": m.Groups, "roles": m.Roles, "users": m.Users} {
		seen := map[string]bool{}
		for i, s := range items {
			norm := strings.ToLower(strings.TrimSpace(s))
			switch {
			case norm == "":
				k.add(fmt.Sprintf("%s.%s[%d]", at, key, i), "%s.%s: an empty entry", what, key)
			case seen[norm]:
				k.add(fmt.Sprintf("%s.%s[%d]", at, key, i), "%s.%s: %q is listed twice", what, key, s)
			case key == "groups" && !guidPattern.MatchString(norm):
				k.add(fmt.Sprintf("%s.%s[%d]", at, key, i), "%s.groups: %q is not a group's object id (a GUID); a token's groups claim carries ids, not names", what, s)
			}
			seen[norm] = true
		}
	}
}

// parsePrefix reads a CIDR prefix, or an address as the prefix of that one
// address.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
