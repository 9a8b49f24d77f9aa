package sim

import (
	"strings"
)

// Which $filter operators each directory property supports, by default and
// only with the advanced query parameters (ConsistencyLevel: eventual and
// $count=true). Source: GD includes/filter-directory-objects.md (the table
// in concepts/aad-advanced-queries.md) and the property descriptions in
// GD api-reference/v1.0/resources/{user,group,serviceprincipal}.md. Rules
// from the same page: `in` works wherever `eq` works by default; `ne` and
// `not` work on every property that supports `eq`, with advanced parameters
// only; `endsWith` only on mail, otherMails, userPrincipalName and
// proxyAddresses, advanced only.

type opSet uint16

const (
	opEq opSet = 1 << iota
	opNe
	opNot
	opGe
	opLe
	opIn
	opStartsWith
	opEndsWith
	opNull
	opCount
	opOrder // gt, lt: never supported on directory objects
)

var opNames = map[opSet]string{
	opEq: "eq", opNe: "ne", opNot: "not", opGe: "ge", opLe: "le", opIn: "in",
	opStartsWith: "startsWith", opEndsWith: "endsWith", opNull: "null", opCount: "$count", opOrder: "gt",
}

type valueKind int

const (
	kString valueKind = iota
	kBool
	kTime
	kGUID
	kInt
)

var edmNames = map[valueKind]string{kString: "Edm.String", kBool: "Edm.Boolean", kTime: "Edm.DateTimeOffset", kGUID: "Edm.Guid", kInt: "Edm.Int32"}

type filterProp struct {
	name       string // as Graph spells it, for messages
	kind       valueKind
	collection bool // compared only inside any()/all()
	def, adv   opSet
}

// filterSchema is what one resource's $filter accepts.
type filterSchema struct {
	resource string // "User", for Request_UnsupportedQuery messages
	typ      string // "user", for OData messages
	props    map[string]filterProp
	alone    string // a property that cannot be combined with others
	// known reports whether the type has the property at all: a property
	// that exists but is not filterable gets Request_UnsupportedQuery, not
	// OData's unknown-property error.
	known func(lower string) bool
	// dynamic, when set, declares properties whose names are not fixed
	// (a user's directory extension properties) by their lowercased key.
	dynamic func(key string) (filterProp, bool)
}

// prop declares a filterable property. def and adv are the operators it
// supports by default and with advanced parameters; the rules above are
// added here.
func prop(name string, kind valueKind, def, adv opSet) filterProp {
	if def&opEq != 0 {
		def |= opIn
		adv |= opNe | opNot
	}
	if adv&opEq != 0 {
		adv |= opIn | opNe | opNot
	}
	return filterProp{name: name, kind: kind, def: def, adv: adv}
}

func coll(p filterProp) filterProp { p.collection = true; return p }

func newSchema(resource, typ string, props ...filterProp) *filterSchema {
	s := &filterSchema{resource: resource, typ: typ, props: map[string]filterProp{}}
	for _, p := range props {
		s.props[strings.ToLower(p.name)] = p
	}
	return s
}

const opOrdered = opGe | opLe

var userFilter = func() *filterSchema {
	s := newSchema("User", "user",
		prop("accountEnabled", kBool, opEq, opOrdered),
		coll(prop("assignedLicenses/skuId", kGUID, opEq, 0)),
		prop("assignedLicenses/$count", kInt, 0, opEq),
		coll(prop("businessPhones", kString, opEq, 0)),
		prop("companyName", kString, 0, opEq|opOrdered|opStartsWith|opNull),
		prop("createdDateTime", kTime, opEq|opOrdered, 0),
		prop("creationType", kString, opEq, 0),
		prop("department", kString, opEq|opOrdered|opStartsWith, opNull),
		prop("displayName", kString, opEq|opStartsWith, opNull),
		prop("employeeId", kString, opEq|opStartsWith, opLe|opNull),
		prop("externalUserState", kString, opEq, 0),
		prop("externalUserStateChangeDateTime", kTime, opEq, 0),
		prop("givenName", kString, opEq|opOrdered|opStartsWith, opNull),
		prop("id", kString, opEq, 0),
		coll(prop("identities/issuer", kString, opEq, 0)),
		coll(prop("identities/issuerAssignedId", kString, opEq, 0)),
		coll(prop("identities/signInType", kString, opEq, 0)),
		prop("jobTitle", kString, opEq|opOrdered, opNull),
		prop("mail", kString, opEq|opOrdered|opStartsWith, opEndsWith|opNull),
		prop("mailNickname", kString, opEq|opOrdered|opStartsWith, opNull),
		prop("mobilePhone", kString, 0, opEq|opOrdered|opStartsWith|opNull),
		prop("officeLocation", kString, 0, opEq|opOrdered|opStartsWith|opNull),
		coll(prop("otherMails", kString, opEq|opOrdered|opStartsWith, opEndsWith)),
		prop("preferredLanguage", kString, 0, opEq|opOrdered|opStartsWith|opNull),
		coll(prop("proxyAddresses", kString, opEq|opOrdered|opStartsWith, opEndsWith|opNull)),
		prop("showInAddressList", kBool, 0, opEq|opOrdered),
		prop("signInActivity/lastSignInDateTime", kTime, opEq|opOrdered, 0),
		prop("signInActivity/lastNonInteractiveSignInDateTime", kTime, opEq|opOrdered, 0),
		prop("signInActivity/lastSuccessfulSignInDateTime", kTime, opEq|opOrdered, 0),
		prop("surname", kString, opEq|opOrdered|opStartsWith, opNull),
		prop("usageLocation", kString, opEq|opOrdered|opStartsWith, 0),
		prop("userPrincipalName", kString, opEq|opLe|opStartsWith, opEndsWith),
		prop("userType", kString, opEq, opNull),
	)
	for _, p := range onPremFilterProps() {
		s.props[strings.ToLower(p.name)] = p
	}
	s.dynamic = func(key string) (filterProp, bool) {
		if isExtensionName(key) {
			return extensionFilterProp(key), true
		}
		return filterProp{}, false
	}
	// GD user.md, signInActivity: "Supports $filter (eq, ne, not, ge, le)
	// but not with any other filterable properties."
	s.alone = "signinactivity"
	s.known = func(lower string) bool { _, ok := userFields[lower]; return ok }
	return s
}()

var groupFilter = withKnown(func(lower string) bool { _, ok := groupFields[lower]; return ok }, newSchema("Group", "group",
	prop("displayName", kString, opEq|opStartsWith, opNull),
	coll(prop("groupTypes", kString, opEq, 0)),
	prop("id", kString, opEq, 0),
	prop("isAssignableToRole", kBool, opEq, 0),
	prop("mail", kString, opEq|opOrdered|opStartsWith, opEndsWith|opNull),
	prop("mailEnabled", kBool, opEq, 0),
	prop("mailNickname", kString, opEq|opOrdered|opStartsWith, opNull),
	coll(prop("proxyAddresses", kString, opEq|opOrdered|opStartsWith, opEndsWith)),
	prop("securityEnabled", kBool, opEq, 0),
))

var servicePrincipalFilter = withKnown(func(lower string) bool { _, ok := spFields[lower]; return ok }, newSchema("ServicePrincipal", "servicePrincipal",
	prop("accountEnabled", kBool, opEq, 0),
	prop("appId", kString, opEq, 0),
	prop("displayName", kString, opEq|opStartsWith, opNull),
	prop("id", kString, opEq, 0),
	prop("servicePrincipalType", kString, opEq, 0),
	coll(prop("servicePrincipalNames", kString, opEq|opStartsWith, 0)),
	coll(prop("tags", kString, opEq, 0)),
))

func withKnown(known func(string) bool, s *filterSchema) *filterSchema {
	s.known = known
	return s
}

var appRoleAssignmentFilter = newSchema("AppRoleAssignment", "appRoleAssignment",
	prop("appRoleId", kGUID, opEq, 0),
	prop("principalId", kGUID, opEq, 0),
	prop("principalType", kString, opEq, 0),
	prop("resourceId", kGUID, opEq, 0),
)

var roleDefinitionFilter = newSchema("UnifiedRoleDefinition", "unifiedRoleDefinition",
	prop("displayName", kString, opEq|opStartsWith, 0),
	prop("id", kString, opEq, 0),
	prop("isBuiltIn", kBool, opEq, 0),
	prop("templateId", kString, opEq, 0),
)

var roleAssignmentFilter = newSchema("UnifiedRoleAssignment", "unifiedRoleAssignment",
	prop("directoryScopeId", kString, opEq, 0),
	prop("id", kString, opEq, 0),
	prop("principalId", kString, opEq, 0),
	prop("roleDefinitionId", kString, opEq, 0),
)
