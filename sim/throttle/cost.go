package throttle

import (
	"net/url"
	"strconv"
	"strings"
)

// Request names one Graph call for costing: the method and route template,
// and the query options that change its cost.
type Request struct {
	// Route is the method and the path template, for example "GET /users",
	// "GET /groups/{id}/members" or "POST /invitations". A "/v1.0" or
	// "/beta" prefix, a query string, letter case and the names inside
	// braces do not matter: "GET /v1.0/groups/{group-id}/members" costs the
	// same as "GET /groups/{id}/members". A key segment such as
	// "servicePrincipals(appId='…')" counts as "servicePrincipals/{id}".
	Route string
	// Select and Expand say whether $select and $expand were given.
	Select, Expand bool
	// Top is the $top value, 0 when absent.
	Top int
}

// RequestFrom builds the Request for a call to method on route (the path
// template, e.g. "/users/{id}") with the given query: it notes $select,
// $expand and $top, with or without the "$" that Graph lets v1.0 callers
// leave out. A $top that is not a whole number is ignored (the server
// refuses such a request anyway).
func RequestFrom(method, route string, query url.Values) Request {
	get := func(name string) (string, bool) {
		if v, ok := query["$"+name]; ok && len(v) > 0 {
			return v[0], true
		}
		if v, ok := query[name]; ok && len(v) > 0 {
			return v[0], true
		}
		return "", false
	}
	r := Request{Route: method + " " + route}
	_, r.Select = get("select")
	_, r.Expand = get("expand")
	if v, ok := get("top"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			r.Top = n
		}
	}
	return r
}

// MaxCost is the highest cost Cost returns for any request: the base cost 5
// of GET groups/{id}/transitiveMembers or POST directoryObjects/getByIds,
// plus 1 for $expand. A resource-unit limit below it could never admit such
// a request, so Config.Validate refuses one.
const MaxCost = 6

// baseCost is the published table of base resource-unit costs, keyed by
// "METHOD path" as normalizeRoute writes it (lower case, "{id}" for every
// key segment, "me/" spelled "users/{id}/"). Every entry has a write cost of
// 0, even the POSTs: they are reads in the table.
//
// Source: microsoft-graph-docs-contrib includes/throttling-identity-and-access.md,
// "The following table lists base request costs. Any requests not listed have
// a base cost of 1." and "Any request cost that applies to a request path
// starting with me/ also applies to equivalent requests starting with
// users/{id | userPrincipalName}/".
var baseCost = map[string]int{
	"GET applications":                              2,
	"GET applications/{id}/extensionproperties":     2,
	"GET contracts":                                 3,
	"POST directoryobjects/getbyids":                5,
	"GET domains/{id}/domainnamereferences":         4,
	"POST getobjectsbyid":                           5,
	"GET groups/{id}/members":                       3,
	"GET groups/{id}/transitivemembers":             5,
	"POST ismemberof":                               4,
	"POST users/{id}/checkmembergroups":             4,
	"POST users/{id}/checkmemberobjects":            4,
	"POST users/{id}/getmembergroups":               2,
	"POST users/{id}/getmemberobjects":              2,
	"GET users/{id}/licensedetails":                 2,
	"GET users/{id}/memberof":                       2,
	"GET users/{id}/ownedobjects":                   2,
	"GET users/{id}/transitivememberof":             2,
	"GET oauth2permissiongrants":                    2,
	"GET oauth2permissiongrants/{id}":               2,
	"GET serviceprincipals/{id}/approleassignments": 2,
	"GET subscribedskus":                            3,
	"GET users":                                     2,
}

// selectCost is what the two by-id lookups cost with $select: "Using $select
// for directoryObjects/getByIds and getObjectsById results in 2
// ResourceUnits" (same source).
var selectCost = map[string]int{
	"POST directoryobjects/getbyids": 2,
	"POST getobjectsbyid":            2,
}

// Cost returns the resource units a request costs and whether it also costs
// one write, following the published table and modifiers: base cost from the
// table (1 if not listed); $select −1 (getByIds and getObjectsById cost 2
// with $select); $expand +1; $top below 20 −1; never below 1. POST, PATCH,
// PUT and DELETE on a path not in the table cost one write.
//
// Not modelled: the +4 for creating a user in a B2C tenant (the sim is not a
// B2C tenant) and the signInAudience-dependent write cost of the
// applications path (the sim serves no application writes).
//
// "POST /$batch" costs 1 RU and no write: Graph throttles each request
// inside a batch on its own (concepts/json-batching.md), so the sim should
// admit the inner requests and not the envelope; the cost is defined only so
// that a caller that does admit it is not charged a write for nothing.
func Cost(r Request) (ru int, write bool) {
	method, path := normalizeRoute(r.Route)
	key := method + " " + path
	if path == "$batch" {
		return 1, false
	}
	base, listed := baseCost[key]
	if !listed {
		base = 1
	}
	ru = base
	if r.Select {
		if c, ok := selectCost[key]; ok {
			ru = c
		} else {
			ru--
		}
	}
	if r.Expand {
		ru++
	}
	if r.Top > 0 && r.Top < 20 {
		ru--
	}
	if ru < 1 {
		ru = 1
	}
	switch method {
	case "POST", "PATCH", "PUT", "DELETE":
		write = !listed
	}
	return ru, write
}

// normalizeRoute splits "METHOD /path?query" into the upper-case method and
// the path as baseCost keys it.
func normalizeRoute(route string) (method, path string) {
	route = strings.TrimSpace(route)
	method, path, _ = strings.Cut(route, " ")
	method = strings.ToUpper(method)
	path = strings.TrimSpace(path)
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	path = strings.Trim(path, "/")
	lower := strings.ToLower(path)
	for _, v := range []string{"v1.0", "beta"} {
		if lower == v {
			return method, ""
		}
		if strings.HasPrefix(lower, v+"/") {
			lower = lower[len(v)+1:]
			break
		}
	}
	if !strings.ContainsAny(lower, "{(") && !strings.HasPrefix(lower, "me/") && lower != "me" {
		return method, lower // the common case: nothing to rewrite
	}
	var b strings.Builder
	for i, seg := range strings.Split(lower, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		switch {
		case i == 0 && seg == "me":
			b.WriteString("users/{id}")
		case strings.HasPrefix(seg, "{"):
			b.WriteString("{id}")
		case strings.Contains(seg, "("):
			name, _, _ := strings.Cut(seg, "(")
			b.WriteString(name)
			b.WriteString("/{id}")
		default:
			b.WriteString(seg)
		}
	}
	return method, b.String()
}
