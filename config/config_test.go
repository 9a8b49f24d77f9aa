package config_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
)

func TestLoadFull(t *testing.T) {
	t.Parallel()
	c, err := config.Load(context.Background(), "testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.TenantNames(); strings.Join(got, ",") != "contoso,sim" {
		t.Errorf("tenants %v", got)
	}
	if c.Tenants["contoso"].Cloud != "public" {
		t.Errorf("default cloud = %q", c.Tenants["contoso"].Cloud)
	}
	if c.SMTP.Port != 587 || c.SMTP.TLS != "starttls" {
		t.Errorf("smtp defaults: %d %s", c.SMTP.Port, c.SMTP.TLS)
	}
	if got, want := c.Path(c.Ledger.DSN), filepath.Join("testdata", "ledger.db"); got != want {
		t.Errorf("ledger path %q, want %q", got, want)
	}
	p, paths, err := c.Profile("partners")
	if err != nil {
		t.Fatal(err)
	}
	if p.Expiry != 90*24*time.Hour || p.Inactivity != 14*24*time.Hour {
		t.Errorf("durations %v %v", p.Expiry, p.Inactivity)
	}
	kinds := map[foyer.GrantKind]int{}
	for _, g := range p.Grants {
		kinds[g.Kind]++
	}
	want := map[foyer.GrantKind]int{foyer.GrantGroup: 2, foyer.GrantAppRole: 1, foyer.GrantLicense: 1,
		foyer.GrantDirectoryRole: 1, foyer.GrantAzureRole: 1, foyer.GrantAddressBook: 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d grants of kind %s, want %d", kinds[k], k, n)
		}
	}
	if len(paths) != len(p.Grants) {
		t.Fatalf("%d paths for %d grants", len(paths), len(p.Grants))
	}
	if where := c.Where(paths[1]); !strings.HasSuffix(where, "full.yaml:47:23") {
		t.Errorf("second group is at %q, want line 47 column 23", where)
	}
	if _, _, err := c.Profile("nope"); foyer.ErrorCode(err) != foyer.ENOTFOUND {
		t.Errorf("unknown profile: %v", err)
	}
}

const minimal = `tenants:
  t:
    tenant_id: 11111111-2222-3333-4444-555555555555
    client_id: 66666666-7777-8888-9999-000000000000
    credential: {type: client_secret, secret_file: s}
profiles:
  p:
    redirect_url: https://app.example
`

func TestProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string // "line:col: text" fragments, one per expected problem
	}{
		{"minimal is fine", minimal, nil},
		{"unknown key", minimal + "    colour: blue\n", []string{"9:5:", "unknown key \"colour\""}},
		{"syntax", "tenants: [\n", []string{"1:"}},
		{"inline secret", strings.Replace(minimal, "secret_file: s", "secret: hunter2", 1), []string{"5:39:", "secrets are not written"}},
		{"inline webhook url", minimal + "notify:\n  slack: {url: https://hooks.slack.com/services/T/B/X}\n", []string{"10:11:", "url_env or url_file"}},
		{"bad credential and cloud", strings.Replace(strings.Replace(minimal, "type: client_secret", "type: password_manager", 1), "credential:", "cloud: mars\n    credential:", 1),
			[]string{"5:12:", "cloud \"mars\"", "6:24:", "credential type \"password_manager\""}},
		{"profile problems", minimal + "    sender: foyer\n    groups: [A, a]\n    licenses: [{sku: E5}]\n    azure_roles: [{role: Reader, scope: rg1}]\n    deny_domains: [bad_domain]\n    expiry: 90x\n",
			[]string{"14:13:", "\"90x\" is not a duration"}},
		{"profile problems all at once", minimal + "    sender: foyer\n    groups: [A, a]\n    licenses: [{sku: E5}]\n    azure_roles: [{role: Reader, scope: rg1}]\n    deny_domains: [bad_domain]\n",
			[]string{"9:13:", "sender foyer needs an smtp", "10:17:", "listed twice", "11:16:", "usage_location", "12:41:", "must start with /subscriptions/", "13:20:", "has no dot"}},
		{"a domain that is no IDN", minimal + "    allow_domains: ['xn--.example', 'ok.example', 'münchen-.example']\n",
			[]string{"9:21:", "9:51:", "not a valid internationalised domain name"}},
		{"postgres password in dsn", minimal + "ledger: {driver: postgres, dsn: 'postgres://u:pw@h/db'}\n", []string{"dsn_env"}},
		{"no tenant for profile", strings.Replace(minimal, "    redirect_url", "    tenant: other\n    redirect_url", 1), []string{"8:13:", "tenant \"other\" is not in tenants"}},
		{"empty", "{}\n", []string{"no tenants", "no profiles"}},
		{"storage by tenant", minimal + "storage: {account_url: https://acct.blob.core.windows.net/, tenant: t}\n", nil},
		{"storage with a sas", minimal + "storage: {account_url: 'https://acct.blob.core.windows.net/?sig=x', tenant: nope}\n",
			[]string{"without a query", "storage.tenant \"nope\""}},
		{"storage both ways", minimal + "storage: {connection_string_env: CS, tenant: t}\n", []string{"leave account_url and tenant out"}},
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

// TestDomainLists: a profile's domain lists and a tenant's internal domains
// may be written as people write them: any case, an @ in front, and an
// internationalised name, which becomes the ASCII form addresses compare in.
func TestDomainLists(t *testing.T) {
	t.Parallel()
	yaml := strings.Replace(minimal, "    credential:", "    internal_domains: ['@Contoso-Labs.example', 'münchen.example']\n    credential:", 1) +
		"    allow_domains: ['Bücher.example', '@Fabrikam.EXAMPLE']\n    deny_domains: ['例え.example']\n"
	c, err := config.Parse("foyer.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := c.Profile("p")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Allow, " "); got != "xn--bcher-kva.example fabrikam.example" {
		t.Errorf("Allow = %q", got)
	}
	if got := strings.Join(p.Deny, " "); got != "xn--r8jz45g.example" {
		t.Errorf("Deny = %q", got)
	}
	tn, err := c.Tenant("t")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tn.Domains, " "); got != "contoso-labs.example xn--mnchen-3ya.example" {
		t.Errorf("internal domains = %q", got)
	}
	if !foyer.Address("jose@xn--bcher-kva.example").InDomains(p.Allow) {
		t.Error("an address at bücher.example is not in the allow list")
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"": 0, "0": 0, "90d": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour} {
		if got, err := config.ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"d", "-1d", "1.5d", "soon", "-3h"} {
		if _, err := config.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/full.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Add([]byte(serveMinimal))
	f.Add([]byte(minimal + "    public: true\n    questions: [{id: a, label: A, labels: {fr: B}}]\n    approval: {stages: [{approvers: {sponsor: true}, timeout: 1h}]}\n"))
	f.Add([]byte("tenants: {a: {credential: {type: [}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("f.yaml", data)
		if err != nil {
			var ps config.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error %v is not Problems", err)
			}
			return
		}
		for _, name := range c.ProfileNames() {
			if _, _, err := c.Profile(name); err != nil {
				t.Fatalf("valid config, profile %s: %v", name, err)
			}
		}
		if c.Serve == nil {
			return
		}
		s, err := c.ServeSettings()
		if err != nil {
			t.Fatalf("valid config, serve: %v", err)
		}
		if s.Addr == "" || s.PublicURL == "" || s.Admins.Empty() || s.LinkTTL <= 0 || s.PerIPPerMinute <= 0 {
			t.Fatalf("valid config, serve settings without their defaults: %+v", s)
		}
	})
}
