package directory

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
	// property (one CheckExcludable accepts) equals value, for a sweep's
	// exclusions by attribute.
	GuestsWith(ctx context.Context, property, value string) ([]string, error)

	// Sponsors returns the addresses of the user's sponsors, once each: a
	// user's mail; a group's mail when it is mail-enabled, otherwise the
	// mail of its direct members that are users (a bounded number; nested
	// groups are not followed). Users without mail are left out.
	Sponsors(ctx context.Context, userID string) ([]foyer.Address, error)

	// GuestLifecyclePolicies returns the tenant's Microsoft Entra guest
	// lifecycle policies (Lifecycle Workflows), enabled or not, in the
	// order the service lists them; policies for other kinds of subject
	// (agent identities) are left out. A tenant without any is an empty
	// list. A token without the permission to read them is an *Error of
	// kind ErrForbidden.
	GuestLifecyclePolicies(ctx context.Context) ([]LifecyclePolicy, error)

	// PolicySubjects reads the latest report of guest lifecycle policy p
	// and, when it is complete and of p's version, the guests it lists,
	// sending at most budget requests (the report and each page of its
	// subjects count one). A report that is missing, incomplete or not
	// read to its end is a PolicyReport with Unread set, not an error; a
	// token without the permission is an *Error of kind ErrForbidden.
	PolicySubjects(ctx context.Context, p LifecyclePolicy, budget int) (PolicyReport, error)
}

// LifecyclePolicy is a Microsoft guest lifecycle policy as a sweep needs
// it: who it is, whether it is enabled (a disabled policy governs nobody),
// its version (versionNumber), and the @odata.type of its scope ("" when
// the scope is null: every guest).
type LifecyclePolicy struct {
	ID          string
	DisplayName string
	Enabled     bool
	Version     int
	ScopeType   string
}

// PolicyReport is what PolicySubjects read of a guest lifecycle policy's
// latest report: the guests it lists, or why they are not (all) known.
type PolicyReport struct {
	// Unread is why the subjects are not known, "" when they all are: no
	// report yet, its scope processing not complete, a report of an older
	// version of the policy, a query the service refused, or the request
	// budget spent with pages left. The sweep then takes the policy to
	// govern every guest.
	Unread   string
	Subjects []PolicySubject // when Unread is ""
	Requests int             // requests sent, counted against the budget
}

// PolicySubject is one guest a policy's report lists.
type PolicySubject struct {
	UserID string // the user's object id, lowercased
	// Relationship is the report's relationship of the policy to the
	// guest: effective, pending, inScopeButIneffective (another policy
	// governs it: EffectivePolicyID, when the report says), or a value
	// Graph adds later.
	Relationship      string
	EffectivePolicyID string
}

// The relationships of a policy to a subject that foyer tells apart
// (lifecyclePolicyRelationship).
const (
	RelationshipEffective             = "effective"
	RelationshipPending               = "pending"
	RelationshipInScopeButIneffective = "inScopeButIneffective"
)

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

// extensionProperty is a directory extension property's name:
// extension_{the owning application's appId without dashes}_{name}.
var extensionProperty = regexp.MustCompile(`^extension_[0-9a-fA-F]{32}_[A-Za-z0-9_]+$`)

// CheckExcludable says whether a sweep's exclusion by attribute may name
// property: one of ExcludableProperties, a directory extension property
// (extension_{appId without dashes}_{name}, String), or
// onPremisesExtensionAttributes/extensionAttribute1 to 15. The error says
// what is wrong with the name.
func CheckExcludable(property string) error {
	const onPrem = "onPremisesExtensionAttributes/"
	switch {
	case slices.Contains(ExcludableProperties, property):
		return nil
	case strings.HasPrefix(strings.ToLower(property), "extension_"):
		if !extensionProperty.MatchString(property) {
			return fmt.Errorf("%q is not a directory extension property name: extension_, the owning application's appId "+
				"without dashes (32 hexadecimal digits), _, then the property's name (letters, digits, _)", property)
		}
		return nil
	case strings.HasPrefix(property, onPrem):
		n, err := strconv.Atoi(strings.TrimPrefix(property[len(onPrem):], "extensionAttribute"))
		if !strings.HasPrefix(property[len(onPrem):], "extensionAttribute") || err != nil || n < 1 || n > 15 ||
			property[len(onPrem)+len("extensionAttribute"):] != strconv.Itoa(n) {
			return fmt.Errorf("%q: the on-premises extension attributes are %sextensionAttribute1 to %sextensionAttribute15", property, onPrem, onPrem)
		}
		return nil
	}
	return fmt.Errorf("%q is not a property a sweep excludes by (%s, extension_{appId}_{name}, or %sextensionAttribute1 to 15)",
		property, strings.Join(ExcludableProperties, ", "), onPrem)
}
