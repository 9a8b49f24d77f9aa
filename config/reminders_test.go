package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/config"
)

// TestReminders: a profile's reminders are read into foyer.Profile, and
// bounds outside the sensible are refused with their place.
func TestReminders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string
		after time.Duration
		max   int
		want  string // a problem's text; "" for none
	}{
		{"none", "", 0, 0, ""},
		{"a week, twice", "    reminders: {after: 7d, max: 2}\n", 7 * 24 * time.Hour, 2, ""},
		{"too soon", "    reminders: {after: 10m, max: 2}\n", 0, 0, "reminders.after must be at least 1h"},
		{"no max", "    reminders: {after: 7d}\n", 0, 0, "reminders.max must be 1 to 10"},
		{"too many", "    reminders: {after: 7d, max: 50}\n", 0, 0, "reminders.max must be 1 to 10"},
		{"unreadable", "    reminders: {after: soon, max: 2}\n", 0, 0, "sent again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Parse("foyer.yaml", []byte(minimal+tt.yaml))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one with %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p, _, err := c.Profile("p")
			if err != nil {
				t.Fatal(err)
			}
			if p.Reminders.After != tt.after || p.Reminders.Max != tt.max {
				t.Fatalf("reminders %+v, want after %v max %d", p.Reminders, tt.after, tt.max)
			}
		})
	}
}
