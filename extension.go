package foyer

import (
	"strings"
	"time"
)

// DefaultExtensionMax is how far ahead an extension may move the end of a
// profile that sets neither extension_max nor expiry (an expires_on
// profile only).
const DefaultExtensionMax = 90 * 24 * time.Hour

// ExtensionState is where an extension of a guest's access is. The
// ledger stores it as this string.
type ExtensionState string

// The states of an extension. Only a pending one moves; the others are
// final.
const (
	ExtensionPending  ExtensionState = "pending_approval" // waiting for an approver
	ExtensionApproved ExtensionState = "approved"         // the end moved to Until
	ExtensionRejected ExtensionState = "rejected"         // an approver said no, or nobody decided in time
	ExtensionLapsed   ExtensionState = "lapsed"           // access ended (or was taken back) before anyone decided
)

// Valid reports whether s is one of the states above.
func (s ExtensionState) Valid() bool {
	switch s {
	case ExtensionPending, ExtensionApproved, ExtensionRejected, ExtensionLapsed:
		return true
	}
	return false
}

// Extension is someone asking for more time for a guest's access: the
// guest through the link of the expiry notice, a sponsor on the approver
// UI, an application through the API. The profile's approval policy
// decides it as it decides a request; an approved one moves the end of
// access to Until.
type Extension struct {
	ID            string
	RequestID     string
	Until         time.Time // the end asked for
	Justification string
	// AskedBy names who asked: Principal.String(), or "guest <address>"
	// for the guest through the link.
	AskedBy string
	State   ExtensionState
	// Approval, as on a request: the 1-based stage a pending extension
	// waits at, when that stage times out, and whether it was escalated.
	Stage     int
	StageDue  time.Time
	Escalated bool
	DecidedBy string // who approved or denied it: Principal.String(), "policy", or the engine for a time limit
	Note      string // why it was denied, lapsed or approved
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GuestAsker is the AskedBy of an extension the guest asked for through
// its link.
func GuestAsker(a Address) string { return "guest " + string(a) }

// Check reports what the ledger needs of an extension it stores: an id,
// its request, an end, and a known state. Errors are *Error with code
// EINVALID.
func (x *Extension) Check() error {
	switch {
	case x == nil:
		return Errorf(EINVALID, "extension is missing")
	case x.ID == "":
		return Errorf(EINVALID, "extension has no id")
	case x.RequestID == "":
		return Errorf(EINVALID, "extension %s names no request", x.ID)
	case x.Until.IsZero():
		return Errorf(EINVALID, "extension %s asks for no end", x.ID)
	case !x.State.Valid():
		return Errorf(EINVALID, "extension %s has unknown state %q", x.ID, x.State)
	case x.Stage < 0 || x.Stage > MaxStages:
		return Errorf(EINVALID, "extension %s is at stage %d, not 0 to %d", x.ID, x.Stage, MaxStages)
	}
	return nil
}

// ExtensionMaxOf returns how far ahead of now an extension of p's access
// may end: its extension_max, else its expiry, else DefaultExtensionMax.
func (p *Profile) ExtensionMaxOf() time.Duration {
	switch {
	case p.ExtensionMax > 0:
		return p.ExtensionMax
	case p.Expiry > 0:
		return p.Expiry
	default:
		return DefaultExtensionMax
	}
}

// CanDecide reports whether pol decides anything for an address: it is
// one of the automatic domains, or the policy has stages. A profile whose
// policy cannot decide is extended by an administrator only.
func (p Policy) CanDecide(a Address) bool { return p.Automatic(a) || len(p.Stages) > 0 }

// CheckExtensionDecision says whether who may decide x, an extension of
// r's access, at the stage it waits at under pol, by CheckDecision's
// rules: x must be pending, who must be one of the stage's approvers (its
// alternates once escalated), neither the guest nor whoever asked for the
// extension, and a denial needs a justification. Errors are *Error:
// EFORBIDDEN or EINVALID or ECONFLICT.
func CheckExtensionDecision(r *Request, x *Extension, pol Policy, who Principal, approve bool, justification string) error {
	if x.State != ExtensionPending {
		return Errorf(ECONFLICT, "extension %s is %s, not pending approval", x.ID, x.State)
	}
	if x.Stage < 1 || x.Stage > len(pol.Stages) {
		return Errorf(ECONFLICT, "extension %s has no approval stage %d", x.ID, x.Stage)
	}
	if (who.Email != "" && who.Email.Key() == r.Email.Key()) || (who.UPN != "" && strings.EqualFold(who.UPN, string(r.Email))) {
		return Errorf(EFORBIDDEN, "nobody approves the extension of their own access")
	}
	if x.AskedBy != "" && (x.AskedBy == who.String() || who.Is(x.AskedBy)) {
		return Errorf(EFORBIDDEN, "nobody approves an extension they asked for")
	}
	approvers := pol.Stages[x.Stage-1].Deciders(x.Escalated)
	if !approvers.Matches(who, r.Details.Sponsor) {
		return Errorf(EFORBIDDEN, "%s is not an approver of stage %d of extension %s", who, x.Stage, x.ID)
	}
	if !approve && strings.TrimSpace(justification) == "" {
		return Errorf(EINVALID, "say why the extension is denied")
	}
	return nil
}
