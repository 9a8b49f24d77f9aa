package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/sim/throttle"
)

// simFlags are the options of `foyer sim`.
type simFlags struct {
	addr        string
	dir         string
	seed        int64
	latency     chaos.Latency
	faults      chaos.Faults
	throttle    throttle.Config
	replication time.Duration
	inviteCap   int
	answerDelay time.Duration
	empty       bool
	servePort   int
}

func newSim(env *Env) *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve an emulated Entra tenant on loopback until interrupted",
		Long: `Serve an emulated Microsoft Entra tenant (sign-in, Microsoft Graph, Azure
Resource Manager role assignments, Exchange mail contacts) over HTTPS on
loopback, until SIGINT or SIGTERM. It writes DIR/ca.pem, DIR/client-secret,
DIR/client.pem and a ready configuration DIR/foyer.yaml, prints one JSON
line with the URL and the throwaway credentials, and serves. Unless
--empty, the tenant also has what foyer serve needs: approvers who sign in
(approver@contoso.example, alternate@contoso.example, password
sim-password), a Foyer Approvers group, and foyer's web app, whose secret
is DIR/web-secret; foyer.yaml then has a serve: section for --serve-port
and a public profile, requests, approved in two stages. The side door
under /_sim/ is described in docs/sim.md.

DIR must be yours: a directory (not a symbolic link) that you own and that
neither group nor others may write to. While it serves, DIR/sim.pid names
the process, and a second sim or demo on DIR is refused.`,
		Example: `  foyer sim --dir /tmp/sim
  foyer sim --dir /tmp/sim --throttle published --latency 80ms,400ms --faults 0.02 --replication-delay 5s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSim(cmd, env, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:0", "listen address (loopback only; port 0 picks a free one)")
	fl.StringVar(&f.dir, "dir", "", "directory for ca.pem, client-secret, client.pem and foyer.yaml (default: a new temporary directory)")
	fl.Int64Var(&f.seed, "seed", 1, "seed of every id, secret and random choice")
	fl.Var(&f.latency, "latency", `response latency: "0", a median "100ms", or "median,p99" such as "100ms,400ms"`)
	fl.Var(&f.faults, "faults", `random faults: a rate "0.05", or "rate=0.05,drop=0.2,after=0.5,500=1,503=1,504=1,retry-after=1s"`)
	fl.Var(&f.throttle, "throttle", `throttling: "published" (Microsoft's limits), "off", or "custom:writes=3000/150s,ru=8000/10s,..."`)
	fl.DurationVar(&f.replication, "replication-delay", 0, "how long a new object stays invisible to writes that reference it")
	fl.IntVar(&f.inviteCap, "invite-cap", 0, `invitations per minute above which the tenant answers the "suspicious activity" 403 (0: no cap)`)
	fl.DurationVar(&f.answerDelay, "answer-delay", 0, "hold the answer of every write this long after carrying it out (a slow service)")
	fl.BoolVar(&f.empty, "empty", false, "start without the demo content (domains, members, guests, groups, apps, SKUs)")
	fl.IntVar(&f.servePort, "serve-port", defaultServePort, "the port foyer serve will listen on, in the web app's redirect URI and the serve: section of foyer.yaml")
	return cmd
}

// simReady is the JSON line `foyer sim` prints once it serves.
type simReady struct {
	URL             string `json:"url"`
	TenantID        string `json:"tenant_id"`
	ClientID        string `json:"client_id"`
	ClientSecret    string `json:"client_secret"`
	Config          string `json:"config"`
	CAFile          string `json:"ca_file"`
	SecretFile      string `json:"secret_file"`
	CertificateFile string `json:"certificate_file"`
	Dir             string `json:"dir"`
	// The managed identity endpoint, for credential type managed_identity:
	// set IDENTITY_ENDPOINT and IDENTITY_HEADER to these, as App Service
	// does, after adding an identity with POST /_sim/apps.
	IdentityEndpoint string `json:"identity_endpoint"`
	IdentityHeader   string `json:"identity_header"`
	// What foyer serve needs (not with --empty): who signs in to approve,
	// and foyer's web app registration.
	Serve *serveDemo `json:"serve,omitempty"`
}

func runSim(cmd *cobra.Command, env *Env, f simFlags) error {
	log, err := logger(cmd, env)
	if err != nil {
		return err
	}
	if f.replication < 0 || f.inviteCap < 0 || f.answerDelay < 0 {
		return usageError("--replication-delay, --invite-cap and --answer-delay must not be negative")
	}
	if f.servePort < 1 || f.servePort > 65535 {
		return usageError("--serve-port must be a port, from 1 to 65535")
	}
	dir, err := simDir(f.dir)
	if err != nil {
		return withCode(ExitError, err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return withCode(ExitError, err)
	}
	defer unlock()
	s, err := sim.Start(cmd.Context(), sim.Options{
		Addr: f.addr, Seed: f.seed, Empty: f.empty, Latency: f.latency, Faults: f.faults, Throttle: f.throttle,
		ReplicationDelay: f.replication, InvitesPerMinute: f.inviteCap, AnswerDelay: f.answerDelay, Logger: log, ClientCertificate: true,
	})
	if err != nil {
		return withCode(ExitError, fmt.Errorf("start the emulated tenant: %w", err))
	}
	defer s.Close()
	var serve *serveDemo
	if !f.empty {
		if serve, err = seedServe(s, dir, f.servePort); err != nil {
			return withCode(ExitError, err)
		}
	}
	ready, err := writeSimFiles(s, dir, f.empty, serve)
	if err != nil {
		return withCode(ExitError, err)
	}
	line, _ := json.Marshal(ready)
	if _, err := fmt.Fprintf(env.Stdout, "%s\n", line); err != nil {
		return withCode(ExitError, fmt.Errorf("print the ready line: %w", err))
	}
	log.Info("sim: serving until interrupted", "url", s.URL(), "config", ready.Config)
	<-cmd.Context().Done()
	log.Info("sim: stopping")
	return nil
}

// lockDir claims dir for this process (lockSimDir) until unlock.
func lockDir(dir string) (unlock func(), err error) {
	root, err := openSimDir(dir)
	if err != nil {
		return nil, err
	}
	release, err := lockSimDir(root, dir)
	if err != nil {
		root.Close()
		return nil, err
	}
	return func() { release(); root.Close() }, nil
}

// writeSimFiles writes the CA, the credentials and foyer.yaml into dir,
// which it checks first (openSimDir). With serve (seedServe), foyer.yaml
// has a serve: section and a public profile, and dir the web app's secret.
func writeSimFiles(s *sim.Server, dir string, empty bool, serve *serveDemo) (simReady, error) {
	certPEM, keyPEM := s.ClientCertificate()
	if certPEM == nil {
		return simReady{}, fmt.Errorf("make the default app's client certificate")
	}
	r := simReady{
		URL: s.URL(), TenantID: s.TenantID(), ClientID: s.ClientID(), ClientSecret: s.ClientSecret(), Dir: dir,
		Config: filepath.Join(dir, "foyer.yaml"), CAFile: filepath.Join(dir, "ca.pem"),
		SecretFile: filepath.Join(dir, "client-secret"), CertificateFile: filepath.Join(dir, "client.pem"),
		IdentityEndpoint: s.IdentityEndpoint(), IdentityHeader: s.IdentityHeader(), Serve: serve,
	}
	cfg := simConfig(r, dir, empty)
	if serve != nil {
		serve.serveConfig(&cfg, r.TenantID)
	}
	conf, err := yaml.Marshal(cfg)
	if err != nil {
		return r, fmt.Errorf("write foyer.yaml: %w", err)
	}
	root, err := openSimDir(dir)
	if err != nil {
		return r, err
	}
	defer root.Close()
	files := []simFile{
		{r.CAFile, s.CAPEM(), 0o644},
		{r.SecretFile, []byte(s.ClientSecret() + "\n"), 0o600},
		{r.CertificateFile, append(certPEM, keyPEM...), 0o600},
		{r.Config, append([]byte(configHeader), conf...), 0o644},
	}
	if serve != nil {
		files = append(files, simFile{serve.WebSecretFile, []byte(serve.WebSecret + "\n"), 0o600})
	}
	for _, f := range files {
		if err := writeNewFile(root, filepath.Base(f.path), f.data, f.mode); err != nil {
			return r, fmt.Errorf("%s: %w", dir, err)
		}
	}
	return r, nil
}

// simFile is a file writeSimFiles writes.
type simFile struct {
	path string
	data []byte
	mode os.FileMode
}

const configHeader = `# foyer configuration for the emulated tenant started by "foyer sim".
# Its credentials are throwaway; the tenant lives as long as that process.
`

// simConfig is the foyer.yaml for the sim: one tenant, a SQLite ledger in
// the directory, and an example profile granting the DemoApp group (which
// an --empty tenant does not have).
func simConfig(r simReady, dir string, empty bool) config.Config {
	// The example profile refuses a consumer mail domain, to show the
	// verdict; the organisation's own domains are skipped without it.
	p := &config.Profile{Tenant: "contoso", RedirectURL: "https://myapps.microsoft.com/?tenantid=" + r.TenantID,
		Sender: "microsoft", DenyDomains: []string{"gmail.com"}}
	if !empty {
		p.Groups = []string{"DemoApp"}
	}
	return config.Config{
		Tenants: map[string]*config.Tenant{"contoso": {
			TenantID: r.TenantID, ClientID: r.ClientID, Cloud: "custom",
			Endpoints:  config.Endpoints{Authority: r.URL + "/", Graph: r.URL, ARM: r.URL, Exchange: r.URL},
			CAFile:     r.CAFile,
			Credential: config.Credential{Type: config.CredClientSecret, SecretFile: r.SecretFile},
		}},
		Ledger:   config.Ledger{Driver: "sqlite", DSN: filepath.Join(dir, "foyer.db")},
		Profiles: map[string]*config.Profile{"partners": p},
	}
}
