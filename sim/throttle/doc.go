// Package throttle is the emulated tenant's model of Microsoft Graph's
// published identity-and-access throttling, and of the "suspicious activity"
// block on invitations.
//
// The Limiter admits or refuses each Graph request the way the published
// limits say, and hands back a Decision carrying what the sim server needs to
// answer like Graph: the status, Retry-After, and the x-ms-resource-unit,
// x-ms-throttle-limit-percentage, x-ms-throttle-scope and
// x-ms-throttle-information headers. The InviteCap refuses invitations above
// a per-tenant rate with the 403 that Microsoft answers when it blocks a
// directory's invitations.
//
// Sources (microsoftgraph/microsoft-graph-docs-contrib):
//   - includes/throttling-identity-and-access.md, included by
//     concepts/throttling-limits.md ("Identity and access service limits"):
//     the quotas, the request cost table and the headers;
//   - concepts/throttling.md: 429, Retry-After, and the advice to wait it out.
//
// What is modelled and what is not is written beside each part (Config,
// Cost, Limiter, InviteCap) and summarised in docs/sim-models.md.
//
// Only package sim and its tests import this package; it imports the
// standard library only.
package throttle
