package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/config"
)

// TestExpiryNotice: a profile's expiry_notice is read into foyer.Profile;
// absent, it is 7 days when the profile has an expiry and smtp: is set,
// and none otherwise; one that is negative, without expiry, or not shorter
// than the expiry is refused with its place.
func TestExpiryNotice(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	const smtp = "smtp: {host: smtp.example, from: a@example.com}\n"
	tests := []struct {
		name   string
		yaml   string
		smtp   bool
		expiry time.Duration
		notice time.Duration
		want   string // a problem's text; "" for none
	}{
		{"no expiry", "", true, 0, 0, ""},
		{"expiry, no smtp", "    expiry: 30d\n", false, 30 * day, 0, ""},
		{"expiry, smtp: default", "    expiry: 30d\n", true, 30 * day, config.DefaultExpiryNotice, ""},
		{"explicit", "    expiry: 30d\n    expiry_notice: 3d\n", false, 30 * day, 3 * day, ""},
		{"explicit none", "    expiry: 30d\n    expiry_notice: 0s\n", true, 30 * day, 0, ""},
		{"without expiry", "    expiry_notice: 3d\n", true, 0, 0, "expiry_notice needs expiry"},
		{"too long", "    expiry: 7d\n    expiry_notice: 7d\n", true, 0, 0, "must be shorter than expiry"},
		{"negative", "    expiry: 7d\n    expiry_notice: -1h\n", true, 0, 0, "expiry_notice"},
		{"unreadable", "    expiry: 7d\n    expiry_notice: soon\n", true, 0, 0, "before access ends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := minimal + tt.yaml
			if tt.smtp {
				src = smtp + src
			}
			c, err := config.Parse("foyer.yaml", []byte(src))
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
			if p.Expiry != tt.expiry || p.ExpiryNotice != tt.notice {
				t.Fatalf("expiry %v notice %v, want %v and %v", p.Expiry, p.ExpiryNotice, tt.expiry, tt.notice)
			}
		})
	}
}

// TestExpiresOn: a profile's expires_on is a day, read as 00:00 UTC; it
// brings the default notice like expiry; anything else is refused.
func TestExpiresOn(t *testing.T) {
	t.Parallel()
	c, err := config.Parse("foyer.yaml", []byte("smtp: {host: smtp.example, from: a@example.com}\n"+minimal+"    expires_on: 2027-06-30\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := c.Profile("p")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC); !p.ExpiresOn.Equal(want) || p.ExpiryNotice != config.DefaultExpiryNotice {
		t.Fatalf("expires_on %v notice %v, want %v and the default notice", p.ExpiresOn, p.ExpiryNotice, want)
	}
	for _, bad := range []string{"30/06/2027", "2027-02-30", "soon"} {
		if _, err := config.Parse("foyer.yaml", []byte(minimal+"    expires_on: "+bad+"\n")); err == nil || !strings.Contains(err.Error(), "expires_on") {
			t.Errorf("expires_on %s: %v, want a problem naming expires_on", bad, err)
		}
	}
}

// TestExtensionMax: a profile's extension_max is read into
// foyer.Profile, which falls back to the expiry and then to 90 days; one
// that is negative or set on a profile whose access does not end is
// refused, naming the key.
func TestExtensionMax(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	tests := []struct {
		name string
		yaml string
		max  time.Duration // ExtensionMaxOf
		want string        // a problem's text; "" for none
	}{
		{"set", "    expiry: 30d\n    extension_max: 60d\n", 60 * day, ""},
		{"the expiry", "    expiry: 30d\n", 30 * day, ""},
		{"expires_on only", "    expires_on: 2027-06-30\n", 90 * day, ""},
		{"negative", "    expiry: 30d\n    extension_max: -1d\n", 0, "extension_max: \"-1d\" is negative"},
		{"access does not end", "    extension_max: 10d\n", 0, "extension_max needs expiry or expires_on"},
		{"unreadable", "    expiry: 30d\n    extension_max: later\n", 0, "extension_max"},
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
			if got := p.ExtensionMaxOf(); got != tt.max {
				t.Fatalf("ExtensionMaxOf = %v, want %v", got, tt.max)
			}
		})
	}
}
