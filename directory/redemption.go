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
