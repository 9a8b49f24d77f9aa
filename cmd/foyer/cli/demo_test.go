package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/config"
)

// TestDemo runs the README's first command as a newcomer would.
func TestDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errs := run(t, "demo", "--dir", dir, "--serve-port", "8282")
	if code != cli.ExitOK {
		t.Fatalf("demo: exit %d\n%s\n%s", code, errs, out)
	}
	for _, want := range []string{
		"Plan: 30 rows: 15 invite, 4 exists, 3 skip, 2 duplicate, 6 invalid.",
		"invited        15",
		"Plan: 30 rows: 0 invite, 19 exists, 3 skip, 2 duplicate, 6 invalid.",
		"The tenant counted 15 invitations",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo does not say %q:\n%s", want, out)
		}
	}
	// Its configuration is ready for foyer serve on the port asked for.
	c, err := config.Load(context.Background(), filepath.Join(dir, "foyer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := c.ServeSettings(); err != nil || s.Addr != "127.0.0.1:8282" {
		t.Errorf("serve settings %+v, %v", s, err)
	}
	if p, _, err := c.Profile("requests"); err != nil || !p.Public || len(p.Approval.Stages) != 2 {
		t.Errorf("profile requests %+v, %v", p, err)
	}
	if code, _, errs := run(t, "demo", "--dir", t.TempDir(), "--serve-port", "0"); code != cli.ExitUsage || !strings.Contains(errs, "--serve-port") {
		t.Errorf("--serve-port 0: exit %d, %s", code, errs)
	}
}
