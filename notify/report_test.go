package notify_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func sampleRun() (foyer.Run, []foyer.Row) {
	rows := []foyer.Row{
		{Line: 2, Email: "ann@partner.example", Action: foyer.ActionInvite, Result: foyer.ResultInvited},
		{Line: 3, Email: "bob@partner.example", Action: foyer.ActionExists, Result: foyer.ResultGranted},
		{Line: 4, Raw: "not an address", Action: foyer.ActionInvalid, Reason: "address has no @", Result: foyer.ResultSkipped},
		{Line: 5, Email: "cy@partner.example", Action: foyer.ActionInvite, Result: foyer.ResultFailed, Error: "throttled: retry later"},
		{Line: 6, Raw: "x@", Action: foyer.ActionInvite, Result: foyer.ResultFailed, Reason: "no domain"},
	}
	run := foyer.Run{ID: "run-1", Kind: foyer.RunApply, Profile: "partners", Source: "https://acct.blob.core.windows.net/in/guests.csv?sv=2024&sig=SECRET",
		StartedAt: t0, FinishedAt: t0.Add(2*time.Minute + 13*time.Second)}
	for _, r := range rows {
		run.Summary.Count(r)
	}
	return run, rows
}

func TestNewReport(t *testing.T) {
	t.Parallel()
	run, rows := sampleRun()
	r := notify.NewReport(run, "contoso", rows, "https://foyer.example/runs/run-1")
	if r.Source != "https://acct.blob.core.windows.net/in/guests.csv" {
		t.Errorf("Source = %q, want the URL without its SAS query", r.Source)
	}
	want := []notify.Failure{{5, "cy@partner.example", "throttled: retry later"}, {6, "x@", "no domain"}}
	if fmt.Sprint(r.Failures) != fmt.Sprint(want) {
		t.Errorf("Failures = %v, want %v", r.Failures, want)
	}
	if got := r.Title(); got != "foyer apply on contoso: 2 of 5 rows failed" {
		t.Errorf("Title = %q", got)
	}
	if got := notify.FormatCounts(r.ActionCounts()); got != "invite 3 · exists 1 · invalid 1" {
		t.Errorf("ActionCounts = %q", got)
	}
	if got := notify.FormatCounts(r.ResultCounts()); got != "invited 1 · granted 1 · skipped 1 · failed 2" {
		t.Errorf("ResultCounts = %q", got)
	}
	text := r.Text()
	for _, s := range []string{"Profile: partners", "Tenant: contoso", "Source: guests.csv", "Duration: 2m13s", "Run: run-1",
		"- line 5 cy@partner.example: throttled: retry later", "Details: https://foyer.example/runs/run-1"} {
		if !strings.Contains(text, s) {
			t.Errorf("Text lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "SECRET") {
		t.Errorf("Text shows the SAS signature:\n%s", text)
	}
}

func TestTitle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    notify.Report
		want string
	}{
		{notify.Report{}, "foyer run: no rows"},
		{notify.Report{Kind: foyer.RunRevoke, Summary: foyer.Summary{Rows: 1}}, "foyer revoke: 1 row done"},
		{notify.Report{Kind: foyer.RunApply, Tenant: "a\r\nb", Summary: foyer.Summary{Rows: 3, Results: map[foyer.Result]int{foyer.ResultFailed: 3}}}, "foyer apply on a  b: 3 of 3 rows failed"},
	}
	for _, tt := range tests {
		if got := tt.r.Title(); got != tt.want {
			t.Errorf("Title = %q, want %q", got, tt.want)
		}
	}
}

func TestShown(t *testing.T) {
	t.Parallel()
	r := notify.Report{Summary: foyer.Summary{Results: map[foyer.Result]int{foyer.ResultFailed: 47}}}
	for i := range 47 {
		r.Failures = append(r.Failures, notify.Failure{Line: i + 2, Email: fmt.Sprintf("p%d@x.example", i)})
	}
	shown, more := r.Shown(notify.ShownFailures)
	if len(shown) != 10 || more != 37 || notify.MoreLine(more) != "and 37 more" {
		t.Errorf("Shown = %d, %d more", len(shown), more)
	}
	// A report whose failure list was cut by the caller still counts them all.
	r.Failures = r.Failures[:3]
	if shown, more = r.Shown(10); len(shown) != 3 || more != 44 {
		t.Errorf("Shown of a cut list = %d, %d more", len(shown), more)
	}
}

// TestReportKeepsFewFailures: a run where every row failed costs the report
// KeptFailures rows, and the notifiers still count every failure.
func TestReportKeepsFewFailures(t *testing.T) {
	t.Parallel()
	const n = notify.KeptFailures + 500
	run := foyer.Run{ID: "run-1", Kind: foyer.RunApply}
	r := notify.NewReport(run, "contoso", nil, "")
	for i := range n {
		row := foyer.Row{Line: i + 2, Email: foyer.Address(fmt.Sprintf("p%d@x.example", i)), Action: foyer.ActionInvite,
			Result: foyer.ResultFailed, Error: "blocked"}
		r.Summary.Count(row)
		r.Add(row)
		r.Add(foyer.Row{Line: i + 2, Result: foyer.ResultInvited}) // not a failure: not kept
	}
	if len(r.Failures) != notify.KeptFailures || r.Failures[0].Line != 2 || r.Failures[len(r.Failures)-1].Line != notify.KeptFailures+1 {
		t.Fatalf("kept %d failures, lines %d..%d; want the first %d", len(r.Failures), r.Failures[0].Line,
			r.Failures[len(r.Failures)-1].Line, notify.KeptFailures)
	}
	if shown, more := r.Shown(notify.ShownFailures); len(shown) != notify.ShownFailures || more != n-notify.ShownFailures {
		t.Errorf("Shown = %d, %d more; want %d, %d more", len(shown), more, notify.ShownFailures, n-notify.ShownFailures)
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "unknown", 300 * time.Millisecond: "<1s", 4*time.Second + 400*time.Millisecond: "4s",
		2*time.Minute + 13*time.Second: "2m13s", time.Hour + 2*time.Minute + 20*time.Second: "1h2m",
	} {
		if got := notify.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestSafeSourceAndLink(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/data/in/guests.csv":                             "/data/in/guests.csv",
		"https://user:pw@host.example/a/b.csv?sig=x#frag": "https://host.example/a/b.csv",
		"guests\n.csv":                                    "guests .csv",
		"":                                                "",
	} {
		if got := notify.SafeSource(in); got != want {
			t.Errorf("SafeSource(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"https://foyer.example/runs/1": "https://foyer.example/runs/1",
		"javascript:alert(1)":          "",
		"https://a b":                  "",
		"https://u:p@foyer.example/":   "",
		"/relative":                    "",
		"https://foyer.example/x>y":    "https://foyer.example/x%3Ey",
	} {
		if got := notify.SafeLink(in); got != want {
			t.Errorf("SafeLink(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncateAndOneLine(t *testing.T) {
	t.Parallel()
	if got := notify.Truncate("héllo wörld", 5); got != "héll…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := notify.Truncate("abc", 3); got != "abc" {
		t.Errorf("Truncate = %q", got)
	}
	if got := notify.OneLine(" a\r\nBcc: x\u2028y\x00 "); got != "a  Bcc: x y" {
		t.Errorf("OneLine = %q", got)
	}
}

// TestReportID checks the id receivers drop repeats by: the same for the
// same run and kind, different for any other, and made only of letters,
// digits, '-' and '_' (Standard Webhooks signs "id.timestamp.body", so an
// id must hold no '.').
func TestReportID(t *testing.T) {
	t.Parallel()
	report := func(run string, kind foyer.RunKind) notify.Report {
		return notify.Report{RunID: run, Kind: kind, Summary: foyer.Summary{Rows: 3}}
	}
	uuid := "0f8c2c1e-7d1b-4a3e-9c55-2b7c1d9e4f60"
	if got := report(uuid, foyer.RunApply).ID(); got != "apply_finished_"+uuid {
		t.Errorf("ID = %q", got)
	}
	same := report(uuid, foyer.RunApply)
	same.Summary.Rows, same.FinishedAt = 9, time.Now()
	if same.ID() != report(uuid, foyer.RunApply).ID() {
		t.Errorf("the id depends on more than the run and its kind")
	}
	seen := map[string]notify.Report{}
	for _, r := range []notify.Report{
		report(uuid, foyer.RunApply), report(uuid, foyer.RunRevoke), report("run-0042", foyer.RunApply),
		report("a.b", foyer.RunApply), report("a_2Eb", foyer.RunApply), report("a_b", foyer.RunApply), report("a b", foyer.RunApply),
		report("x", "apply_finished_x"), report("finished_x", "apply"), report("", foyer.RunApply), report("é\r\n", foyer.RunApply),
	} {
		id := r.ID()
		if prev, ok := seen[id]; ok {
			t.Errorf("runs %q/%q and %q/%q share the id %q", prev.RunID, prev.Kind, r.RunID, r.Kind, id)
		}
		seen[id] = r
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Errorf("id %q holds %q", id, c)
			}
		}
	}
}
