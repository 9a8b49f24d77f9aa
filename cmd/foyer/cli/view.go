package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
)

// A view renders the engine's event stream: for people (a table of rows
// and a summary) or as one JSON document. Both see the same events. Data
// (the table, the summary, the document) goes to stdout; progress and
// messages go to stderr through the view's status, so that stdout can be
// redirected or piped and still hold only data.
type view interface {
	event(engine.Event)
	// result gives the view one row of a finished run, as the ledger holds
	// it; a finished run's rows come one by one, in line order, after its
	// events.
	result(foyer.Row)
	// close writes whatever the view holds back (the JSON document) and the
	// summary.
	close() error
	// status is where progress and messages go.
	status() *status
}

// viewOptions are the flags that shape a view.
type viewOptions struct {
	format  string // --output: human or json
	cmd     string // plan, apply, revoke
	verbose bool   // plan: every row; apply: every finished row
	wide    bool   // never clip the table to the terminal
}

// newView returns the view the --output flag names.
func newView(env *Env, o viewOptions) (view, error) {
	errTTY, errWidth := env.Terminal(env.Stderr)
	st := &status{w: env.Stderr, tty: errTTY, width: errWidth}
	switch o.format {
	case "", "human", "text":
		width := 0 // off a terminal, nothing is clipped
		if ok, w := env.Terminal(env.Stdout); ok && !o.wide {
			width = w
			if width <= 0 {
				width = 80
			}
		}
		return &humanView{w: env.Stdout, st: st, cmd: o.cmd, verbose: o.verbose, table: newTable(env.Stdout, width), program: env.program()}, nil
	case "json":
		return &jsonView{w: env.Stdout, st: st, cmd: o.cmd, program: env.program()}, nil
	default:
		return nil, usageError("--output %q: want human or json", o.format)
	}
}

// humanView writes rows as they come, then a summary.
type humanView struct {
	w       io.Writer
	st      *status
	cmd     string
	verbose bool // plan: every row; apply: every finished row
	table   *table
	program string
	summary *foyer.Summary
	planned bool // the plan's line is on the screen
	failed  int  // rows that failed
	runID   string
}

func (v *humanView) status() *status { return v.st }

func (v *humanView) row(r foyer.Row, detail string) {
	v.st.clear()
	email := r.Email.String()
	if email == "" {
		email = r.Raw
	}
	v.table.row(fmt.Sprint(r.Line), string(r.Action), email, detail)
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
			v.row(r, detail)
		}
	case engine.EventPlanned:
		v.summary, v.planned = ev.Summary, true
		v.st.clear()
		fmt.Fprintf(v.w, "\n%s\n", planLine(*ev.Summary))
	case engine.EventRunStarted:
		v.runID = ev.RunID
		v.st.runStarted(ev)
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
			v.row(r, detail)
		}
	case engine.EventProgress:
		v.st.progress(ev)
	case engine.EventRunFinished:
		v.st.clear()
		v.summary = ev.Summary
	case engine.EventNotice:
		v.st.say("%s", ev.Message)
	case engine.EventSaved:
		fmt.Fprintf(v.w, "\nSaved as run %s. Apply it with: %s apply %s\n", ev.RunID, v.program, ev.RunID)
	}
}

// planLine is a plan's counts in one sentence.
func planLine(s foyer.Summary) string {
	var parts []string
	for _, a := range foyer.Actions() {
		parts = append(parts, fmt.Sprintf("%d %s", s.Actions[a], a))
	}
	return fmt.Sprintf("Plan: %s: %s.", plural(s.Rows, "row", "rows"), strings.Join(parts, ", "))
}

func (v *humanView) result(foyer.Row) {}

func (v *humanView) close() error {
	v.st.clear()
	s := v.summary
	if s == nil || v.cmd == "plan" {
		return nil
	}
	if v.cmd == "apply" && !v.planned {
		// A resumed run, or one read back from the ledger: its plan was
		// shown by the apply that recorded it.
		fmt.Fprintf(v.w, "\n%s\n", planLine(*s))
	}
	fmt.Fprintf(v.w, "\n  %-10s %6s\n", "result", "rows")
	for _, r := range resultsOf(v.cmd) {
		fmt.Fprintf(v.w, "  %-10s %6d\n", r, s.Results[r])
	}
	if v.runID != "" {
		fmt.Fprintf(v.w, "\nRun %s finished.\n", v.runID)
	}
	if v.failed > 0 && v.runID != "" {
		what := plural(v.failed, "row", "rows")
		if v.cmd == "revoke" {
			what = plural(v.failed, "person", "people")
		}
		fmt.Fprintf(v.w, "%s failed; see above, or run: %s runs show %s\n", what, v.program, v.runID)
	}
	return nil
}

// jsonView writes one JSON document. It holds no rows: a plan's are written
// as they are planned and the summary after them; a run's (apply, revoke,
// runs show) are read back from the ledger after its summary. A million rows
// cost no more memory than ten.
type jsonView struct {
	w       io.Writer
	st      *status
	cmd     string
	program string
	summary *foyer.Summary
	runID   string
	resumed bool
	notices []string // what the plan said about itself as a whole
	open    bool     // the document and its rows array have been started
	err     error    // the first write that failed; close returns it
}

func (v *jsonView) status() *status { return v.st }

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
		v.st.clear()
		v.summary = ev.Summary
	case engine.EventRunStarted:
		v.runID, v.resumed = ev.RunID, ev.Resumed
		v.st.runStarted(ev)
	case engine.EventSaved:
		v.runID = ev.RunID
		v.st.say("Saved as run %s. Apply it with: %s apply %s", ev.RunID, v.program, ev.RunID)
	case engine.EventProgress:
		v.st.progress(ev)
	case engine.EventNotice:
		v.st.say("%s", ev.Message)
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
	v.st.clear()
	if !v.open {
		v.start()
	}
	if v.cmd == "plan" {
		b, _ := json.Marshal(v.summaryMap())
		v.printf("\n  ],\n")
		v.writeNotices("  ", ",\n")
		if v.runID != "" { // plan --save
			v.printf("  \"run_id\": %q,\n", v.runID)
		}
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
	actions := foyer.Actions()
	if v.cmd == string(foyer.RunSweep) {
		actions = sweepRowActions
	}
	for _, a := range actions {
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
	case string(foyer.RunSweep):
		return []foyer.Result{foyer.ResultDisabled, foyer.ResultDeleted, foyer.ResultNotified, foyer.ResultUnchanged, foyer.ResultSkipped, foyer.ResultFailed}
	}
	return nil
}

// sweepRowActions are the actions of a sweep run's rows (a hold is skip).
var sweepRowActions = []foyer.Action{foyer.ActionNoticeDisable, foyer.ActionDisable, foyer.ActionNoticeDelete, foyer.ActionDelete, foyer.ActionSkip}

// plural writes n with the word for one or for many: "1 row", "2 rows".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
