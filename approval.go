package foyer

import (
	"slices"
	"strings"
	"time"
)

// DefaultStageTimeout is how long an approval stage waits for a decision
// when its policy does not say: entitlement management's default too.
const DefaultStageTimeout = 14 * 24 * time.Hour

// MaxStages is the most approval stages a policy may have.
const MaxStages = 3

// TimeoutAction says what happens when an approval stage's time runs out.
type TimeoutAction string

// What a stage does when nobody decided in time.
const (
	TimeoutDeny     TimeoutAction = "deny"     // the request is rejected
	TimeoutEscalate TimeoutAction = "escalate" // the stage's alternates decide, with the same time again; then it is rejected
)

// Approvers says who may decide at a stage. Anyone matching one of the
// fields may.
type Approvers struct {
	Groups  []string // object ids of groups whose members decide
	Roles   []string // app roles (values) of foyer's own app registration
	Users   []string // object ids or UPNs
	Sponsor bool     // the request's sponsor (the employee who asked, or the one the requester named)
}

// Empty reports whether nobody is named.
func (a Approvers) Empty() bool {
	return len(a.Groups) == 0 && len(a.Roles) == 0 && len(a.Users) == 0 && !a.Sponsor
}

// Stage is one step of a manual approval.
type Stage struct {
	Approvers  Approvers
	Timeout    time.Duration // 0: DefaultStageTimeout
	OnTimeout  TimeoutAction // "" means deny
	Alternates Approvers     // who decides after an escalation
}

// Deciders returns who decides the stage: its approvers, or its
// alternates once it was escalated.
func (s Stage) Deciders(escalated bool) Approvers {
	if escalated {
		return s.Alternates
	}
	return s.Approvers
}

// Due returns when a stage entered at t times out.
func (s Stage) Due(t time.Time) time.Time {
	d := s.Timeout
	if d <= 0 {
		d = DefaultStageTimeout
	}
	return t.Add(d)
}

// Policy is how a profile's requests from the request page and the API are
// approved, and whether its recorded CSV runs need a second admin.
type Policy struct {
	// AutoDomains are the domains whose requests are approved without
	// anyone. A request from another domain goes through Stages; with no
	// stages it is rejected.
	AutoDomains []string
	Stages      []Stage // at most MaxStages
	// RunApprovers, when not empty, must approve a recorded CSV run of
	// the profile before it is applied, and the admin who recorded it may
	// not (four eyes).
	RunApprovers Approvers
}

// Automatic reports whether a request for a is approved without anyone.
func (p Policy) Automatic(a Address) bool { return a.InDomains(p.AutoDomains) }

// Principal is a person or application acting on foyer: an approver signed
// in through Entra, an application with a token, an API key.
type Principal struct {
	ID     string // the object id (people and apps), or "apikey:NAME"
	Name   string // for people: display name
	UPN    string // people: the sign-in name
	Email  Address
	Groups []string // object ids of the groups it is a member of, as the token says
	Roles  []string // app roles it holds on foyer's app registration
	App    bool     // an application, not a person
}

// String names the principal for the audit log.
func (p Principal) String() string {
	switch {
	case p.UPN != "":
		return p.UPN
	case p.Name != "":
		return p.Name + " (" + p.ID + ")"
	default:
		return p.ID
	}
}

// Guest reports whether the principal is a guest of the tenant, not one
// of its own people: a B2B guest's user principal name carries #EXT#
// (name_domain#EXT#@tenant). Guests may approve when a policy names them,
// but they never ask for other guests as an employee does.
func (p Principal) Guest() bool { return strings.Contains(strings.ToUpper(p.UPN), "#EXT#") }

// Is reports whether ref (an object id or UPN, compared without case) names p.
func (p Principal) Is(ref string) bool {
	ref = strings.TrimSpace(ref)
	return ref != "" && (strings.EqualFold(ref, p.ID) || (p.UPN != "" && strings.EqualFold(ref, p.UPN)))
}

// Matches reports whether p is one of a.
func (a Approvers) Matches(p Principal, sponsor string) bool {
	for _, g := range a.Groups {
		if slices.ContainsFunc(p.Groups, func(h string) bool { return strings.EqualFold(g, h) }) {
			return true
		}
	}
	for _, r := range a.Roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	if slices.ContainsFunc(a.Users, p.Is) {
		return true
	}
	return a.Sponsor && p.Is(sponsor)
}

// Details is what the request page and the API add to a request: who the
// person is, why they ask, and where the approval stands.
type Details struct {
	Company       string            `json:"company,omitempty"`
	Justification string            `json:"justification,omitempty"`
	Answers       map[string]string `json:"answers,omitempty"`      // the profile's own questions, by question id
	Sponsor       string            `json:"sponsor,omitempty"`      // object id or UPN of the employee who vouches
	RequestedBy   string            `json:"requested_by,omitempty"` // the principal who asked, when not the person
	Language      string            `json:"language,omitempty"`     // the requester's language, for their emails
}

// Decision is an approver's answer at a stage.
type Decision struct {
	RequestID     string
	Stage         int    // 1-based
	Approver      string // Principal.ID
	ApproverName  string // Principal.String()
	Approve       bool
	Justification string
	At            time.Time
}

// CheckDecision says whether who may give d on r, a request at stage
// (1-based) of pol, escalated or not: r must be pending approval, who must
// be one of the stage's approvers (its alternates once escalated), not the
// person asking, nor the one who asked for them, and a denial needs a
// justification. Errors are *Error: EFORBIDDEN or EINVALID or ECONFLICT.
func CheckDecision(r *Request, pol Policy, stage int, escalated bool, who Principal, d Decision) error {
	if r.State != StatePendingApproval {
		return Errorf(ECONFLICT, "request %s is %s, not pending approval", r.ID, r.State)
	}
	if stage < 1 || stage > len(pol.Stages) {
		return Errorf(ECONFLICT, "request %s has no approval stage %d", r.ID, stage)
	}
	if who.Email != "" && who.Email.Key() == r.Email.Key() {
		return Errorf(EFORBIDDEN, "nobody approves their own request")
	}
	if r.Details.RequestedBy != "" && who.Is(r.Details.RequestedBy) {
		return Errorf(EFORBIDDEN, "nobody approves a request they made")
	}
	approvers := pol.Stages[stage-1].Deciders(escalated)
	if !approvers.Matches(who, r.Details.Sponsor) {
		return Errorf(EFORBIDDEN, "%s is not an approver of stage %d of request %s", who, stage, r.ID)
	}
	if !d.Approve && strings.TrimSpace(d.Justification) == "" {
		return Errorf(EINVALID, "say why the request is denied")
	}
	return nil
}
