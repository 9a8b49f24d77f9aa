// Package admin is the approver UI of foyer serve: sign-in through Entra
// (OpenID Connect, authorization code with PKCE), a session cookie, and the
// server-rendered pages where approvers decide requests and admins approve
// runs and read the guests and the audit log. It implements web.SignIn and
// hands its routes to web.New.
//
// It imports the root package, store's interfaces and web; the engine is
// reached through Intake, which *engine.Engine satisfies.
package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/web"
)

// Intake is what the pages ask of the engine.
type Intake interface {
	View(ctx context.Context, requestID string) (foyer.RequestView, error)
	Pending(ctx context.Context, who foyer.Principal, afterID string, limit int) ([]*foyer.Request, error)
	Decide(ctx context.Context, requestID string, who foyer.Principal, d foyer.Decision) (*foyer.Request, error)
	ApproveRunAs(ctx context.Context, runID string, who foyer.Principal) (*foyer.Run, error)
	// DiscardRunAs also discards a sweep the cap held.
	DiscardRunAs(ctx context.Context, runID string, who foyer.Principal) error
	// PendingExtensions returns the extensions who may decide now, each
	// as a view of its request with the extension and the current end.
	PendingExtensions(ctx context.Context, who foyer.Principal, limit int) ([]foyer.RequestView, error)
	DecideExtension(ctx context.Context, id string, who foyer.Principal, d foyer.Decision) (*foyer.Extension, error)
	AskExtension(ctx context.Context, requestID string, who foyer.Principal, until time.Time, justification string) (*foyer.Extension, error)
	// ReleaseSweepAs lets a sweep the cap held go, in who's name.
	ReleaseSweepAs(ctx context.Context, runID string, who foyer.Principal) (*foyer.Run, error)
	// SweepRules are the lifecycle rules the engine carries for a tenant,
	// which a released sweep is worked with; false when it has none.
	SweepRules(tenant string) (foyer.SweepRules, bool)
}

// Options configure New.
type Options struct {
	// Issuer is the tenant's OpenID Connect issuer,
	// https://login.microsoftonline.com/{tenant}/v2.0 (or the sim's).
	Issuer   string
	ClientID string
	// ClientSecret is the app registration's secret; "" for a public
	// client, which then proves itself with PKCE alone.
	ClientSecret string
	// RedirectURL is {public_url}/admin/callback, registered on the app.
	RedirectURL string
	// HTTPClient reaches the issuer (discovery, keys, token endpoint); nil:
	// http.DefaultClient.
	HTTPClient *http.Client
	// Key seals the session and sign-in cookies (AES-GCM); at least 32
	// bytes. The same key may serve web's CSRF tokens: each use derives its
	// own key from it.
	Key []byte
	// Secure marks cookies Secure (and names them __Host-/__Secure-):
	// true unless serving plain http on loopback.
	Secure bool
	// SessionTTL is how long a session lasts; 0: 8 hours.
	SessionTTL time.Duration
	// KnownGroups, when not empty, are the only groups a session keeps of
	// the id token's groups claim: the groups foyer's access rules and
	// policies name. A token may list 200 groups, too many for a cookie.
	KnownGroups []string
	// Admins say who is an admin, to show the admin pages' links: the
	// same value as web.Options.Admins, which enforces it.
	Admins foyer.Approvers
	// CSRF returns the token for a form's hidden "csrf" field
	// (web.CSRFToken); web's middleware checks it.
	CSRF func(*http.Request) string

	Intake Intake
	Store  store.Store
	Clock  foyer.Clock
	Log    *slog.Logger
}

// Handler serves the approver UI.
type Handler struct {
	o       Options
	clock   foyer.Clock
	log     *slog.Logger
	client  *http.Client
	session *sealer
	flow    *sealer
	pages   map[string]*template.Template

	mu       sync.Mutex
	provider *oidc.Provider // discovered on first use
}

var _ web.SignIn = (*Handler)(nil)

// New checks o and returns the handler. It does not call the issuer:
// discovery happens at the first sign-in, so the server starts while Entra
// is unreachable, and sessions already made keep working.
func New(o Options) (*Handler, error) {
	var errs []error
	if o.Issuer == "" {
		errs = append(errs, errors.New("admin: no issuer"))
	}
	if o.ClientID == "" {
		errs = append(errs, errors.New("admin: no client id"))
	}
	if o.RedirectURL == "" {
		errs = append(errs, errors.New("admin: no redirect URL"))
	}
	if len(o.Key) < 32 {
		errs = append(errs, fmt.Errorf("admin: the key has %d bytes; it needs 32 or more", len(o.Key)))
	}
	if o.Intake == nil || o.Store == nil {
		errs = append(errs, errors.New("admin: Intake and Store are required"))
	}
	if o.CSRF == nil {
		errs = append(errs, errors.New("admin: no CSRF token source (web.CSRFToken)"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	h := &Handler{o: o, clock: o.Clock, log: o.Log, client: o.HTTPClient}
	if h.clock == nil {
		h.clock = foyer.SystemClock{}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.client == nil {
		h.client = http.DefaultClient
	}
	if h.o.SessionTTL <= 0 {
		h.o.SessionTTL = 8 * time.Hour
	}
	var err error
	if h.session, err = newSealer(o.Key, "foyer admin session"); err != nil {
		return nil, err
	}
	if h.flow, err = newSealer(o.Key, "foyer admin sign-in"); err != nil {
		return nil, err
	}
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	return h, nil
}

// Routes returns the approver UI's routes for web.New.
func (h *Handler) Routes() []web.Route {
	f := func(method, pattern string, access web.Access, fn http.HandlerFunc) web.Route {
		return web.Route{Method: method, Pattern: pattern, Access: access, Handler: fn}
	}
	return []web.Route{
		f("GET", "/admin/signin", web.Public, h.signIn),
		f("GET", "/admin/callback", web.Public, h.callback),
		f("POST", "/admin/signout", web.Public, h.signOut),

		f("GET", "/admin", web.Approver, h.home),
		f("GET", "/admin/requests", web.Approver, h.requests),
		f("POST", "/admin/requests/decide", web.Approver, h.decideMany),
		f("GET", "/admin/requests/{id}", web.Approver, h.request),
		f("POST", "/admin/requests/{id}/decide", web.Approver, h.decideOne),
		f("POST", "/admin/requests/{id}/extensions", web.Approver, h.askExtension),
		f("POST", "/admin/extensions/{id}/decide", web.Approver, h.decideExtension),

		f("GET", "/admin/runs", web.Admin, h.runs),
		f("GET", "/admin/runs/{id}", web.Admin, h.run),
		f("POST", "/admin/runs/{id}/approve", web.Admin, h.approveRun),
		f("POST", "/admin/runs/{id}/discard", web.Admin, h.discardRun),
		f("POST", "/admin/runs/{id}/release", web.Admin, h.releaseSweep),
		f("GET", "/admin/guests", web.Admin, h.guests),
		f("GET", "/admin/guests/{id}", web.Admin, h.guest),
		f("GET", "/admin/audit", web.Admin, h.audit),
	}
}
