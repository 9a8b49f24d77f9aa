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
		{"nothing starts it", "  t1: {profile: p, source: a.csv}\n", []string{"neither a schedule nor a webhook"}},
		{"unsigned webhook", "  t1: {profile: p, source: a.csv, webhook: {}}\n", []string{"secret_env or secret_file"}},
		{"unknown key", "  t1: {profile: p, source: a.csv, schedul: '@daily'}\n", []string{`unknown key "schedul"`, `did you mean "schedule"`}},
		{"azblob without storage", "  t1: {profile: p, source: 'azblob://c/b.csv', schedule: '@daily'}\n", []string{"storage: section"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse("foyer.yaml", []byte(serveMinimal+"triggers:\n"+tt.triggers))
			var ps config.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %v (%T) is not Problems", err, err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("error repeats the secret: %s", msg)
			}
		})
	}
}
