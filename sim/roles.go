package sim

import (
	"strings"
)

// roleDefinition is a built-in Entra directory role
// (GD api-reference/v1.0/resources/unifiedroledefinition.md). Built-in roles
// have the same id as their template id.
type roleDefinition struct {
	ID          string
	DisplayName string
	Description string
	Actions     []string
}

func (d *roleDefinition) field(name string) any {
	switch name {
	case "id", "templateid":
		return d.ID
	case "displayname":
		return d.DisplayName
	case "isbuiltin":
		return true
	}
	return nil
}

func (d *roleDefinition) render() object {
	return object{
		{"id", d.ID},
		{"description", d.Description},
		{"displayName", d.DisplayName},
		{"isBuiltIn", true},
		{"isEnabled", true},
		{"resourceScopes", []string{"/"}},
		{"templateId", d.ID},
		{"version", "1"},
		{"rolePermissions", []object{{{"allowedResourceActions", stringsOrEmpty(d.Actions)}, {"condition", nil}}}},
	}
}

// roleAssignment is GD resources/unifiedroleassignment.md.
type roleAssignment struct {
	objMeta
	RoleDefinitionID string
	PrincipalID      string
	DirectoryScopeID string
	AppScopeID       string
}

func (a *roleAssignment) field(name string) any {
	switch name {
	case "id":
		return a.id
	case "principalid":
		return a.PrincipalID
	case "roledefinitionid":
		return a.RoleDefinitionID
	case "directoryscopeid":
		return a.DirectoryScopeID
	}
	return nil
}

func (a *roleAssignment) render() object {
	return object{
		{"id", a.id},
		{"principalId", a.PrincipalID},
		{"directoryScopeId", nullable(a.DirectoryScopeID)},
		{"appScopeId", nullable(a.AppScopeID)},
		{"roleDefinitionId", a.RoleDefinitionID},
	}
}

func (t *tenant) roleDefinition(id string) *roleDefinition {
	for _, d := range t.roleDefs {
		if strings.EqualFold(d.ID, id) {
			return d
		}
	}
	return nil
}

var roleDefinitionList = listSpec{
	typ:        "unifiedRoleDefinition",
	filter:     roleDefinitionFilter,
	fields:     fieldsOf([]string{"id", "description", "displayName", "isBuiltIn", "isEnabled", "resourceScopes", "templateId", "version", "rolePermissions"}),
	defaultTop: 999,
	maxTop:     999,
}

var roleAssignmentList = listSpec{
	typ:        "unifiedRoleAssignment",
	filter:     roleAssignmentFilter,
	fields:     fieldsOf([]string{"id", "principalId", "directoryScopeId", "appScopeId", "roleDefinitionId"}),
	defaultTop: 100,
	maxTop:     999,
}

// listRoleDefinitions is GET /roleManagement/directory/roleDefinitions.
func listRoleDefinitions(c *call) *reply {
	q, err := c.listQuery(roleDefinitionList)
	if err != nil {
		return c.fail(err)
	}
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	value := []object{}
	for _, d := range c.t.roleDefs {
		if matches(q.filter, d) {
			value = append(value, selectMembers(d.render(), q.sel))
		}
	}
	return replyOK(object{{"@odata.context", c.context("roleManagement/directory/roleDefinitions", q.sel, false)}, {"value", value}})
}

// getRoleDefinition is GET /roleManagement/directory/roleDefinitions/{id}.
func getRoleDefinition(c *call) *reply {
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	d := c.t.roleDefinition(c.params["id"])
	if d == nil {
		return c.fail(errNotFound(c.params["id"]))
	}
	return replyOK(append(object{{"@odata.context", c.context("roleManagement/directory/roleDefinitions", nil, true)}}, d.render()...))
}

// listRoleAssignments is GET /roleManagement/directory/roleAssignments
// ($filter on principalId, roleDefinitionId, directoryScopeId).
func listRoleAssignments(c *call) *reply {
	q, err := c.listQuery(roleAssignmentList)
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	keep := func(a *roleAssignment) bool { return matches(q.filter, a) }
	items, last, more := page(t.roleAssigns.list, q, keep)
	value := make([]object, len(items))
	for i, a := range items {
		value[i] = selectMembers(a.render(), q.sel)
	}
	return replyOK(c.collection("roleManagement/directory/roleAssignments", q, value, func() int { return count(t.roleAssigns.list, keep) }, more, last))
}

// getRoleAssignment is GET /roleManagement/directory/roleAssignments/{id}.
func getRoleAssignment(c *call) *reply {
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	a, ok := c.t.roleAssigns.get(c.params["id"])
	if !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	return replyOK(append(object{{"@odata.context", c.context("roleManagement/directory/roleAssignments", nil, true)}}, a.render()...))
}

type roleAssignmentBody struct {
	ODataType        string `json:"@odata.type"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	PrincipalID      string `json:"principalId"`
	DirectoryScopeID string `json:"directoryScopeId"`
	AppScopeID       string `json:"appScopeId"`
}

// postRoleAssignment is POST /roleManagement/directory/roleAssignments
// (GD api/rbacapplication-post-roleassignments.md): 201. The role may be
// named by its definition or template id.
func postRoleAssignment(c *call) *reply {
	var in roleAssignmentBody
	if err := c.decode(&in); err != nil {
		return c.fail(err)
	}
	if in.DirectoryScopeID == "" && in.AppScopeID == "" {
		return c.fail(errBadRequest("Either directoryScopeId or appScopeId must be specified.")) // [unverified]
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.roleDefinition(in.RoleDefinitionID)
	if d == nil {
		return c.fail(errNotFound(in.RoleDefinitionID))
	}
	p, err := c.referenced(in.PrincipalID)
	if err != nil {
		return c.fail(err)
	}
	for _, a := range t.roleAssigns.list {
		if strings.EqualFold(a.RoleDefinitionID, d.ID) && strings.EqualFold(a.PrincipalID, p.meta().id) &&
			a.DirectoryScopeID == in.DirectoryScopeID && a.AppScopeID == in.AppScopeID {
			return c.fail(errBadRequest("A conflicting object with one or more of the specified property values is present in the directory."))
		}
	}
	a := &roleAssignment{
		objMeta:          t.nextMeta(c.s.ids.token(32)+"-1", c.now, 0),
		RoleDefinitionID: d.ID,
		PrincipalID:      p.meta().id,
		DirectoryScopeID: in.DirectoryScopeID,
		AppScopeID:       in.AppScopeID,
	}
	t.roleAssigns.add(a)
	return replyCreated(append(object{{"@odata.context", c.context("roleManagement/directory/roleAssignments", nil, true)}}, a.render()...))
}

// deleteRoleAssignment is DELETE /roleManagement/directory/roleAssignments/{id}: 204.
func deleteRoleAssignment(c *call) *reply {
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.roleAssigns.get(c.params["id"]); !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	t.roleAssigns.remove(c.params["id"])
	return replyNoContent()
}
