package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
)

// A view renders the engine's event stream: for people (a table of rows,
// progress, a summary) or as one JSON document. Both see the same events.
type view interface {
	event(engine.Event)
	// result gives the view one row of a finished run, as the ledger holds
	// it; a finished run's rows come one by one, in line order, after its
	// events.
	result(foyer.Row)
	// close writes whatever the view holds back (the JSON document) and the
	// summary.
	close() error
}

// newView returns the view the --output flag names.
func newView(format string, out io.Writer, cmd string, verbose bool) (view, error) {
	switch format {
	case "", "human", "text":
		return &humanView{w: out, cmd: cmd, tty: isTerminal(out), verbose: verbose}, nil
	case "json":
		return &jsonView{w: out, cmd: cmd}, nil
	default:
		return nil, usageError("--output %q: want human or json", format)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// humanView writes rows as they come and, on a terminal, a progress bar
// that redraws in place; elsewhere, one progress line per heartbeat.
type humanView struct {
	w       io.Writer
	cmd     string
	tty     bool
	verbose bool // plan: every row; apply: every finished row
	started time.Time
	header  bool
	bar     bool // a progress bar is on the screen
	summary *foyer.Summary
	failed  int // rows that failed
	runID   string
	resumed bool
}

const rowFormat = "%6s  %-9s  %-34s  %s\n"

func (v *humanView) row(r foyer.Row, what, detail string) {
	v.clearBar()
	if !v.header {
		fmt.Fprintf(v.w, rowFormat, "line", what, "email", "detail")
		v.header = true
	}
	email := r.Email.String()
	if email == "" {
		email = r.Raw
	}
	fmt.Fprintf(v.w, rowFormat, fmt.Sprint(r.Line), r.Action, clip(email, 34), detail)
}

func (v *humanView) event(ev engine.Event) {
	switch ev.Kind {
	case engine.EventPlanRow:
		r := *ev.Row
		if v.verbose || r.Action != foyer.ActionExists || len(r.Grants) > 0 {
			detail := r.Reason
			if len(r.Grants) > 0 && r.Action == foyer.ActionInvite {
				detail += "; grants: " + strings.Join(r.Grants, ", ")
			} else if len(r.Grants) > 0 {
				detail += ": " + strings.Join(r.Grants, ", ")
			}
			v.row(r, "action", detail)
		}
	case engine.EventPlanned:
		v.summary = ev.Summary
	case engine.EventRunStarted:
		v.runID, v.resumed, v.started = ev.RunID, ev.Resumed, ev.At
		v.clearBar()
		if ev.Resumed {
			fmt.Fprintf(v.w, "Resuming run %s where it stopped.\n", ev.RunID)
		} else {
			fmt.Fprintf(v.w, "Run %s started.\n", ev.RunID)
		}
	case engine.EventRowDone:
		r := *ev.Row
		if r.Result == foyer.ResultFailed {
			v.failed++
		}
		if v.verbose || r.Result == foyer.ResultFailed {
			detail := string(r.Result)
			if r.Error != "" {
				detail += ": " + r.Error
			} else if len(r.Grants) > 0 {
				detail += ": " + strings.Join(r.Grants, ", ")
			}
			v.row(r, "action", detail)
		}
	case engine.EventProgress:
		v.progress(ev)
	case engine.EventRunFinished:
		v.clearBar()
		v.summary = ev.Summary
	case engine.EventNotice:
		v.clearBar()
		fmt.Fprintln(v.w, ev.Message)
	}
}

func (v *humanView) progress(ev engine.Event) {
	rate := ""
	if el := ev.At.Sub(v.started).Seconds(); el > 0 && ev.Done > 0 {
		rate = fmt.Sprintf("  %.1f rows/s", float64(ev.Done)/el)
	}
	if !v.tty {
		fmt.Fprintf(v.w, "progress: %d of %d rows done%s\n", ev.Done, ev.Total, rate)
		return
	}
	const width = 30
	filled := width
	if ev.Total > 0 {
		filled = width * ev.Done / ev.Total
	}
	fmt.Fprintf(v.w, "\r[%s%s] %d/%d%s ", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), ev.Done, ev.Total, rate)
	v.bar = true
}

func (v *humanView) clearBar() {
	if v.bar {
		fmt.Fprint(v.w, "\r\033[K")
		v.bar = false
	}
}

func (v *humanView) result(foyer.Row) {}

func (v *humanView) close() error {
	v.clearBar()
	s := v.summary
	if s == nil {
		return nil
	}
	fmt.Fprintln(v.w)
	if v.cmd != "revoke" {
		var parts []string
		for _, a := range foyer.Actions() {
			parts = append(parts, fmt.Sprintf("%d %s", s.Actions[a], a))
		}
		fmt.Fprintf(v.w, "Plan: %d rows: %s.\n", s.Rows, strings.Join(parts, ", "))
	}
	if v.cmd == "plan" {
		return nil
	}
	fmt.Fprintf(v.w, "\n  %-10s %6s\n", "result", "rows")
	for _, r := range resultsOf(v.cmd) {
		fmt.Fprintf(v.w, "  %-10s %6d\n", r, s.Results[r])
	}
	if v.failed > 0 && v.runID != "" {
		fmt.Fprintf(v.w, "\n%d rows failed; see above, or run: foyer runs show %s\n", v.failed, v.runID)
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// jsonView writes one JSON document. It holds no rows: a plan's are written
// as they are planned and the summary after them; a run's (apply, revoke,
// runs show) are read back from the ledger after its summary. A million rows
// cost no more memory than ten.
type jsonView struct {
	w       io.Writer
	cmd     string
	summary *foyer.Summary
	runID   string
	resumed bool
	notices []string // what the plan said about itself as a whole
	open    bool     // the document and its rows array have been started
	err     error    // the first write that failed; close returns it
}

// printf writes to the document, until a write fails.
func (v *jsonView) printf(format string, args ...any) {
	if v.err == nil {
		_, v.err = fmt.Fprintf(v.w, format, args...)
	}
}

type jsonRow struct {
	Line       int      `json:"line"`
	Email      string   `json:"email"`
	Action     string   `json:"action"`
	Reason     string   `json:"reason"`
	UserID     string   `json:"user_id,omitempty"`
	GuestState string   `json:"guest_state,omitempty"`
	Grants     []string `json:"grants,omitempty"`
	Result     string   `json:"result,omitempty"`
	Error      string   `json:"error,omitempty"`
}

func toJSONRow(r foyer.Row) jsonRow {
	email := r.Email.String()
	if email == "" {
		email = r.Raw
	}
	return jsonRow{Line: r.Line, Email: email, Action: string(r.Action), Reason: r.Reason, UserID: r.UserID,
		GuestState: r.GuestState, Grants: r.Grants, Result: string(r.Result), Error: r.Error}
}

func (v *jsonView) event(ev engine.Event) {
	switch ev.Kind {
	case engine.EventPlanRow:
		if v.cmd == "plan" {
			v.writeRow(*ev.Row)
		}
	case engine.EventPlanned, engine.EventRunFinished:
		v.summary = ev.Summary
	case engine.EventRunStarted:
		v.runID, v.resumed = ev.RunID, ev.Resumed
	case engine.EventNotice:
		v.notices = append(v.notices, ev.Message)
	}
}

// writeNotices writes the notices member, if there are notices.
func (v *jsonView) writeNotices(indent, after string) {
	if len(v.notices) > 0 {
		b, _ := json.Marshal(v.notices)
		v.printf("%s\"notices\": %s%s", indent, b, after)
	}
}

func (v *jsonView) result(r foyer.Row) { v.writeRow(r) }

// writeRow writes a row, starting the document before the first.
func (v *jsonView) writeRow(r foyer.Row) {
	b, _ := json.Marshal(toJSONRow(r))
	if v.open {
		v.printf(",\n    %s", b)
		return
	}
	v.start()
	v.printf("\n    %s", b)
}

// start writes the document's head up to its rows array: the command, and
// for a run its id and summary (known by the time its rows are read).
func (v *jsonView) start() {
	v.printf("{\n  \"command\": %q,\n", v.cmd)
	if v.runID != "" {
		v.printf("  \"run_id\": %q,\n", v.runID)
	}
	if v.resumed {
		v.printf("  \"resumed\": true,\n")
	}
	if v.cmd != "plan" {
		b, _ := json.Marshal(v.summaryMap())
		v.printf("  \"summary\": %s,\n", b)
		v.writeNotices("  ", ",\n")
	}
	v.printf("  \"rows\": [")
	v.open = true
}

func (v *jsonView) close() error {
	if !v.open {
		v.start()
	}
	if v.cmd == "plan" {
		b, _ := json.Marshal(v.summaryMap())
		v.printf("\n  ],\n")
		v.writeNotices("  ", ",\n")
		v.printf("  \"summary\": %s\n}\n", b)
	} else {
		v.printf("\n  ]\n}\n")
	}
	if v.err != nil {
		return fmt.Errorf("write the JSON document: %w", v.err)
	}
	return nil
}

func (v *jsonView) summaryMap() map[string]int {
	m := map[string]int{}
	s := v.summary
	if s == nil {
		return m
	}
	m["rows"] = s.Rows
	for _, a := range foyer.Actions() {
		m[string(a)] = s.Actions[a]
	}
	for _, r := range resultsOf(v.cmd) {
		m[string(r)] = s.Results[r]
	}
	return m
}

// resultsOf lists the results a command's summary counts.
func resultsOf(cmd string) []foyer.Result {
	switch cmd {
	case "apply":
		return []foyer.Result{foyer.ResultInvited, foyer.ResultGranted, foyer.ResultUnchanged, foyer.ResultSkipped, foyer.ResultFailed}
	case "revoke":
		return []foyer.Result{foyer.ResultRevoked, foyer.ResultUnchanged, foyer.ResultFailed}
	}
	return nil
}
