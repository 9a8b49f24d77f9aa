package sim

import (
	"slices"
	"strings"

	"github.com/foyer-dev/foyer/sim/login"
)

// idTokenClaims answers, for the identity platform, the groups and app
// roles an id token of app says userOID has (login.Options.UserClaims).
//
// Groups follow the registration's groupMembershipClaims (entra-docs
// docs/identity-platform/optional-claims.md, "Configure groups optional
// claims"; reference-app-manifest.md, groupMembershipClaims): SecurityGroup
// lists the security groups the user is a member of, directly or through
// nested groups; All adds Microsoft 365 groups and distribution lists;
// ApplicationGroup lists only the groups assigned to the app (an
// appRoleAssignment of the group on its service principal) that the user
// is a member of. Directory roles (wids) are not modelled.
//
// Roles are the values of the app roles assigned on the app's service
// principal to the user, or to a group the user is a direct member of:
// "group membership is not transitive for app role assignments"
// (entra-docs docs/identity-platform/howto-add-app-roles-in-apps.md). The
// default access role (all zeros) has no value and adds none.
func (s *Server) idTokenClaims(app login.App, userOID string) (groups, roles []string) {
	t := s.tenant(app.TenantID)
	if t == nil {
		return nil, nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	member := t.memberships(userOID)
	direct := make(map[string]bool)
	for _, g := range t.groups.list {
		if g.hasMember(userOID) {
			direct[g.id] = true
		}
	}
	sp, ok := t.sps.get(app.ObjectID)
	assigned := make(map[string]bool) // groups assigned to the app
	if ok {
		for _, a := range t.appAssigns.list {
			if !strings.EqualFold(a.ResourceID, sp.id) {
				continue
			}
			if strings.EqualFold(a.PrincipalType, "Group") {
				assigned[strings.ToLower(a.PrincipalID)] = true
			}
			if !strings.EqualFold(a.PrincipalID, userOID) && !direct[strings.ToLower(a.PrincipalID)] {
				continue
			}
			if r, ok := sp.role(a.AppRoleID); ok && r.Value != "" {
				roles = append(roles, r.Value)
			}
		}
	}
	for _, g := range member {
		switch app.GroupMembershipClaims {
		case login.GroupsSecurityGroup:
			if !g.SecurityEnabled {
				continue
			}
		case login.GroupsApplicationGroup:
			if !assigned[g.id] {
				continue
			}
		case login.GroupsAll:
		default:
			continue
		}
		groups = append(groups, g.id)
	}
	slices.Sort(roles)
	return groups, slices.Compact(roles)
}

// memberships returns the groups id is a member of, directly or through
// groups that are members of others, in the tenant's order; the caller
// holds t.mu.
func (t *tenant) memberships(id string) []*group {
	in := map[string]bool{strings.ToLower(id): true}
	for changed := true; changed; {
		changed = false
		for _, g := range t.groups.list {
			if in[g.id] {
				continue
			}
			for _, m := range g.members {
				if in[strings.ToLower(m.id)] {
					in[g.id], changed = true, true
					break
				}
			}
		}
	}
	var out []*group
	for _, g := range t.groups.list {
		if in[g.id] {
			out = append(out, g)
		}
	}
	return out
}
