package cli_test

import (
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
)

// TestDemo runs the README's first command as a newcomer would.
func TestDemo(t *testing.T) {
	t.Parallel()
	code, out, errs := run(t, "demo", "--dir", t.TempDir())
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
}
