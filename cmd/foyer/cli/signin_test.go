package cli_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestSignInFailuresSayOnceWhatFailed breaks the tenant's configuration the
// ways operators do (a wrong secret, tenant id or client id, a CA that does
// not sign the server's certificate, a tenant that is not running, an app
// without the permission a grant needs) and checks that plan and profiles
// check say so once, in a few lines, naming the cause, the AADSTS code and
// what to fix, without any secret, and before resolving any grant.
func TestSignInFailuresSayOnceWhatFailed(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{})
	other := simtest.Start(t, sim.Options{}) // its CA did not sign s's certificate
	reader, err := s.AddApp(sim.App{DisplayName: "reader", Permissions: []string{"User.Read.All"}})
	if err != nil {
		t.Fatal(err)
	}
	// A port with nothing behind it: a tenant that is not running.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stopped := "https://" + l.Addr().String()
	l.Close()

	const wrongSecret = "wrong-secret-value-7f3a"
	secrets := []string{wrongSecret, s.ClientSecret(), reader.Secret}
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, dir, config string) string // returns the edited configuration
		want []string
	}{
		{"wrong secret", func(t *testing.T, dir, config string) string {
			write(t, filepath.Join(dir, "client-secret"), wrongSecret+"\n")
			return config
		}, []string{"sign-in refused", "AADSTS7000215", "client-secret"}},
		{"wrong tenant id", func(t *testing.T, dir, config string) string {
			return strings.Replace(config, "tenant_id: "+s.TenantID(), "tenant_id: 0c4b2e55-3f2a-4c9e-9d5b-1d2f3a4b5c6d", 1)
		}, []string{"sign-in refused", "AADSTS90002", "tenant_id"}},
		{"wrong client id", func(t *testing.T, dir, config string) string {
			return strings.Replace(config, "client_id: "+s.ClientID(), "client_id: 7d0e4a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b", 1)
		}, []string{"sign-in refused", "AADSTS700016", "client_id"}},
		{"wrong CA", func(t *testing.T, dir, config string) string {
			write(t, filepath.Join(dir, "ca.pem"), string(other.CAPEM()))
			return config
		}, []string{"certificate", "unknown authority", "ca_file"}},
		{"tenant not running", func(t *testing.T, dir, config string) string {
			return strings.ReplaceAll(config, s.URL(), stopped)
		}, []string{"network", "connection refused", strings.TrimPrefix(stopped, "https://")}},
		{"permission missing", func(t *testing.T, dir, config string) string {
			write(t, filepath.Join(dir, "client-secret"), reader.Secret+"\n")
			return strings.Replace(config, "client_id: "+s.ClientID(), "client_id: "+reader.ClientID, 1)
		}, []string{"permission", "GroupMember.Read.All"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path, err := cli.WriteSimFiles(s, dir)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Two grants: a sign-in failure must not be told once per grant.
			config := strings.Replace(string(b), "    - DemoApp\n", "    - DemoApp\n    - Partners\n", 1)
			if config == string(b) {
				t.Fatalf("the sim's configuration has no DemoApp group:\n%s", b)
			}
			write(t, path, tc.edit(t, dir, config))
			csv := filepath.Join(dir, "one.csv")
			write(t, csv, "email\nnew.person@partner.example\n")
			for _, args := range [][]string{
				{"plan", "--config", path, "--profile", "partners", csv},
				{"profiles", "check", "--config", path},
			} {
				code, out, errs := run(t, args...)
				all := strings.TrimSpace(out + errs)
				if code != cli.ExitError {
					t.Errorf("%s: exit %d, want %d\n%s", args[0], code, cli.ExitError, all)
				}
				// Said once: a few lines, none twice. A missing permission
				// is one line for each read that needs one (profiles check
				// reports them all at once), each naming its permission.
				lines := strings.Split(all, "\n")
				if limit := 6 + strings.Count(all, "(needs "); len(lines) >= limit {
					t.Errorf("%s: %d lines, want fewer than %d:\n%s", args[0], len(lines), limit, all)
				}
				seen := map[string]bool{}
				for _, l := range lines {
					if k := strings.TrimSpace(l); k != "" && seen[k] {
						t.Errorf("%s: a line is said twice: %q", args[0], k)
					} else {
						seen[k] = true
					}
				}
				for _, w := range tc.want {
					if !strings.Contains(all, w) {
						t.Errorf("%s: the message does not name %q:\n%s", args[0], w, all)
					}
				}
				for _, sec := range secrets {
					if strings.Contains(all, sec) {
						t.Errorf("%s: a secret is in the output:\n%s", args[0], all)
					}
				}
			}
		})
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
