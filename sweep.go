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
}

// SweepCap is the blast-radius cap: the most guests one sweep may act on,
// as a number and as a share of all guests; zero turns a bound off.
type SweepCap struct {
	Max      int
	MaxShare float64 // 0 to 1
}

// Validate checks the rules.
func (r SweepRules) Validate() error {
	switch {
	case r.NeverRedeemedDays < 0 || r.NoSignInDays < 0 || r.NewGuestGraceDays < 0:
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

// Sweep actions. Only disabling is decided so far.
const (
	SweepNone    SweepAction = "none"
	SweepDisable SweepAction = "disable"
)

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
	Guests   int             // guests read
	Excluded int             // guests an exclusion left alone
	Actions  []SweepDecision // the guests it would act on, in the order read
	// CapExceeded says the plan acts on more guests than the cap allows;
	// CapLimit is the most it may act on (the lower of the two bounds).
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
// of the configured groups). When the no-sign-in rule is on and no guest
// at all has signInActivity, it refuses with *ErrSignInUnreported: that is
// what a tenant looks like whose sign-in data is not reported, and acting
// on it would disable active guests.
func PlanSweep(now time.Time, r SweepRules, guests []GuestActivity, exclude map[string]bool) (*SweepPlan, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.NoSignInDays > 0 && len(guests) > 0 && !anySignIn(guests) {
		return nil, &ErrSignInUnreported{Guests: len(guests)}
	}
	p := &SweepPlan{At: now, Guests: len(guests), CapLimit: r.Cap.limit(len(guests))}
	for _, g := range guests {
		d := DecideSweep(now, r, g)
		if d.Action == SweepNone {
			continue
		}
		if g.excluded(exclude) {
			p.Excluded++
			continue
		}
		p.Actions = append(p.Actions, d)
	}
	p.CapExceeded = p.CapLimit >= 0 && len(p.Actions) > p.CapLimit
	return p, nil
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
