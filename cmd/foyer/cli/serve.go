package cli

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/notify/email"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/web"
	"github.com/foyer-dev/foyer/web/admin"
	"github.com/foyer-dev/foyer/web/api"
	"github.com/foyer-dev/foyer/web/portal"
)

func newServe(env *Env) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the request page, the approver UI and the API, and work the job queue",
		Long: `serve runs foyer as a service: the public request page of each profile
(/request/PROFILE), the approver UI (/admin, signed in through Entra), the
HTTP API (/api/v1) and the job queue that invites and grants. A request from
the page or the API is the same kind of work as a CSV row: it is recorded in
the ledger, approved as its profile's policy says, and provisioned by the
same jobs.

When it listens it prints one JSON line with its url. It stops on SIGINT or
SIGTERM: it takes no more jobs, lets those under way finish for up to
serve.drain_timeout (30s by default), cancels the rest and gives its lease
back, so that another replica takes their jobs at once.

On a PostgreSQL ledger several foyer serve processes (replicas) may run on
one configuration and share the work (docs/deploy.md); on SQLite one runs at
a time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, env, addr, nil) },
	}
	configFlag(cmd)
	cmd.Flags().StringVar(&addr, "addr", "", "host:port to listen on (default serve.addr, else 127.0.0.1:8080)")
	return cmd
}

// serving is what a started server tells whoever started it.
type serving struct {
	URL  string `json:"url"`
	Addr string `json:"addr"`
}

// runServe serves until ctx ends. ready, when not nil, is called once the
// server listens, instead of printing the JSON line (foyer demo --serve).
func runServe(cmd *cobra.Command, env *Env, addr string, ready func(serving)) error {
	ctx := cmd.Context()
	log, err := logger(cmd, env)
	if err != nil {
		return err
	}
	c, err := loadConfig(cmd, env)
	if err != nil {
		return err
	}
	settings, err := c.ServeSettings()
	if err != nil {
		return withCode(ExitError, err)
	}
	if addr != "" {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return usageError("--addr %q: want host:port", addr)
		}
		if strings.HasPrefix(settings.PublicURL, "http://"+settings.Addr) {
			settings.PublicURL = "http://" + addr
		}
		settings.Addr = addr
	}
	sv, err := buildService(ctx, c, settings, env, log, nil)
	if err != nil {
		return err
	}
	defer sv.close()
	return sv.serve(ctx, env, ready)
}

// service is foyer serve's parts, built from the configuration.
type service struct {
	settings config.ServeSettings
	ledger   store.Store
	engine   *engine.Engine
	web      *web.Server
	log      *slog.Logger
}

func (sv *service) close() {
	if sv.ledger != nil {
		sv.ledger.Close()
	}
}

// buildService wires the ledger, the directory, the engine in service mode
// and the web server.
// A postman given replaces the smtp: section's (foyer demo prints the
// emails instead of sending them).
func buildService(ctx context.Context, c *config.Config, st config.ServeSettings, env *Env, log *slog.Logger, postman engine.Postman) (_ *service, err error) {
	ct, ok := c.Tenants[st.Tenant]
	if !ok {
		return nil, withCode(ExitError, fmt.Errorf("serve.tenant %q is not in tenants: (%s)", st.Tenant, strings.Join(c.TenantNames(), ", ")))
	}
	ledger, err := openLedger(ctx, c, env, log)
	if err != nil {
		return nil, err
	}
	sv := &service{settings: st, ledger: ledger, log: log}
	ok = false
	defer func() {
		if !ok {
			sv.close()
		}
	}()
	tenants, profiles, mailers, err := serveTenants(ctx, c, ledger, env, log)
	if err != nil {
		return nil, err
	}
	if postman == nil {
		if postman, err = servePostman(ctx, c, profiles, env, log); err != nil {
			return nil, withCode(ExitError, err)
		}
	}
	ns, err := notifiers(c, env, log.With("component", "notify"))
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	eng := &engine.Engine{
		Store: ledger, Tenants: tenants, Profiles: profiles, Clock: env.Clock, Log: log.With("component", "engine"),
		NewID: uuid.NewString, Owner: engine.NewOwner(uuid.NewString()[:8]), Workers: c.Pacing.Concurrency,
		Actor: "serve", UnknownOutcomeGrace: time.Duration(c.Pacing.LookupGrace),
		Notifiers: ns, DetailsURL: c.Notify.DetailsURL,
		Service: true, PublicURL: st.PublicURL, LinkTTL: st.LinkTTL, RedemptionEvery: st.LifecycleInterval,
		// On PostgreSQL, replicas share the work, each under a lease of
		// its own; SQLite's one writer at a time suits one process.
		Replicas: c.Ledger.Driver == "postgres",
	}
	eng.Metrics = engine.NewMetrics(engine.MetricsOptions{Store: ledger, Tenants: tenants, Log: log.With("component", "metrics")})
	if postman != nil {
		eng.Postman = postman
	}
	if len(mailers) > 0 {
		eng.Mailer = mailers
	}
	if eng.Triggers, err = serveTriggers(c, env, profiles); err != nil {
		return nil, withCode(ExitError, err)
	}
	eng.Sources = inputSources{c: c, env: env}
	sv.engine = eng
	if sv.web, err = buildWeb(ctx, c, st, ct, eng, ledger, profiles, env, log); err != nil {
		return nil, err
	}
	ok = true
	return sv, nil
}

// serveTenants builds a Graph client for every tenant some profile names
// or that has a lifecycle: section, signed in with that tenant's own
// credential, cloud and pacing, resolves each profile against its tenant,
// and builds the invitation mailers of those whose sender is foyer. A
// tenant's lifecycle rules are the ones foyer sweep reads
// (config.Lifecycle.SweepRules): with them serve works a sweep released
// from /admin/runs, and sweeps the tenant on its lifecycle.schedule.
//
// With the shared write budget on (replicas on PostgreSQL), each tenant's
// writes reserve their slots in the ledger, under the tenant's and its
// app's keys, so that replicas and tenants of one app spend one quota.
func serveTenants(ctx context.Context, c *config.Config, ledger store.Store, env *Env, log *slog.Logger) (map[string]*engine.Tenant, map[string]*foyer.Profile, profileMailers, error) {
	tenants := map[string]*engine.Tenant{}
	profiles := map[string]*foyer.Profile{}
	mailers := profileMailers{}
	for _, name := range c.TenantNames() {
		ct := c.Tenants[name]
		used := ct.Lifecycle != nil
		for _, p := range c.Profiles {
			used = used || p.Tenant == name
		}
		if !used {
			continue
		}
		var budget []func(*graph.Options)
		if b, on := c.Budget(true); on {
			budget = append(budget, func(o *graph.Options) { o.Budget = newLedgerBudget(ledger, b, ct.TenantID, ct.ClientID) })
		}
		dir, tenant, err := openTenant(ctx, c, name, env, log.With("tenant", name), budget...)
		if err != nil {
			return nil, nil, nil, err
		}
		tenants[name] = &engine.Tenant{Name: name, ID: tenant.ID, Dir: dir, InternalDomains: tenant.Domains, Calls: graphCalls{dir}}
		if ct.Lifecycle != nil {
			rules := ct.Lifecycle.SweepRules()
			tenants[name].Sweep = &rules
			sched, err := ct.Lifecycle.SweepSchedule()
			if err != nil {
				return nil, nil, nil, withCode(ExitError, fmt.Errorf("tenant %s: lifecycle.schedule: %w", name, err))
			}
			sc := sweepConfig(ct.Lifecycle, nil)
			if sched != nil {
				sc.Schedule = sched
			}
			tenants[name].Lifecycle = &sc
		}
		ps, ms, err := serveProfiles(ctx, c, name, dir, env, log)
		if err != nil {
			return nil, nil, nil, err
		}
		maps.Copy(profiles, ps)
		maps.Copy(mailers, ms)
	}
	if len(profiles) == 0 {
		return nil, nil, nil, withCode(ExitError, fmt.Errorf("%s has no profile to serve", c.Name()))
	}
	return tenants, profiles, mailers, nil
}

// serveProfiles resolves every profile of a tenant against its directory,
// and builds the invitation mailers of those whose sender is foyer.
func serveProfiles(ctx context.Context, c *config.Config, tenant string, dir *graph.Client, env *Env, log *slog.Logger) (map[string]*foyer.Profile, profileMailers, error) {
	profiles := map[string]*foyer.Profile{}
	mailers := profileMailers{}
	for _, name := range c.ProfileNames() {
		if c.Profiles[name].Tenant != tenant {
			continue
		}
		p, err := resolveProfile(ctx, c, name, dir)
		if err != nil {
			return nil, nil, err
		}
		profiles[name] = p
		if p.Sender == foyer.SenderFoyer {
			m, err := newMailer(ctx, c, name, env, log)
			if err != nil {
				return nil, nil, withCode(ExitError, err)
			}
			mailers[name] = m
		}
	}
	return profiles, mailers, nil
}

// profileMailers sends each profile's invitation emails with its own
// templates.
type profileMailers map[string]*smtpMailer

var _ engine.Mailer = profileMailers(nil)

func (pm profileMailers) mailer(profile string) (*smtpMailer, error) {
	m, ok := pm[profile]
	if !ok {
		return nil, foyer.Errorf(foyer.EINVALID, "profile %s has no invitation email of foyer's own", profile)
	}
	return m, nil
}

func (pm profileMailers) Check(im engine.InvitationMail) error {
	m, err := pm.mailer(im.Profile)
	if err != nil {
		return err
	}
	return m.Check(im)
}

func (pm profileMailers) SendInvitation(ctx context.Context, im engine.InvitationMail) (string, error) {
	m, err := pm.mailer(im.Profile)
	if err != nil {
		return "", err
	}
	return m.SendInvitation(ctx, im)
}

// servePostman builds what sends the request page's links and the
// approvals' notices: the smtp: section's server. Without one, a public
// profile could never prove anyone's address, so serve refuses to start.
func servePostman(ctx context.Context, c *config.Config, profiles map[string]*foyer.Profile, env *Env, log *slog.Logger) (engine.Postman, error) {
	s := c.SMTP
	if s == nil {
		for _, p := range profiles {
			if p.Public {
				return nil, fmt.Errorf("profile %s is public: its request page sends a link to prove the address, and the configuration has no smtp: section to send it with", p.Name)
			}
		}
		log.Warn("no smtp: section: requesters and approvers get no email")
		return nil, nil
	}
	sender, err := smtpSender(ctx, c, env, log)
	if err != nil {
		return nil, err
	}
	return email.Postman{Sender: sender}, nil
}

// buildWeb assembles the web server: the request page, the approver UI,
// the API and web's own routes.
func buildWeb(ctx context.Context, c *config.Config, st config.ServeSettings, ct *config.Tenant, eng *engine.Engine,
	ledger store.Store, profiles map[string]*foyer.Profile, env *Env, log *slog.Logger) (*web.Server, error) {
	key, err := sessionKey(st, env, log)
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	public, err := url.Parse(st.PublicURL)
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("serve.public_url: %w", err))
	}
	secure := public.Scheme == "https"
	authority, httpClient, err := graph.Identity(graphOptions(c, ct, env, log, env.Clock))
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("tenant %s: %w", st.Tenant, err))
	}
	secret := ""
	switch st.SignInCredential.Type {
	case config.CredClientSecret:
		if secret, err = secretValue(c, env, "sign-in client secret", st.SignInCredential.SecretEnv, st.SignInCredential.SecretFile); err != nil {
			return nil, withCode(ExitError, err)
		}
	case "":
	default:
		return nil, withCode(ExitError, fmt.Errorf("serve: the sign-in app's credential is %s; the approver UI signs in with a client secret, or as a public client with none (serve.sign_in)", st.SignInCredential.Type))
	}
	clock := env.Clock
	adm, err := admin.New(admin.Options{
		Issuer: authority + "/" + ct.TenantID + "/v2.0", ClientID: st.SignInClientID, ClientSecret: secret,
		RedirectURL: st.PublicURL + "/admin/callback", HTTPClient: httpClient, Key: key, Secure: secure,
		KnownGroups: knownGroups(st, profiles), Admins: st.Admins, CSRF: web.CSRFToken,
		Intake: eng, Store: ledger, Clock: clock, Log: log.With("component", "admin"),
	})
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("approver UI: %w", err))
	}
	role := cmp.Or(st.APIRole, api.DefaultRole)
	auth := api.AuthOptions{Ledger: ledger, Role: role, Clock: clock, Logger: log.With("component", "api")}
	if st.APIAudience != "" {
		auth.Entra = &api.Entra{TenantID: ct.TenantID, AuthorityHost: authority, Audiences: []string{st.APIAudience}, Client: httpClient}
	}
	apiAuth, err := api.NewAuthenticator(ctx, auth)
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("API: %w", err))
	}
	apiH, err := api.New(api.Options{Intake: eng, Ledger: ledger, Auth: apiAuth, Role: role, Logger: log.With("component", "api")})
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("API: %w", err))
	}
	limits := web.DefaultLimits()
	limits.PerIP = web.Rate{N: st.PerIPPerMinute, Per: time.Minute}
	limits.PerEmail = web.Rate{N: st.PerEmailPerHour, Per: time.Hour}
	limits.PerDomain = web.Rate{N: st.PerDomainPerHour, Per: time.Hour}
	page, err := portal.New(portal.Options{
		Intake: eng, Profiles: profiles, SignIn: adm,
		PerEmail: web.NewLimiter(limits.PerEmail, clock), PerDomain: web.NewLimiter(limits.PerDomain, clock),
		Clock: clock, Log: log.With("component", "portal"),
	})
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("request page: %w", err))
	}
	entra := func(aud string) *api.Entra {
		return &api.Entra{TenantID: ct.TenantID, AuthorityHost: authority, Audiences: []string{aud}, Client: httpClient}
	}
	hk, err := triggerHooks(ctx, c, env, eng, entra, log.With("component", "hooks"))
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("webhooks: %w", err))
	}
	routes := append(append(append(page.Routes(), adm.Routes()...), apiH.Routes()...), hk.Routes()...)
	metrics := web.NewMetrics()
	if eng.Metrics != nil {
		if err := metrics.Register(eng.Metrics); err != nil {
			return nil, withCode(ExitError, fmt.Errorf("metrics: %w", err))
		}
	}
	srv, err := web.New(web.Options{
		Routes: routes, Metrics: metrics, SignIn: adm, API: apiAuth, Admins: st.Admins, Approvers: st.Approvers, APIRole: role,
		Ready: func(ctx context.Context) error { return eng.CheckLease(ctx) },
		Log:   log.With("component", "web"), Clock: clock, Key: key, Secure: secure, Limits: limits,
		TrustedProxies: st.TrustedProxies,
	})
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	return srv, nil
}

// graphCalls gives the engine's metrics the Graph client's counters.
type graphCalls struct{ c *graph.Client }

func (g graphCalls) CallCounts() engine.CallCounts {
	s := g.c.Stats()
	return engine.CallCounts{Requests: s.Requests, Throttled: s.Throttled, Retries: s.Retries}
}

// knownGroups are the groups the access rules and the policies name: the
// only ones a session needs to remember.
func knownGroups(st config.ServeSettings, profiles map[string]*foyer.Profile) []string {
	var gs []string
	gs = append(append(gs, st.Admins.Groups...), st.Approvers.Groups...)
	for _, p := range profiles {
		for _, s := range p.Approval.Stages {
			gs = append(append(gs, s.Approvers.Groups...), s.Alternates.Groups...)
		}
		gs = append(gs, p.Approval.RunApprovers.Groups...)
	}
	return gs
}

// sessionKey reads the key that seals sessions and signs CSRF tokens from
// the variable serve.session_key_env names, or makes one for this process.
func sessionKey(st config.ServeSettings, env *Env, log *slog.Logger) ([]byte, error) {
	if st.SessionKeyEnv == "" {
		log.Warn("serve.session_key_env is not set: a random session key was made; sessions end when foyer stops, and only one replica can serve")
		key := make([]byte, 32)
		_, err := rand.Read(key)
		return key, err
	}
	v := strings.TrimSpace(env.Getenv(st.SessionKeyEnv))
	if v == "" {
		return nil, fmt.Errorf("serve.session_key_env: $%s is empty; set it to 32 random bytes in base64 (openssl rand -base64 32)", st.SessionKeyEnv)
	}
	key, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		if key, err = base64.RawURLEncoding.DecodeString(v); err != nil {
			return nil, fmt.Errorf("serve.session_key_env: $%s is not base64", st.SessionKeyEnv)
		}
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("serve.session_key_env: $%s holds %d bytes; it needs 32 or more", st.SessionKeyEnv, len(key))
	}
	return key, nil
}

// serve takes the worker lease, listens, says where, and serves until ctx
// ends; then it stops taking answers, lets those under way finish, and
// stops the jobs.
func (sv *service) serve(ctx context.Context, env *Env, ready func(serving)) error {
	if err := sv.engine.Start(ctx); err != nil {
		return withCode(ExitError, err)
	}
	stopEngine := func() error {
		// Jobs under way get the drain timeout, then are cancelled; the
		// lease is given back either way.
		drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(sv.settings.DrainTimeout, config.DefaultDrainTimeout))
		defer cancel()
		return sv.engine.Stop(drain)
	}
	ln, err := net.Listen("tcp", sv.settings.Addr)
	if err != nil {
		return withCode(ExitError, errors.Join(fmt.Errorf("listen on %s: %w", sv.settings.Addr, err), stopEngine()))
	}
	hs := &http.Server{
		Handler:           sv.web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(sv.log.With("component", "http").Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	s := serving{URL: sv.settings.PublicURL, Addr: ln.Addr().String()}
	if ready != nil {
		ready(s)
	} else if err := json.NewEncoder(env.Stdout).Encode(s); err != nil {
		sv.log.Warn("say where foyer listens", "err", err)
	}
	sv.log.Info("serving", "addr", s.Addr, "url", s.URL)
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	case <-sv.engine.Done():
		serveErr = fmt.Errorf("the job queue stopped: %w", sv.engine.Err())
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err = hs.Shutdown(shutdown)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	err = errors.Join(serveErr, err, stopEngine())
	if err != nil {
		return withCode(ExitError, err)
	}
	sv.log.Info("stopped serving")
	return nil
}

// printedMail is foyer demo's post: it prints each notice, link included,
// where the person trying the demo reads it, since the demo has no mail
// server. foyer serve itself always sends through the smtp: section.
type printedMail struct {
	mu  *sync.Mutex
	out io.Writer
}

func (p printedMail) Send(_ context.Context, n engine.Notice) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	to := make([]string, len(n.To))
	for i, a := range n.To {
		to[i] = string(a)
	}
	_, err := fmt.Fprintf(p.out, "\n--- email to %s: %s\n%s\n---\n", strings.Join(to, ", "), n.Subject, strings.TrimSpace(n.Text))
	return err
}
