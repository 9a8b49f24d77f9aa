package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/config"
)

// TestEveryProblemAtOnce: unknown keys at every level (with a did-you-mean
// when one is near), values of the wrong type and bad durations are all
// reported in one go, each with its line, column and field.
func TestEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	const file = `tenants:
  t:
    tenant_idd: 11111111-2222-3333-4444-555555555555
    client_id: 66666666-7777-8888-9999-000000000000
    credential: {type: client_secret, secret_file: s}
pacing:
  concurrency: eight
  lookup_grase: 30s
  invitations_per_minute: [60]
profiles:
  p:
    redirect_url: https://app.example
    groups: 5
    expiry: 30 seconds
    colour: blue
    mail_contact: maybe
tenant: x
`
	want := [][]string{
		{"foyer.yaml:3:5:", `unknown key "tenant_idd" in tenants.t`, `did you mean "tenant_id"?`},
		{"foyer.yaml:7:16:", "pacing.concurrency", "whole number"},
		{"foyer.yaml:8:3:", `unknown key "lookup_grase" in pacing`, `did you mean "lookup_grace"?`},
		{"foyer.yaml:9:27:", "pacing.invitations_per_minute", "whole number"},
		{"foyer.yaml:13:13:", "profiles.p.groups", "a list"},
		{"foyer.yaml:14:13:", "profiles.p.expiry", "how long", "such as"},
		{"foyer.yaml:15:5:", `unknown key "colour" in profiles.p`, "redirect_url"},
		{"foyer.yaml:16:19:", "profiles.p.mail_contact", "true or false"},
		{"foyer.yaml:17:1:", `unknown key "tenant"`, `did you mean "tenants"?`},
	}
	_, err := config.Parse("foyer.yaml", []byte(file))
	var ps config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v (%T) is not Problems", err, err)
	}
	for _, w := range want {
		found := false
		for _, p := range ps {
			s := p.String()
			ok := true
			for _, frag := range w {
				ok = ok && strings.Contains(s, frag)
			}
			found = found || ok
		}
		if !found {
			t.Errorf("no problem with %q in:\n%v", w, err)
		}
	}
	// A section with a broken shape is not judged on top of it: no "tenant_id
	// is missing" beside the misspelt key.
	if len(ps) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(ps), len(want), err)
	}
}

// TestDurationProblems: a duration that cannot be read says what the field
// is for and what to write instead.
func TestDurationProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		yaml string
		want []string
	}{
		{"pacing:\n  lookup_grace: 30\n", []string{"2:17:", "pacing.lookup_grace", "no unit", "looking up", "such as 30s"}},
		{"pacing:\n  lookup_grace: 30 seconds\n", []string{"2:17:", "pacing.lookup_grace", `"30 seconds" is not a duration`, "such as 30s"}},
		{"profiles:\n  p:\n    inactivity: -3d\n", []string{"3:17:", "profiles.p.inactivity", "sign-in", "such as"}},
		{"profiles:\n  p:\n    expiry: [90d]\n", []string{"3:13:", "profiles.p.expiry", "such as 90d"}},
	}
	for _, tt := range tests {
		_, err := config.Parse("foyer.yaml", []byte(tt.yaml))
		if err == nil {
			t.Errorf("%q: accepted", tt.yaml)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error lacks %q:\n%v", tt.yaml, w, err)
			}
		}
	}
}
