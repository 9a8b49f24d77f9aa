package foyer

import (
	"fmt"
	"strings"
	"time"
)

// This file holds the rules of a guest sweep: which guests a sweep would
// act on, and why. It decides only; reading the tenant and acting are
// elsewhere (docs/sweep.md).

// GuestActivity is what a sweep reads of one guest, once per sweep.
type GuestActivity struct {
	ID                string
	Mail              string
	UserPrincipalName string
	OtherMails        []string
	ExternalUserState string    // PendingAcceptance, Accepted, or ""
	StateChangedAt    time.Time // externalUserStateChangeDateTime; zero if Graph gave none
	AccountEnabled    bool
	CreatedAt         time.Time
	// SignIn is the guest's signInActivity; nil when the tenant returned
	// none for the guest (Graph's null: never signed in, or not reported).
	SignIn *SignInActivity
	// SignInSince is set when the read asked the tenant only for the
	// sign-ins at or after it: SignIn is then nil for a guest whose
	// latest sign-in, if it has one, is earlier.
	SignInSince time.Time
	// GovernedBy names the Microsoft guest lifecycle policy that governs
	// the guest ("Name (id)"); empty when none does or the sweep does not
	// look. A governed guest is left to Microsoft: skipped, whatever foyer
	// did to it before.
	GovernedBy string
}

// SignInActivity is Graph's signInActivity: the last interactive,
// non-interactive and successful sign-in; zero when Graph gave null.
type SignInActivity struct {
	LastInteractive    time.Time
	LastNonInteractive time.Time
	LastSuccessful     time.Time
}

// Latest returns the latest of the three sign-in times; zero if none.
func (s *SignInActivity) Latest() time.Time {
	if s == nil {
		return time.Time{}
	}
	t := s.LastInteractive
	for _, u := range []time.Time{s.LastNonInteractive, s.LastSuccessful} {
		if u.After(t) {
			t = u
		}
	}
	return t
}

// SweepRules say which guests are stale. A zero number of days turns its
// rule off.
type SweepRules struct {
	// NeverRedeemedDays: a guest still PendingAcceptance this many days
	// after it was created is disabled.
	NeverRedeemedDays int
	// NoSignInDays: a guest whose latest sign-in (createdDateTime when it
	// never signed in) is this many days old is disabled.
	NoSignInDays int
	// NewGuestGraceDays: a guest created fewer days ago than this is left
	// alone by NoSignInDays.
	NewGuestGraceDays int
	// Cap stops a sweep that would act on too many guests.
	Cap SweepCap
	// DeleteAfterDays: a guest foyer disabled this many days ago, still
	// disabled and still stale, is deleted; 0 never deletes.
	DeleteAfterDays int
	// NoticeDays: the guest and its sponsors are told this many days
	// before a disable and before a delete; the action waits for a sweep
	// at least this many days after the notice. 0 sends no notice.
	NoticeDays int
	// ReenabledHoldDays: a guest foyer disabled that someone enabled
	// again is left alone this many days from the sweep that first saw it
	// enabled; after that it is a guest like any other.
	ReenabledHoldDays int
}

// SweepCap is the blast-radius cap: the most guests one sweep may disable
// or delete, as a number and as a share of all guests; zero turns a bound
// off.
type SweepCap struct {
	Max      int
	MaxShare float64 // 0 to 1
}

// Validate checks the rules.
func (r SweepRules) Validate() error {
	switch {
	case r.NeverRedeemedDays < 0 || r.NoSignInDays < 0 || r.NewGuestGraceDays < 0 ||
		r.DeleteAfterDays < 0 || r.NoticeDays < 0 || r.ReenabledHoldDays < 0:
		return Errorf(EINVALID, "sweep rules: days must not be negative")
	case r.Cap.Max < 0:
		return Errorf(EINVALID, "sweep rules: cap max must not be negative")
	case r.Cap.MaxShare < 0 || r.Cap.MaxShare > 1:
		return Errorf(EINVALID, "sweep rules: cap max_share must be between 0 and 1")
	}
	return nil
}

// SweepAction is what a sweep does to a guest.
type SweepAction string

// Sweep actions. A sweep with the ledger's history (PlanSweep with a
// history) decides all of them; DecideSweep alone only none and disable.
const (
	SweepNone          SweepAction = "none"
	SweepDisable       SweepAction = "disable"
	SweepDelete        SweepAction = "delete"
	SweepNoticeDisable SweepAction = "notice_disable" // tell the guest and its sponsors of the disable to come
	SweepNoticeDelete  SweepAction = "notice_delete"  // tell them of the delete to come
	SweepHold          SweepAction = "hold"           // foyer disabled it, someone enabled it again: left alone
	SweepSkip          SweepAction = "skip"           // governed by a Microsoft lifecycle policy: left to Microsoft, never recorded
)

// Changes says whether the action changes the tenant (disable, delete):
// what the cap counts.
func (a SweepAction) Changes() bool { return a == SweepDisable || a == SweepDelete }

// Sweep rules' names, as a plan reports them.
const (
	RuleNeverRedeemed = "never_redeemed"
	RuleNoSignIn      = "no_sign_in"
)

// SweepDecision is what a sweep would do to one guest, and why.
type SweepDecision struct {
	Guest  GuestActivity
	Action SweepAction
	Rule   string    // RuleNeverRedeemed or RuleNoSignIn; "" for SweepNone
	Since  time.Time // the date the rule counts from (last sign-in, creation)
	Days   int       // whole days from Since to the sweep
	Reason string    // for people: the rule and the dates behind it
	// Due is when the action a notice announces comes at the earliest;
	// zero for other actions.
	Due time.Time
}

// Email returns the guest's address as the sweep reports it: mail, else
// the user principal name when it is not the #EXT# form.
func (g GuestActivity) Email() string {
	if g.Mail != "" {
		return g.Mail
	}
	if !strings.Contains(strings.ToUpper(g.UserPrincipalName), "#EXT#") {
		return g.UserPrincipalName
	}
	return ""
}

// excluded reports whether exclude holds the guest's object id or one of
// its addresses (keys lowercased).
func (g GuestActivity) excluded(exclude map[string]bool) bool {
	if len(exclude) == 0 {
		return false
	}
	for _, k := range append([]string{g.ID, g.Mail, g.UserPrincipalName}, g.OtherMails...) {
		if k != "" && exclude[strings.ToLower(k)] {
			return true
		}
	}
	return false
}

// days returns whole days from since to now.
func days(since, now time.Time) int {
	if now.Before(since) {
		return 0
	}
	return int(now.Sub(since) / (24 * time.Hour))
}

// DecideSweep decides one guest at now. A disabled guest is left alone
// (there is nothing to disable). The never-redeemed rule goes first: a
// guest who never redeemed never signed in either, and the reason should
// say the former.
func DecideSweep(now time.Time, r SweepRules, g GuestActivity) SweepDecision {
	d := SweepDecision{Guest: g, Action: SweepNone}
	if !g.AccountEnabled {
		return d
	}
	if r.NeverRedeemedDays > 0 && strings.EqualFold(g.ExternalUserState, "PendingAcceptance") {
		if n := days(g.CreatedAt, now); n >= r.NeverRedeemedDays {
			d.Action, d.Rule, d.Since, d.Days = SweepDisable, RuleNeverRedeemed, g.CreatedAt, n
			d.Reason = fmt.Sprintf("invited %s, never redeemed: %d days (rule: %d)", day(g.CreatedAt), n, r.NeverRedeemedDays)
			return d
		}
	}
	if r.NoSignInDays > 0 {
		if days(g.CreatedAt, now) < r.NewGuestGraceDays {
			return d
		}
		since, what := g.SignIn.Latest(), "last signed in"
		if since.IsZero() {
			since, what = g.CreatedAt, "never signed in, created"
		}
		if n := days(since, now); n >= r.NoSignInDays {
			d.Action, d.Rule, d.Since, d.Days = SweepDisable, RuleNoSignIn, since, n
			d.Reason = fmt.Sprintf("%s %s: %d days without sign-in (rule: %d)", what, day(since), n, r.NoSignInDays)
			if g.SignIn == nil && !g.SignInSince.IsZero() && g.CreatedAt.Before(g.SignInSince) {
				// Only the sign-ins since SignInSince were read: the
				// guest may have signed in before it, on a day not read.
				d.Since, d.Days = g.SignInSince, days(g.SignInSince, now)
				d.Reason = fmt.Sprintf("created %s, no sign-in since %s: at least %d days without sign-in (rule: %d)",
					day(g.CreatedAt), day(g.SignInSince), d.Days, r.NoSignInDays)
			}
		}
	}
	return d
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// SweepPlan is what a sweep would do.
type SweepPlan struct {
	At       time.Time
	Guests   int // guests read
	Excluded int // guests an exclusion left alone
	// Governed counts the guests foyer would have acted on that a
	// Microsoft lifecycle policy governs: in Actions as SweepSkip, not
	// counted by the cap and not recorded in the sweep's run.
	Governed int
	Actions  []SweepDecision // the guests it would act on, in the order read
	// CapExceeded says the plan disables or deletes more guests than the
	// cap allows (notices and holds do not count); CapLimit is the most it
	// may disable or delete (the lower of the two bounds).
	CapExceeded bool
	CapLimit    int // -1: no cap
}

// ErrSignInUnreported is the code-carrying error of a sweep that refuses
// because the tenant's sign-in data looks missing.
type ErrSignInUnreported struct{ Guests int }

func (e *ErrSignInUnreported) Error() string {
	return fmt.Sprintf("sign-in data looks missing: none of the %d guests has any signInActivity, "+
		"though the tenant answered for it; a sweep would take every guest for stale, so it refuses to plan", e.Guests)
}

// ErrorCode is EUNAVAILABLE: the data the rule needs is not there.
func (e *ErrSignInUnreported) ErrorCode() string { return EUNAVAILABLE }

// PlanSweep decides every guest. exclude holds lowercased object ids and
// addresses of guests to leave alone (the configured list and the members
// of the configured groups). history is what the ledger remembers of
// foyer's earlier sweeps, by lowercased object id (nil: nothing, as for a
// plan that reads no ledger); DecideLifecycle says how it is used. When the
// no-sign-in rule is on and no guest at all has signInActivity, it refuses
// with *ErrSignInUnreported: that is what a tenant looks like whose
// sign-in data is not reported, and acting on it would disable active
// guests.
func PlanSweep(now time.Time, r SweepRules, guests []GuestActivity, exclude map[string]bool, history map[string]SweepHistory) (*SweepPlan, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.NoSignInDays > 0 && len(guests) > 0 && !anySignIn(guests) {
		return nil, &ErrSignInUnreported{Guests: len(guests)}
	}
	p := &SweepPlan{At: now, Guests: len(guests), CapLimit: r.Cap.limit(len(guests))}
	changes := 0
	for _, g := range guests {
		d := DecideLifecycle(now, r, g, history[strings.ToLower(g.ID)])
		if d.Action == SweepNone {
			continue
		}
		if g.excluded(exclude) {
			p.Excluded++
			continue
		}
		if g.GovernedBy != "" {
			d.Reason = fmt.Sprintf("governed by Microsoft lifecycle policy %s: left to Microsoft (foyer would %s: %s)",
				g.GovernedBy, d.Action, d.Reason)
			d.Action = SweepSkip
			p.Governed++
		}
		if d.Action.Changes() {
			changes++
		}
		p.Actions = append(p.Actions, d)
	}
	p.CapExceeded = p.CapLimit >= 0 && changes > p.CapLimit
	return p, nil
}

// SweepHistory is what the ledger remembers of foyer's sweeps of one
// guest, in its current round: a round ends when a guest foyer disabled
// is found enabled again (ReenabledAt), and the next one starts empty.
type SweepHistory struct {
	DisabledAt      time.Time // foyer disabled the guest then; zero if it did not in this round
	DisableNoticeAt time.Time // the guest and its sponsors were told of a disable then (the latest notice)
	DeleteNoticeAt  time.Time // ... of a delete
	// ReenabledAt is when a sweep first found enabled a guest foyer had
	// disabled: someone enabled it again by hand. DisabledOn is when foyer
	// had disabled it.
	ReenabledAt time.Time
	DisabledOn  time.Time
}

// DecideLifecycle decides one guest at now from what it is (g) and what
// foyer did to it before (h):
//
//   - disabled by foyer and found enabled: re-enabled by hand, hold (the
//     engine records the round as ended); held while ReenabledHoldDays
//     from when that was first seen have not passed;
//   - disabled by foyer, still disabled and still stale: delete once
//     DeleteAfterDays have passed since the disable, and NoticeDays since
//     the delete's notice; the notice goes out NoticeDays before the
//     delete is due;
//   - enabled and stale (DecideSweep): notice of the disable, then the
//     disable NoticeDays later; a notice older than the guest's latest
//     sign-in (or creation) is of an earlier idleness and does not count.
//
// Without NoticeDays no notice is sent and the actions come at once.
func DecideLifecycle(now time.Time, r SweepRules, g GuestActivity, h SweepHistory) SweepDecision {
	none := SweepDecision{Guest: g, Action: SweepNone}
	if !h.DisabledAt.IsZero() {
		if g.AccountEnabled {
			d := none
			d.Action, d.Since, d.Days = SweepHold, now, 0
			d.Reason = fmt.Sprintf("re-enabled by hand (seen enabled on %s; foyer disabled it on %s): left alone for %d days",
				day(now), day(h.DisabledAt), r.ReenabledHoldDays)
			return d
		}
		return decideDelete(now, r, g, h)
	}
	if !h.ReenabledAt.IsZero() && days(h.ReenabledAt, now) < r.ReenabledHoldDays {
		d := none
		d.Action, d.Since, d.Days = SweepHold, h.ReenabledAt, days(h.ReenabledAt, now)
		d.Reason = fmt.Sprintf("re-enabled by hand on %s or before (foyer disabled it on %s): left alone until %s",
			day(h.ReenabledAt), day(h.DisabledOn), day(h.ReenabledAt.AddDate(0, 0, r.ReenabledHoldDays)))
		return d
	}
	d := DecideSweep(now, r, g)
	if d.Action != SweepDisable || r.NoticeDays == 0 {
		return d
	}
	if h.DisableNoticeAt.IsZero() || h.DisableNoticeAt.Before(d.Since) {
		d.Action, d.Due = SweepNoticeDisable, now.AddDate(0, 0, r.NoticeDays)
		d.Reason = fmt.Sprintf("%s; notice: disabled on %s or later", d.Reason, day(d.Due))
		return d
	}
	if due := h.DisableNoticeAt.AddDate(0, 0, r.NoticeDays); now.Before(due) {
		return none // told; the disable waits for its notice period
	}
	d.Reason = fmt.Sprintf("%s; told on %s", d.Reason, day(h.DisableNoticeAt))
	return d
}

// decideDelete decides a guest foyer disabled that is still disabled.
func decideDelete(now time.Time, r SweepRules, g GuestActivity, h SweepHistory) SweepDecision {
	none := SweepDecision{Guest: g, Action: SweepNone}
	if r.DeleteAfterDays == 0 {
		return none
	}
	active := g
	active.AccountEnabled = true // a disabled guest is still judged by its rules
	d := DecideSweep(now, r, active)
	if d.Action != SweepDisable {
		return none // no longer stale (the rules changed): left disabled, not deleted
	}
	d.Guest = g
	due := h.DisabledAt.AddDate(0, 0, r.DeleteAfterDays)
	why := fmt.Sprintf("disabled by foyer on %s (%s)", day(h.DisabledAt), d.Reason)
	if r.NoticeDays > 0 {
		told := !h.DeleteNoticeAt.IsZero() && !h.DeleteNoticeAt.Before(h.DisabledAt)
		if !told {
			if now.Before(due.AddDate(0, 0, -r.NoticeDays)) {
				return none
			}
			d.Action, d.Due = SweepNoticeDelete, laterOf(due, now.AddDate(0, 0, r.NoticeDays))
			d.Reason = fmt.Sprintf("%s; notice: deleted on %s or later", why, day(d.Due))
			return d
		}
		if now.Before(h.DeleteNoticeAt.AddDate(0, 0, r.NoticeDays)) {
			return none
		}
		why += "; told on " + day(h.DeleteNoticeAt)
	}
	if now.Before(due) {
		return none
	}
	d.Action, d.Since, d.Days = SweepDelete, h.DisabledAt, days(h.DisabledAt, now)
	d.Reason = fmt.Sprintf("%s; %d days disabled (rule: delete after %d)", why, d.Days, r.DeleteAfterDays)
	return d
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func anySignIn(guests []GuestActivity) bool {
	for _, g := range guests {
		if g.SignIn != nil {
			return true
		}
	}
	return false
}

// limit is the most guests of total a sweep may act on; -1 without a cap.
// A share rounds down: 5% of 30 guests is 1.
func (c SweepCap) limit(total int) int {
	n := -1
	if c.Max > 0 {
		n = c.Max
	}
	if c.MaxShare > 0 {
		s := int(c.MaxShare * float64(total))
		if n < 0 || s < n {
			n = s
		}
	}
	return n
}

// RunSweep is the kind of a sweep's run: one row per guest acted on.
const RunSweep RunKind = "sweep"

// A sweep run's row actions and results.
const (
	ActionDisable       Action = "disable"        // disable the guest's account
	ActionDelete        Action = "delete"         // delete the guest
	ActionNoticeDisable Action = "notice_disable" // tell the guest and its sponsors of the disable to come
	ActionNoticeDelete  Action = "notice_delete"  // tell them of the delete to come

	ResultDisabled Result = "disabled"
	ResultDeleted  Result = "deleted"
	ResultNotified Result = "notified"
)

// RowAction is the action of a sweep run's row for a decision; a hold is
// recorded as a row foyer leaves alone (skip), with its reason.
func (a SweepAction) RowAction() Action {
	switch a {
	case SweepDisable:
		return ActionDisable
	case SweepDelete:
		return ActionDelete
	case SweepNoticeDisable:
		return ActionNoticeDisable
	case SweepNoticeDelete:
		return ActionNoticeDelete
	}
	return ActionSkip
}

// Work says whether a row with this action is worked by a job (an apply's
// invite and exists, a sweep's actions); the others are skipped.
func (a Action) Work() bool {
	switch a {
	case ActionInvite, ActionExists, ActionDisable, ActionDelete, ActionNoticeDisable, ActionNoticeDelete:
		return true
	}
	return false
}
