package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/config"
)

// TestTriggers: a trigger's schedule is read in its time zone, and every
// problem of the triggers: section comes with its line and column.
func TestTriggers(t *testing.T) {
	t.Parallel()
	good := serveMinimal + `triggers:
  nightly:
    profile: p
    source: /srv/drop/partners.csv
    schedule: "30 2 * * *"
    time_zone: Europe/Paris
  hook:
    profile: p
    source_env: PARTNERS_SAS_URL
    webhook: {secret_env: HOOK_SECRET}
`
	c, err := config.Parse("foyer.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Triggers["nightly"].TriggerSchedule()
	if err != nil {
		t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	from := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	if got, want := s.Next(from), time.Date(2026, 7, 2, 2, 30, 0, 0, paris); !got.Equal(want) {
		t.Errorf("next firing after %s = %s, want %s (Paris time)", from, got, want)
	}
	if s, err := c.Triggers["hook"].TriggerSchedule(); s != nil || err != nil {
		t.Errorf("a webhook-only trigger's schedule = %v, %v; want none", s, err)
	}

	tests := []struct {
		name, triggers string
		want           []string
	}{
		{"bad cron", "  t1: {profile: p, source: a.csv, schedule: '61 * * * *'}\n", []string{"foyer.yaml:13:45:", "minute hour"}},
		{"bad zone", "  t1: {profile: p, source: a.csv, schedule: '@daily', time_zone: Mars/Olympus}\n", []string{"foyer.yaml:13:66:", "Mars/Olympus"}},
		{"unknown profile", "  t1: {profile: q, source: a.csv, schedule: '@daily'}\n", []string{"foyer.yaml:13:17:", `profile "q"`}},
		{"sas in the file", "  t1: {profile: p, source: 'https://a.blob.core.windows.net/c/b.csv?sig=hunter2', schedule: '@daily'}\n", []string{"source_env"}},
		{"no source", "  t1: {profile: p, schedule: '@daily'}\n", []string{"has no source"}},
		{"unsigned webhook", "  t1: {profile: p, source: a.csv, webhook: {}}\n", []string{"secret_env or secret_file"}},
		{"unknown key", "  t1: {profile: p, source: a.csv, schedul: '@daily'}\n", []string{`unknown key "schedul"`, `did you mean "schedule"`}},
		{"azblob without storage", "  t1: {profile: p, source: 'azblob://c/b.csv', schedule: '@daily'}\n", []string{"storage: section"}},
		{"nothing starts it", "  t1: {profile: p, source: a.csv}\n", []string{"no schedule, webhook, event_grid or watch"}},
		{"two webhook credentials", "  t1: {profile: p, source: a.csv, webhook: {secret_env: A, key_env: B}}\n", []string{"13:44:", "one of secret_env, secret_file, key_env or key_file"}},
		{"bad key_env", "  t1: {profile: p, source: a.csv, webhook: {key_env: 'a b'}}\n", []string{"key_env \"a b\" is not an environment variable name"}},
		{"event_grid of one blob", "  t1: {profile: p, source: 'azblob://c/b.csv', event_grid: true}\n", []string{"13:60:", "event_grid takes the blobs under a prefix"}},
		{"event_grid without its section", "  t1: {profile: p, source: 'azblob://c/', event_grid: true}\n", []string{"event_grid needs the event_grid: section"}},
		{"empty container", "  t1: {profile: p, source: 'azblob:///', schedule: '@daily'}\n", []string{"write a blob prefix as"}},
		{"watch and source", "  t1: {profile: p, source: a.csv, watch: /srv/drop}\n", []string{"leave out source"}},
		{"watch interval short", "  t1: {profile: p, watch: /srv/drop, watch_interval: 10ms}\n", []string{"want between 1s and 24h"}},
		{"watch interval without watch", "  t1: {profile: p, source: a.csv, schedule: '@daily', watch_interval: 1m}\n", []string{"watch_interval without watch"}},
		{"bad pattern", "  t1: {profile: p, watch: /srv/drop, pattern: 'a/[.csv'}\n", []string{"not a file name pattern"}},
		{"pattern of one file", "  t1: {profile: p, source: a.csv, schedule: '@daily', pattern: '*.csv'}\n", []string{"pattern chooses files"}},
		{"delimiter", "  t1: {profile: p, source: a.csv, schedule: '@daily', csv: {delimiter: '|'}}\n", []string{"delimiter \"|\""}},
		{"size", "  t1: {profile: p, source: a.csv, schedule: '@daily', max_size_mb: 5000}\n", []string{"max_size_mb 5000"}},
		{"csv unknown key", "  t1: {profile: p, source: a.csv, schedule: '@daily', csv: {email: Mail}}\n", []string{`unknown key "email"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse("foyer.yaml", []byte(serveMinimal+"triggers:\n"+tt.triggers))
			checkProblems(t, err, tt.want)
		})
	}
}

func checkProblems(t *testing.T, err error, want []string) {
	t.Helper()
	var ps config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v (%T) is not Problems", err, err)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
	if strings.Contains(msg, "hunter2") {
		t.Errorf("error repeats the secret: %s", msg)
	}
}

// TestTriggerInputs: a blob prefix with Event Grid, a watched folder, CSV
// options, a keyed webhook; and the event_grid: section's problems.
func TestTriggerInputs(t *testing.T) {
	t.Parallel()
	good := serveMinimal + `storage: {account_url: 'https://acct.blob.core.windows.net/', tenant: t}
event_grid: {key_env: EG_KEY, audience: api://foyer-events}
triggers:
  drops:
    profile: p
    source: azblob://guest-lists/partners/
    event_grid: true
    schedule: '@hourly'
    csv: {encoding: windows-1252, delimiter: ';', email_column: Mail}
    max_size_mb: 10
  share:
    profile: p
    watch: /srv/drop
    watch_interval: 1m
  flow:
    profile: p
    source: /srv/flow.csv
    webhook: {key_env: FLOW_KEY}
`
	c, err := config.Parse("foyer.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Triggers["drops"]
	if !d.EventGrid || d.CSV.DelimiterRune() != ';' || d.CSV.EmailColumn != "Mail" || d.MaxSizeMB != 10 {
		t.Errorf("drops = %+v, csv %+v", d, d.CSV)
	}
	if s := c.Triggers["share"]; s.Interval() != time.Minute || s.Pattern != "" {
		t.Errorf("share = %+v", s)
	}
	if got := (&config.Trigger{}).Interval(); got != config.DefaultWatchInterval {
		t.Errorf("default interval %s", got)
	}
	if c.Triggers["flow"].Webhook.KeyEnv != "FLOW_KEY" || c.EventGrid.Audience != "api://foyer-events" {
		t.Errorf("flow %+v, event grid %+v", c.Triggers["flow"].Webhook, c.EventGrid)
	}
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"no credential", serveMinimal + "event_grid: {role: r}\n", []string{"12:13:", "give key_env or key_file"}},
		{"two keys", serveMinimal + "event_grid: {key_env: A, key_file: b}\n", []string{"not both"}},
		{"role without audience", serveMinimal + "event_grid: {key_env: A, role: r}\n", []string{"give audience too"}},
		{"without serve", minimal + "event_grid: {key_env: A}\n", []string{"add a serve: section"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse("foyer.yaml", []byte(tt.yaml))
			checkProblems(t, err, tt.want)
		})
	}
}
