package cli_test

import (
	"context"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
)

// TestOutputStreams: stdout holds data only; progress and messages go to
// stderr, in JSON mode too.
func TestOutputStreams(t *testing.T) {
	t.Parallel()
	_, config, csv := tenant(t, sim.Options{})
	code, out, errs := run(t, "apply", "--yes", "--config", config, "--profile", "partners", csv)
	if code != cli.ExitInvalidRows {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, s := range []string{"progress:", "started.", "\r"} {
		if strings.Contains(out, s) {
			t.Errorf("stdout holds %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "Plan: 30 rows") || !strings.Contains(out, "invited        15") {
		t.Errorf("stdout lacks the plan or the results:\n%s", out)
	}
	if !strings.Contains(errs, "progress: 19 of 19 rows done") || !strings.Contains(errs, "started.") {
		t.Errorf("stderr lacks the progress:\n%s", errs)
	}
	_, config, csv = tenant(t, sim.Options{})
	code, out, errs = run(t, "apply", "--yes", "--output", "json", "--config", config, "--profile", "partners", csv)
	decode(t, out)
	if code != cli.ExitInvalidRows || !strings.Contains(errs, "progress: 19 of 19 rows done") {
		t.Errorf("JSON mode: exit %d, stderr:\n%s", code, errs)
	}
}

// TestInterruptedExits130: an apply stopped by its context exits 130 and
// says how to resume; the same apply resumes it.
func TestInterruptedExits130(t *testing.T) {
	t.Parallel()
	s, config, csv := tenant(t, sim.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &hookWriter{trigger: "started.", hook: cancel}
	code, _, errs := runIn(ctx, cli.Env{Args: []string{"apply", "--yes", "--config", config, "--profile", "partners", csv}, Stderr: stderr})
	if code != cli.ExitInterrupted || !strings.Contains(errs, "run the same apply again to resume") {
		t.Fatalf("exit %d, want %d\n%s", code, cli.ExitInterrupted, errs)
	}
	if strings.Contains(errs, "level=ERROR") {
		t.Errorf("an interrupt is no error, but the log says so:\n%s", errs)
	}
	code, out, errs := run(t, "apply", "--yes", "--output", "json", "--config", config, "--profile", "partners", csv)
	if code != cli.ExitInvalidRows || !strings.Contains(errs, "Resuming run") {
		t.Fatalf("resume: exit %d\n%s\n%s", code, errs, out)
	}
	for email, n := range s.Stats().InvitationsByEmail {
		if n != 1 {
			t.Errorf("%s invited %d times", email, n)
		}
	}
}

// TestTableFitsTerminal: on an 80-column terminal no line is longer than
// 80 columns; --wide shows every reason in full.
func TestTableFitsTerminal(t *testing.T) {
	t.Parallel()
	_, config, csv := tenant(t, sim.Options{})
	longest := func(s string) (int, string) {
		n, at := 0, ""
		for _, l := range strings.Split(s, "\n") {
			if c := len([]rune(l)); c > n {
				n, at = c, l
			}
		}
		return n, at
	}
	_, out, errs := runIn(context.Background(), cli.Env{Args: []string{"plan", "--config", config, "--profile", "partners", csv}, Terminal: onTerminal(80)})
	if n, l := longest(out); n > 80 || !strings.Contains(out, "…") {
		t.Errorf("a line of %d columns on an 80-column terminal: %q\n%s%s", n, l, out, errs)
	}
	_, out, _ = runIn(context.Background(), cli.Env{Args: []string{"plan", "--wide", "--config", config, "--profile", "partners", csv}, Terminal: onTerminal(80)})
	if n, _ := longest(out); n <= 80 || strings.Contains(out, "…") || !strings.Contains(out, "the cell holds 2 addresses: put one address per row") {
		t.Errorf("--wide cut something:\n%s", out)
	}
}

// TestPlanEncodingAndEmailColumn: a Windows-1252 file with German headers,
// and a file whose email column foyer cannot name.
func TestPlanEncodingAndEmailColumn(t *testing.T) {
	t.Parallel()
	_, config, _ := tenant(t, sim.Options{})
	dir := t.TempDir()
	german := writeFile(t, dir, "de.csv", "Vorname;Nachname;E-Mail-Adresse;Firma\r\nJ\xfcrgen;M\xfcller;juergen@fabrikam.example;Fabrikam\r\n")
	code, out, errs := run(t, "plan", "--output", "json", "--encoding", "windows-1252", "--config", config, "--profile", "partners", german)
	if d := decode(t, out); code != cli.ExitOK || len(d.Rows) != 1 || d.Rows[0].Action != "invite" {
		t.Errorf("windows-1252: exit %d %s\n%s", code, errs, out)
	}
	code, _, errs = run(t, "plan", "--config", config, "--profile", "partners", german)
	if code != cli.ExitError || !strings.Contains(errs, "--encoding") {
		t.Errorf("without --encoding: exit %d %s", code, errs)
	}
	code, _, errs = run(t, "plan", "--encoding", "klingon", "--config", config, "--profile", "partners", german)
	if code != cli.ExitUsage || !strings.Contains(errs, `unknown encoding "klingon"`) {
		t.Errorf("--encoding klingon: exit %d %s", code, errs)
	}
	odd := writeFile(t, dir, "odd.csv", "Wer,Kontakt\nAna,ana@fabrikam.example\n")
	code, _, errs = run(t, "plan", "--config", config, "--profile", "partners", odd)
	if code != cli.ExitError || !strings.Contains(errs, "--email-column") {
		t.Errorf("no email column: exit %d %s", code, errs)
	}
	for _, col := range []string{"Kontakt", "2"} {
		code, out, errs = run(t, "plan", "--output", "json", "--email-column", col, "--config", config, "--profile", "partners", odd)
		if d := decode(t, out); code != cli.ExitOK || len(d.Rows) != 1 || d.Rows[0].Email != "ana@fabrikam.example" {
			t.Errorf("--email-column %s: exit %d %s\n%s", col, code, errs, out)
		}
	}
}

// TestGrammar: one row is a row.
func TestGrammar(t *testing.T) {
	t.Parallel()
	_, config, _ := tenant(t, sim.Options{})
	one := writeFile(t, t.TempDir(), "one.csv", "email\nana@fabrikam.example\n")
	code, out, errs := run(t, "plan", "--config", config, "--profile", "partners", one)
	if code != cli.ExitOK || !strings.Contains(out, "Plan: 1 row: 1 invite,") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
}
