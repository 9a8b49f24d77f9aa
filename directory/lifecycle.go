package directory

import (
	"context"
	"time"

	"github.com/foyer-dev/foyer"
)

// Lifecycle is what a sweep needs besides Directory: read one user's
// account, disable it, delete it, and find whom to tell. Writes pass the
// Gate of ctx (see WithGate), like every other write.
type Lifecycle interface {
	// Account reads one user by object id: whether it exists, whether its
	// account is enabled, and its latest sign-in. A user that is gone is
	// (Account{}, false, nil), not an error.
	Account(ctx context.Context, userID string) (Account, bool, error)

	// DisableUser sets the user's accountEnabled to false (a user already
	// disabled is success). It returns the service's request id. A user
	// that is gone is an *Error of kind ErrNotFound.
	DisableUser(ctx context.Context, userID string) (requestID string, err error)

	// DeleteUser deletes the user. A user already gone is success, with
	// gone true: the delete happened earlier (an answer that was lost).
	DeleteUser(ctx context.Context, userID string) (requestID string, gone bool, err error)

	// GuestsWith returns the object ids (lowercased) of the guests whose
	// property (one of ExcludableProperties) equals value, for a sweep's
	// exclusions by attribute.
	GuestsWith(ctx context.Context, property, value string) ([]string, error)

	// Sponsors returns the addresses of the user's sponsors that have one
	// (sponsors that are groups, or users without mail, are left out).
	Sponsors(ctx context.Context, userID string) ([]foyer.Address, error)

	// GuestLifecyclePolicies returns the tenant's Microsoft Entra guest
	// lifecycle policies (Lifecycle Workflows), enabled or not, in the
	// order the service lists them; policies for other kinds of subject
	// (agent identities) are left out. A tenant without any is an empty
	// list. A token without the permission to read them is an *Error of
	// kind ErrForbidden.
	GuestLifecyclePolicies(ctx context.Context) ([]LifecyclePolicy, error)
}

// LifecyclePolicy is a Microsoft guest lifecycle policy as a sweep needs
// it: who it is, whether it is enabled, and the @odata.type of its scope
// ("" when the scope is null: every guest).
type LifecyclePolicy struct {
	ID          string
	DisplayName string
	Enabled     bool
	ScopeType   string
}

// GoverningPolicy returns the policy a sweep treats as governing every
// guest: the first enabled one. A disabled policy governs nobody. The
// exclusions and selections of a scope (excludedGroups, excludedObjects,
// selected objects) are relationships the policy list does not carry, so
// a sweep cannot tell which guests a scoped policy leaves out: it takes
// the safe side and leaves every guest to Microsoft while any guest policy
// is enabled (docs/sweep.md).
func GoverningPolicy(ps []LifecyclePolicy) (LifecyclePolicy, bool) {
	for _, p := range ps {
		if p.Enabled {
			return p, true
		}
	}
	return LifecyclePolicy{}, false
}

// Account is one user's account as a sweep reads it right before acting.
type Account struct {
	ID      string
	Mail    string
	Enabled bool
	// LastSignIn is the latest of the user's three signInActivity times;
	// zero if it never signed in.
	LastSignIn time.Time
}

// ExcludableProperties are the user properties a sweep's exclusion by
// attribute may name: string properties Graph filters with eq (some only
// as an advanced query, which GuestsWith always makes).
var ExcludableProperties = []string{"companyName", "department", "jobTitle", "officeLocation", "employeeId", "usageLocation"}
