package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/robfig/cron/v3"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// Lifecycle is a tenant's lifecycle: section: the rules foyer sweep
// applies to every guest of the tenant. It is tenant-wide, not per
// profile: a guest may hold several profiles, and what a sweep reads
// (sign-in activity) is the guest's, not a profile's.
type Lifecycle struct {
	Stale   Stale   `yaml:"stale,omitempty"`
	Exclude Exclude `yaml:"exclude,omitempty"`
	Cap     Cap     `yaml:"cap,omitempty"`
	// DeleteAfterDays: a guest foyer disabled this many days ago, still
	// disabled and still stale, is deleted by foyer sweep --apply; 0 (the
	// default) never deletes.
	DeleteAfterDays int `yaml:"delete_after_days,omitempty"`
	// NoticeDays: the guest and its sponsors are emailed this many days
	// before a disable and before a delete (needs smtp:); 0 sends none.
	NoticeDays int `yaml:"notice_days,omitempty"`
	// ReenabledHoldDays: a guest foyer disabled that is found enabled
	// again (by hand) is left alone this many days; default 90.
	ReenabledHoldDays *int `yaml:"reenabled_hold_days,omitempty"`
	// MicrosoftPolicies says what a sweep does about Microsoft's guest
	// lifecycle policies (Lifecycle Workflows): respect (the default)
	// reads them and leaves the guests they govern to Microsoft, refusing
	// to sweep when they cannot be read; ignore does not read them, and
	// the admin takes responsibility for guests both would act on.
	MicrosoftPolicies string `yaml:"microsoft_policies,omitempty"`
	// Schedule, when set, is when foyer serve sweeps the tenant by itself:
	// a cron expression like a trigger's, in TimeZone (default UTC).
	Schedule string `yaml:"schedule,omitempty"`
	TimeZone string `yaml:"time_zone,omitempty"`
}

// SweepSchedule parses the lifecycle's schedule in its time zone; nil
// when it has none. The configuration was validated: errors are not
// expected.
func (l *Lifecycle) SweepSchedule() (cron.Schedule, error) {
	if l == nil || l.Schedule == "" {
		return nil, nil
	}
	return parseSchedule(l.Schedule, l.TimeZone)
}

// The values of lifecycle.microsoft_policies.
const (
	MicrosoftPoliciesRespect = "respect"
	MicrosoftPoliciesIgnore  = "ignore"
)

// RespectMicrosoftPolicies says whether a sweep reads Microsoft's guest
// lifecycle policies and leaves the guests they govern alone.
func (l *Lifecycle) RespectMicrosoftPolicies() bool {
	return l == nil || l.MicrosoftPolicies != MicrosoftPoliciesIgnore
}

// DefaultReenabledHoldDays is how long a guest re-enabled by hand is left
// alone when lifecycle.reenabled_hold_days is not set.
const DefaultReenabledHoldDays = 90

// Stale says which guests are stale; 0 turns a rule off.
type Stale struct {
	NeverRedeemedDays int `yaml:"never_redeemed_days,omitempty"`  // still PendingAcceptance this many days after the invitation
	NoSignInDays      int `yaml:"no_sign_in_days,omitempty"`      // no sign-in (or, never signed in, created) this many days ago
	NewGuestGraceDays int `yaml:"new_guest_grace_days,omitempty"` // guests younger than this are left alone by no_sign_in_days
}

// Exclude names guests a sweep never acts on.
type Exclude struct {
	Users  []string `yaml:"users,omitempty"`  // addresses or object ids
	Groups []string `yaml:"groups,omitempty"` // object ids of groups whose members (nested too) are left alone
	// Attributes leaves alone the guests whose property has the value
	// (companyName: Contoso); directory.CheckExcludable says which
	// properties: the built-in ones, directory extension properties and
	// onPremisesExtensionAttributes/extensionAttributeN.
	Attributes map[string]string `yaml:"attributes,omitempty"`
}

// Cap is the blast-radius cap: a sweep disabling or deleting more guests
// than either bound stops before acting. 0 turns a bound off.
type Cap struct {
	Max      int     `yaml:"max,omitempty"`
	MaxShare float64 `yaml:"max_share,omitempty"` // of all guests, 0 to 1: 0.05 is 5 %
}

// SweepRules returns the rules as the root package decides with them.
func (l *Lifecycle) SweepRules() foyer.SweepRules {
	if l == nil {
		return foyer.SweepRules{}
	}
	hold := DefaultReenabledHoldDays
	if l.ReenabledHoldDays != nil {
		hold = *l.ReenabledHoldDays
	}
	return foyer.SweepRules{
		NeverRedeemedDays: l.Stale.NeverRedeemedDays, NoSignInDays: l.Stale.NoSignInDays,
		NewGuestGraceDays: l.Stale.NewGuestGraceDays,
		Cap:               foyer.SweepCap{Max: l.Cap.Max, MaxShare: l.Cap.MaxShare},
		DeleteAfterDays:   l.DeleteAfterDays, NoticeDays: l.NoticeDays, ReenabledHoldDays: hold,
	}
}

func (c *Config) checkLifecycle(k *checker, at, tenant string, l *Lifecycle) {
	if l == nil {
		return
	}
	at += ".lifecycle"
	for key, n := range map[string]int{"never_redeemed_days": l.Stale.NeverRedeemedDays, "no_sign_in_days": l.Stale.NoSignInDays, "new_guest_grace_days": l.Stale.NewGuestGraceDays} {
		if n < 0 || n > 36500 {
			k.add(at+".stale."+key, "tenant %s: lifecycle.stale.%s must be between 0 (off) and 36500 days", tenant, key)
		}
	}
	days := map[string]int{"delete_after_days": l.DeleteAfterDays, "notice_days": l.NoticeDays}
	if l.ReenabledHoldDays != nil {
		days["reenabled_hold_days"] = *l.ReenabledHoldDays
	}
	for key, n := range days {
		if n < 0 || n > 36500 {
			k.add(at+"."+key, "tenant %s: lifecycle.%s must be between 0 and 36500 days", tenant, key)
		}
	}
	if l.NoticeDays > 0 && c.SMTP == nil {
		k.add(at+".notice_days", "tenant %s: lifecycle.notice_days emails the guests and their sponsors before each action: add an smtp: section to send them with, or set it to 0", tenant)
	}
	for _, name := range slices.Sorted(maps.Keys(l.Exclude.Attributes)) {
		if err := directory.CheckExcludable(name); err != nil {
			k.add(at+".exclude.attributes."+name, "tenant %s: lifecycle.exclude.attributes: %v", tenant, err)
		}
	}
	switch l.MicrosoftPolicies {
	case "", MicrosoftPoliciesRespect, MicrosoftPoliciesIgnore:
	default:
		k.add(at+".microsoft_policies", "tenant %s: lifecycle.microsoft_policies is %s or %s, not %q",
			tenant, MicrosoftPoliciesRespect, MicrosoftPoliciesIgnore, l.MicrosoftPolicies)
	}
	if l.Schedule != "" {
		if _, err := parseSchedule(l.Schedule, l.TimeZone); err != nil {
			where := at + ".schedule"
			if strings.Contains(err.Error(), "time zone") {
				where = at + ".time_zone"
			}
			k.add(where, "tenant %s: lifecycle.%s: %v", tenant, where[len(at)+1:], err)
		}
	} else if l.TimeZone != "" {
		k.add(at+".time_zone", "tenant %s: lifecycle.time_zone without a lifecycle.schedule", tenant)
	}
	if l.Stale.NeverRedeemedDays == 0 && l.Stale.NoSignInDays == 0 {
		k.add(at, "tenant %s: lifecycle has no rule: set stale.never_redeemed_days or stale.no_sign_in_days", tenant)
	}
	if l.Cap.Max < 0 {
		k.add(at+".cap.max", "tenant %s: lifecycle.cap.max may not be negative", tenant)
	}
	if l.Cap.MaxShare < 0 || l.Cap.MaxShare > 1 {
		k.add(at+".cap.max_share", "tenant %s: lifecycle.cap.max_share is a share of all guests between 0 and 1 (0.05 is 5 %%), not %v", tenant, l.Cap.MaxShare)
	}
	for i, u := range l.Exclude.Users {
		u = strings.TrimSpace(u)
		if _, err := foyer.ParseAddress(u); err != nil && !guidPattern.MatchString(u) {
			k.add(fmt.Sprintf("%s.exclude.users[%d]", at, i), "tenant %s: lifecycle.exclude.users: %q is neither an address nor an object id", tenant, u)
		}
	}
	for i, g := range l.Exclude.Groups {
		if !guidPattern.MatchString(strings.TrimSpace(g)) {
			k.add(fmt.Sprintf("%s.exclude.groups[%d]", at, i), "tenant %s: lifecycle.exclude.groups: %q is not a group's object id (a GUID)", tenant, g)
		}
	}
}
