package sim

import (
	"net/http"
	"net/url"
	"strings"
)

// route is one operation of a service: a method, a path template, the
// permissions that allow it and its handler. Templates are written as Graph
// documents them ("users/{id}/assignLicense"); a segment may also be
// "servicePrincipals(appId='{appId}')".
type route struct {
	method  string
	pattern []string
	name    string // "POST /v1.0/invitations": the template stats count by
	perm    permission
	handle  func(*call) *reply
}

func (rt *route) write() bool { return rt.method != http.MethodGet && rt.method != http.MethodHead }

// newRoute builds a route; prefix is "/v1.0" for Graph.
func newRoute(method, prefix, pattern, perm string, h func(*call) *reply) *route {
	return &route{
		method:  method,
		pattern: strings.Split(pattern, "/"),
		name:    method + " " + prefix + "/" + pattern,
		perm:    parsePermission(perm),
		handle:  h,
	}
}

// match reports whether segs fit the template and collects its parameters.
func (rt *route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.pattern) {
		return nil, false
	}
	var params map[string]string
	for i, p := range rt.pattern {
		open := strings.IndexByte(p, '{')
		if open < 0 {
			if !strings.EqualFold(p, segs[i]) {
				return nil, false
			}
			continue
		}
		close := strings.IndexByte(p, '}')
		prefix, suffix := p[:open], p[close+1:]
		s := segs[i]
		if len(s) < len(prefix)+len(suffix) || !strings.EqualFold(s[:len(prefix)], prefix) ||
			!strings.EqualFold(s[len(s)-len(suffix):], suffix) {
			return nil, false
		}
		v := s[len(prefix) : len(s)-len(suffix)]
		if v == "" {
			return nil, false
		}
		if params == nil {
			params = map[string]string{}
		}
		params[p[open+1:close]] = strings.ReplaceAll(v, "''", "'")
	}
	return params, true
}

// table is a list of routes matched in order: literal templates are listed
// before the templates they would otherwise shadow.
type table []*route

// find matches method and path. A path known under another method gets
// the 405 answer.
func (tb table) find(method string, segs []string) (*route, map[string]string, *apiError) {
	pathKnown := false
	for _, rt := range tb {
		params, ok := rt.match(segs)
		if !ok {
			continue
		}
		if rt.method == method {
			return rt, params, nil
		}
		pathKnown = true
	}
	if pathKnown {
		return nil, nil, errMethod()
	}
	return nil, nil, errNoRoute(strings.Join(segs, "/"))
}

// splitPath splits an escaped path into unescaped segments, so that an
// encoded '/' or '#' stays inside its segment.
func splitPath(escaped string) []string {
	escaped = strings.Trim(escaped, "/")
	if escaped == "" {
		return nil
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

// permission lists the alternatives that allow a route: each alternative is
// a set of app roles that must all be held.
type permission [][]string

// parsePermission reads "A|B|C+D": A, or B, or both C and D. An empty spec
// needs no permission.
func parsePermission(spec string) permission {
	if spec == "" {
		return nil
	}
	var p permission
	for _, alt := range strings.Split(spec, "|") {
		p = append(p, strings.Split(alt, "+"))
	}
	return p
}

func (p permission) allows(roles map[string]bool) bool {
	if len(p) == 0 {
		return true
	}
	for _, alt := range p {
		all := true
		for _, r := range alt {
			if !roles[strings.ToLower(r)] {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
