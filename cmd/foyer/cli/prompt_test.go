package cli_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
)

// TestApplyAsks: the question states the plan's counts and comes on
// stderr, after the plan, before the run.
func TestApplyAsks(t *testing.T) {
	t.Parallel()
	s, config, csv := tenant(t, sim.Options{})
	code, out, errs := runIn(context.Background(), cli.Env{
		Args:     []string{"apply", "--config", config, "--profile", "partners", csv},
		Stdin:    strings.NewReader("yes\n"),
		Terminal: onTerminal(120),
	})
	if code != cli.ExitInvalidRows {
		t.Fatalf("exit %d\n%s\n%s", code, errs, out)
	}
	q := strings.Index(errs, "Apply this plan to tenant contoso: invite 15 people and add missing grants to 3 guests? Only 'yes' goes ahead:")
	started := strings.Index(errs, "started.")
	if q < 0 || started < q {
		t.Errorf("question at %d, run started at %d:\n%s", q, started, errs)
	}
	if !strings.Contains(out, "Plan: 30 rows: 15 invite") || strings.Contains(out, "Only 'yes'") {
		t.Errorf("stdout:\n%s", out)
	}
	if n := len(s.Stats().InvitationsByEmail); n != 15 {
		t.Errorf("%d invited", n)
	}
}

// TestApplyAsksJSON: with --output json the counts go to stderr before the
// question, and stdout holds the JSON document alone.
func TestApplyAsksJSON(t *testing.T) {
	t.Parallel()
	_, config, csv := tenant(t, sim.Options{})
	code, out, errs := runIn(context.Background(), cli.Env{
		Args:     []string{"apply", "--output", "json", "--config", config, "--profile", "partners", csv},
		Stdin:    strings.NewReader("yes\n"),
		Terminal: onTerminal(120),
	})
	if code != cli.ExitInvalidRows {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if d := decode(t, out); d.Summary["invited"] != 15 {
		t.Errorf("summary %v", d.Summary)
	}
	plan, q := strings.Index(errs, "Plan: 30 rows: 15 invite, 4 exists, 3 skip, 2 duplicate, 6 invalid."), strings.Index(errs, "Apply this plan")
	if plan < 0 || q < plan {
		t.Errorf("plan's counts at %d, question at %d:\n%s", plan, q, errs)
	}
	// stderr is a terminal: the progress line is drawn there, JSON or not.
	if !strings.Contains(errs, "\r[") || !strings.Contains(errs, "19/19 rows") {
		t.Errorf("no progress line on the terminal:\n%q", errs)
	}
}

// TestApplyDeclined: any answer but yes applies nothing, with its own exit
// code.
func TestApplyDeclined(t *testing.T) {
	t.Parallel()
	s, config, csv := tenant(t, sim.Options{})
	code, out, errs := runIn(context.Background(), cli.Env{
		Args:  []string{"apply", "--config", config, "--profile", "partners", csv},
		Stdin: strings.NewReader("no\n"), Terminal: onTerminal(120),
	})
	if code != cli.ExitDeclined || !strings.Contains(errs, "Nothing applied.") {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, cli.ExitDeclined, errs, out)
	}
	if n := len(s.Stats().InvitationsByEmail); n != 0 {
		t.Errorf("%d invited after no", n)
	}
	// The plan was recorded, then discarded: it will never run.
	code, out, _ = run(t, "runs", "--output", "json", "--config", config)
	if code != cli.ExitOK || !strings.Contains(out, `"state": "discarded"`) {
		t.Errorf("runs after the answer no: exit %d\n%s", code, out)
	}
}

// TestApplyNothingToDoAsksNothing: a plan that changes nothing is applied
// without a question.
func TestApplyNothingToDoAsksNothing(t *testing.T) {
	t.Parallel()
	_, config, _ := tenant(t, sim.Options{})
	csv := writeFile(t, t.TempDir(), "own.csv", "email\nalex@contoso.example\n")
	code, out, errs := runIn(context.Background(), cli.Env{
		Args:     []string{"apply", "--config", config, "--profile", "partners", csv},
		Terminal: onTerminal(120), // and no answer on stdin
	})
	if code != cli.ExitOK || strings.Contains(out+errs, "Only 'yes'") || !strings.Contains(errs, "Nothing to change in tenant contoso") {
		t.Fatalf("exit %d\n%s\n%s", code, errs, out)
	}
}

// TestApplyStdinAnswersFromTerminal: with the guest list on standard input,
// the answer comes from the terminal, never from the list.
func TestApplyStdinAnswersFromTerminal(t *testing.T) {
	t.Parallel()
	s, config, _ := tenant(t, sim.Options{})
	list := "email\nana@fabrikam.example\nyes\n"
	tests := []struct {
		name   string
		tty    func() (io.ReadCloser, error)
		code   int
		invite int
		errs   string
	}{
		{"no terminal", func() (io.ReadCloser, error) { return nil, errors.New("no tty") }, cli.ExitUsage, 0, "standard input"},
		{"the terminal says no", func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("no\n")), nil }, cli.ExitDeclined, 0, "Nothing applied."},
		{"the terminal says yes", func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("yes\n")), nil }, cli.ExitInvalidRows, 1, "Apply this plan"},
	}
	for _, tt := range tests {
		code, out, errs := runIn(context.Background(), cli.Env{
			Args:  []string{"apply", "--config", config, "--profile", "partners", "-"},
			Stdin: strings.NewReader(list), OpenTerminal: tt.tty,
		})
		if code != tt.code || !strings.Contains(errs, tt.errs) {
			t.Errorf("%s: exit %d, want %d and %q\n%s\n%s", tt.name, code, tt.code, tt.errs, errs, out)
		}
		if n := len(s.Stats().InvitationsByEmail); n != tt.invite {
			t.Fatalf("%s: %d invited, want %d", tt.name, n, tt.invite)
		}
	}
}
