// Package sim is the emulated Microsoft Entra tenant: a stateful HTTPS
// server that answers Microsoft Graph v1.0, Azure Resource Manager role
// assignments and the Exchange Online admin InvokeCommand call the way the
// real services do for the calls foyer makes, behind the emulated identity
// platform of sim/login, so that azidentity and foyer's Graph client cannot
// tell it from the real thing. It models latency and faults (sim/chaos),
// Graph's published throttling and the invitation block (sim/throttle), and
// replication delay, and it has a side door under /_sim/ for tests and
// demos: counters, sent invitation mail, redemption, seeding, the clock.
//
// It is a product feature (`foyer sim`) as much as a test fixture. Start
// one with Start (or simtest.Start in a test); what it models, from which
// Microsoft source, and what it leaves out is in docs/sim.md.
//
// Only tests, sim/simtest and cmd/foyer/cli import this package. It never
// imports graph or directory: they meet on the wire.
package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/sim/login"
	"github.com/foyer-dev/foyer/sim/pki"
	"github.com/foyer-dev/foyer/sim/throttle"
)

// Options configure a Server. The zero value starts a tenant with the
// default content, no latency, no faults, no throttling and no replication
// delay, on a free loopback port.
type Options struct {
	Addr             string          // listen address, default "127.0.0.1:0"; loopback only
	Seed             int64           // every random choice (ids, latency, faults) derives from it
	Empty            bool            // no default content beyond the tenant's initial domain and the default app
	Latency          chaos.Latency   // zero = none
	Faults           chaos.Faults    // zero = none
	Throttle         throttle.Config // zero = off; throttle.Published() = published limits
	ReplicationDelay time.Duration   // new objects invisible to writes referencing them for this long
	InvitesPerMinute int             // 0 = no cap; above it: the "suspicious activity" 403
	// AnswerDelay holds the answer of every write this long after it was
	// carried out, as a slow service does: a client that dies or gives up
	// meanwhile does not know that its write happened.
	AnswerDelay time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
	// ClientCertificate makes the default app's client certificate while
	// the server starts (foyer sim does), instead of on the first call to
	// Server.ClientCertificate: an RSA key takes a noticeable fraction of a
	// second, which most tests need not pay.
	ClientCertificate bool
}

// Server is a running emulated tenant. Its methods are safe for concurrent
// use.
type Server struct {
	log     *slog.Logger
	clock   *simClock
	wall    func() time.Time
	ids     *ids
	seed    int64
	ca      *pki.CA
	auth    *login.Authority
	chaos   *chaos.Chaos
	limiter *throttle.Limiter
	invites *throttle.InviteCap
	stats   *stats

	replication atomic.Int64 // nanoseconds
	answerDelay atomic.Int64 // nanoseconds
	objectQuota atomic.Int64 // 0: Entra's default by domain (quota.go)
	noPremium   atomic.Bool  // Settings.NoPremium

	principals     sync.Map // *login.Claims → *principal
	principalCount atomic.Int64

	mu        sync.RWMutex
	tenants   map[string]*tenant // by lowercased tenant id
	def       *tenant
	app       App
	extraApps []App
	empty     bool
	initial   SeedData // the default content, re-applied by reset
	certOnce  sync.Once
	certKey   chan certResult // the key made at start, if Options.ClientCertificate
	cert      *pki.ClientCert
	certErr   error

	graphV1, graphBeta table
	ln                 net.Listener
	srv                *http.Server
	url                string
	closeOnce          sync.Once
	closeErr           error
	stop               context.CancelFunc
}

// Start starts an emulated tenant and serves it until Close or until ctx is
// done.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if err := checkLoopback(o.Addr); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := newServer(o)
	if err != nil {
		return nil, err
	}
	if err := s.listen(o.Addr); err != nil {
		return nil, err
	}
	ctx, s.stop = context.WithCancel(ctx)
	go func() {
		<-ctx.Done()
		_ = s.Close()
	}()
	return s, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("sim: listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("sim: listen address %q: the emulated tenant serves loopback only (127.0.0.1, ::1 or localhost)", addr)
	}
	return nil
}

// newServer builds the models, the certificates and the tenant.
func newServer(o Options) (*Server, error) {
	wall := o.Now
	if wall == nil {
		wall = time.Now
	}
	s := &Server{log: o.Logger, clock: newClock(o.Now), wall: wall, ids: newIDs(o.Seed), seed: o.Seed, stats: newStats(), tenants: map[string]*tenant{}}
	s.replication.Store(int64(o.ReplicationDelay))
	s.answerDelay.Store(int64(o.AnswerDelay))
	s.graphV1, s.graphBeta = graphRoutes("/v1.0"), graphRoutes("/beta")
	if err := s.newModels(o); err != nil {
		return nil, err
	}
	if err := s.newIdentity(o.ClientCertificate); err != nil {
		return nil, err
	}
	t, err := s.addTenant(o.Empty)
	if err != nil {
		return nil, err
	}
	s.def = t
	return s, nil
}

func (s *Server) newModels(o Options) error {
	var err error
	if o.AnswerDelay < 0 {
		return fmt.Errorf("sim: answer delay %s is negative", o.AnswerDelay)
	}
	if o.ReplicationDelay < 0 {
		return errors.New("sim: replication delay must not be negative")
	}
	s.chaos, err = chaos.New(chaos.Options{Seed: o.Seed, Latency: o.Latency, Faults: o.Faults, Now: s.clock.Now, WriteError: s.writeChaosError})
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if s.limiter, err = throttle.New(o.Throttle, s.clock.Now); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if s.invites, err = throttle.NewInviteCap(o.InvitesPerMinute, s.clock.Now); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	return nil
}

// newIdentity makes the CA and the identity platform, and starts making the
// default app's client certificate when asked to, alongside the platform's
// signing key.
func (s *Server) newIdentity(eagerCert bool) error {
	// The CA and the identity platform draw from sources of their own, so
	// that the tenant's ids do not depend on which of them ran first.
	ca, err := pki.New(pki.Options{Rand: newIDs(s.seed + 1).reader(), Now: s.wall})
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	s.ca = ca
	if eagerCert {
		s.certKey = make(chan certResult, 1)
		go func() {
			cc, err := ca.IssueClient("foyer sim default app")
			s.certKey <- certResult{cc, err}
		}()
	}
	s.auth, err = login.New(login.Options{Clock: s.wall, Rand: newIDs(s.seed + 2).reader(), Logger: s.log, UserClaims: s.idTokenClaims})
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	return nil
}

type certResult struct {
	cert *pki.ClientCert
	err  error
}

// clientCert makes (once) the default app's client certificate and
// registers it on the app.
func (s *Server) clientCert() (*pki.ClientCert, error) {
	s.certOnce.Do(func() {
		var r certResult
		if s.certKey != nil {
			r = <-s.certKey
		} else {
			r.cert, r.err = s.ca.IssueClient("foyer sim default app")
		}
		if r.err != nil {
			s.certErr = fmt.Errorf("sim: client certificate: %w", r.err)
			return
		}
		app := s.appInfo()
		la, err := s.auth.App(s.def.id, app.ClientID)
		if err == nil {
			la.Certificates = append(la.Certificates, r.cert.Certificate)
			err = s.auth.UpdateApp(la)
		}
		if err != nil {
			s.certErr = fmt.Errorf("sim: register the client certificate: %w", err)
			return
		}
		s.cert = r.cert
	})
	return s.cert, s.certErr
}

func (s *Server) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sim: listen on %s: %w", addr, err)
	}
	s.ln = ln
	s.url = "https://" + ln.Addr().String()
	s.srv = &http.Server{
		Handler:           s,
		TLSConfig:         s.ca.ServerTLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := s.srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sim: serve", "err", err)
		}
	}()
	s.log.Info("sim: serving", "url", s.url, "tenant", s.def.id)
	return nil
}

// Close stops the server and closes its connections.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			s.stop()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.closeErr = s.srv.Close()
		}
	})
	return s.closeErr
}

// URL is the one origin that serves everything: https://127.0.0.1:PORT.
func (s *Server) URL() string { return s.url }

// TenantID is the default tenant's id.
func (s *Server) TenantID() string { return s.def.id }

// ClientID is the default app's client id; the app holds every permission
// foyer needs.
func (s *Server) ClientID() string { return s.appInfo().ClientID }

// ClientSecret is the default app's client secret (throwaway: printing it
// is fine).
func (s *Server) ClientSecret() string { return s.appInfo().Secret }

// IdentityEndpoint is the default tenant's managed identity endpoint, the
// IDENTITY_ENDPOINT an App Service host would set for the code it runs;
// IdentityHeader is its IDENTITY_HEADER. Identities are added with AddApp
// (ManagedIdentity "system" or "user").
func (s *Server) IdentityEndpoint() string { return s.url + "/" + s.def.id + "/msi/token" }

// IdentityHeader is the secret IdentityEndpoint requires as X-IDENTITY-HEADER.
func (s *Server) IdentityHeader() string { return s.def.identityHeader }

// DefaultApp returns the default app's registration.
func (s *Server) DefaultApp() App { return s.appInfo() }

func (s *Server) appInfo() App {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.app
}

// ClientCertificate returns the certificate credential registered on the
// default app: the certificate and its PKCS #8 key, in PEM. It is made on
// the first call unless Options.ClientCertificate made it at start. Making
// an RSA key cannot fail short of a broken system random source; if it
// does, both are nil and the error is logged.
func (s *Server) ClientCertificate() (certPEM, keyPEM []byte) {
	cc, err := s.clientCert()
	if err != nil {
		s.log.Error("sim: client certificate", "err", err)
		return nil, nil
	}
	return append([]byte(nil), cc.CertPEM...), append([]byte(nil), cc.KeyPEM...)
}

// CAPEM returns the CA certificate that signed the server's certificate.
func (s *Server) CAPEM() []byte { return s.ca.CertPEM() }

// Client returns an HTTP client that trusts the sim's CA.
func (s *Server) Client() *http.Client { return s.ca.Client() }

// Now returns the sim's clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Advance moves the sim's clock forward: replication, throttling windows,
// the invitation cap and new timestamps follow it. Token lifetimes follow
// the wall clock (see sim/login).
func (s *Server) Advance(d time.Duration) { s.clock.Advance(d) }
