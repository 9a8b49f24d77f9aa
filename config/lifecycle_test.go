package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
)

const lifecycleHead = `tenants:
  t:
    tenant_id: 11111111-2222-3333-4444-555555555555
    client_id: 66666666-7777-8888-9999-000000000000
    credential: {type: client_secret, secret_env: S}
`

const lifecycleTail = `profiles:
  p:
    redirect_url: https://app.example
`

func TestLifecycle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		block  string
		want   [][]string // fragments of problems, each with its place
		rules  foyer.SweepRules
		users  []string
		ignore bool   // microsoft_policies: ignore
		daily  string // schedule: a firing's time of day in UTC, "" for none
	}{
		{name: "valid", block: `    lifecycle:
      stale: {never_redeemed_days: 30, no_sign_in_days: 90, new_guest_grace_days: 14}
      exclude:
        users: [ceo@partner.example, 0a1b2c3d-1111-2222-3333-444444444444]
        groups: [0a1b2c3d-5555-6666-7777-888888888888]
      cap: {max: 50, max_share: 0.05}
`, rules: foyer.SweepRules{NeverRedeemedDays: 30, NoSignInDays: 90, NewGuestGraceDays: 14, Cap: foyer.SweepCap{Max: 50, MaxShare: 0.05}, ReenabledHoldDays: 90},
			users: []string{"ceo@partner.example", "0a1b2c3d-1111-2222-3333-444444444444"}},
		{name: "whole-number share", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      cap: {max_share: 1}
`, rules: foyer.SweepRules{NoSignInDays: 90, Cap: foyer.SweepCap{MaxShare: 1}, ReenabledHoldDays: 90}},
		{name: "disable, delete and hold", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      delete_after_days: 30
      reenabled_hold_days: 0
      exclude: {attributes: {companyName: Contoso, department: Board}}
`, rules: foyer.SweepRules{NoSignInDays: 90, DeleteAfterDays: 30}},
		{name: "extension attributes", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      exclude:
        attributes:
          extension_b7d8e648520f41d3b9c0fdeb91768a0a_partnerTier: gold
          onPremisesExtensionAttributes/extensionAttribute15: keep
`, rules: foyer.SweepRules{NoSignInDays: 90, ReenabledHoldDays: 90}},
		{name: "malformed extension attributes", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      exclude:
        attributes:
          extension_b7d8e648-520f-41d3-b9c0-fdeb91768a0a_partnerTier: gold
          onPremisesExtensionAttributes/extensionAttribute16: keep
`, want: [][]string{
			{"foyer.yaml:10:", `lifecycle.exclude.attributes: "extension_b7d8e648-520f-41d3-b9c0-fdeb91768a0a_partnerTier" is not a directory extension property name`, "without dashes"},
			{"foyer.yaml:11:", `"onPremisesExtensionAttributes/extensionAttribute16"`, "extensionAttribute1 to"},
		}},
		{name: "actions' problems", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      delete_after_days: -1
      notice_days: 7
      exclude: {attributes: {signInActivity: x}}
`, want: [][]string{
			{"foyer.yaml:8:", "delete_after_days", "between 0"},
			{"foyer.yaml:9:", "notice_days", "smtp:"},
			{"foyer.yaml:10:", "signInActivity", "not a property a sweep excludes by"},
		}},
		{name: "every problem with its place", block: `    lifecycle:
      stale: {never_redeemed_days: -1, no_sign_in_dayz: 90}
      exclude:
        users: [not an address]
        groups: [Partners]
      cap: {max: -3, max_share: 5}
`, want: [][]string{
			{"foyer.yaml:7:36:", "never_redeemed_days", "between 0"},
			{"foyer.yaml:7:40:", `unknown key "no_sign_in_dayz"`, `did you mean "no_sign_in_days"?`},
			{"foyer.yaml:9:17:", "exclude.users", "neither an address nor an object id"},
			{"foyer.yaml:10:18:", "exclude.groups", "object id"},
			{"foyer.yaml:11:18:", "cap.max", "negative"},
			{"foyer.yaml:11:33:", "max_share", "between 0 and 1"},
		}},
		{name: "microsoft policies ignored", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      microsoft_policies: ignore
`, rules: foyer.SweepRules{NoSignInDays: 90, ReenabledHoldDays: 90}, ignore: true},
		{name: "microsoft policies neither respected nor ignored", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      microsoft_policies: obey
`, want: [][]string{{"foyer.yaml:8:", "microsoft_policies", `respect or ignore, not "obey"`}}},
		{name: "scheduled", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      schedule: "30 2 * * *"
      time_zone: Europe/Paris
`, rules: foyer.SweepRules{NoSignInDays: 90, ReenabledHoldDays: 90}, daily: "01:30"},
		{name: "schedule problems", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      schedule: "every night"
`, want: [][]string{{"foyer.yaml:8:", "lifecycle.schedule", "minute hour day-of-month"}}},
		{name: "time zone problems", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      schedule: "@daily"
      time_zone: Mars/Olympus
`, want: [][]string{{"foyer.yaml:9:", "lifecycle.time_zone", "not known"}}},
		{name: "time zone without a schedule", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      time_zone: UTC
`, want: [][]string{{"foyer.yaml:8:", "time_zone without a lifecycle.schedule"}}},
		{name: "a share that is not a number", block: `    lifecycle:
      stale: {no_sign_in_days: 90}
      cap: {max_share: lots}
`, want: [][]string{{"foyer.yaml:8:24:", "max_share", "want a number"}}},
		{name: "no rule", block: `    lifecycle:
      cap: {max: 5}
`, want: [][]string{{"foyer.yaml:7:", "lifecycle has no rule"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Parse("foyer.yaml", []byte(lifecycleHead+tc.block+lifecycleTail))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				l := c.Tenants["t"].Lifecycle
				if got := l.SweepRules(); got != tc.rules {
					t.Errorf("rules = %+v, want %+v", got, tc.rules)
				}
				if l.RespectMicrosoftPolicies() == tc.ignore {
					t.Errorf("RespectMicrosoftPolicies() = %v, want %v", l.RespectMicrosoftPolicies(), !tc.ignore)
				}
				s, err := l.SweepSchedule()
				switch {
				case err != nil:
					t.Errorf("SweepSchedule: %v", err)
				case (s != nil) != (tc.daily != ""):
					t.Errorf("SweepSchedule() = %v, want a schedule: %v", s, tc.daily != "")
				case s != nil:
					winter := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
					if got := s.Next(winter).UTC().Format("15:04"); got != tc.daily {
						t.Errorf("the schedule fires at %s UTC, want %s", got, tc.daily)
					}
				}
				if strings.Join(l.Exclude.Users, ",") != strings.Join(tc.users, ",") {
					t.Errorf("exclude.users = %v, want %v", l.Exclude.Users, tc.users)
				}
				return
			}
			var ps config.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %v is not Problems", err)
			}
			for _, w := range tc.want {
				found := false
				for _, p := range ps {
					ok := true
					for _, frag := range w {
						ok = ok && strings.Contains(p.String(), frag)
					}
					found = found || ok
				}
				if !found {
					t.Errorf("no problem with %q among:\n%v", w, ps)
				}
			}
		})
	}
}
