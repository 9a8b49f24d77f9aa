package graph

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/google/uuid"

	"github.com/foyer-dev/foyer"
)

// Options configure a Client. Secrets are never held here: a client secret
// is named by the environment variable or file it is read from, so printing
// Options prints no secret.
type Options struct {
	TenantID string
	ClientID string

	Cloud     Cloud     // public (default), usgov, china or custom
	Endpoints Endpoints // with CloudCustom only

	// Trust: CAFile (PEM) or RootCAs add to the system roots (the sim's CA);
	// HTTPClient replaces the transport altogether.
	CAFile     string
	RootCAs    *x509.CertPool
	HTTPClient *http.Client

	// Credential says how to sign in; TokenCredential, if set, is used
	// instead (tests, or a credential the caller built with NewCredential).
	Credential      Credential
	TokenCredential azcore.TokenCredential

	Pacing Pacing
	// Budget, when set, is a write budget shared with other processes:
	// every try of a Graph write reserves its units in it once the pacer
	// let it go, and waits while it is spent (budget.go).
	Budget WriteBudget

	Logger   *slog.Logger
	Clock    foyer.Clock                          // default the system clock
	After    func(time.Duration) <-chan time.Time // default time.After; tests may fake it with Clock
	Rand     *rand.Rand                           // jitter; default seeded from the system
	NewID    func() string                        // client-request-id values; default random UUIDs
	Getenv   func(string) string                  // default os.Getenv
	ReadFile func(string) ([]byte, error)         // default os.ReadFile
}

// Pacing tunes how hard the client pushes the tenant. The zero value means
// the defaults below, derived from the published identity-and-access limits
// (docs/graph-reference.md §7: 3,000 writes per 150 s per app and tenant).
type Pacing struct {
	// WritesPerSecond is the steady write rate the client allows itself when
	// the service sends no throttling signal. Default 19.8 (3,000 per 150 s,
	// less the burst, so that no 150 s window ever exceeds 3,000).
	WritesPerSecond float64
	// WriteBurst is how many writes may go at once after a quiet spell.
	// Default 10.
	WriteBurst int
	// InvitesPerMinute caps invitations on top of the write rate, spaced
	// evenly and 5% wider than 60/N s so that latency jitter cannot land
	// N+1 in one minute at the service; 0 means no cap beyond the write
	// rate. Bulk invitations in a tight burst are what
	// Entra's abuse detection blocks for good; keep this modest in production.
	InvitesPerMinute int
	// Invitations says whether invitations start slow and speed up to
	// that ceiling while Entra does not block them (InvitesGoverned), or go
	// at the ceiling at once (InvitesCeiling). Default: governed on
	// Microsoft's clouds, ceiling on a custom cloud (governor.go).
	Invitations InvitePacing
	// MaxConcurrency bounds requests in flight. Default 16.
	MaxConcurrency int
	// MaxRetries bounds retries of one request after 5xx, dropped
	// connections and 429s. Default 6.
	MaxRetries int
	// RetryDelay is the first backoff after a 5xx or a dropped connection;
	// it doubles each time, with jitter, up to MaxRetryDelay. Defaults 250 ms
	// and 20 s.
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// ReplicationWait bounds how long a write that references an object
	// created moments ago retries the service's "does not exist" answers.
	// Default 2 minutes.
	ReplicationWait time.Duration
	// GroupWindow is how long a group add waits for others to the same group
	// to share one PATCH (up to 20 members). Default 1 s: at the default
	// write rate about 20 adds arrive in a second, a full PATCH.
	GroupWindow time.Duration
	// ScanThreshold: Find reads all guests once instead of looking up each
	// address when it is asked about more than this many addresses and the
	// scan costs fewer reads. Default 20.
	ScanThreshold int
}

// String prints the options without anything secret (there is nothing
// secret in them; this is a guard should that ever change).
func (o Options) String() string {
	return fmt.Sprintf("graph.Options{tenant %s, client %s, cloud %s, credential %s}",
		o.TenantID, o.ClientID, o.cloudName(), o.Credential)
}

func (o Options) cloudName() Cloud {
	c := Cloud(strings.ToLower(strings.TrimSpace(string(o.Cloud))))
	if c == "" {
		return CloudPublic
	}
	return c
}

func (p Pacing) withDefaults() Pacing {
	if p.WritesPerSecond <= 0 {
		p.WritesPerSecond = 19.8
	}
	if p.WriteBurst <= 0 {
		p.WriteBurst = 10
	}
	if p.MaxConcurrency <= 0 {
		p.MaxConcurrency = 16
	}
	if p.MaxRetries <= 0 {
		p.MaxRetries = 6
	}
	if p.RetryDelay <= 0 {
		p.RetryDelay = 250 * time.Millisecond
	}
	if p.MaxRetryDelay <= 0 {
		p.MaxRetryDelay = 20 * time.Second
	}
	if p.ReplicationWait <= 0 {
		p.ReplicationWait = 2 * time.Minute
	}
	if p.GroupWindow <= 0 {
		p.GroupWindow = time.Second
	}
	if p.ScanThreshold <= 0 {
		p.ScanThreshold = 20
	}
	return p
}

func (o *Options) fillDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = foyer.SystemClock{}
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if o.NewID == nil {
		o.NewID = uuid.NewString
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	o.Pacing = o.Pacing.withDefaults()
}

// validate reports every problem with the options at once.
func (o *Options) validate() error {
	var problems []string
	if o.TenantID == "" {
		problems = append(problems, "tenant id is required")
	} else if strings.Trim(o.TenantID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != "" {
		problems = append(problems, fmt.Sprintf("tenant id %q may hold only letters, digits, '-' and '.'", o.TenantID))
	}
	if o.ClientID == "" && o.TokenCredential == nil && o.Credential.needsClientID() {
		problems = append(problems, "client id is required")
	}
	if o.Pacing.InvitesPerMinute < 0 {
		problems = append(problems, "pacing: invites per minute may not be negative")
	}
	switch o.Pacing.Invitations {
	case InvitesDefault, InvitesGoverned, InvitesCeiling:
	default:
		problems = append(problems, fmt.Sprintf("pacing: invitations %q: want %q or %q", o.Pacing.Invitations, InvitesGoverned, InvitesCeiling))
	}
	if len(problems) > 0 {
		return fmt.Errorf("graph options: %s", strings.Join(problems, "; "))
	}
	return nil
}
