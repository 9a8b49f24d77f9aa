package foyer

import "time"

// Action is what a plan will do with a row.
type Action string

// Actions of a plan. Each row gets exactly one.
const (
	ActionInvite    Action = "invite"    // nobody has this address: invite and grant
	ActionExists    Action = "exists"    // already a guest: make sure the grants are there
	ActionSkip      Action = "skip"      // not for foyer: internal address or denied domain
	ActionDuplicate Action = "duplicate" // the same address appeared earlier in the input
	ActionInvalid   Action = "invalid"   // the row cannot be read as a person
)

// Actions lists every action in the order summaries show them.
func Actions() []Action {
	return []Action{ActionInvite, ActionExists, ActionSkip, ActionDuplicate, ActionInvalid}
}

// Result is what applying a row did.
type Result string

// Results of applying a row.
const (
	ResultInvited   Result = "invited"   // a new invitation was sent (or created without email)
	ResultGranted   Result = "granted"   // the guest existed; missing grants were added
	ResultUnchanged Result = "unchanged" // the guest existed with every grant
	ResultRevoked   Result = "revoked"   // grants of a profile were taken back
	ResultSkipped   Result = "skipped"   // the plan said skip, duplicate or invalid
	ResultFailed    Result = "failed"    // see the row's error
)

// Results lists every result in the order summaries show them.
func Results() []Result {
	return []Result{ResultInvited, ResultGranted, ResultUnchanged, ResultRevoked, ResultSkipped, ResultFailed}
}

// Row is one input row with the plan's verdict and, after apply, its result.
type Row struct {
	Line        int // 1-based line in the input; the header is line 1 of a CSV
	Email       Address
	Raw         string // the address as written, when it could not be parsed
	DisplayName string
	GivenName   string
	Surname     string
	Company     string
	Profile     string // the row's own profile column, if the input has one
	RedirectURL string // the row's own redirect URL, overriding the profile's
	Message     string // the row's own invitation message, overriding the profile's
	SendEmail   string // "true" or "false" from the input, "" to follow the profile
	Action      Action
	Reason      string   // why this action, for people
	UserID      string   // the existing or new guest's id
	GuestState  string   // the existing guest's redemption state (PendingAcceptance or Accepted)
	Grants      []string // grants to add (plan) or added (apply), by key (Grant.Key); views show their names
	Result      Result
	Error       string
}

// Summary counts rows by action and, after apply, by result.
type Summary struct {
	Rows    int
	Actions map[Action]int
	Results map[Result]int
}

// Count adds r to the summary.
func (s *Summary) Count(r Row) { s.Add(r.Action, r.Result, 1) }

// Add adds n rows with action a and result r ("" for none yet).
func (s *Summary) Add(a Action, r Result, n int) {
	if s.Actions == nil {
		s.Actions = map[Action]int{}
		s.Results = map[Result]int{}
	}
	s.Rows += n
	s.Actions[a] += n
	if r != "" {
		s.Results[r] += n
	}
}

// RunKind says what a run did.
type RunKind string

// Kinds of runs.
const (
	RunApply  RunKind = "apply"
	RunRevoke RunKind = "revoke"
)

// Run is one bulk change: an apply of a file, a revoke. Its plan is
// recorded first (row by row, then sealed), approved (or discarded), then
// applied and finished.
type Run struct {
	ID      string
	Kind    RunKind
	Profile string
	// Tenant is the name (in the configuration) of the tenant the run acts
	// on: its profile's when it was recorded. Empty for runs recorded
	// before runs named their tenant: they act on their profile's tenant.
	Tenant      string
	Source      string // where the rows came from: a path, a URL (without its query), a blob
	Digest      string // SHA-256 of the input, to recognise the same file run twice
	Saved       bool   // a plan saved to be applied later (foyer plan --save), not by the command that made it
	RecordedBy  string // who recorded the plan: the CLI's user, an approver, "portal"
	StartedAt   time.Time
	SealedAt    time.Time // when every row was recorded; zero while they are being recorded
	ApprovedAt  time.Time // when the plan was approved; zero until then
	ApprovedBy  string    // who approved it
	DiscardedAt time.Time // when the plan was discarded unapplied; zero if it was not
	FinishedAt  time.Time // zero while running
	Summary     Summary
	// GrantNames gives the name people read for each grant key the run's
	// rows hold, as it was when the run was recorded.
	GrantNames map[string]string
}

// RunState is where a run is in its life.
type RunState string

// Run states.
const (
	RunRecording RunState = "recording" // its plan is being recorded (or the recording was cut off)
	RunPlanned   RunState = "planned"   // its plan is recorded and awaits approval
	RunApplying  RunState = "applying"  // approved, rows being worked (or interrupted: apply resumes it)
	RunFinished  RunState = "finished"  // every row has its result
	RunDiscarded RunState = "discarded" // its plan was not approved and never will be applied
)

// State says where the run is.
func (r *Run) State() RunState {
	switch {
	case !r.FinishedAt.IsZero():
		return RunFinished
	case !r.DiscardedAt.IsZero():
		return RunDiscarded
	case !r.ApprovedAt.IsZero():
		return RunApplying
	case !r.SealedAt.IsZero():
		return RunPlanned
	}
	return RunRecording
}
