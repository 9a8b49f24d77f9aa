package directory

import (
	"context"
	"time"
)

// Redemption is a guest's redemption state as the directory reports it.
type Redemption struct {
	UserID    string
	State     string    // externalUserState: PendingAcceptance, Accepted, or "" (not invited)
	ChangedAt time.Time // externalUserStateChangeDateTime; zero when the directory gives none
}

// Redemptions reads the redemption state of guests foyer knows, by object
// id, so that a sync reads only the guests it must (those foyer still
// takes for pending), not every guest of the tenant.
type Redemptions interface {
	// Redemptions returns the state of each user of ids the directory
	// has, keyed by the id as given. An id missing from the answer is a
	// user the directory does not show: deleted, or created so recently
	// that list queries do not show it yet; a caller must not take its
	// absence for either.
	Redemptions(ctx context.Context, ids []string) (map[string]Redemption, error)
}

// RedemptionChange is a user's redemption state as a delta round reports
// it: the user changed since the token given, or was deleted (Removed).
type RedemptionChange struct {
	UserID         string
	State          string    // externalUserState; "" for a member, or a removed user
	StateChangedAt time.Time // externalUserStateChangeDateTime; zero when none
	Removed        bool      // the user was deleted (Graph's @removed, reason changed or deleted)
}

// RedemptionDelta reads only the users that changed since the last
// round, with Graph's delta query on users: a sync costs a page or two
// whatever the number of guests, and it also sees what happened outside
// foyer (a redemption reset in the portal, a guest deleted).
type RedemptionDelta interface {
	// RedemptionChanges returns the users changed since token and the
	// token of the next round. An empty token starts a full round: every
	// user of the tenant, once. A token the directory no longer honours
	// (Graph keeps them seven days) is an error of kind ErrResync: start
	// again with "". A user may appear more than once; the last wins.
	RedemptionChanges(ctx context.Context, token string) (changes []RedemptionChange, next string, err error)
}
