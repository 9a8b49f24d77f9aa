package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/examples"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// tenant starts an emulated tenant and writes its configuration and the
// example guest list into a directory, as `foyer sim --dir` does.
func tenant(t *testing.T, o sim.Options) (s *sim.Server, config, csv string) {
	t.Helper()
	s = simtest.Start(t, o)
	dir := t.TempDir()
	config, err := cli.WriteSimFiles(s, dir)
	if err != nil {
		t.Fatal(err)
	}
	csv = filepath.Join(dir, "guests.csv")
	if err := os.WriteFile(csv, examples.GuestsCSV, 0o644); err != nil {
		t.Fatal(err)
	}
	return s, config, csv
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Run(context.Background(), cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

type doc struct {
	Command string         `json:"command"`
	RunID   string         `json:"run_id"`
	Summary map[string]int `json:"summary"`
	Notices []string       `json:"notices"`
	Rows    []struct {
		Line   int      `json:"line"`
		Email  string   `json:"email"`
		Action string   `json:"action"`
		Reason string   `json:"reason"`
		Result string   `json:"result"`
		UserID string   `json:"user_id"`
		Grants []string `json:"grants"`
		Error  string   `json:"error"`
	} `json:"rows"`
}

func decode(t *testing.T, s string) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("output is not one JSON document: %v\n%s", err, s)
	}
	return d
}

func TestPlanAndApplyJSON(t *testing.T) {
	t.Parallel()
	s, config, csv := tenant(t, sim.Options{})
	// The example list has 6 invalid rows: exit code 4 says so, the
	// summary counts them, and the rest is planned and applied.
	code, out, errs := run(t, "plan", "--config", config, "--profile", "partners", "--output", "json", csv)
	if code != cli.ExitInvalidRows || !strings.Contains(errs, "6 rows of the file are invalid") {
		t.Fatalf("plan exit %d, want %d: %s", code, cli.ExitInvalidRows, errs)
	}
	plan := decode(t, out)
	want := map[string]int{"rows": 30, "invite": 15, "exists": 4, "skip": 3, "duplicate": 2, "invalid": 6}
	for k, v := range want {
		if plan.Summary[k] != v {
			t.Errorf("plan summary %s = %d, want %d (%v)", k, plan.Summary[k], v, plan.Summary)
		}
	}
	if len(plan.Rows) != 30 {
		t.Fatalf("%d rows", len(plan.Rows))
	}
	for _, r := range plan.Rows {
		if r.Line == 0 || r.Action == "" || r.Reason == "" {
			t.Errorf("row without line, action or reason: %+v", r)
		}
		// Grants travel by key; people read their names.
		if r.Action == "invite" && strings.Join(r.Grants, ",") != "group DemoApp" {
			t.Errorf("line %d: grants %q, want [group DemoApp]", r.Line, r.Grants)
		}
	}
	if len(s.Stats().InvitationsByEmail) != 0 {
		t.Fatal("plan invited someone")
	}

	code, out, errs = run(t, "apply", "--config", config, "--profile", "partners", "--output", "json", "--yes", csv)
	if code != cli.ExitInvalidRows {
		t.Fatalf("apply exit %d, want %d: %s\n%s", code, cli.ExitInvalidRows, errs, out)
	}
	applied := decode(t, out)
	if applied.RunID == "" || applied.Summary["invited"] != 15 || applied.Summary["failed"] != 0 || applied.Summary["invalid"] != 6 {
		t.Errorf("apply summary %v, run %q", applied.Summary, applied.RunID)
	}
	for _, r := range applied.Rows {
		if r.Result == "invited" && strings.Join(r.Grants, ",") != "group DemoApp" {
			t.Errorf("line %d: granted %q, want [group DemoApp]", r.Line, r.Grants)
		}
		switch r.Action {
		case "invite", "exists":
			if r.Result == "" || r.Result == "failed" || r.UserID == "" {
				t.Errorf("line %d: result %q user %q error %q", r.Line, r.Result, r.UserID, r.Error)
			}
		default:
			if r.Result != "skipped" {
				t.Errorf("line %d (%s): result %q, want skipped", r.Line, r.Action, r.Result)
			}
		}
	}
	for email, n := range s.Stats().InvitationsByEmail {
		if n != 1 {
			t.Errorf("%s invited %d times", email, n)
		}
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	_, config, csv := tenant(t, sim.Options{})
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("tenants: {}\nprofiles: {}\nbogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown flag", []string{"plan", "--nope"}, cli.ExitUsage, "unknown flag"},
		{"unknown command", []string{"plna"}, cli.ExitUsage, `did you mean "plan"`},
		{"too many arguments", []string{"runs", "show", "a", "b"}, cli.ExitUsage, "accepts 1 arg"},
		{"revoke without profile", []string{"revoke", "--config", config, "a@b.example"}, cli.ExitUsage, "profile"},
		{"missing profile", []string{"plan", "--config", config, csv}, cli.ExitUsage, "profile"},
		{"bad output", []string{"plan", "--config", config, "--profile", "partners", "--output", "xml", csv}, cli.ExitUsage, "--output"},
		{"apply off a terminal without --yes", []string{"apply", "--config", config, "--profile", "partners", csv}, cli.ExitUsage, "--yes"},
		{"bad config", []string{"plan", "--config", bad, "--profile", "partners", csv}, cli.ExitError, "bad.yaml:3:1"},
		{"unknown profile", []string{"plan", "--config", config, "--profile", "nope", csv}, cli.ExitError, "no profile \"nope\""},
		{"missing file", []string{"plan", "--config", config, "--profile", "partners", "/nonexistent.csv"}, cli.ExitError, "no file"},
	}
	for _, tt := range tests {
		code, _, errs := run(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tt.name, code, errs, tt.code, tt.msg)
		}
	}
}

func TestApplyWithFailedRowsExits3(t *testing.T) {
	t.Parallel()
	// The tenant blocks invitations beyond 3 a minute, as Entra's abuse
	// detection does: the rows after are failed, with the reason.
	s, config, csv := tenant(t, sim.Options{InvitesPerMinute: 3})
	code, out, errs := run(t, "apply", "--config", config, "--profile", "partners", "--output", "json", "--yes", csv)
	if code != cli.ExitRowsFail {
		t.Fatalf("exit %d, want %d: %s\n%s", code, cli.ExitRowsFail, errs, out)
	}
	d := decode(t, out)
	if d.Summary["failed"] == 0 || d.Summary["invited"] > 3 {
		t.Errorf("summary %v", d.Summary)
	}
	for _, r := range d.Rows {
		if r.Result == "failed" && !strings.Contains(r.Error, "suspicious activity") {
			t.Errorf("line %d failed with %q", r.Line, r.Error)
		}
	}
	if n := len(s.Stats().InvitationsByEmail); n > 3+d.Summary["failed"] {
		t.Errorf("%d addresses reached the tenant", n)
	}

	// The run can be read back from the ledger, failures and all.
	code, out, errs = run(t, "runs", "show", "--config", config, "--output", "json", d.RunID)
	back := decode(t, out)
	if code != cli.ExitOK || back.RunID != d.RunID || back.Summary["failed"] != d.Summary["failed"] || len(back.Rows) != len(d.Rows) {
		t.Errorf("runs show: exit %d %s: %v, %d rows", code, errs, back.Summary, len(back.Rows))
	}
	code, out, _ = run(t, "runs", "show", "--config", config, d.RunID)
	if code != cli.ExitOK || !strings.Contains(out, "suspicious activity") || !strings.Contains(out, "Run "+d.RunID) {
		t.Errorf("runs show (human): exit %d\n%s", code, out)
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
