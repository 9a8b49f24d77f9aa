package foyer

import "time"

// Submission is someone asking for a profile for a person: on the request
// page, signed in as an employee, or through the API.
type Submission struct {
	Profile     string
	Email       string // as typed; it is parsed on submission
	DisplayName string
	Details     Details
	Origin      Origin     // OriginPortal or OriginAPI
	By          *Principal // nil: an anonymous person on the request page, who must prove the address
	// IdempotencyKey is the API call's Idempotency-Key header ("" none) and
	// BodyHash the hex SHA-256 of its canonical body: the same key with the
	// same body answers the same request, with another body it is refused.
	IdempotencyKey string
	BodyHash       string
}

// Receipt is the answer to a submission.
type Receipt struct {
	Request *Request
	Token   string // a new link token for the requester (anonymous submissions); "" otherwise
	Again   bool   // an open request for the same person and profile, or the same idempotency key, already existed; it is returned
}

// Transition is one entry of a request's history.
type Transition struct {
	From State // "" for the creation
	To   State
	At   time.Time
	Note string
}

// RequestView is a request with its history and decisions, as the request
// page's status link, the approver UI and the API show it.
type RequestView struct {
	Request   *Request
	History   []Transition
	Decisions []Decision
	Verified  bool // the address was proved, or did not need proving
	Expired   bool // the link's time to prove the address passed unproved
	// AccessEnds is when the guest's access ends, while the request is
	// invited or active and its profile's access ends; zero otherwise.
	AccessEnds time.Time
	// Extension is the latest extension asked for, if any.
	Extension *Extension
	// CanExtend says that more time may be asked for now: access ends,
	// the profile's policy can decide for the guest, and no extension is
	// pending.
	CanExtend bool
}
