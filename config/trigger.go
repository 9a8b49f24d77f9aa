package config

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Trigger starts runs of a profile from a source without a terminal, in
// foyer serve: on a schedule, from a webhook (POST /hooks/run/NAME), from
// Event Grid's BlobCreated events, or when a file lands in a watched
// folder.
type Trigger struct {
	Profile string `yaml:"profile,omitempty"`
	// Source is a path, azblob://container/blob, or a blob prefix
	// azblob://container/prefix/ (a trailing slash: the blobs under it not
	// yet applied). An https:// SAS URL is a secret: SourceEnv names the
	// variable that holds it.
	Source    string `yaml:"source,omitempty"`
	SourceEnv string `yaml:"source_env,omitempty"`
	// Schedule is a cron expression (minute hour day-of-month month
	// day-of-week, or @daily, @hourly...), in TimeZone (default UTC).
	Schedule string       `yaml:"schedule,omitempty"`
	TimeZone string       `yaml:"time_zone,omitempty"`
	Webhook  *TriggerHook `yaml:"webhook,omitempty"`
	// EventGrid: Event Grid's BlobCreated events for blobs under Source
	// (a blob prefix) start runs of those blobs.
	EventGrid bool `yaml:"event_grid,omitempty"`
	// Watch is a folder scanned every WatchInterval (default 30s): a new
	// or replaced file matching Pattern (default *.csv) is applied once
	// it stopped changing.
	Watch         string   `yaml:"watch,omitempty"`
	Pattern       string   `yaml:"pattern,omitempty"`
	WatchInterval Duration `yaml:"watch_interval,omitempty"`
	// CSV are foyer apply's reading options.
	CSV *TriggerCSV `yaml:"csv,omitempty"`
	// MaxSizeMB refuses a larger input (MiB); 0 means 50.
	MaxSizeMB int `yaml:"max_size_mb,omitempty"`
}

// TriggerCSV are the reading options foyer apply takes as flags.
type TriggerCSV struct {
	Encoding    string `yaml:"encoding,omitempty"`     // --encoding
	Delimiter   string `yaml:"delimiter,omitempty"`    // ",", ";" or "tab"; absent: detected
	EmailColumn string `yaml:"email_column,omitempty"` // --email-column
}

// DelimiterRune returns the delimiter as source.Options takes it; 0 when
// it is to be detected.
func (c *TriggerCSV) DelimiterRune() rune {
	if c == nil {
		return 0
	}
	switch c.Delimiter {
	case ",":
		return ','
	case ";":
		return ';'
	case "tab", "\t", `\t`:
		return '\t'
	}
	return 0
}

// DefaultWatchInterval is how often a watched folder is scanned.
const DefaultWatchInterval = 30 * time.Second

// Interval returns the watch interval, with its default.
func (t *Trigger) Interval() time.Duration {
	if t.WatchInterval > 0 {
		return time.Duration(t.WatchInterval)
	}
	return DefaultWatchInterval
}

// TriggerHook says how a trigger's webhook is authenticated: HMAC-SHA256
// with the secret the variable or file holds (preferred), or a key the
// sender gives as Authorization: Bearer (for senders that cannot sign).
type TriggerHook struct {
	SecretEnv  string `yaml:"secret_env,omitempty"`
	SecretFile string `yaml:"secret_file,omitempty"`
	KeyEnv     string `yaml:"key_env,omitempty"`
	KeyFile    string `yaml:"key_file,omitempty"`
}

// EventGrid says how Event Grid's deliveries to /hooks/eventgrid are
// authenticated: a key in the endpoint URL's query (?key=), an Entra
// token for foyer's app, or both accepted.
type EventGrid struct {
	KeyEnv  string `yaml:"key_env,omitempty"`
	KeyFile string `yaml:"key_file,omitempty"`
	// Audience is the app registration Event Grid gets tokens for (its
	// client id or an identifier URI such as api://foyer-events), in
	// serve.tenant; Role the app role the token must carry.
	Audience string `yaml:"audience,omitempty"`
	Role     string `yaml:"role,omitempty"`
}

// DefaultEventGridRole is the app role Azure's documentation has the
// Event Grid service principal assigned for secure webhook delivery.
const DefaultEventGridRole = "AzureEventGridSecureWebhookSubscriber"

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
		case t.Watch != "" && (t.Source != "" || t.SourceEnv != ""):
			k.add(at+".watch", "trigger %s: a watched folder is the trigger's source: leave out source and source_env", name)
		case t.Watch != "":
		case t.Source == "" && t.SourceEnv == "":
			k.add(at, "trigger %s has no source: give source (a path, azblob://container/blob or a prefix azblob://container/prefix/), source_env (a variable holding an https:// SAS URL) or watch (a folder)", name)
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
			case countSet(h.SecretEnv, h.SecretFile, h.KeyEnv, h.KeyFile) == 0:
				k.add(at+".webhook", "trigger %s: the webhook needs secret_env or secret_file (the HMAC-SHA256 signing secret, preferred), or key_env or key_file (a key sent as Authorization: Bearer)", name)
			case countSet(h.SecretEnv, h.SecretFile, h.KeyEnv, h.KeyFile) > 1:
				k.add(at+".webhook", "trigger %s: give one of secret_env, secret_file, key_env or key_file", name)
			case h.SecretEnv != "" && !envPattern.MatchString(h.SecretEnv):
				k.add(at+".webhook.secret_env", "trigger %s: secret_env %q is not an environment variable name", name, h.SecretEnv)
			case h.KeyEnv != "" && !envPattern.MatchString(h.KeyEnv):
				k.add(at+".webhook.key_env", "trigger %s: key_env %q is not an environment variable name", name, h.KeyEnv)
			}
		}
		if t.Schedule == "" && t.Webhook == nil && !t.EventGrid && t.Watch == "" {
			k.add(at, "trigger %s has no schedule, webhook, event_grid or watch: nothing would start it", name)
		}
		c.checkTriggerInputs(k, at, name, t)
	}
	if len(c.Triggers) > 0 && c.Serve == nil {
		k.add("$.triggers", "triggers: start runs in foyer serve: add a serve: section")
	}
	if g := c.EventGrid; g != nil {
		switch {
		case g.KeyEnv == "" && g.KeyFile == "" && g.Audience == "":
			k.add("$.event_grid", "event_grid: give key_env or key_file (the ?key= of the subscription's endpoint URL), or audience (the app Event Grid gets Entra tokens for), or both")
		case g.KeyEnv != "" && g.KeyFile != "":
			k.add("$.event_grid", "event_grid: give key_env or key_file, not both")
		case g.KeyEnv != "" && !envPattern.MatchString(g.KeyEnv):
			k.add("$.event_grid.key_env", "event_grid: key_env %q is not an environment variable name", g.KeyEnv)
		case g.Role != "" && g.Audience == "":
			k.add("$.event_grid.role", "event_grid: role is the app role of an Entra token: give audience too")
		}
		if c.Serve == nil {
			k.add("$.event_grid", "event_grid: Event Grid delivers to foyer serve: add a serve: section")
		}
	}
}

func countSet(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

// checkTriggerInputs checks a trigger's event_grid, watch, csv and size.
func (c *Config) checkTriggerInputs(k *checker, at, name string, t *Trigger) {
	prefix := strings.HasPrefix(t.Source, "azblob://") && strings.HasSuffix(t.Source, "/")
	if container, _, _ := strings.Cut(strings.TrimPrefix(t.Source, "azblob://"), "/"); prefix && container == "" {
		k.add(at+".source", "trigger %s: write a blob prefix as azblob://container/ or azblob://container/prefix/", name)
	}
	if t.EventGrid {
		switch {
		case !prefix:
			k.add(at+".event_grid", "trigger %s: event_grid takes the blobs under a prefix: give source as azblob://container/ or azblob://container/prefix/", name)
		case c.EventGrid == nil:
			k.add(at+".event_grid", "trigger %s: event_grid needs the event_grid: section (how Event Grid's deliveries are authenticated)", name)
		}
	}
	if t.Watch == "" {
		if t.Pattern != "" && !prefix {
			k.add(at+".pattern", "trigger %s: pattern chooses files of a watched folder or blobs under a prefix", name)
		}
		if t.WatchInterval != 0 {
			k.add(at+".watch_interval", "trigger %s: watch_interval without watch", name)
		}
	} else if t.WatchInterval != 0 && (time.Duration(t.WatchInterval) < time.Second || time.Duration(t.WatchInterval) > 24*time.Hour) {
		k.add(at+".watch_interval", "trigger %s: watch_interval %s: want between 1s and 24h", name, time.Duration(t.WatchInterval))
	}
	if t.Pattern != "" {
		if _, err := path.Match(t.Pattern, ""); err != nil || strings.Contains(t.Pattern, "/") {
			k.add(at+".pattern", "trigger %s: pattern %q is not a file name pattern such as *.csv", name, t.Pattern)
		}
	}
	if t.CSV != nil {
		switch t.CSV.Delimiter {
		case "", ",", ";", "tab", "\t", `\t`:
		default:
			k.add(at+".csv.delimiter", "trigger %s: delimiter %q: want \",\", \";\" or tab", name, t.CSV.Delimiter)
		}
	}
	if t.MaxSizeMB < 0 || t.MaxSizeMB > 1024 {
		k.add(at+".max_size_mb", "trigger %s: max_size_mb %d: want between 1 and 1024 (MiB)", name, t.MaxSizeMB)
	}
}
