package sim

import "net/http"

// Application permissions that allow each Graph operation: the least
// privileged first, then the higher ones, from the "Permissions" table of
// each operation's page in GD api-reference/v1.0/api (docs/graph-reference.md §1–§4).
const (
	permUserRead     = "User.ReadBasic.All|User.Read.All|User.ReadWrite.All|Directory.Read.All|Directory.ReadWrite.All"
	permUserWrite    = "User.ReadWrite.All|Directory.ReadWrite.All"
	permUserDelete   = "User.DeleteRestore.All|User.ReadWrite.All"
	permInvite       = "User.Invite.All|User.ReadWrite.All|Directory.ReadWrite.All"
	permLicense      = "LicenseAssignment.ReadWrite.All|User.ReadWrite.All|Directory.ReadWrite.All"
	permLicenseRead  = "LicenseAssignment.Read.All|User.Read.All|Directory.Read.All|LicenseAssignment.ReadWrite.All|User.ReadWrite.All|Directory.ReadWrite.All"
	permDomainRead   = "Domain.Read.All|Domain.ReadWrite.All|Directory.Read.All|Directory.ReadWrite.All"
	permOrgRead      = "Organization.Read.All|Organization.ReadWrite.All|Directory.Read.All|Directory.ReadWrite.All"
	permGroupRead    = "GroupMember.Read.All|Group.Read.All|Directory.Read.All|GroupMember.ReadWrite.All|Group.ReadWrite.All|Directory.ReadWrite.All"
	permMemberWrite  = "GroupMember.ReadWrite.All|Group.ReadWrite.All|Directory.ReadWrite.All"
	permAppRead      = "Application.Read.All|Application.ReadWrite.All|Directory.Read.All|Directory.ReadWrite.All"
	permAssignRead   = "Application.Read.All|Application.ReadWrite.All|Directory.Read.All|Directory.ReadWrite.All|AppRoleAssignment.ReadWrite.All"
	permAssignWrite  = "AppRoleAssignment.ReadWrite.All+Application.Read.All|AppRoleAssignment.ReadWrite.All+Application.ReadWrite.All|AppRoleAssignment.ReadWrite.All+Directory.Read.All|AppRoleAssignment.ReadWrite.All+Directory.ReadWrite.All"
	permUserAssigns  = "User.Read.All|User.ReadWrite.All|Directory.Read.All|Directory.ReadWrite.All|AppRoleAssignment.ReadWrite.All"
	permRoleRead     = "RoleManagement.Read.Directory|RoleManagement.Read.All|Directory.Read.All|RoleManagement.ReadWrite.Directory|Directory.ReadWrite.All"
	permRoleWrite    = "RoleManagement.ReadWrite.Directory"
	permSkuRead      = "LicenseAssignment.Read.All|Organization.Read.All|Directory.Read.All|LicenseAssignment.ReadWrite.All|Organization.ReadWrite.All|Directory.ReadWrite.All"
	permSignInReport = "AuditLog.Read.All"
)

// graphRoutes is the Graph surface for one version prefix ("/v1.0" or
// "/beta": the sim answers both alike).
func graphRoutes(prefix string) table {
	r := func(method, pattern, perm string, h func(*call) *reply) *route {
		return newRoute(method, prefix, pattern, perm, h)
	}
	const (
		get, post, patch, del = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	)
	return table{
		r(post, "invitations", permInvite, postInvitation),
		r(post, "$batch", "", postBatch),

		r(get, "users", permUserRead, listUsers),
		r(get, "users/$count", permUserRead, countUsers),
		r(get, "users/delta", permUserRead, deltaUsers),
		r(get, "users/{id}", permUserRead, getUser),
		r(patch, "users/{id}", permUserWrite, patchUser),
		r(del, "users/{id}", permUserDelete, deleteUser),
		r(post, "users/{id}/assignLicense", permLicense, assignLicense),
		r(get, "users/{id}/licenseDetails", permLicenseRead, listLicenseDetails),
		r(get, "users/{id}/appRoleAssignments", permUserAssigns, listUserAppRoleAssignments),
		r(post, "users/{id}/appRoleAssignments", permAssignWrite, postUserAppRoleAssignment),
		r(del, "users/{id}/appRoleAssignments/{assignmentId}", permAssignWrite, deleteUserAppRoleAssignment),
		r(get, "users/{id}/memberOf", permUserRead+"|"+permGroupRead, listMemberOf),
		r(get, "users/{id}/sponsors", permUserRead, listSponsors),

		r(get, "domains", permDomainRead, listDomains),
		r(get, "domains/{id}", permDomainRead, getDomain),
		r(get, "organization", permOrgRead, listOrganization),
		r(get, "subscribedSkus", permSkuRead, listSkus),
		r(get, "subscribedSkus/{id}", permSkuRead, getSku),

		r(get, "groups", permGroupRead, listGroups),
		r(get, "groups/{id}", permGroupRead, getGroup),
		r(patch, "groups/{id}", permMemberWrite, patchGroup),
		r(get, "groups/{id}/members", permGroupRead, listMembers),
		r(get, "groups/{id}/members/microsoft.graph.user", permGroupRead, listMemberUsers),
		r(get, "groups/{id}/members/$count", permGroupRead, countMembers),
		r(get, "groups/{id}/transitiveMembers/microsoft.graph.user", permGroupRead, listTransitiveUsers),
		r(post, "groups/{id}/members/$ref", permMemberWrite, addMember),
		r(del, "groups/{id}/members/{memberId}/$ref", permMemberWrite, removeMember),

		r(get, "servicePrincipals", permAppRead, listServicePrincipals),
		r(get, "servicePrincipals(appId='{appId}')", permAppRead, getServicePrincipal),
		r(get, "servicePrincipals(appId='{appId}')/appRoleAssignedTo", permAssignRead, listAppRoleAssignedTo),
		r(post, "servicePrincipals(appId='{appId}')/appRoleAssignedTo", permAssignWrite, postAppRoleAssignedTo),
		r(get, "servicePrincipals/{id}", permAppRead, getServicePrincipal),
		r(get, "servicePrincipals/{id}/appRoleAssignedTo", permAssignRead, listAppRoleAssignedTo),
		r(post, "servicePrincipals/{id}/appRoleAssignedTo", permAssignWrite, postAppRoleAssignedTo),
		r(del, "servicePrincipals/{id}/appRoleAssignedTo/{assignmentId}", permAssignWrite, deleteAppRoleAssignedTo),

		r(get, "identityGovernance/lifecycleWorkflows/lifecyclePolicies", permLifecyclePolicyRead, listLifecyclePolicies),
		r(get, "identityGovernance/lifecycleWorkflows/lifecyclePolicies/{id}/report", permLifecyclePolicyRead, getLifecyclePolicyReport),
		r(get, "identityGovernance/lifecycleWorkflows/lifecyclePolicies/{id}/report/subjects", permLifecyclePolicyRead, listLifecyclePolicySubjects),

		r(get, "roleManagement/directory/roleDefinitions", permRoleRead, listRoleDefinitions),
		r(get, "roleManagement/directory/roleDefinitions/{id}", permRoleRead, getRoleDefinition),
		r(get, "roleManagement/directory/roleAssignments", permRoleRead, listRoleAssignments),
		r(post, "roleManagement/directory/roleAssignments", permRoleWrite, postRoleAssignment),
		r(get, "roleManagement/directory/roleAssignments/{id}", permRoleRead, getRoleAssignment),
		r(del, "roleManagement/directory/roleAssignments/{id}", permRoleWrite, deleteRoleAssignment),
	}
}
