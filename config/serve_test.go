package config_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
)

// TestLoadFullServe: the serve: section and a public profile's questions
// and policy come out of the file as foyer serve and the engine use them.
func TestLoadFullServe(t *testing.T) {
	t.Parallel()
	c, err := config.Load(context.Background(), "testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.ServeSettings()
	if err != nil {
		t.Fatal(err)
	}
	want := config.ServeSettings{
		Addr: "0.0.0.0:8443", PublicURL: "https://foyer.contoso.example", Tenant: "contoso", SessionKeyEnv: "FOYER_SESSION_KEY",
		SignInClientID:   "9e10d5f1-3b6e-4f1e-9a55-2f5b1d7c0d5f",
		SignInCredential: config.Credential{Type: config.CredClientSecret, SecretEnv: "FOYER_WEB_SECRET"},
		Admins:           foyer.Approvers{Groups: []string{"2f5b1d7c-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}, Users: []string{"alex@contoso.example"}},
		Approvers:        foyer.Approvers{Roles: []string{"Foyer.Approver"}},
		APIAudience:      "api://foyer", APIRole: "Foyer.Invitations",
		PerIPPerMinute: 60, PerEmailPerHour: 3, PerDomainPerHour: config.DefaultPerDomainPerHour,
		LinkTTL: time.Hour, LifecycleInterval: 15 * time.Minute,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")},
	}
	if diff := diffServe(s, want); diff != "" {
		t.Errorf("ServeSettings: %s", diff)
	}

	p, _, err := c.Profile("partners")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Public || len(p.Questions) != 2 {
		t.Fatalf("public %v, %d questions", p.Public, len(p.Questions))
	}
	q := p.Questions[0]
	if q.ID != "project" || !q.Required || q.LabelFor("fr-CA") != "Projet" || q.LabelFor("de-DE") != "Projekt" || q.LabelFor("it") != "Project" ||
		!slices.Equal(q.Choices, []string{"Apollo", "Gemini"}) || q.MaxLen != 500 {
		t.Errorf("question 1 = %+v", q)
	}
	if p.Questions[1].MaxLen != 40 || p.Questions[1].Required {
		t.Errorf("question 2 = %+v", p.Questions[1])
	}
	pol := p.Approval
	if !slices.Equal(pol.AutoDomains, []string{"fabrikam.example"}) || !pol.Automatic("kim@fabrikam.example") {
		t.Errorf("auto domains %v", pol.AutoDomains)
	}
	if len(pol.Stages) != 2 {
		t.Fatalf("%d stages", len(pol.Stages))
	}
	s1, s2 := pol.Stages[0], pol.Stages[1]
	if s1.Timeout != 72*time.Hour || s1.OnTimeout != foyer.TimeoutEscalate || !s1.Approvers.Sponsor ||
		!slices.Equal(s1.Approvers.Groups, []string{"5b1d7c9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}) ||
		!s1.Alternates.Matches(foyer.Principal{ID: "x", UPN: "Megan@contoso.example"}, "") {
		t.Errorf("stage 1 = %+v", s1)
	}
	if s2.Timeout != foyer.DefaultStageTimeout || s2.OnTimeout != foyer.TimeoutDeny || !slices.Equal(s2.Approvers.Roles, []string{"Foyer.Approver"}) || !s2.Alternates.Empty() {
		t.Errorf("stage 2 = %+v", s2)
	}
	if !slices.Equal(pol.RunApprovers.Groups, []string{"7c9e5b1d-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}) {
		t.Errorf("run approvers %+v", pol.RunApprovers)
	}
}

func diffServe(got, want config.ServeSettings) string {
	var d []string
	check := func(name string, ok bool, g, w any) {
		if !ok {
			d = append(d, name+": got "+fmtAny(g)+", want "+fmtAny(w))
		}
	}
	check("Addr", got.Addr == want.Addr, got.Addr, want.Addr)
	check("PublicURL", got.PublicURL == want.PublicURL, got.PublicURL, want.PublicURL)
	check("Tenant", got.Tenant == want.Tenant, got.Tenant, want.Tenant)
	check("SessionKeyEnv", got.SessionKeyEnv == want.SessionKeyEnv, got.SessionKeyEnv, want.SessionKeyEnv)
	check("SignInClientID", got.SignInClientID == want.SignInClientID, got.SignInClientID, want.SignInClientID)
	check("SignInCredential", got.SignInCredential == want.SignInCredential, got.SignInCredential, want.SignInCredential)
	check("Admins", equalApprovers(got.Admins, want.Admins), got.Admins, want.Admins)
	check("Approvers", equalApprovers(got.Approvers, want.Approvers), got.Approvers, want.Approvers)
	check("API", got.APIAudience == want.APIAudience && got.APIRole == want.APIRole, got.APIAudience+" "+got.APIRole, want.APIAudience+" "+want.APIRole)
	check("limits", got.PerIPPerMinute == want.PerIPPerMinute && got.PerEmailPerHour == want.PerEmailPerHour && got.PerDomainPerHour == want.PerDomainPerHour,
		[]int{got.PerIPPerMinute, got.PerEmailPerHour, got.PerDomainPerHour}, []int{want.PerIPPerMinute, want.PerEmailPerHour, want.PerDomainPerHour})
	check("LinkTTL", got.LinkTTL == want.LinkTTL, got.LinkTTL, want.LinkTTL)
	check("LifecycleInterval", got.LifecycleInterval == want.LifecycleInterval, got.LifecycleInterval, want.LifecycleInterval)
	check("TrustedProxies", slices.Equal(got.TrustedProxies, want.TrustedProxies), got.TrustedProxies, want.TrustedProxies)
	return strings.Join(d, "; ")
}

func equalApprovers(a, b foyer.Approvers) bool {
	return slices.Equal(a.Groups, b.Groups) && slices.Equal(a.Roles, b.Roles) && slices.Equal(a.Users, b.Users) && a.Sponsor == b.Sponsor
}

// serveMinimal is minimal with the smallest serve: section.
const serveMinimal = minimal + `serve:
  access:
    admins: {users: [alex@contoso.example]}
`

// TestServeDefaults: what a serve: section leaves out, and what a file
// without one says to foyer serve.
func TestServeDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Parse("foyer.yaml", []byte(serveMinimal))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.ServeSettings()
	if err != nil {
		t.Fatal(err)
	}
	want := config.ServeSettings{
		Addr: "127.0.0.1:8080", PublicURL: "http://127.0.0.1:8080", Tenant: "t",
		SignInClientID:   "66666666-7777-8888-9999-000000000000",
		SignInCredential: config.Credential{Type: config.CredClientSecret, SecretFile: "s"},
		Admins:           foyer.Approvers{Users: []string{"alex@contoso.example"}},
		PerIPPerMinute:   30, PerEmailPerHour: 5, PerDomainPerHour: 50, LinkTTL: 30 * time.Minute,
		LifecycleInterval: time.Hour,
	}
	if diff := diffServe(s, want); diff != "" {
		t.Errorf("defaults: %s", diff)
	}

	c, err = config.Parse("foyer.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ServeSettings(); foyer.ErrorCode(err) != foyer.EINVALID || !strings.Contains(foyer.ErrorMessage(err), "no serve: section") {
		t.Errorf("no serve section: %v", err)
	}
	p, _, err := c.Profile("p")
	if err != nil {
		t.Fatal(err)
	}
	if p.Public || len(p.Questions) != 0 || len(p.Approval.Stages) != 0 || !p.Approval.RunApprovers.Empty() {
		t.Errorf("a profile without the request page's keys: %+v", p)
	}
}

// TestServeProblems: every rule of the serve: section and of a profile's
// request page keys, each with its place in the file.
func TestServeProblems(t *testing.T) {
	t.Parallel()
	const gid = "2f5b1d7c-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	admins := "  access:\n    admins: {users: [alex@contoso.example]}\n"
	serve := func(lines string) string { return minimal + "serve:\n" + lines }
	public := func(approval string) string { return minimal + "    public: true\n" + approval }
	tests := []struct {
		name string
		yaml string
		want []string // fragments that must all be in the error; nil: no error
	}{
		{"smallest", serveMinimal, nil},
		{"no admin", serve("  addr: 127.0.0.1:9000\n"), []string{"10:7:", "serve.access.admins names nobody"}},
		{"empty admins", serve("  access:\n    admins: {}\n    approvers: {groups: [" + gid + "]}\n"), []string{"serve.access.admins names nobody"}},
		{"addr", serve(admins + "  addr: localhost\n"), []string{"12:9:", "want host:port"}},
		{"addr port", serve(admins + "  addr: 127.0.0.1:http\n"), []string{"12:9:", "port must be a number"}},
		{"addr port range", serve(admins + "  addr: ':70000'\n"), []string{"port must be a number"}},
		{"addr any host", serve(admins + "  addr: ':8080'\n"), nil},
		{"public url relative", serve(admins + "  public_url: /foyer\n"), []string{"12:15:", "absolute http(s) URL"}},
		{"public url scheme", serve(admins + "  public_url: ftp://foyer.example\n"), []string{"absolute http(s) URL"}},
		{"public url query", serve(admins + "  public_url: 'https://foyer.example/?x=1'\n"), []string{"leave out the query and fragment"}},
		{"public url fragment", serve(admins + "  public_url: 'https://foyer.example/#top'\n"), []string{"leave out the query and fragment"}},
		{"public url user", serve(admins + "  public_url: 'https://me:pw@foyer.example/'\n"), []string{"user name or password"}},
		{"public url path", serve(admins + "  public_url: https://example.com/foyer/\n"), nil},
		{"unknown tenant", serve(admins + "  tenant: other\n"), []string{"12:11:", `serve.tenant "other" is not in tenants`}},
		{"tenant that cannot sign in", strings.Replace(serveMinimal, "{type: client_secret, secret_file: s}", "{type: managed_identity}", 1),
			[]string{"serve: tenant t signs in with a managed_identity credential", "add serve.sign_in"}},
		{"sign_in rescues a managed identity", strings.Replace(serveMinimal, "{type: client_secret, secret_file: s}", "{type: managed_identity}", 1) +
			"  sign_in: {client_id: 9e10d5f1-3b6e-4f1e-9a55-2f5b1d7c0d5f, credential: {type: certificate, certificate_file: web.pem}}\n", nil},
		{"sign_in client id", serve(admins + "  sign_in: {client_id: foyer-web, credential: {type: client_secret, secret_env: W}}\n"),
			[]string{"12:24:", "sign_in.client_id must be"}},
		{"sign_in credential type", serve(admins + "  sign_in: {client_id: 9e10d5f1-3b6e-4f1e-9a55-2f5b1d7c0d5f, credential: {type: azure_cli}}\n"),
			[]string{`credential type "azure_cli" cannot sign people in`}},
		{"sign_in secret twice", serve(admins + "  sign_in: {client_id: 9e10d5f1-3b6e-4f1e-9a55-2f5b1d7c0d5f, credential: {type: client_secret, secret_env: W, secret_file: w}}\n"),
			[]string{"exactly one of secret_env or secret_file"}},
		{"sign_in inline secret", serve(admins + "  sign_in: {client_id: 9e10d5f1-3b6e-4f1e-9a55-2f5b1d7c0d5f, credential: {type: client_secret, secret: hunter2}}\n"),
			[]string{"secrets are not written"}},
		{"session key env", serve(admins + "  session_key_env: 'my key'\n"), []string{"12:20:", "not an environment variable name"}},
		{"trusted proxy", serve(admins + "  trusted_proxies: [10.0.0.0/8, proxy.internal]\n"), []string{"trusted_proxies", `"proxy.internal" is neither an address nor a CIDR prefix`}},
		{"groups are ids", serve("  access:\n    admins: {groups: [Foyer Admins]}\n"), []string{"11:23:", `"Foyer Admins" is not a group's object id`}},
		{"a user twice", serve("  access:\n    admins: {users: [a@contoso.example, A@contoso.example]}\n"), []string{"listed twice"}},
		{"sponsor is not access", serve("  access:\n    admins: {users: [a@contoso.example], sponsor: true}\n"), []string{`unknown key "sponsor" in serve.access.admins`}},
		{"api half", serve(admins + "  api: {audience: api://foyer}\n"), []string{"12:8:", "role is missing"}},
		{"limits negative", serve(admins + "  limits: {per_ip_per_minute: -1, per_domain_per_hour: 2000000}\n"),
			[]string{"12:31:", "per_ip_per_minute must be between", "12:56:", "per_domain_per_hour must be between"}},
		{"limits wrong key", serve(admins + "  limits: {per_ip_per_min: 3}\n"), []string{`did you mean "per_ip_per_minute"`}},
		{"link ttl short", serve(admins + "  verification: {link_ttl: 30s}\n"), []string{"12:28:", "link_ttl 30s: want between 1m and 7d"}},
		{"link ttl long", serve(admins + "  verification: {link_ttl: 8d}\n"), []string{"want between 1m and 7d"}},
		{"drain timeout short", serve(admins + "  drain_timeout: 500ms\n"), []string{"serve.drain_timeout 500ms: want between 1s and 1h"}},
		{"drain timeout long", serve(admins + "  drain_timeout: 2h\n"), []string{"want between 1s and 1h"}},
		{"drain timeout unreadable", serve(admins + "  drain_timeout: soon\n"), []string{"jobs under way finish"}},
		{"lifecycle interval short", serve(admins + "  lifecycle_interval: 100ms\n"), []string{"12:23:", "serve.lifecycle_interval 100ms: want between 1s and 24h"}},
		{"lifecycle interval long", serve(admins + "  lifecycle_interval: 2d\n"), []string{"want between 1s and 24h"}},
		{"lifecycle interval unreadable", serve(admins + "  lifecycle_interval: hourly\n"), []string{"syncs redemptions", "such as 1h"}},
		{"link ttl unreadable", serve(admins + "  verification: {link_ttl: soon}\n"), []string{"12:28:", "proves a requester's address", "such as 30m"}},

		{"public without policy", public(""), []string{"9:13:", "is public but has neither", "every request would be rejected"}},
		{"public with an empty policy", public("    approval: {run_approvers: {users: [a@contoso.example]}}\n"), []string{"10:15:", "is public but has neither"}},
		{"public with auto domains", public("    approval: {auto_domains: [fabrikam.example]}\n"), nil},
		{"private without policy", minimal + "    questions: [{id: x, label: X}]\n", nil},
		{"auto domain", public("    approval: {auto_domains: [bad_domain]}\n"), []string{"10:31:", "has no dot"}},
		{"four stages", public("    approval:\n      stages:\n" + strings.Repeat("        - approvers: {sponsor: true}\n", 4)),
			[]string{"15:20:", "4 approval stages; a request goes through at most 3"}},
		{"stage names nobody", public("    approval:\n      stages:\n        - approvers: {}\n          timeout: 1h\n"),
			[]string{"12:22:", "stage 1 approvers name nobody"}},
		{"stage without approvers", public("    approval:\n      stages:\n        - timeout: 1h\n"),
			[]string{"stage 1 approvers name nobody"}},
		{"stage timeout short", public("    approval:\n      stages:\n        - {approvers: {sponsor: true}, timeout: 30s}\n"),
			[]string{"12:49:", "timeout 30s: want between 1m and 365d"}},
		{"stage timeout unreadable", public("    approval:\n      stages:\n        - {approvers: {sponsor: true}, timeout: 3 days}\n"),
			[]string{"12:49:", "how long a stage waits", "such as 72h"}},
		{"escalate without alternates", public("    approval:\n      stages:\n        - {approvers: {sponsor: true}, on_timeout: escalate}\n"),
			[]string{"12:52:", "on_timeout escalate needs alternates"}},
		{"escalate with empty alternates", public("    approval:\n      stages:\n        - {approvers: {sponsor: true}, on_timeout: escalate, alternates: {}}\n"),
			[]string{"on_timeout escalate needs alternates"}},
		{"escalate", public("    approval:\n      stages:\n        - {approvers: {sponsor: true}, on_timeout: escalate, alternates: {users: [b@contoso.example]}}\n"), nil},
		{"on_timeout unknown", public("    approval:\n      stages:\n        - {approvers: {sponsor: true}, on_timeout: approve}\n"),
			[]string{`on_timeout "approve": want deny`}},
		{"stage group name", public("    approval:\n      stages:\n        - {approvers: {groups: [Approvers]}}\n"),
			[]string{"12:33:", "is not a group's object id"}},
		{"run approvers empty", minimal + "    approval: {run_approvers: {}}\n", []string{"run_approvers name nobody"}},
		{"run approvers sponsor", minimal + "    approval: {run_approvers: {sponsor: true}}\n", []string{"a CSV run has no sponsor"}},

		{"question id", minimal + "    questions: [{id: Project, label: P}]\n", []string{"9:22:", `question id "Project"`}},
		{"question id missing", minimal + "    questions: [{label: P}]\n", []string{`question id ""`}},
		{"question id twice", minimal + "    questions: [{id: p, label: P}, {id: p, label: Q}]\n", []string{"9:41:", `question id "p" is used twice`}},
		{"question label", minimal + "    questions: [{id: p, label: ' '}]\n", []string{"9:32:", "question p: label is empty"}},
		{"question label missing", minimal + "    questions: [{id: p}]\n", []string{"question p: label is empty"}},
		{"question translated label", minimal + "    questions: [{id: p, label: P, labels: {fr: ''}}]\n", []string{"label in fr is empty"}},
		{"question language", minimal + "    questions: [{id: p, label: P, labels: {'français': P}}]\n", []string{`"français" is not a language tag`}},
		{"question choices", minimal + "    questions: [{id: p, label: P, choices: [a, '', a]}]\n", []string{"an empty choice", `choice "a" is listed twice`}},
		{"question max_len", minimal + "    questions: [{id: p, label: P, max_len: 100000}]\n", []string{"max_len must be between 1 and 5000"}},
		{"questions at most 20", minimal + "    questions:\n" + strings.Repeat("      - {id: q, label: Q}\n", 21),
			[]string{"21 questions; the request page asks at most 20"}},
		{"question unknown key", minimal + "    questions: [{id: p, label: P, required: yes, hint: x}]\n", []string{`unknown key "hint"`, "required: want true or false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse("foyer.yaml", []byte(tt.yaml))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ps config.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %v (%T) is not Problems", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error repeats the secret: %v", err)
			}
		})
	}
}

// TestServeEveryProblemAtOnce: a serve: section and a public profile with
// many mistakes get them all in one answer.
func TestServeEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	yaml := minimal + `    public: true
    questions: [{id: A, label: ''}]
    approval:
      stages:
        - {approvers: {}, on_timeout: escalate, timeout: 10s}
serve:
  addr: nowhere
  public_url: 'https://x.example/?q'
  access: {}
`
	_, err := config.Parse("foyer.yaml", []byte(yaml))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{"10:22:", "10:32:", "13:23:", "13:39:", "13:58:", "15:9:", "16:15:", "17:11:"} {
		if !strings.Contains(err.Error(), "foyer.yaml:"+w) {
			t.Errorf("no problem at %s in:\n%v", w, err)
		}
	}
}

func fmtAny(v any) string { return fmt.Sprintf("%+v", v) }

// TestDurationRoundTrip: a duration written by foyer (foyer sim writes a
// configuration) reads back as itself.
func TestDurationRoundTrip(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, time.Second, 90 * time.Minute, 72 * time.Hour, 36 * time.Hour, 14 * 24 * time.Hour} {
		out, err := config.Duration(d).MarshalYAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := config.ParseDuration(out.(string))
		if err != nil || back != d {
			t.Errorf("%v written as %q reads back as %v, %v", d, out, back, err)
		}
	}
}
