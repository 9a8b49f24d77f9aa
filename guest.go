package foyer

import "time"

// Redemption states of a guest, as Entra reports them in externalUserState.
const (
	PendingAcceptance = "PendingAcceptance"
	Accepted          = "Accepted"
)

// Guest is the directory's user object for an outside person and what foyer
// knows of it.
type Guest struct {
	UserID      string // the object id
	Email       Address
	UPN         string
	DisplayName string
	Redemption  string // PendingAcceptance or Accepted
	Enabled     bool
	InvitedAt   time.Time
	LastSignIn  time.Time // zero if never or unknown
	Profiles    []string  // the profiles it holds through foyer
}
