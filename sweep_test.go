package foyer_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
)

func TestDecideSweep(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d int) time.Time { return now.AddDate(0, 0, -d) }
	rules := foyer.SweepRules{NeverRedeemedDays: 30, NoSignInDays: 90, NewGuestGraceDays: 14}
	signedIn := func(i, n, s int) *foyer.SignInActivity {
		a := &foyer.SignInActivity{}
		if i > 0 {
			a.LastInteractive = ago(i)
		}
		if n > 0 {
			a.LastNonInteractive = ago(n)
		}
		if s > 0 {
			a.LastSuccessful = ago(s)
		}
		return a
	}
	tests := []struct {
		name   string
		rules  foyer.SweepRules
		g      foyer.GuestActivity
		action foyer.SweepAction
		rule   string
		days   int
	}{
		{"pending past the redemption limit", rules, foyer.GuestActivity{ExternalUserState: "PendingAcceptance", AccountEnabled: true, CreatedAt: ago(31)}, foyer.SweepDisable, foyer.RuleNeverRedeemed, 31},
		{"pending within the redemption limit", rules, foyer.GuestActivity{ExternalUserState: "PendingAcceptance", AccountEnabled: true, CreatedAt: ago(29)}, foyer.SweepNone, "", 0},
		{"stale: latest of three sign-ins is old", rules, foyer.GuestActivity{ExternalUserState: "Accepted", AccountEnabled: true, CreatedAt: ago(400), SignIn: signedIn(200, 120, 95)}, foyer.SweepDisable, foyer.RuleNoSignIn, 95},
		{"fresh by a non-interactive sign-in alone", rules, foyer.GuestActivity{ExternalUserState: "Accepted", AccountEnabled: true, CreatedAt: ago(400), SignIn: signedIn(300, 2, 0)}, foyer.SweepNone, "", 0},
		{"never signed in counts from creation", rules, foyer.GuestActivity{ExternalUserState: "Accepted", AccountEnabled: true, CreatedAt: ago(100)}, foyer.SweepDisable, foyer.RuleNoSignIn, 100},
		{"read since the cutoff, none found: stale, counted from the cutoff", rules, foyer.GuestActivity{ExternalUserState: "Accepted", AccountEnabled: true, CreatedAt: ago(300), SignInSince: ago(90)}, foyer.SweepDisable, foyer.RuleNoSignIn, 90},
		{"read since the cutoff, created after it: creation decides", rules, foyer.GuestActivity{ExternalUserState: "Accepted", AccountEnabled: true, CreatedAt: ago(60), SignInSince: ago(90)}, foyer.SweepNone, "", 0},
		{"read since the cutoff, signed in after it", rules, foyer.GuestActivity{ExternalUserState: "Accepted", AccountEnabled: true, CreatedAt: ago(300), SignInSince: ago(90), SignIn: signedIn(0, 0, 30)}, foyer.SweepNone, "", 0},
		{"new guest within grace", foyer.SweepRules{NoSignInDays: 5, NewGuestGraceDays: 14}, foyer.GuestActivity{ExternalUserState: "Accepted", AccountEnabled: true, CreatedAt: ago(10)}, foyer.SweepNone, "", 0},
		{"already disabled", rules, foyer.GuestActivity{ExternalUserState: "PendingAcceptance", CreatedAt: ago(300)}, foyer.SweepNone, "", 0},
		{"rules off", foyer.SweepRules{}, foyer.GuestActivity{ExternalUserState: "PendingAcceptance", AccountEnabled: true, CreatedAt: ago(3000)}, foyer.SweepNone, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := foyer.DecideSweep(now, tc.rules, tc.g)
			if d.Action != tc.action || d.Rule != tc.rule || d.Days != tc.days {
				t.Fatalf("got %s %q %d days (%s), want %s %q %d days", d.Action, d.Rule, d.Days, d.Reason, tc.action, tc.rule, tc.days)
			}
			if d.Action != foyer.SweepNone && d.Reason == "" {
				t.Fatal("an action without a reason")
			}
		})
	}
}

func TestPlanSweep(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	stale := func(id string) foyer.GuestActivity {
		return foyer.GuestActivity{ID: id, Mail: id + "@x.example", ExternalUserState: "Accepted", AccountEnabled: true,
			CreatedAt: now.AddDate(-1, 0, 0), SignIn: &foyer.SignInActivity{LastInteractive: now.AddDate(0, 0, -200)}}
	}
	fresh := stale("fresh")
	fresh.SignIn = &foyer.SignInActivity{LastSuccessful: now.AddDate(0, 0, -1)}
	never := stale("never")
	never.SignIn = nil
	rules := foyer.SweepRules{NoSignInDays: 90}
	tests := []struct {
		name     string
		rules    foyer.SweepRules
		guests   []foyer.GuestActivity
		exclude  map[string]bool
		acts     int
		excluded int
		capped   bool
		refuse   bool
	}{
		{"two stale one fresh", rules, []foyer.GuestActivity{stale("a"), stale("b"), fresh}, nil, 2, 0, false, false},
		{"excluded by id and by address", rules, []foyer.GuestActivity{stale("a"), stale("b"), stale("c"), fresh}, map[string]bool{"a": true, "b@x.example": true}, 1, 2, false, false},
		{"cap by number", foyer.SweepRules{NoSignInDays: 90, Cap: foyer.SweepCap{Max: 1}}, []foyer.GuestActivity{stale("a"), stale("b"), fresh}, nil, 2, 0, true, false},
		{"cap by share", foyer.SweepRules{NoSignInDays: 90, Cap: foyer.SweepCap{MaxShare: 0.5}}, []foyer.GuestActivity{stale("a"), stale("b"), fresh, fresh}, nil, 2, 0, false, false},
		{"cap by share exceeded", foyer.SweepRules{NoSignInDays: 90, Cap: foyer.SweepCap{MaxShare: 0.4}}, []foyer.GuestActivity{stale("a"), stale("b"), fresh, fresh}, nil, 2, 0, true, false},
		{"no guest has sign-in data", rules, []foyer.GuestActivity{never, never}, nil, 0, 0, false, true},
		{"one never signed in among others is fine", rules, []foyer.GuestActivity{never, fresh}, nil, 1, 0, false, false},
		{"no sign-in rule: missing data does not matter", foyer.SweepRules{NeverRedeemedDays: 30}, []foyer.GuestActivity{never}, nil, 0, 0, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := foyer.PlanSweep(now, tc.rules, tc.guests, tc.exclude, nil)
			var missing *foyer.ErrSignInUnreported
			if tc.refuse {
				if !errors.As(err, &missing) || foyer.ErrorCode(err) != foyer.EUNAVAILABLE {
					t.Fatalf("err = %v, want ErrSignInUnreported", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Actions) != tc.acts || p.Excluded != tc.excluded || p.CapExceeded != tc.capped || p.Guests != len(tc.guests) {
				t.Fatalf("got %d actions, %d excluded, capped %v; want %d, %d, %v", len(p.Actions), p.Excluded, p.CapExceeded, tc.acts, tc.excluded, tc.capped)
			}
		})
	}
}

func TestSweepRulesValidate(t *testing.T) {
	t.Parallel()
	for _, r := range []foyer.SweepRules{{NoSignInDays: -1}, {Cap: foyer.SweepCap{MaxShare: 1.5}}, {Cap: foyer.SweepCap{Max: -2}}} {
		if err := r.Validate(); foyer.ErrorCode(err) != foyer.EINVALID {
			t.Errorf("%+v: err = %v, want EINVALID", r, err)
		}
	}
}

// TestDecideLifecycle: what the ledger's history makes of a guest: notices
// before each action and the action only notice_days later, the delete
// only delete_after_days after foyer's own disable, a guest re-enabled by
// hand held, and every refusal on the safe side.
func TestDecideLifecycle(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d int) time.Time { return now.AddDate(0, 0, -d) }
	rules := foyer.SweepRules{NoSignInDays: 90, NoticeDays: 7, DeleteAfterDays: 30, ReenabledHoldDays: 60}
	quiet := rules
	quiet.NoticeDays = 0
	stale := foyer.GuestActivity{ID: "g", Mail: "g@x.example", ExternalUserState: "Accepted", AccountEnabled: true, CreatedAt: ago(400),
		SignIn: &foyer.SignInActivity{LastInteractive: ago(100)}}
	disabled := stale
	disabled.AccountEnabled = false
	active := stale
	active.SignIn = &foyer.SignInActivity{LastInteractive: ago(2)}
	activeOff := active
	activeOff.AccountEnabled = false
	tests := []struct {
		name  string
		rules foyer.SweepRules
		g     foyer.GuestActivity
		h     foyer.SweepHistory
		want  foyer.SweepAction
	}{
		{"stale, never told: notice", rules, stale, foyer.SweepHistory{}, foyer.SweepNoticeDisable},
		{"stale, told 3 days ago: wait", rules, stale, foyer.SweepHistory{DisableNoticeAt: ago(3)}, foyer.SweepNone},
		{"stale, told 7 days ago: disable", rules, stale, foyer.SweepHistory{DisableNoticeAt: ago(7)}, foyer.SweepDisable},
		{"told before its last sign-in: told again", rules, stale, foyer.SweepHistory{DisableNoticeAt: ago(120)}, foyer.SweepNoticeDisable},
		{"no notices: disable at once", quiet, stale, foyer.SweepHistory{}, foyer.SweepDisable},
		{"active: nothing", rules, active, foyer.SweepHistory{}, foyer.SweepNone},
		{"disabled by someone else: nothing", rules, disabled, foyer.SweepHistory{}, foyer.SweepNone},
		{"disabled by foyer 10 days ago: wait", rules, disabled, foyer.SweepHistory{DisabledAt: ago(10)}, foyer.SweepNone},
		{"disabled 23 days ago: delete notice", rules, disabled, foyer.SweepHistory{DisabledAt: ago(23)}, foyer.SweepNoticeDelete},
		{"disabled 30 days ago, told 3 days ago: wait", rules, disabled, foyer.SweepHistory{DisabledAt: ago(30), DeleteNoticeAt: ago(3)}, foyer.SweepNone},
		{"disabled 29 days ago, told 7 days ago: wait for the grace", rules, disabled, foyer.SweepHistory{DisabledAt: ago(29), DeleteNoticeAt: ago(7)}, foyer.SweepNone},
		{"disabled 30 days ago, told 7 days ago: delete", rules, disabled, foyer.SweepHistory{DisabledAt: ago(30), DeleteNoticeAt: ago(7)}, foyer.SweepDelete},
		{"a delete notice older than the disable does not count", rules, disabled, foyer.SweepHistory{DisabledAt: ago(30), DeleteNoticeAt: ago(40)}, foyer.SweepNoticeDelete},
		{"no notices: delete at 30 days", quiet, disabled, foyer.SweepHistory{DisabledAt: ago(30)}, foyer.SweepDelete},
		{"no notices: not at 29", quiet, disabled, foyer.SweepHistory{DisabledAt: ago(29)}, foyer.SweepNone},
		{"delete off: never", foyer.SweepRules{NoSignInDays: 90}, disabled, foyer.SweepHistory{DisabledAt: ago(300)}, foyer.SweepNone},
		{"disabled by foyer but no longer stale: not deleted", quiet, activeOff, foyer.SweepHistory{DisabledAt: ago(60)}, foyer.SweepNone},
		{"disabled by foyer, enabled now: hold", rules, stale, foyer.SweepHistory{DisabledAt: ago(10)}, foyer.SweepHold},
		{"re-enabled 20 days ago: hold", rules, stale, foyer.SweepHistory{ReenabledAt: ago(20), DisabledOn: ago(30)}, foyer.SweepHold},
		{"re-enabled 60 days ago: a stale guest again", rules, stale, foyer.SweepHistory{ReenabledAt: ago(60), DisabledOn: ago(70)}, foyer.SweepNoticeDisable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := foyer.DecideLifecycle(now, tc.rules, tc.g, tc.h)
			if d.Action != tc.want {
				t.Fatalf("action = %s (%s), want %s", d.Action, d.Reason, tc.want)
			}
			if d.Action != foyer.SweepNone && d.Reason == "" {
				t.Error("no reason")
			}
			if (d.Action == foyer.SweepNoticeDisable || d.Action == foyer.SweepNoticeDelete) && d.Due.Before(now.AddDate(0, 0, tc.rules.NoticeDays)) {
				t.Errorf("notice announces %v, earlier than notice_days from now", d.Due)
			}
		})
	}
}

// TestPlanSweepCapCountsChanges: the cap counts disables and deletes, not
// notices or holds.
func TestPlanSweepCapCountsChanges(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	g := func(id string, enabled bool) foyer.GuestActivity {
		return foyer.GuestActivity{ID: id, Mail: id + "@x.example", ExternalUserState: "Accepted", AccountEnabled: enabled,
			CreatedAt: now.AddDate(-1, 0, 0), SignIn: &foyer.SignInActivity{LastInteractive: now.AddDate(0, 0, -200)}}
	}
	rules := foyer.SweepRules{NoSignInDays: 90, NoticeDays: 7, DeleteAfterDays: 30, Cap: foyer.SweepCap{Max: 1}}
	guests := []foyer.GuestActivity{g("told", true), g("new", true), g("new2", true), g("old", false)}
	h := map[string]foyer.SweepHistory{"told": {DisableNoticeAt: now.AddDate(0, 0, -8)}, "old": {DisabledAt: now.AddDate(0, 0, -40), DeleteNoticeAt: now.AddDate(0, 0, -9)}}
	p, err := foyer.PlanSweep(now, rules, guests, nil, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 4 || !p.CapExceeded {
		t.Fatalf("%d actions, capped %v; want 4 (2 changes over a cap of 1)", len(p.Actions), p.CapExceeded)
	}
	delete(h, "old")
	if p, _ = foyer.PlanSweep(now, rules, guests, nil, h); p.CapExceeded {
		t.Fatal("a disable and two notices exceed a cap of 1")
	}
}

// BenchmarkPlanSweep decides 100,000 guests with a history for a tenth of
// them.
func BenchmarkPlanSweep(b *testing.B) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	rules := foyer.SweepRules{NoSignInDays: 90, NeverRedeemedDays: 30, NoticeDays: 7, DeleteAfterDays: 30, ReenabledHoldDays: 60}
	guests := make([]foyer.GuestActivity, 100_000)
	h := map[string]foyer.SweepHistory{}
	for i := range guests {
		id := fmt.Sprintf("%08d-0000-0000-0000-000000000000", i)
		guests[i] = foyer.GuestActivity{ID: id, Mail: id + "@x.example", ExternalUserState: "Accepted", AccountEnabled: i%10 != 0,
			CreatedAt: now.AddDate(-1, 0, 0), SignIn: &foyer.SignInActivity{LastInteractive: now.AddDate(0, 0, -(i % 200))}}
		if i%10 == 0 {
			h[id] = foyer.SweepHistory{DisabledAt: now.AddDate(0, 0, -(i % 50)), DeleteNoticeAt: now.AddDate(0, 0, -(i % 20))}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := foyer.PlanSweep(now, rules, guests, nil, h); err != nil {
			b.Fatal(err)
		}
	}
}
