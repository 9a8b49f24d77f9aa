package sim

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

// arm serves one ARM request under {scope}/providers/Microsoft.Authorization/.
func (s *Server) arm(c *call, r *http.Request) *reply {
	body, err := readBody(r)
	if err != nil {
		return c.fail(err)
	}
	c.body = body
	who, t, err := s.verify(r, armAudiences)
	if err != nil {
		return c.fail(err)
	}
	c.who, c.t = who, t
	if v, _ := option(c.query, "api-version"); v == "" {
		return c.fail(newError(http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests."))
	}
	scope, kind, name, ok := splitARMPath(c.path)
	if !ok {
		return c.fail(newError(http.StatusNotFound, "InvalidResourceType", "The resource type could not be found for path '%s'. The emulated tenant serves Microsoft.Authorization roleAssignments and roleDefinitions.", c.path))
	}
	h, route := armHandler(c.method, kind, name != "")
	if h == nil {
		return c.fail(newError(http.StatusMethodNotAllowed, "MethodNotAllowed", "The HTTP method '%s' is not supported for this resource.", c.method))
	}
	c.params = map[string]string{"scope": scope, "name": name}
	s.stats.route(route, c.method != http.MethodGet)
	return h(c)
}

// splitARMPath splits {scope}/providers/Microsoft.Authorization/{kind}[/{name}].
func splitARMPath(path string) (scope, kind, name string, ok bool) {
	lower := strings.ToLower(path)
	const marker = "/providers/microsoft.authorization/"
	i := strings.LastIndex(lower, marker)
	if i < 0 {
		return "", "", "", false
	}
	scope = strings.TrimRight(path[:i], "/")
	rest := strings.Split(strings.Trim(path[i+len(marker):], "/"), "/")
	kind = strings.ToLower(rest[0])
	if kind != "roleassignments" && kind != "roledefinitions" || len(rest) > 2 {
		return "", "", "", false
	}
	if len(rest) == 2 {
		name = rest[1]
	}
	return scope, kind, name, true
}

func armHandler(method, kind string, named bool) (func(*call) *reply, string) {
	const p = "{scope}/providers/Microsoft.Authorization/"
	switch {
	case kind == "roleassignments" && named && method == http.MethodPut:
		return putAzureAssignment, "PUT " + p + "roleAssignments/{roleAssignmentName}"
	case kind == "roleassignments" && named && method == http.MethodGet:
		return getAzureAssignment, "GET " + p + "roleAssignments/{roleAssignmentName}"
	case kind == "roleassignments" && named && method == http.MethodDelete:
		return deleteAzureAssignment, "DELETE " + p + "roleAssignments/{roleAssignmentName}"
	case kind == "roleassignments" && !named && method == http.MethodGet:
		return listAzureAssignments, "GET " + p + "roleAssignments"
	case kind == "roledefinitions" && named && method == http.MethodGet:
		return getAzureRole, "GET " + p + "roleDefinitions/{roleDefinitionId}"
	case kind == "roledefinitions" && !named && method == http.MethodGet:
		return listAzureRoles, "GET " + p + "roleDefinitions"
	}
	return nil, ""
}

func armError(status int, code, format string, args ...any) *apiError {
	return newError(status, code, format, args...)
}

// checkScope checks that the subscription and resource group of a scope
// exist.
func (t *tenant) checkScope(scope string) *apiError {
	segs := strings.Split(strings.Trim(scope, "/"), "/")
	switch {
	case len(segs) >= 4 && strings.EqualFold(segs[0], "providers") && strings.EqualFold(segs[1], "Microsoft.Management") && strings.EqualFold(segs[2], "managementGroups"):
		return nil
	case len(segs) < 2 || !strings.EqualFold(segs[0], "subscriptions"):
		return armError(http.StatusBadRequest, "InvalidScope", "The scope '%s' is not valid for a role assignment.", scope) // [unverified]
	}
	sub := t.azure.subscriptions[strings.ToLower(segs[1])]
	if sub == nil {
		return armError(http.StatusNotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", segs[1])
	}
	if len(segs) >= 4 && strings.EqualFold(segs[2], "resourceGroups") && !containsFold(sub.ResourceGroups, segs[3]) {
		return armError(http.StatusNotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", segs[3])
	}
	return nil
}

// authorize checks that the caller holds, at the scope or above it, a role
// that allows the action; else ARM's AuthorizationFailed.
func (c *call) authorize(scope, target, action string) *apiError {
	for _, a := range c.t.azure.assignments.list {
		if !strings.EqualFold(a.PrincipalID, c.who.objectID) || !isUnder(scope, a.Scope) {
			continue
		}
		if r := azureRoleByID(a.RoleDefinitionID); r != nil && r.allows(action) {
			return nil
		}
	}
	return armError(http.StatusForbidden, "AuthorizationFailed",
		"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		c.who.objectID, c.who.objectID, action, target)
}

type azureAssignmentBody struct {
	Properties struct {
		RoleDefinitionID string `json:"roleDefinitionId"`
		PrincipalID      string `json:"principalId"`
		PrincipalType    string `json:"principalType"`
		Description      string `json:"description"`
		Condition        string `json:"condition"`
	} `json:"properties"`
}

var roleDefIDPattern = regexp.MustCompile(`(?i)/providers/Microsoft\.Authorization/roleDefinitions/([0-9a-f-]{36})$`)

// putAzureAssignment is RoleAssignments_Create: 201 when created, 200 for
// the same assignment again, 409 RoleAssignmentExists when the principal
// already holds the role at the scope under another name.
func putAzureAssignment(c *call) *reply {
	scope, name := c.params["scope"], c.params["name"]
	if !isGUID(name) {
		return c.fail(armError(http.StatusBadRequest, "InvalidRoleAssignmentId", "The role assignment ID '%s' is not valid. The role assignment ID must be a GUID.", name))
	}
	var in azureAssignmentBody
	if err := json.Unmarshal(c.body, &in); err != nil {
		return c.fail(armError(http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized: '%v'.", err))
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.checkScope(scope); err != nil {
		return c.fail(err)
	}
	target := scope + "/providers/Microsoft.Authorization/roleAssignments/" + name
	if err := c.authorize(scope, target, "Microsoft.Authorization/roleAssignments/write"); err != nil {
		return c.fail(err)
	}
	a, err := c.newAzureAssignment(scope, name, in)
	if err != nil {
		return c.fail(err)
	}
	if old, ok := t.azure.assignments.get(name); ok {
		if !strings.EqualFold(old.Scope, a.Scope) || !strings.EqualFold(old.PrincipalID, a.PrincipalID) || !strings.EqualFold(old.RoleDefinitionID, a.RoleDefinitionID) {
			return c.fail(armError(http.StatusBadRequest, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and scope are not allowed to be updated."))
		}
		return replyJSON(http.StatusOK, old.render()).arm()
	}
	for _, o := range t.azure.assignments.list {
		if strings.EqualFold(o.Scope, a.Scope) && strings.EqualFold(o.PrincipalID, a.PrincipalID) && strings.EqualFold(o.RoleDefinitionID, a.RoleDefinitionID) {
			// docs/graph-reference.md §9.
			return c.fail(armError(http.StatusConflict, "RoleAssignmentExists", "The role assignment already exists."))
		}
	}
	t.azure.assignments.add(a)
	return replyJSON(http.StatusCreated, a.render()).arm()
}

// newAzureAssignment validates a PUT body into an assignment.
func (c *call) newAzureAssignment(scope, name string, in azureAssignmentBody) (*azureAssignment, *apiError) {
	m := roleDefIDPattern.FindStringSubmatch(strings.TrimSpace(in.Properties.RoleDefinitionID))
	if m == nil || azureRoleByID(m[1]) == nil {
		id := in.Properties.RoleDefinitionID
		if m != nil {
			id = m[1]
		}
		return nil, armError(http.StatusBadRequest, "RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist.", id)
	}
	pid := in.Properties.PrincipalID
	if !isGUID(pid) {
		return nil, armError(http.StatusBadRequest, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
	}
	ptype, err := c.azurePrincipal(pid, in.Properties.PrincipalType)
	if err != nil {
		return nil, err
	}
	return &azureAssignment{
		objMeta:          c.t.nextMeta(strings.ToLower(name), c.now, 0),
		Scope:            scope,
		RoleDefinitionID: strings.ToLower(m[1]),
		PrincipalID:      strings.ToLower(pid),
		PrincipalType:    ptype,
		Description:      in.Properties.Description,
		CreatedBy:        c.who.objectID,
	}, nil
}

// azurePrincipal resolves an assignment's principal. Without principalType
// ARM looks the principal up in the directory, and a principal not yet
// replicated is PrincipalNotFound; with principalType it skips the lookup
// (AD role-based-access-control/role-assignments-rest.md, "principalType").
// The sim still refuses a principal that does not exist at all.
func (c *call) azurePrincipal(pid, given string) (string, *apiError) {
	notFound := armError(http.StatusBadRequest, "PrincipalNotFound",
		"Principal %s does not exist in the directory %s. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
		strings.ReplaceAll(strings.ToLower(pid), "-", ""), c.t.id)
	o, ok := c.t.object(pid)
	if !ok || (given == "" && !c.visible(o.meta())) {
		return "", notFound
	}
	actual := principalType(o)
	if given != "" && !strings.EqualFold(given, actual) {
		return "", armError(http.StatusBadRequest, "UnmatchedPrincipalType", "The PrincipalId '%s' has type '%s' , which is different from specified PrincipalType '%s'.", strings.ReplaceAll(pid, "-", ""), actual, given)
	}
	return actual, nil
}

// getAzureAssignment is RoleAssignments_Get.
func getAzureAssignment(c *call) *reply {
	scope, name := c.params["scope"], c.params["name"]
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := c.authorize(scope, scope, "Microsoft.Authorization/roleAssignments/read"); err != nil {
		return c.fail(err)
	}
	a, ok := t.azure.assignments.get(name)
	if !ok || !strings.EqualFold(a.Scope, scope) {
		return c.fail(armError(http.StatusNotFound, "RoleAssignmentNotFound", "The role assignment '%s' is not found.", name))
	}
	return replyOK(a.render()).arm()
}

// deleteAzureAssignment is RoleAssignments_Delete: 200 with the deleted
// assignment, 204 when there was none.
func deleteAzureAssignment(c *call) *reply {
	scope, name := c.params["scope"], c.params["name"]
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	target := scope + "/providers/Microsoft.Authorization/roleAssignments/" + name
	if err := c.authorize(scope, target, "Microsoft.Authorization/roleAssignments/delete"); err != nil {
		return c.fail(err)
	}
	a, ok := t.azure.assignments.get(name)
	if !ok || !strings.EqualFold(a.Scope, scope) {
		return &reply{status: http.StatusNoContent}
	}
	t.azure.assignments.remove(name)
	return replyOK(a.render()).arm()
}

var (
	principalFilter = regexp.MustCompile(`(?i)^\s*(?:principalId\s+eq\s+'([^']*)'|assignedTo\('([^']*)'\))\s*$`)
	atScopeFilter   = regexp.MustCompile(`(?i)^\s*atScope\(\)\s*$`)
	roleNameFilter  = regexp.MustCompile(`(?i)^\s*roleName\s+eq\s+'((?:[^']|'')*)'\s*$`)
)

// listAzureAssignments is RoleAssignments_ListForScope: the assignments at,
// above and below the scope; $filter=atScope() keeps those at and above,
// principalId eq '…' or assignedTo('…') those of one principal.
func listAzureAssignments(c *call) *reply {
	scope := c.params["scope"]
	filter, _ := option(c.query, "filter")
	principal, atScope := "", false
	for _, part := range splitAnd(filter) {
		switch m := principalFilter.FindStringSubmatch(part); {
		case m != nil:
			principal = m[1] + m[2]
		case atScopeFilter.MatchString(part):
			atScope = true
		default:
			return c.fail(armError(http.StatusBadRequest, "UnsupportedQuery", "The filter '%s' is not supported. Supported filters are either 'atScope()', 'assignedTo('{value}')' or 'principalId eq '{value}''.", filter))
		}
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.checkScope(scope); err != nil {
		return c.fail(err)
	}
	if err := c.authorize(scope, scope, "Microsoft.Authorization/roleAssignments/read"); err != nil {
		return c.fail(err)
	}
	value := []object{}
	for _, a := range t.azure.assignments.list {
		related := isUnder(scope, a.Scope) || (!atScope && isUnder(a.Scope, scope))
		if related && (principal == "" || strings.EqualFold(a.PrincipalID, principal)) {
			value = append(value, a.render())
		}
	}
	return replyOK(object{{"value", value}}).arm()
}

func splitAnd(filter string) []string {
	if strings.TrimSpace(filter) == "" {
		return nil
	}
	return regexp.MustCompile(`(?i)\s+and\s+`).Split(filter, -1)
}

// listAzureRoles is RoleDefinitions_List ($filter=roleName eq '…').
func listAzureRoles(c *call) *reply {
	scope := c.params["scope"]
	if err := c.t.checkScope(scope); err != nil {
		return c.fail(err)
	}
	filter, _ := option(c.query, "filter")
	name := ""
	if strings.TrimSpace(filter) != "" {
		m := roleNameFilter.FindStringSubmatch(filter)
		if m == nil {
			return c.fail(armError(http.StatusBadRequest, "UnsupportedQuery", "The filter '%s' is not supported. Supported filters are 'roleName eq '{value}'' and 'type eq '{value}''.", filter))
		}
		name = strings.ReplaceAll(m[1], "''", "'")
	}
	value := []object{}
	for i := range builtInRoles {
		if name == "" || strings.EqualFold(builtInRoles[i].Name, name) {
			value = append(value, renderAzureRole(scope, &builtInRoles[i]))
		}
	}
	return replyOK(object{{"value", value}}).arm()
}

// getAzureRole is RoleDefinitions_Get.
func getAzureRole(c *call) *reply {
	if err := c.t.checkScope(c.params["scope"]); err != nil {
		return c.fail(err)
	}
	r := azureRoleByID(c.params["name"])
	if r == nil {
		return c.fail(armError(http.StatusNotFound, "RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist.", c.params["name"]))
	}
	return replyOK(renderAzureRole(c.params["scope"], r)).arm()
}

// arm marks a reply as ARM's plain JSON.
func (r *reply) arm() *reply {
	r.ctype = "application/json; charset=utf-8"
	return r
}
