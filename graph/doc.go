// Package graph implements directory.Directory on Microsoft Graph v1.0, with
// Azure Resource Manager for Azure role assignments and the Exchange Online
// admin API for guests' address-book visibility and mail contacts. It is
// built on azcore's pipeline and azidentity's credentials (no Graph SDK),
// and paces itself against the published identity-and-access throttling
// limits.
//
// What lives here: credentials and clouds (credential.go, cloud.go), the
// request pipeline with its pacing, retry and logging policies (client.go,
// pacer.go, retry.go, logpolicy.go), Graph's error format mapped to
// directory's typed errors (errors.go), OData escaping (odata.go), and one
// file per task (find.go, invite.go, groups.go, grants.go, resolve.go, ...).
// docs/graph.md explains the pacing algorithm and the choices made.
//
// Only cmd/foyer/cli (which wires backends) and tests import this package.
package graph
