package sim

import (
	"strings"
)

// servicePrincipal is an app's instance in the tenant
// (GD api-reference/v1.0/resources/serviceprincipal.md).
type servicePrincipal struct {
	objMeta
	AccountEnabled            bool
	AppDisplayName            string
	AppID                     string
	AppOwnerOrganizationID    string
	AppRoleAssignmentRequired bool
	AppRoles                  []appRole
	DisplayName               string
	ServicePrincipalNames     []string
	ServicePrincipalType      string
	Tags                      []string
}

// appRole is GD resources/approle.md.
type appRole struct {
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	Description        string   `json:"description"`
	DisplayName        string   `json:"displayName"`
	ID                 string   `json:"id"`
	IsEnabled          bool     `json:"isEnabled"`
	Origin             string   `json:"origin"`
	Value              string   `json:"value"`
}

// defaultAccessRole is the app role id that grants access to an app without
// roles (GD api/serviceprincipal-post-approleassignedto.md).
const defaultAccessRole = "00000000-0000-0000-0000-000000000000"

func (sp *servicePrincipal) role(id string) (appRole, bool) {
	for _, r := range sp.AppRoles {
		if strings.EqualFold(r.ID, id) {
			return r, true
		}
	}
	return appRole{}, strings.EqualFold(id, defaultAccessRole)
}

func (sp *servicePrincipal) field(name string) any {
	if f, ok := spFields[name]; ok {
		return f.get(sp)
	}
	return nil
}

type spField struct {
	name string
	get  func(sp *servicePrincipal) any
}

var spFieldList = []spField{
	{"id", func(sp *servicePrincipal) any { return sp.id }},
	{"deletedDateTime", func(*servicePrincipal) any { return nil }},
	{"accountEnabled", func(sp *servicePrincipal) any { return sp.AccountEnabled }},
	{"alternativeNames", func(*servicePrincipal) any { return []string{} }},
	{"appDisplayName", func(sp *servicePrincipal) any { return nullable(sp.AppDisplayName) }},
	{"appDescription", func(*servicePrincipal) any { return nil }},
	{"appId", func(sp *servicePrincipal) any { return sp.AppID }},
	{"appOwnerOrganizationId", func(sp *servicePrincipal) any { return nullable(sp.AppOwnerOrganizationID) }},
	{"appRoleAssignmentRequired", func(sp *servicePrincipal) any { return sp.AppRoleAssignmentRequired }},
	{"appRoles", func(sp *servicePrincipal) any { return appRolesOrEmpty(sp.AppRoles) }},
	{"createdDateTime", func(sp *servicePrincipal) any { return timeOrNull(sp.created) }},
	{"description", func(*servicePrincipal) any { return nil }},
	{"displayName", func(sp *servicePrincipal) any { return nullable(sp.DisplayName) }},
	{"homepage", func(*servicePrincipal) any { return nil }},
	{"servicePrincipalNames", func(sp *servicePrincipal) any { return stringsOrEmpty(sp.ServicePrincipalNames) }},
	{"servicePrincipalType", func(sp *servicePrincipal) any { return nullable(sp.ServicePrincipalType) }},
	{"signInAudience", func(*servicePrincipal) any { return "AzureADMyOrg" }},
	{"tags", func(sp *servicePrincipal) any { return stringsOrEmpty(sp.Tags) }},
}

var spFields = func() map[string]spField {
	m := make(map[string]spField, len(spFieldList))
	for _, f := range spFieldList {
		m[strings.ToLower(f.name)] = f
	}
	return m
}()

func appRolesOrEmpty(r []appRole) []appRole {
	if r == nil {
		return []appRole{}
	}
	return r
}

func (sp *servicePrincipal) render(sel []string) object {
	if len(sel) == 0 {
		o := make(object, 0, len(spFieldList))
		for _, f := range spFieldList {
			o = append(o, member{f.name, f.get(sp)})
		}
		return o
	}
	o := make(object, 0, len(sel))
	for _, name := range sel {
		if f, ok := spFields[strings.ToLower(name)]; ok {
			o = append(o, member{f.name, f.get(sp)})
		}
	}
	return o
}

var spList = listSpec{
	typ:    "servicePrincipal",
	filter: servicePrincipalFilter,
	fields: func(lower string) (string, bool) {
		f, ok := spFields[lower]
		return f.name, ok
	},
	defaultTop: 100,
	maxTop:     999,
}

// appRoleAssignment is GD resources/approleassignment.md. Its id is an
// opaque base64url string, as on Graph.
type appRoleAssignment struct {
	objMeta
	AppRoleID            string
	PrincipalDisplayName string
	PrincipalID          string
	PrincipalType        string
	ResourceDisplayName  string
	ResourceID           string
}

func (a *appRoleAssignment) field(name string) any {
	switch name {
	case "approleid":
		return a.AppRoleID
	case "principalid":
		return a.PrincipalID
	case "principaltype":
		return a.PrincipalType
	case "resourceid":
		return a.ResourceID
	}
	return nil
}

var assignmentFieldNames = []string{"id", "deletedDateTime", "appRoleId", "createdDateTime", "principalDisplayName", "principalId", "principalType", "resourceDisplayName", "resourceId"}

func (a *appRoleAssignment) render(sel []string) object {
	all := object{
		{"id", a.id},
		{"deletedDateTime", nil},
		{"appRoleId", a.AppRoleID},
		{"createdDateTime", graphTime(a.created)},
		{"principalDisplayName", nullable(a.PrincipalDisplayName)},
		{"principalId", a.PrincipalID},
		{"principalType", a.PrincipalType},
		{"resourceDisplayName", nullable(a.ResourceDisplayName)},
		{"resourceId", a.ResourceID},
	}
	return selectMembers(all, sel)
}

// selectMembers keeps the members of o named in sel, in sel's order.
func selectMembers(o object, sel []string) object {
	if len(sel) == 0 {
		return o
	}
	out := make(object, 0, len(sel))
	for _, name := range sel {
		for _, m := range o {
			if strings.EqualFold(m.name, name) {
				out = append(out, m)
			}
		}
	}
	return out
}

func fieldsOf(names []string) func(string) (string, bool) {
	m := map[string]string{}
	for _, n := range names {
		m[strings.ToLower(n)] = n
	}
	return func(lower string) (string, bool) {
		n, ok := m[lower]
		return n, ok
	}
}

var assignmentList = listSpec{
	typ:        "appRoleAssignment",
	filter:     appRoleAssignmentFilter,
	fields:     fieldsOf(assignmentFieldNames),
	defaultTop: 100,
	maxTop:     999,
}
