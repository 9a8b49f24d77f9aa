//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
)

// TestConfigWarnings: the configuration's warnings (here: a file anyone may
// change) reach stderr once, and the command goes on.
func TestConfigWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "foyer.yaml")
	data := `tenants:
  t:
    tenant_id: 11111111-2222-3333-4444-555555555555
    client_id: 66666666-7777-8888-9999-000000000000
    credential: {type: client_secret, secret_env: FOYER_SECRET}
profiles:
  p:
    redirect_url: https://app.example
`
	if err := os.WriteFile(conf, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(conf, 0o666); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, "runs", "show", "--config", conf, "no-such-run")
	if code != cli.ExitError || !strings.Contains(errs, "no-such-run") {
		t.Errorf("exit %d, stderr %q: want the command to run on to the missing run", code, errs)
	}
	if n := strings.Count(errs, "chmod go-w "+conf); n != 1 {
		t.Errorf("the warning appears %d times, want once:\n%s", n, errs)
	}
}
