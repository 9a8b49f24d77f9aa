package sim

// The replication model. Entra is eventually consistent: an object created
// on one replica is not at once known to the others, so writes that
// reference a new object fail for a while, with the errors each API gives
// for an object that does not exist:
//
//   - group members/$ref and members@odata.bind: 404 Request_ResourceNotFound
//     "Resource '{id}' does not exist or one of its queried reference-property
//     objects are not present." (docs/graph-reference.md §3);
//   - appRoleAssignedTo: 400 Request_BadRequest "Not a valid reference
//     update." (microsoftgraph/msgraph-bicep-types#193, a managed identity
//     assigned an app role right after creation);
//   - assignLicense, PATCH, DELETE and appRoleAssignments of a new user, and
//     directory role assignments naming it: 404 Request_ResourceNotFound;
//   - ARM role assignments: 400 PrincipalNotFound, unless the request sets
//     principalType, which makes ARM skip the lookup (AD
//     role-based-access-control/role-assignments-rest.md; arm.go).
//
// List queries do not return a new object until it is replicated either
// ("New/changed users may not appear in list queries immediately",
// GD api/user-list.md). A GET by id or userPrincipalName finds it at once:
// the sim gives the caller read-your-writes on direct reads, which is what
// live tenants mostly show and what the terraform azuread provider's
// consistency helper copes with by polling; writes are where Graph's
// documented failures are.
//
// Each object records when it becomes visible (objMeta.visibleAt: creation
// time plus the delay in force then), read against the sim clock, so tests
// advance the clock instead of sleeping.

// visible reports whether writes may reference m yet.
func (c *call) visible(m *objMeta) bool { return !c.now.Before(m.visibleAt) }

// listable reports whether list queries return m yet.
func (c *call) listable(m *objMeta) bool { return !c.now.Before(m.visibleAt) }
