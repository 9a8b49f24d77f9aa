package sim

import (
	"strings"
	"time"
)

// Azure RBAC as Azure Resource Manager serves it (api-version 2022-04-01,
// Azure/azure-rest-api-specs specification/authorization/resource-manager/
// Microsoft.Authorization/stable/2022-04-01; docs/graph-reference.md §9): role assignments
// at subscription, resource group, resource and management group scopes,
// and the built-in role definitions foyer names. Errors are ARM's
// {"error":{"code","message"}}.

// azureRole is a built-in Azure role with its real id and permissions.
type azureRole struct {
	ID          string
	Name        string
	Description string
	Actions     []string
	NotActions  []string
}

// builtInRoles are the built-in roles with their published GUIDs
// (AD role-based-access-control/built-in-roles.md).
var builtInRoles = []azureRole{
	{"8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.", []string{"*"}, nil},
	{"b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor", "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.", []string{"*"},
		[]string{"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"}},
	{"acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", "View all resources, but does not allow you to make any changes.", []string{"*/read"}, nil},
	{"18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator", "Lets you manage user access to Azure resources.", []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"}, nil},
	{"ba92f5b4-2d11-453d-a403-e96b0029c9fe", "Storage Blob Data Contributor", "Allows for read, write and delete access to Azure Storage blob containers and data.", []string{"Microsoft.Storage/storageAccounts/blobServices/containers/*"}, nil},
	{"2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "Storage Blob Data Reader", "Allows for read access to Azure Storage blob containers and data.", []string{"Microsoft.Storage/storageAccounts/blobServices/containers/read"}, nil},
}

func azureRoleByID(id string) *azureRole {
	for i := range builtInRoles {
		if strings.EqualFold(builtInRoles[i].ID, id) {
			return &builtInRoles[i]
		}
	}
	return nil
}

// allows reports whether the role permits an action (wildcards as Azure
// writes them: "*", "*/read", "Microsoft.Authorization/*").
func (r *azureRole) allows(action string) bool {
	match := func(pattern string) bool {
		p, a := strings.ToLower(pattern), strings.ToLower(action)
		switch {
		case p == "*":
			return true
		case strings.HasPrefix(p, "*/"):
			return strings.HasSuffix(a, p[1:])
		case strings.HasSuffix(p, "/*"):
			return strings.HasPrefix(a, p[:len(p)-1])
		case strings.Contains(p, "/*/"):
			pre, post, _ := strings.Cut(p, "/*/")
			return strings.HasPrefix(a, pre+"/") && strings.HasSuffix(a, "/"+post)
		}
		return p == a
	}
	ok := false
	for _, p := range r.Actions {
		ok = ok || match(p)
	}
	for _, p := range r.NotActions {
		if match(p) {
			return false
		}
	}
	return ok
}

// azureState is the tenant's Azure side: subscriptions with their resource
// groups, and role assignments.
type azureState struct {
	subscriptions map[string]*subscription // by lowercased id
	assignments   ordered[*azureAssignment]
}

type subscription struct {
	ID             string   `json:"id"`
	DisplayName    string   `json:"display_name"`
	ResourceGroups []string `json:"resource_groups"`
}

func newAzureState() *azureState {
	return &azureState{subscriptions: map[string]*subscription{}, assignments: newOrdered[*azureAssignment]()}
}

// azureAssignment is a role assignment; its id is its name (a GUID).
type azureAssignment struct {
	objMeta
	Scope            string
	RoleDefinitionID string
	PrincipalID      string
	PrincipalType    string
	Description      string
	CreatedBy        string
}

func (a *azureAssignment) render() object {
	return object{
		{"properties", object{
			{"roleDefinitionId", roleDefinitionPath(a.Scope, a.RoleDefinitionID)},
			{"principalId", a.PrincipalID},
			{"principalType", a.PrincipalType},
			{"scope", a.Scope},
			{"condition", nil},
			{"conditionVersion", nil},
			{"createdOn", armTime(a.created)},
			{"updatedOn", armTime(a.created)},
			{"createdBy", nullable(a.CreatedBy)},
			{"updatedBy", nullable(a.CreatedBy)},
			{"delegatedManagedIdentityResourceId", nil},
			{"description", nullable(a.Description)},
		}},
		{"id", a.Scope + "/providers/Microsoft.Authorization/roleAssignments/" + a.id},
		{"type", "Microsoft.Authorization/roleAssignments"},
		{"name", a.id},
	}
}

func armTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// roleDefinitionPath is a role definition's id as seen from a scope: under
// the subscription when the scope is in one.
func roleDefinitionPath(scope, id string) string {
	return subscriptionPrefix(scope) + "/providers/Microsoft.Authorization/roleDefinitions/" + id
}

func subscriptionPrefix(scope string) string {
	segs := strings.Split(strings.Trim(scope, "/"), "/")
	if len(segs) >= 2 && strings.EqualFold(segs[0], "subscriptions") {
		return "/subscriptions/" + segs[1]
	}
	return ""
}

func renderAzureRole(scope string, r *azureRole) object {
	created := time.Date(2015, 2, 2, 21, 55, 9, 0, time.UTC)
	return object{
		{"properties", object{
			{"roleName", r.Name},
			{"type", "BuiltInRole"},
			{"description", r.Description},
			{"assignableScopes", []string{"/"}},
			{"permissions", []object{{
				{"actions", stringsOrEmpty(r.Actions)},
				{"notActions", stringsOrEmpty(r.NotActions)},
				{"dataActions", []string{}},
				{"notDataActions", []string{}},
			}}},
			{"createdOn", armTime(created)},
			{"updatedOn", armTime(created)},
			{"createdBy", nil},
			{"updatedBy", nil},
		}},
		{"id", roleDefinitionPath(scope, r.ID)},
		{"type", "Microsoft.Authorization/roleDefinitions"},
		{"name", r.ID},
	}
}

// isUnder reports whether scope is ancestor itself or below it.
func isUnder(scope, ancestor string) bool {
	s, a := strings.ToLower(strings.TrimRight(scope, "/")), strings.ToLower(strings.TrimRight(ancestor, "/"))
	return s == a || a == "" || strings.HasPrefix(s, a+"/")
}
