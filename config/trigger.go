package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Trigger starts runs of a profile from a source without a terminal, in
// foyer serve: on a schedule, from a signed webhook (POST
// /hooks/run/NAME), or both.
type Trigger struct {
	Profile string `yaml:"profile,omitempty"`
	// Source is a path or azblob://container/blob. An https:// SAS URL is
	// a secret: SourceEnv names the variable that holds it.
	Source    string `yaml:"source,omitempty"`
	SourceEnv string `yaml:"source_env,omitempty"`
	// Schedule is a cron expression (minute hour day-of-month month
	// day-of-week, or @daily, @hourly...), in TimeZone (default UTC).
	Schedule string       `yaml:"schedule,omitempty"`
	TimeZone string       `yaml:"time_zone,omitempty"`
	Webhook  *TriggerHook `yaml:"webhook,omitempty"`
}

// TriggerHook says how a trigger's webhook is signed: HMAC-SHA256 with the
// secret the variable or file holds.
type TriggerHook struct {
	SecretEnv  string `yaml:"secret_env,omitempty"`
	SecretFile string `yaml:"secret_file,omitempty"`
}

// TriggerNames returns the triggers' names, sorted.
func (c *Config) TriggerNames() []string {
	names := make([]string, 0, len(c.Triggers))
	for n := range c.Triggers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// TriggerSchedule parses a trigger's schedule in its time zone; nil when
// it has none. The configuration was validated: errors are not expected.
func (t *Trigger) TriggerSchedule() (cron.Schedule, error) {
	if t.Schedule == "" {
		return nil, nil
	}
	return parseSchedule(t.Schedule, t.TimeZone)
}

func parseSchedule(expr, tz string) (cron.Schedule, error) {
	if tz == "" {
		tz = "UTC"
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return nil, fmt.Errorf("time zone %q is not known (an IANA name such as Europe/Paris)", tz)
	}
	if strings.Contains(expr, "TZ=") {
		return nil, fmt.Errorf("give the time zone in time_zone, not in the expression")
	}
	s, err := cron.ParseStandard("CRON_TZ=" + tz + " " + expr)
	if err != nil {
		return nil, fmt.Errorf("%v (want minute hour day-of-month month day-of-week, such as \"30 2 * * *\", or @daily)", err)
	}
	return s, nil
}

func (c *Config) checkTriggers(k *checker) {
	for _, name := range c.TriggerNames() {
		at := "$.triggers." + name
		t := c.Triggers[name]
		if !namePattern.MatchString(name) {
			k.add(at, "trigger name %q: use lowercase letters, digits, - and _", name)
		}
		if t == nil {
			k.add(at, "trigger %s is empty: give it a profile and a source", name)
			continue
		}
		switch _, ok := c.Profiles[t.Profile]; {
		case t.Profile == "":
			k.add(at, "trigger %s has no profile", name)
		case !ok:
			k.add(at+".profile", "trigger %s: profile %q is not in profiles:", name, t.Profile)
		}
		switch {
		case t.Source == "" && t.SourceEnv == "":
			k.add(at, "trigger %s has no source: give source (a path or azblob://container/blob) or source_env (a variable holding an https:// SAS URL)", name)
		case t.Source != "" && t.SourceEnv != "":
			k.add(at+".source_env", "trigger %s: give source or source_env, not both", name)
		case strings.HasPrefix(t.Source, "https://") || strings.HasPrefix(t.Source, "http://"):
			k.add(at+".source", "trigger %s: a URL (a SAS URL carries a secret) goes in the variable source_env names, not in the file", name)
		case t.SourceEnv != "" && !envPattern.MatchString(t.SourceEnv):
			k.add(at+".source_env", "trigger %s: source_env %q is not an environment variable name", name, t.SourceEnv)
		case strings.HasPrefix(t.Source, "azblob://") && c.Storage == nil:
			k.add(at+".source", "trigger %s: an azblob:// source needs the storage: section", name)
		}
		if t.Schedule != "" {
			if _, err := parseSchedule(t.Schedule, t.TimeZone); err != nil {
				where := at + ".schedule"
				if strings.Contains(err.Error(), "time zone") {
					where = at + ".time_zone"
				}
				k.add(where, "trigger %s: %v", name, err)
			}
		} else if t.TimeZone != "" {
			k.add(at+".time_zone", "trigger %s: time_zone without a schedule", name)
		}
		if h := t.Webhook; h != nil {
			switch {
			case h.SecretEnv == "" && h.SecretFile == "":
				k.add(at+".webhook", "trigger %s: the webhook needs secret_env or secret_file (the HMAC-SHA256 signing secret)", name)
			case h.SecretEnv != "" && h.SecretFile != "":
				k.add(at+".webhook", "trigger %s: give secret_env or secret_file, not both", name)
			case h.SecretEnv != "" && !envPattern.MatchString(h.SecretEnv):
				k.add(at+".webhook.secret_env", "trigger %s: secret_env %q is not an environment variable name", name, h.SecretEnv)
			}
		}
		if t.Schedule == "" && t.Webhook == nil {
			k.add(at, "trigger %s has neither a schedule nor a webhook: nothing would start it", name)
		}
	}
	if len(c.Triggers) > 0 && c.Serve == nil {
		k.add("$.triggers", "triggers: start runs in foyer serve: add a serve: section")
	}
}
