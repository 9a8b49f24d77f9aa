package sim

import (
	"strings"
)

// listServicePrincipals is GET /servicePrincipals.
func listServicePrincipals(c *call) *reply {
	q, err := c.listQuery(spList)
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	keep := func(sp *servicePrincipal) bool { return c.listable(&sp.objMeta) && matches(q.filter, sp) }
	items, last, more := page(t.sps.list, q, keep)
	value := make([]object, len(items))
	for i, sp := range items {
		value[i] = sp.render(q.sel)
	}
	return replyOK(c.collection("servicePrincipals", q, value, func() int { return count(t.sps.list, keep) }, more, last))
}

// servicePrincipal finds the service principal a path names, by object id
// or by servicePrincipals(appId='…').
func (c *call) servicePrincipal() (*servicePrincipal, *apiError) {
	if appID, ok := c.params["appId"]; ok {
		for _, sp := range c.t.sps.list {
			if strings.EqualFold(sp.AppID, appID) {
				return sp, nil
			}
		}
		return nil, errNotFound(appID)
	}
	sp, ok := c.t.sps.get(c.params["id"])
	if !ok {
		return nil, errNotFound(c.params["id"])
	}
	return sp, nil
}

// getServicePrincipal is GET /servicePrincipals/{id} and
// GET /servicePrincipals(appId='{appId}').
func getServicePrincipal(c *call) *reply {
	q, err := c.listQuery(spList)
	if err != nil {
		return c.fail(err)
	}
	c.t.mu.RLock()
	defer c.t.mu.RUnlock()
	sp, err := c.servicePrincipal()
	if err != nil {
		return c.fail(err)
	}
	return replyOK(append(object{{"@odata.context", c.context("servicePrincipals", q.sel, true)}}, sp.render(q.sel)...))
}

// listAppRoleAssignedTo is GET /servicePrincipals/{id}/appRoleAssignedTo.
func listAppRoleAssignedTo(c *call) *reply {
	q, err := c.listQuery(assignmentList)
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	sp, err := c.servicePrincipal()
	if err != nil {
		return c.fail(err)
	}
	keep := func(a *appRoleAssignment) bool {
		return strings.EqualFold(a.ResourceID, sp.id) && matches(q.filter, a)
	}
	return c.assignmentPage(q, keep, "servicePrincipals('"+sp.id+"')/appRoleAssignedTo")
}

func (c *call) assignmentPage(q *listQuery, keep func(*appRoleAssignment) bool, set string) *reply {
	list := c.t.appAssigns.list
	items, last, more := page(list, q, keep)
	value := make([]object, len(items))
	for i, a := range items {
		value[i] = a.render(q.sel)
	}
	return replyOK(c.collection(set, q, value, func() int { return count(list, keep) }, more, last))
}

// assignmentBody is the request of both ways to create an app role
// assignment.
type assignmentBody struct {
	ODataType   string `json:"@odata.type"`
	PrincipalID string `json:"principalId"`
	ResourceID  string `json:"resourceId"`
	AppRoleID   string `json:"appRoleId"`
}

// postAppRoleAssignedTo is POST /servicePrincipals/{id}/appRoleAssignedTo
// (GD api/serviceprincipal-post-approleassignedto.md): 201.
func postAppRoleAssignedTo(c *call) *reply {
	var in assignmentBody
	if err := c.decode(&in); err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	sp, err := c.servicePrincipal()
	if err != nil {
		return c.fail(err)
	}
	a, err := c.assign(sp, in)
	if err != nil {
		return c.fail(err)
	}
	body := object{{"@odata.context", c.base + c.version() + "/$metadata#servicePrincipals('" + sp.id + "')/appRoleAssignedTo/$entity"}}
	return replyCreated(append(body, a.render(nil)...))
}

// assign creates an app role assignment after the directory's checks. A
// principal that does not exist, or was created too recently to be
// replicated, gets "Not a valid reference update." (400; microsoftgraph/
// msgraph-bicep-types#193, microsoft-graph-docs-contrib#4628).
func (c *call) assign(sp *servicePrincipal, in assignmentBody) (*appRoleAssignment, *apiError) {
	t := c.t
	if in.PrincipalID == "" || in.AppRoleID == "" {
		return nil, errBadRequest("Invalid value specified for property 'principalId' of resource 'AppRoleAssignment'.") // [unverified]
	}
	if in.ResourceID != "" && !strings.EqualFold(in.ResourceID, sp.id) {
		return nil, errBadRequest("Invalid value specified for property 'resourceId' of resource 'AppRoleAssignment'.") // [unverified]
	}
	p, ok := t.object(in.PrincipalID)
	if !ok || !c.visible(p.meta()) {
		return nil, errBadRequest("Not a valid reference update.")
	}
	if _, ok := sp.role(in.AppRoleID); !ok {
		return nil, errBadRequest("Permission being assigned was not found on application '%s'.", sp.AppID)
	}
	for _, a := range t.appAssigns.list {
		if strings.EqualFold(a.ResourceID, sp.id) && strings.EqualFold(a.PrincipalID, p.meta().id) && strings.EqualFold(a.AppRoleID, in.AppRoleID) {
			// docs/graph-reference.md §4: observed in scripts and emulators.
			return nil, errBadRequest("Permission being assigned already exists on the object")
		}
	}
	a := &appRoleAssignment{
		objMeta:              t.nextMeta(c.s.ids.token(32), c.now, 0),
		AppRoleID:            strings.ToLower(in.AppRoleID),
		PrincipalID:          p.meta().id,
		PrincipalType:        principalType(p),
		PrincipalDisplayName: displayNameOf(p),
		ResourceDisplayName:  sp.DisplayName,
		ResourceID:           sp.id,
	}
	t.appAssigns.add(a)
	return a, nil
}

func principalType(o stored) string {
	switch o.(type) {
	case *group:
		return "Group"
	case *servicePrincipal:
		return "ServicePrincipal"
	}
	return "User"
}

func displayNameOf(o stored) string {
	switch x := o.(type) {
	case *user:
		return x.DisplayName
	case *group:
		return x.DisplayName
	case *servicePrincipal:
		return x.DisplayName
	}
	return ""
}

// deleteAppRoleAssignedTo is DELETE /servicePrincipals/{id}/appRoleAssignedTo/{assignmentId}: 204.
func deleteAppRoleAssignedTo(c *call) *reply {
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	sp, err := c.servicePrincipal()
	if err != nil {
		return c.fail(err)
	}
	a, ok := t.appAssigns.get(c.params["assignmentId"])
	if !ok || !strings.EqualFold(a.ResourceID, sp.id) {
		return c.fail(errNotFound(c.params["assignmentId"]))
	}
	t.appAssigns.remove(a.id)
	return replyNoContent()
}

// listUserAppRoleAssignments is GET /users/{id}/appRoleAssignments.
func listUserAppRoleAssignments(c *call) *reply {
	q, err := c.listQuery(assignmentList)
	if err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, ok := t.userByKey(c.params["id"])
	if !ok {
		return c.fail(errNotFound(c.params["id"]))
	}
	keep := func(a *appRoleAssignment) bool {
		return strings.EqualFold(a.PrincipalID, u.id) && matches(q.filter, a)
	}
	return c.assignmentPage(q, keep, "users('"+u.id+"')/appRoleAssignments")
}

// postUserAppRoleAssignment is POST /users/{id}/appRoleAssignments
// (GD api/user-post-approleassignments.md). The user in the path must be
// replicated (404 otherwise).
func postUserAppRoleAssignment(c *call) *reply {
	var in assignmentBody
	if err := c.decode(&in); err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := c.writableUser(c.params["id"])
	if err != nil {
		return c.fail(err)
	}
	if in.PrincipalID != "" && !strings.EqualFold(in.PrincipalID, u.id) {
		return c.fail(errBadRequest("Invalid value specified for property 'principalId' of resource 'AppRoleAssignment'.")) // [unverified]
	}
	in.PrincipalID = u.id
	sp, ok := t.sps.get(in.ResourceID)
	if !ok {
		return c.fail(errNotFound(in.ResourceID))
	}
	a, err := c.assign(sp, in)
	if err != nil {
		return c.fail(err)
	}
	body := object{{"@odata.context", c.base + c.version() + "/$metadata#users('" + u.id + "')/appRoleAssignments/$entity"}}
	return replyCreated(append(body, a.render(nil)...))
}

// deleteUserAppRoleAssignment is DELETE /users/{id}/appRoleAssignments/{assignmentId}: 204.
func deleteUserAppRoleAssignment(c *call) *reply {
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := c.writableUser(c.params["id"])
	if err != nil {
		return c.fail(err)
	}
	a, ok := t.appAssigns.get(c.params["assignmentId"])
	if !ok || !strings.EqualFold(a.PrincipalID, u.id) {
		return c.fail(errNotFound(c.params["assignmentId"]))
	}
	t.appAssigns.remove(a.id)
	return replyNoContent()
}
