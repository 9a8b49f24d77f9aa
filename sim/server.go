package sim

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/sim/login"
	"github.com/foyer-dev/foyer/sim/throttle"
)

// Audiences of the services the sim serves, as azcore and MSAL request them.
var (
	graphAudiences    = []string{"https://graph.microsoft.com"}
	armAudiences      = []string{"https://management.azure.com", "https://management.core.windows.net/"}
	exchangeAudiences = []string{"https://outlook.office365.com"}
)

// maxBody is Graph's limit on a request body (4 MB).
const maxBody = 4 << 20

// ServeHTTP dispatches by the first path segment: the identity platform,
// Graph (/v1.0, /beta), ARM (/subscriptions, /providers), Exchange
// (/adminapi), the redemption link (/redeem) and the side door (/_sim).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch strings.ToLower(first) {
	case "_sim":
		s.serveSideDoor(w, r)
	case "v1.0", "beta":
		s.withChaos(w, r, shapeGraph, func(c *call) *reply { return s.graph(c, r, "/"+strings.ToLower(first)) })
	case "subscriptions", "providers":
		s.withChaos(w, r, shapeARM, func(c *call) *reply { return s.arm(c, r) })
	case "adminapi":
		s.withChaos(w, r, shapeEXO, func(c *call) *reply { return s.exchange(c, r) })
	case "redeem":
		s.serveRedeem(w, r)
	default:
		if s.auth.Serves(r.URL.Path) {
			s.auth.Handler().ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	}
}

// newCall starts a call for an HTTP request.
func (s *Server) newCall(r *http.Request, shape errorShape) *call {
	c := &call{
		s:      s,
		shape:  shape,
		method: r.Method,
		path:   r.URL.EscapedPath(),
		query:  r.URL.Query(),
		header: r.Header,
		reqID:  s.ids.guid(),
		base:   "https://" + r.Host,
		now:    s.clock.Now(),
	}
	c.clientID = r.Header.Get("client-request-id")
	if c.clientID == "" {
		c.clientID = c.reqID
	}
	return c
}

// withChaos applies the latency and fault models around a service call
// (not around the side door, the redemption link or the identity
// platform), then writes the answer.
func (s *Server) withChaos(w http.ResponseWriter, r *http.Request, shape errorShape, handle func(*call) *reply) {
	c := s.newCall(r, shape)
	h := w.Header()
	h.Set("request-id", c.reqID)
	h.Set("client-request-id", c.clientID)
	if shape == shapeARM {
		h.Set("x-ms-request-id", c.reqID)
		h.Set("x-ms-correlation-request-id", c.clientID)
	}
	a := s.chaos.Decide()
	if err := s.chaos.Wait(r.Context(), a); err != nil {
		return
	}
	if a.Fault != chaos.None && !a.After {
		s.stats.fault()
		s.chaos.WriteFault(w, r, a)
		return
	}
	rep := handle(c)
	if d := time.Duration(s.answerDelay.Load()); d > 0 && r.Method != http.MethodGet {
		// The write is done; its answer is slow to come.
		t := time.NewTimer(d)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if a.Fault != chaos.None {
		s.stats.fault()
		s.chaos.WriteFault(w, r, a)
		return
	}
	writeReply(w, rep)
}

// writeChaosError renders a fault's 5xx in the shape of the service that
// was called.
func (s *Server) writeChaosError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	shape := shapeGraph
	switch first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); strings.ToLower(first) {
	case "subscriptions", "providers":
		shape = shapeARM
	case "adminapi":
		shape = shapeEXO
	}
	c := s.newCall(r, shape)
	if id := w.Header().Get("request-id"); id != "" {
		c.reqID = id
	}
	writeReply(w, c.fail(newError(status, code, "%s", message)))
}

// readBody reads the request body, inflating it when it is gzip-encoded.
func readBody(r *http.Request) ([]byte, *apiError) {
	if r.Body == nil {
		return nil, nil
	}
	var src io.Reader = http.MaxBytesReader(nil, r.Body, maxBody)
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, errOData("The request body is not valid gzip: %v", err)
		}
		defer zr.Close()
		src = io.LimitReader(zr, maxBody+1)
	}
	b, err := io.ReadAll(src)
	if err != nil {
		return nil, errOData("Cannot read the request body: %v", err)
	}
	if len(b) > maxBody {
		return nil, newError(http.StatusRequestEntityTooLarge, "Request_EntityTooLarge", "The request body is larger than %d bytes.", maxBody)
	}
	return b, nil
}

// principal is who a token says called: app-only tokens name the app and
// its service principal, and carry its application permissions.
type principal struct {
	tenantID, appID, objectID string
	roles                     map[string]bool // lowercased
}

// verify authenticates a request for a service.
func (s *Server) verify(r *http.Request, audiences []string) (*principal, *tenant, *apiError) {
	cl, err := s.auth.Verify(r, audiences...)
	if err != nil {
		var te *login.TokenError
		if errors.As(err, &te) {
			return nil, nil, errUnauthorized(te.Message)
		}
		return nil, nil, errUnauthorized("Access token validation failure.")
	}
	t := s.tenant(cl.TenantID)
	if t == nil {
		return nil, nil, errUnauthorized("Access token validation failure. Invalid tenant.")
	}
	return s.principalOf(cl), t, nil
}

// principalOf turns verified claims into a principal, remembering it for
// as long as the identity platform remembers the token's claims.
func (s *Server) principalOf(cl *login.Claims) *principal {
	if p, ok := s.principals.Load(cl); ok {
		return p.(*principal)
	}
	p := &principal{tenantID: cl.TenantID, appID: cl.AppID, objectID: cl.ObjectID, roles: make(map[string]bool, len(cl.Roles))}
	for _, role := range cl.Roles {
		p.roles[strings.ToLower(role)] = true
	}
	if s.principalCount.Add(1) > maxPrincipals {
		s.principals.Clear()
		s.principalCount.Store(0)
	}
	s.principals.Store(cl, p)
	return p
}

// maxPrincipals bounds the principals remembered.
const maxPrincipals = 4096

func (s *Server) tenant(id string) *tenant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tenants[strings.ToLower(id)]
}

// graph serves one Graph request: authentication, routing, permission,
// throttling, then the handler.
func (s *Server) graph(c *call, r *http.Request, prefix string) *reply {
	body, err := readBody(r)
	if err != nil {
		return c.fail(err)
	}
	c.body = body
	who, t, err := s.verify(r, graphAudiences)
	if err != nil {
		return c.fail(err)
	}
	c.who, c.t = who, t
	segs := splitPath(strings.TrimPrefix(c.path, "/"))[1:]
	return s.dispatch(c, prefix, segs)
}

// dispatch routes a Graph call (a request or a $batch item) and runs it.
func (s *Server) dispatch(c *call, prefix string, segs []string) *reply {
	tb := s.graphV1
	if prefix == "/beta" {
		tb = s.graphBeta
	}
	rt, params, err := tb.find(c.method, segs)
	if err != nil {
		return c.fail(err)
	}
	c.route, c.params, c.prefix = rt, params, prefix
	if !rt.perm.allows(c.who.roles) {
		return c.fail(errForbidden())
	}
	var d throttle.Decision
	if rt.handle != nil && !strings.HasSuffix(rt.name, "/$batch") {
		d = s.admit(c)
		if !d.Allowed {
			return s.throttled(c, d)
		}
	}
	s.stats.route(rt.name, rt.write())
	rep := rt.handle(c)
	if d.RU > 0 {
		if rep.header == nil {
			rep.header = http.Header{}
		}
		d.SetHeaders(rep.header)
	}
	return rep
}

// admit asks the throttling model about a Graph call.
func (s *Server) admit(c *call) throttle.Decision {
	c.t.mu.RLock()
	users := c.t.users.len()
	c.t.mu.RUnlock()
	_, sel := option(c.query, "select")
	_, exp := option(c.query, "expand")
	top := 0
	if v, ok := option(c.query, "top"); ok {
		top = atoiOr(v, 0)
	}
	return s.limiter.Admit(throttle.Call{
		AppID:    c.who.appID,
		TenantID: c.t.id,
		Users:    users,
		Request:  throttle.Request{Route: c.route.name, Select: sel, Expand: exp, Top: top},
	})
}

// throttled is the 429 answer with Retry-After and the x-ms-throttle-*
// headers (throttle.Decision.SetHeaders; GD concepts/throttling.md).
func (s *Server) throttled(c *call, d throttle.Decision) *reply {
	s.stats.throttle()
	rep := c.fail(newError(throttle.TooManyRequestsStatus, throttle.TooManyRequestsCode, "%s", throttle.TooManyRequestsMessage))
	rep.header = http.Header{}
	d.SetHeaders(rep.header)
	return rep
}

func atoiOr(s string, def int) int {
	n := 0
	for _, ch := range strings.TrimSpace(s) {
		if ch < '0' || ch > '9' || n > 1e6 {
			return def
		}
		n = n*10 + int(ch-'0')
	}
	return n
}

// Helpers every handler uses.

// context is the @odata.context of an answer.
func (c *call) context(set string, sel []string, entity bool) string {
	s := c.base + c.prefix + "/$metadata#" + set
	if len(sel) > 0 {
		s += "(" + strings.Join(sel, ",") + ")"
	}
	if entity {
		s += "/$entity"
	}
	return s
}

func (c *call) version() string { return c.prefix }

func (c *call) listQuery(spec listSpec) (*listQuery, *apiError) {
	return parseList(c.query, c.header, spec, c.t.generation.Load())
}

// has reports whether the caller holds a permission spec ("A|B+C").
func (c *call) has(spec string) bool { return parsePermission(spec).allows(c.who.roles) }

// replicationDelay is how long new objects stay invisible to writes.
func (s *Server) replicationDelay() time.Duration { return time.Duration(s.replication.Load()) }

// inviteCapReached counts an invitation against the cap and reports
// whether it is refused.
func (s *Server) inviteCapReached(t *tenant, _ time.Time) bool {
	return s.invites.Admit(t.id) != nil
}
