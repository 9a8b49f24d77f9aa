package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
)

// TestSavedPlanAppliedOnce: plan --save records a plan and prints its id;
// apply RUN-ID applies exactly that plan (the people invited are its invite
// rows, counted by the tenant); applying it again does nothing and says so;
// foyer runs lists the runs, newest first, with their states.
func TestSavedPlanAppliedOnce(t *testing.T) {
	t.Parallel()
	s, config, csv := tenant(t, sim.Options{})
	code, out, errs := run(t, "plan", "--save", "--output", "json", "--config", config, "--profile", "partners", csv)
	if code != cli.ExitInvalidRows {
		t.Fatalf("plan --save: exit %d: %s\n%s", code, errs, out)
	}
	saved := decode(t, out)
	if saved.RunID == "" || saved.Summary["invite"] != 15 || !strings.Contains(errs, "apply "+saved.RunID) {
		t.Fatalf("plan --save: run %q, summary %v; stderr:\n%s", saved.RunID, saved.Summary, errs)
	}
	want := map[string]bool{}
	for _, r := range saved.Rows {
		if r.Action == "invite" {
			want[strings.ToLower(r.Email)] = true
		}
	}
	if n := len(s.Stats().InvitationsByEmail); n != 0 {
		t.Fatalf("plan --save invited %d people", n)
	}

	// Another file is applied meanwhile: one more run in the ledger.
	other := writeFile(t, filepath.Dir(csv), "other.csv", "email\nsomeone.else@partner.example\n")
	if code, out, errs = run(t, "apply", "--yes", "--config", config, "--profile", "partners", other); code != cli.ExitOK {
		t.Fatalf("apply of another file: exit %d: %s\n%s", code, errs, out)
	}

	// A prefix of the id is enough.
	code, out, errs = run(t, "apply", "--yes", "--output", "json", "--config", config, saved.RunID[:8])
	if code != cli.ExitInvalidRows {
		t.Fatalf("apply RUN-ID: exit %d: %s\n%s", code, errs, out)
	}
	applied := decode(t, out)
	if applied.RunID != saved.RunID || applied.Summary["invited"] != 15 {
		t.Errorf("apply RUN-ID: run %s, summary %v; want run %s with its 15 invitations", applied.RunID, applied.Summary, saved.RunID)
	}
	got := s.Stats().InvitationsByEmail
	for email := range want {
		if got[email] != 1 {
			t.Errorf("%s, an invite row of the saved plan, was invited %d times", email, got[email])
		}
	}
	if len(got) != len(want)+1 {
		t.Errorf("%d addresses invited; want the saved plan's %d and the other file's one", len(got), len(want))
	}

	code, out, errs = run(t, "apply", "--yes", "--config", config, saved.RunID)
	if code != cli.ExitOK || !strings.Contains(errs, "applied already") {
		t.Errorf("apply RUN-ID again: exit %d: %s\n%s", code, errs, out)
	}
	if n := len(s.Stats().InvitationsByEmail); n != len(want)+1 {
		t.Errorf("applying the run again invited %d new people", n-len(want)-1)
	}
	if code, _, errs = run(t, "apply", "--yes", "--config", config, "--profile", "vendors", saved.RunID); code != cli.ExitUsage {
		t.Errorf("apply RUN-ID with another profile: exit %d: %s", code, errs)
	}

	code, out, errs = run(t, "runs", "--output", "json", "--config", config)
	if code != cli.ExitOK {
		t.Fatalf("runs: exit %d: %s", code, errs)
	}
	var list struct {
		Runs []struct {
			ID     string `json:"run_id"`
			State  string `json:"state"`
			Source string `json:"source"`
			Saved  bool   `json:"saved"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("runs --output json: %v\n%s", err, out)
	}
	if len(list.Runs) != 2 || list.Runs[1].ID != saved.RunID || !list.Runs[1].Saved || list.Runs[0].State != "finished" || list.Runs[1].State != "finished" {
		t.Errorf("runs: %+v; want the other apply, then the saved plan, both finished", list.Runs)
	}
	code, out, _ = run(t, "runs", "--config", config)
	if code != cli.ExitOK || !strings.Contains(out, saved.RunID) || !strings.Contains(out, "finished") {
		t.Errorf("runs (human): exit %d\n%s", code, out)
	}
}
