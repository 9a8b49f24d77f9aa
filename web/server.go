package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
)

// Options configure a Server.
type Options struct {
	Routes []Route
	// SignIn finds the approver UI's signed-in person; nil: Approver and
	// Admin routes refuse everyone.
	SignIn SignIn
	// API finds the application calling /api; nil: API routes refuse
	// everyone.
	API Authenticator
	// Admins may open every approver and admin page; Approvers may open
	// the approver pages.
	Admins    foyer.Approvers
	Approvers foyer.Approvers
	// APIRole is the app role a caller of an API route must carry. With
	// "", a caller carrying no role at all is refused and any role passes.
	APIRole string
	// Ready answers /readyz; nil: ready as soon as the process is up.
	Ready func(context.Context) error
	Log   *slog.Logger // nil: discarded
	Clock foyer.Clock  // nil: the system clock
	// Key signs the CSRF cookies: 32 bytes or more, secret, the same on
	// every replica.
	Key []byte
	// Secure marks cookies Secure and sends Strict-Transport-Security: true
	// unless the server answers plain http on loopback.
	Secure bool
	Limits Limits
	// Metrics is the registry /metrics serves; nil: New makes one. Make it
	// with NewMetrics to register foyer's own collectors (runs, rows,
	// requests by state, Graph calls, jobs) beside the HTTP ones.
	Metrics *Metrics
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed: the client's address is then the rightmost one not in
	// them. Empty: the connection's address, always.
	TrustedProxies []netip.Prefix
}

// Server is foyer's HTTP server: every route of the table behind its
// access rule and the middleware.
type Server struct {
	opts    Options
	log     *slog.Logger
	clock   foyer.Clock
	routes  []Route
	handler http.Handler
	metrics *Metrics
	csrf    csrf
	perIP   *Limiter
}

// New checks the routes and assembles the server. It refuses a route
// without an access level, an /admin or /api route that is not protected,
// two routes with the same method and pattern, and a key shorter than 32
// bytes.
func New(o Options) (*Server, error) {
	if len(o.Key) < 32 {
		return nil, foyer.Errorf(foyer.EINVALID, "web: the key must have 32 bytes or more, it has %d", len(o.Key))
	}
	s := &Server{opts: o, log: o.Log, clock: o.Clock, metrics: o.Metrics}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = foyer.SystemClock{}
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	s.opts.Limits = o.Limits.withDefaults()
	s.csrf = csrf{key: o.Key, secure: o.Secure}
	s.perIP = NewLimiter(s.opts.Limits.PerIP, s.clock)

	s.routes = append(s.ownRoutes(), o.Routes...)
	mux := http.NewServeMux()
	seen := make(map[string]bool, len(s.routes))
	for _, r := range s.routes {
		if err := checkRoute(r); err != nil {
			return nil, foyer.Errorf(foyer.EINVALID, "web: %v", err)
		}
		key := r.Method + " " + r.Pattern
		if seen[key] {
			return nil, foyer.Errorf(foyer.EINVALID, "web: route %s is declared twice", key)
		}
		seen[key] = true
		if err := handle(mux, key, s.route(r)); err != nil {
			return nil, foyer.Errorf(foyer.EINVALID, "web: route %s: %v", key, err)
		}
	}
	s.handler = s.outer(mux)
	return s, nil
}

// handle registers h, turning ServeMux's panic on a conflicting pattern
// into an error.
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// Handler returns the server's handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes returns every route the server answers, its own included.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Metrics returns the registry /metrics serves.
func (s *Server) Metrics() *Metrics { return s.metrics }

// ownRoutes are the routes of web itself.
func (s *Server) ownRoutes() []Route {
	return []Route{
		{Method: http.MethodGet, Pattern: "/healthz", Access: Public, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "ok")
		})},
		{Method: http.MethodGet, Pattern: "/readyz", Access: Public, Handler: http.HandlerFunc(s.readyz)},
		{Method: http.MethodGet, Pattern: "/metrics", Access: Public, Handler: s.metrics.handler()},
		{Method: http.MethodGet, Pattern: "/static/", Access: Public, Handler: staticHandler()},
	}
}

// quiet reports whether a pattern is one of web's own machine routes,
// which set no cookie.
func quiet(pattern string) bool {
	switch pattern {
	case "/healthz", "/readyz", "/metrics", "/static/":
		return true
	}
	return false
}

// HooksPrefix starts the paths of webhooks (/hooks/run/NAME): machines
// post there with a signature of their own, which the handler checks, so
// they get neither a CSRF check nor a CSRF cookie. They stay Public to web.
const HooksPrefix = "/hooks/"

// hook reports whether a route pattern is a webhook's.
func hook(pattern string) bool { return strings.HasPrefix(pattern, HooksPrefix) }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.opts.Ready(ctx); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
	}
	fmt.Fprintln(w, "ready")
}

// route wraps a route's handler in what its access level asks: the body
// limit, the rate limit of public POSTs, the access check and CSRF.
func (s *Server) route(rt Route) http.Handler {
	h := rt.Handler
	if rt.Access != API && !hook(rt.Pattern) && rt.Method != http.MethodGet && rt.Method != http.MethodHead {
		h = s.csrf.check(h, s.log)
	}
	h = s.access(rt.Access, h)
	if rt.Access == Public && rt.Method == http.MethodPost {
		h = s.limitIP(h)
	}
	h = s.limitBody(rt.Access, h)
	if rt.Access != API && !quiet(rt.Pattern) && !hook(rt.Pattern) {
		h = s.csrf.issue(h, s.log)
	}
	pattern := rt.Method + " " + rt.Pattern
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := infoFrom(r.Context()); info != nil {
			info.route = pattern
		}
		h.ServeHTTP(w, r)
	})
}

// access checks who calls before h runs, and puts them in the context.
func (s *Server) access(a Access, h http.Handler) http.Handler {
	switch a {
	case Approver, Admin:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := s.authenticate(r, s.signInAuth())
			if p == nil {
				if (r.Method == http.MethodGet || r.Method == http.MethodHead) && s.opts.SignIn != nil {
					http.Redirect(w, r, s.opts.SignIn.SignInURL(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				if s.opts.SignIn != nil {
					signInAgain(w, r, s.opts.SignIn)
					return
				}
				ErrorPage(w, r, http.StatusUnauthorized, "")
				return
			}
			if !s.admits(a, *p) {
				s.log.InfoContext(r.Context(), "refused a signed-in person", "principal", p.String(), "access", a.String())
				ErrorPage(w, r, http.StatusForbidden, "")
				return
			}
			h.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	case API:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := s.authenticate(r, s.opts.API)
			if p == nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="foyer"`)
				Problem(w, http.StatusUnauthorized, "a bearer token or an API key is needed")
				return
			}
			if !s.admits(API, *p) {
				s.log.InfoContext(r.Context(), "refused an API caller", "principal", p.String())
				Problem(w, http.StatusForbidden, "this caller lacks the API's role")
				return
			}
			h.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
	return h
}

func (s *Server) signInAuth() Authenticator {
	if s.opts.SignIn == nil {
		return nil
	}
	return s.opts.SignIn
}

// authenticate asks a, nil or not; a bad credential counts as none (and
// is logged without itself).
func (s *Server) authenticate(r *http.Request, a Authenticator) *foyer.Principal {
	if a == nil {
		return nil
	}
	p, err := a.Authenticate(r)
	if err != nil {
		s.log.InfoContext(r.Context(), "refused a credential", "code", foyer.ErrorCode(err), "reason", foyer.ErrorMessage(err))
		return nil
	}
	return p
}

// admits reports whether p may use a route of access a.
func (s *Server) admits(a Access, p foyer.Principal) bool {
	switch a {
	case Admin:
		return s.opts.Admins.Matches(p, "")
	case Approver:
		return s.opts.Admins.Matches(p, "") || s.opts.Approvers.Matches(p, "")
	case API:
		for _, role := range p.Roles {
			if role != "" && (s.opts.APIRole == "" || role == s.opts.APIRole) {
				return true
			}
		}
		return false
	case Public:
		return true
	}
	return false
}

// errTooLarge reports whether err is a body past its limit.
func errTooLarge(err error) bool {
	var m *http.MaxBytesError
	return errors.As(err, &m)
}
