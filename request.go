package foyer

import (
	"slices"
	"time"
)

// State is where a request is in its life. The ledger stores it as this
// string.
type State string

// The states of a request, in the order a request usually passes them.
const (
	StateReceived        State = "received"         // from a CSV row, the portal, the API or an event
	StateVerified        State = "verified"         // the requester proved they own the address (portal)
	StatePendingApproval State = "pending_approval" // waiting for an approver
	StateApproved        State = "approved"         // may be provisioned
	StateRejected        State = "rejected"         // an approver said no; final
	StateProvisioning    State = "provisioning"     // the invitation and grants are being written
	StateInvited         State = "invited"          // the guest exists and has not redeemed (PendingAcceptance)
	StateActive          State = "active"           // the guest redeemed (Accepted)
	StateExpired         State = "expired"          // access ended by time; grants removed
	StateRevoked         State = "revoked"          // access taken back by an admin; grants removed
	StateRemoved         State = "removed"          // the guest object was deleted
	StateFailed          State = "failed"           // see the request's failure; may be retried
)

// transitions lists where each state may go next. A failed request may be
// retried from the step that failed, so it may go back to provisioning.
var transitions = map[State][]State{
	StateReceived:        {StateVerified, StatePendingApproval, StateApproved, StateRejected, StateFailed},
	StateVerified:        {StatePendingApproval, StateApproved, StateRejected, StateFailed},
	StatePendingApproval: {StateApproved, StateRejected, StateFailed},
	StateApproved:        {StateProvisioning, StateFailed},
	StateProvisioning:    {StateInvited, StateActive, StateFailed},
	StateInvited:         {StateActive, StateProvisioning, StateExpired, StateRevoked, StateRemoved, StateFailed},
	StateActive:          {StateProvisioning, StateExpired, StateRevoked, StateRemoved, StateFailed},
	StateExpired:         {StateProvisioning, StateRemoved},
	StateRevoked:         {StateProvisioning, StateRemoved},
	StateFailed:          {StateProvisioning, StateRejected, StateRevoked, StateRemoved},
	StateRejected:        nil,
	StateRemoved:         {StateProvisioning},
}

// Valid reports whether s is one of the states above.
func (s State) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Final reports whether nothing more will happen to a request in s without a
// new decision (rejected, removed).
func (s State) Final() bool { return s == StateRejected || s == StateRemoved }

// CanMove reports whether a request may go from s to next.
func (s State) CanMove(next State) bool { return slices.Contains(transitions[s], next) }

// CheckMove returns an *Error with code ECONFLICT when a request may not go
// from s to next.
func (s State) CheckMove(next State) error {
	if !next.Valid() {
		return Errorf(EINVALID, "unknown request state %q", next)
	}
	if !s.CanMove(next) {
		return Errorf(ECONFLICT, "a request may not go from %s to %s", s, next)
	}
	return nil
}

// Origin says where a request came from.
type Origin string

// Origins of requests.
const (
	OriginCSV    Origin = "csv"
	OriginPortal Origin = "portal"
	OriginAPI    Origin = "api"
	OriginEvent  Origin = "event"
)

// Request is "this person should hold this profile": its state and what is
// known of its progress. The ledger keeps its history.
type Request struct {
	ID          string
	RunID       string // the run that created it, if any
	Origin      Origin
	Line        int // the CSV line, for requests from a file
	Email       Address
	DisplayName string
	Profile     string
	State       State
	UserID      string // the guest's object id once known
	RedeemURL   string
	Failure     *Failure // set while State is failed
	Details     Details  // from the request page or the API
	// Approval: the 1-based stage a pending request waits at, when that
	// stage times out, and whether it was escalated to the alternates.
	Stage     int
	StageDue  time.Time
	Escalated bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Check reports what the ledger needs of a request it stores: an id, a
// profile, an address, a known state, and a failure when the state is
// failed. Errors are *Error with code EINVALID.
func (r *Request) Check() error {
	switch {
	case r == nil:
		return Errorf(EINVALID, "request is missing")
	case r.ID == "":
		return Errorf(EINVALID, "request has no id")
	case r.Profile == "":
		return Errorf(EINVALID, "request %s has no profile", r.ID)
	case r.Email == "":
		return Errorf(EINVALID, "request %s has no address", r.ID)
	case !r.State.Valid():
		return Errorf(EINVALID, "request %s has unknown state %q", r.ID, r.State)
	case r.State == StateFailed && r.Failure == nil:
		return Errorf(EINVALID, "request %s is failed without a failure", r.ID)
	}
	return nil
}

// Failure says why a request failed and whether trying again may help.
type Failure struct {
	Code      string // one of the E* codes
	Message   string // safe to show a user
	Retryable bool
	Step      string // the step that failed
}
