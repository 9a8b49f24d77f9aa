package sim

import "net/http"

// The directory object quota. Entra counts every directory object of a
// tenant (users, guests too, groups, contacts, applications, service
// principals) against a quota of 50,000, or 300,000 once the tenant has a
// verified domain of its own, raised by Microsoft support on request (ED
// includes/entra-service-limits-include.md, "Resources"). Graph beta shows
// it as the organization's directorySizeQuota {used, total} (GD
// api-reference/beta/resources/directorysizequota.md); v1.0 does not have
// the property. A write that would create an object past the quota is
// refused with 403 Directory_QuotaExceeded (docs/graph-reference.md §14).
//
// The sim counts users, groups, service principals and mail contacts; it
// keeps no deleted objects, which in Entra count until purged. The total
// follows the domain rule unless Settings.ObjectQuota sets it. Only
// invitations are refused past it: they are the only objects foyer creates
// in numbers.

const (
	quotaDefault  = 50_000
	quotaVerified = 300_000
)

// objects counts the tenant's directory objects. t.mu is held.
func (t *tenant) objects() int {
	return t.users.len() + t.groups.len() + t.sps.len() + t.contacts.len()
}

// quota returns the tenant's objects and its quota. t.mu is held.
func (s *Server) quota(t *tenant) (used, total int) {
	if n := s.objectQuota.Load(); n > 0 {
		return t.objects(), int(n)
	}
	total = quotaDefault
	for _, d := range t.domains {
		if d.IsVerified && !d.IsInitial {
			total = quotaVerified
		}
	}
	return t.objects(), total
}

// quotaAllows refuses a new object once the tenant holds its quota.
// c.t.mu is held.
func (c *call) quotaAllows() *apiError {
	if used, total := c.s.quota(c.t); used >= total {
		// Wording from Microsoft Q&A 989366 (docs/graph-reference.md §14).
		return newError(http.StatusForbidden, "Directory_QuotaExceeded",
			"The directory object quota limit for the Tenant has been exceeded. Please ask your administrator to increase the quota limit or delete objects to reduce the used quota.")
	}
	return nil
}
