// Package web assembles foyer's HTTP server: the route table, the access
// rules every route declares, and the middleware every answer passes
// (security headers, CSRF, limits, access logs, metrics). The pages and
// the API live beside it, in portal/ (the public request page), admin/
// (the approver UI) and api/ (/api/v1); each hands its routes to New, so
// that every route of the server is in one table that tests enumerate.
//
// web imports the root package, store and notify's interfaces only; its
// sub-packages import web. cmd/foyer/cli wires them together.
package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/foyer-dev/foyer"
)

// Access says who may call a route.
type Access int

// Levels of access. Every route declares one; New refuses a route that
// does not.
const (
	accessUnset Access = iota
	// Public routes answer anyone: the request page, health, metrics.
	Public
	// Approver routes need a signed-in person who is an approver or an
	// admin (Options.Approvers, Options.Admins); handlers narrow further
	// (who may decide which request).
	Approver
	// Admin routes need a signed-in person who is an admin.
	Admin
	// API routes need an application token or an API key with the API's
	// role.
	API
)

func (a Access) String() string {
	switch a {
	case Public:
		return "public"
	case Approver:
		return "approver"
	case Admin:
		return "admin"
	case API:
		return "api"
	}
	return fmt.Sprintf("access(%d)", int(a))
}

// Route is one entry of the server's table.
type Route struct {
	Method  string // GET, POST, ...; GET routes also answer HEAD
	Pattern string // a net/http ServeMux pattern path: /request/{profile}
	Access  Access
	Handler http.Handler
}

// Authenticator finds who is calling. It returns (nil, nil) when the call
// carries no credential, and an error (a *foyer.Error with EFORBIDDEN or
// EINVALID) when it carries a bad one.
type Authenticator interface {
	Authenticate(r *http.Request) (*foyer.Principal, error)
}

// SignIn is the approver UI's sign-in: where an unauthenticated browser is
// sent.
type SignIn interface {
	Authenticator
	// SignInURL returns where to send a browser that asked for next (a
	// path of this server) without being signed in.
	SignInURL(next string) string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *foyer.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns who is calling, as the access check found it; nil
// on public routes.
func PrincipalFrom(ctx context.Context) *foyer.Principal {
	p, _ := ctx.Value(principalKey{}).(*foyer.Principal)
	return p
}

// checkRoute says what is wrong with a route, for New.
func checkRoute(r Route) error {
	switch {
	case r.Method == "" || strings.ToUpper(r.Method) != r.Method:
		return fmt.Errorf("route %s: method %q: want an upper-case HTTP method", r.Pattern, r.Method)
	case !strings.HasPrefix(r.Pattern, "/"):
		return fmt.Errorf("route %s %s: the pattern must be a path starting with /", r.Method, r.Pattern)
	case r.Access == accessUnset || r.Access > API:
		return fmt.Errorf("route %s %s: it says no access level", r.Method, r.Pattern)
	case r.Handler == nil:
		return fmt.Errorf("route %s %s: no handler", r.Method, r.Pattern)
	case strings.HasPrefix(r.Pattern, "/admin") && r.Access != Approver && r.Access != Admin && !signInPath(r.Pattern):
		return fmt.Errorf("route %s %s: /admin routes need approver or admin access", r.Method, r.Pattern)
	case strings.HasPrefix(r.Pattern, "/api/") && r.Access != API && r.Pattern != "/api/v1/openapi.json":
		return fmt.Errorf("route %s %s: /api routes need api access", r.Method, r.Pattern)
	}
	return nil
}

// signInPath reports whether a path is the sign-in flow's own, which must
// answer people who are not signed in yet.
func signInPath(p string) bool {
	return p == "/admin/signin" || p == "/admin/callback" || p == "/admin/signout"
}
