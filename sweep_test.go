package foyer_test

import (
	"errors"
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
