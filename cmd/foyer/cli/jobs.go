package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// jobsNeedingAttention are the states foyer jobs lists by default: jobs
// that failed for good, were stopped, or keep failing.
var jobsNeedingAttention = []string{string(rivertype.JobStateDiscarded), string(rivertype.JobStateRetryable), string(rivertype.JobStateCancelled)}

func newJobs(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List the ledger's background jobs that failed for good or keep failing; retry or discard them",
		Long: `jobs lists the background jobs in the ledger's database (River's jobs: a row
to provision, a report to send, a notice to mail, ...), newest first: its id,
kind, queue, state, attempts, what it belongs to (a run and its line, or a
request), when it last changed and the error of its last attempt.

By default it lists the jobs that need a person: discarded (every attempt
failed), retryable (failed, waiting for its next attempt) and cancelled.
--state all lists every state.

  foyer jobs retry ID...     run them again now (one more attempt if they
                             had none left). Refused for a job that
                             completed, is waiting to run, or whose run row
                             already has a result.
  foyer jobs discard ID...   stop them for good (River's state: cancelled);
                             a running one is asked to stop.

Each retry and discard is written to the audit log.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runJobsList(cmd, env) },
	}
	configFlag(cmd)
	cmd.Flags().StringP("output", "o", "human", "output format: human or json")
	cmd.Flags().StringSlice("state", jobsNeedingAttention, "the states to list, comma-separated, or all: "+strings.Join(jobStateNames(), ", "))
	cmd.Flags().StringSlice("queue", nil, "list only the jobs of these queues")
	cmd.Flags().Int("limit", 50, "how many jobs to list, at most")
	_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions(append(jobStateNames(), "all"), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"human", "json"}, cobra.ShellCompDirectiveNoFileComp))

	retry := &cobra.Command{
		Use:   "retry ID...",
		Short: "Run jobs that were discarded, cancelled or wait for a retry again, now",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJobsAct(cmd, env, args, "retry", store.Queue.RetryJobTx)
		},
	}
	discard := &cobra.Command{
		Use:   "discard ID...",
		Short: "Stop jobs that keep failing, for good",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJobsAct(cmd, env, args, "discard", store.Queue.DiscardJobTx)
		},
	}
	for _, c := range []*cobra.Command{retry, discard} {
		configFlag(c)
		c.Flags().StringP("output", "o", "human", "output format: human or json")
		cmd.AddCommand(c)
	}
	return cmd
}

func jobStateNames() []string {
	var names []string
	for _, s := range rivertype.JobStates() {
		names = append(names, string(s))
	}
	return names
}

// jobJSON is one job in foyer jobs --output json.
type jobJSON struct {
	ID          int64              `json:"id"`
	Kind        string             `json:"kind"`
	Queue       string             `json:"queue"`
	State       rivertype.JobState `json:"state"`
	Attempt     int                `json:"attempt"`
	MaxAttempts int                `json:"max_attempts"`
	LastError   string             `json:"last_error,omitempty"`
	RunID       string             `json:"run_id,omitempty"`
	Line        int                `json:"line,omitempty"`
	RequestID   string             `json:"request_id,omitempty"`
	CreatedAt   time.Time          `json:"created_at"`
	At          time.Time          `json:"at"`
	// Error is, for retry and discard, why the job was left as it was.
	Error string `json:"error,omitempty"`
}

func toJobJSON(j store.Job) jobJSON {
	return jobJSON{ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: j.State, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		LastError: j.LastError, RunID: j.RunID, Line: j.Line, RequestID: j.RequestID, CreatedAt: j.CreatedAt, At: j.At}
}

// outputFormat reads and checks --output.
func outputFormat(cmd *cobra.Command) (string, error) {
	format, _ := cmd.Flags().GetString("output")
	if format != "human" && format != "json" {
		return "", usageError("--output %q: want human or json", format)
	}
	return format, nil
}

// jobFilter reads --state, --queue and --limit.
func jobFilter(cmd *cobra.Command) (store.JobFilter, error) {
	var f store.JobFilter
	states, _ := cmd.Flags().GetStringSlice("state")
	f.Queues, _ = cmd.Flags().GetStringSlice("queue")
	f.Limit, _ = cmd.Flags().GetInt("limit")
	if f.Limit <= 0 {
		return f, usageError("--limit %d: want a number above 0", f.Limit)
	}
	if slices.Contains(states, "all") {
		return f, nil
	}
	known := jobStateNames()
	for _, s := range states {
		s = strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(known, s) {
			return f, usageError("--state %q: want all or one of %s", s, strings.Join(known, ", "))
		}
		f.States = append(f.States, rivertype.JobState(s))
	}
	return f, nil
}

func runJobsList(cmd *cobra.Command, env *Env) error {
	ctx := cmd.Context()
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	f, err := jobFilter(cmd)
	if err != nil {
		return err
	}
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	q, err := ledger.Queue(nil)
	if err != nil {
		return withCode(ExitError, err)
	}
	var jobs []store.Job
	err = ledger.InTx(ctx, func(tx store.Tx) error {
		jobs, err = q.ListJobsTx(ctx, tx, f)
		return err
	})
	if err != nil {
		return withCode(ExitError, fmt.Errorf("list jobs: %w", err))
	}
	if format == "json" {
		out := make([]jobJSON, len(jobs))
		for i, j := range jobs {
			out[i] = toJobJSON(j)
		}
		return writeJSON(env, map[string]any{"jobs": out})
	}
	if len(jobs) == 0 {
		what := "jobs"
		if len(f.States) > 0 {
			var names []string
			for _, s := range f.States {
				names = append(names, string(s))
			}
			what = strings.Join(names, ", ") + " jobs"
		}
		fmt.Fprintf(env.Stdout, "No %s in the ledger.\n", what)
		return nil
	}
	// Columns as wide as their widest cell: a run's id is not cut.
	cells := [][]string{{"id", "kind", "queue", "state", "attempts", "for", "when", "last error"}}
	for _, j := range jobs {
		cells = append(cells, []string{strconv.FormatInt(j.ID, 10), printable(j.Kind), printable(j.Queue), string(j.State),
			fmt.Sprintf("%d/%d", j.Attempt, j.MaxAttempts), printable(jobOwner(j)), j.At.In(time.Local).Format("2006-01-02 15:04"),
			clipCells(printable(oneLine(j.LastError)), 100)})
	}
	widths := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], cellsOf(c))
		}
	}
	for _, row := range cells {
		var b strings.Builder
		for i, c := range row {
			if i < len(row)-1 {
				c = padCells(c, widths[i]+2)
			}
			b.WriteString(c)
		}
		fmt.Fprintln(env.Stdout, strings.TrimRight(b.String(), " "))
	}
	return nil
}

// jobOwner says what a job belongs to, from its arguments.
func jobOwner(j store.Job) string {
	var parts []string
	if j.RunID != "" {
		s := "run " + j.RunID
		if j.Line > 0 {
			s += fmt.Sprintf(" line %d", j.Line)
		}
		parts = append(parts, s)
	}
	if j.RequestID != "" {
		parts = append(parts, "request "+j.RequestID)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// oneLine keeps the first line of an error.
func oneLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func writeJSON(env *Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jobAction is Queue.RetryJobTx or Queue.DiscardJobTx.
type jobAction func(q store.Queue, ctx context.Context, tx store.Tx, id int64) (store.Job, error)

// runJobsAct retries or discards each job named, each in its own
// transaction with its audit entry, and says what became of each. A job
// refused does not stop the others; the exit code is an error if any was.
func runJobsAct(cmd *cobra.Command, env *Env, args []string, verb string, act jobAction) error {
	ctx := cmd.Context()
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	ids := make([]int64, len(args))
	for i, a := range args {
		if ids[i], err = strconv.ParseInt(a, 10, 64); err != nil || ids[i] <= 0 {
			return usageError("%q is not a job id (a number, as foyer jobs lists them)", a)
		}
	}
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	q, err := ledger.Queue(nil)
	if err != nil {
		return withCode(ExitError, err)
	}
	var (
		out    []jobJSON
		failed int
	)
	for _, id := range ids {
		var job store.Job
		var refused error
		err := ledger.InTx(ctx, func(tx store.Tx) error {
			job, refused = act(q, ctx, tx, id)
			switch foyer.ErrorCode(refused) {
			case "":
			case foyer.ENOTFOUND, foyer.ECONFLICT:
				return nil
			default:
				return refused
			}
			return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: "cli:jobs " + verb,
				RunID: job.RunID, RequestID: job.RequestID, Op: verb + " job", Target: fmt.Sprintf("job %d (%s)", job.ID, job.Kind),
				Detail: "now " + string(job.State)})
		})
		if err != nil {
			return withCode(ExitError, fmt.Errorf("%s job %d: %w", verb, id, err))
		}
		j := toJobJSON(job)
		if refused != nil {
			failed++
			j.ID = id
			j.Error = foyer.ErrorMessage(refused)
		}
		out = append(out, j)
		if format == "human" {
			if refused != nil {
				fmt.Fprintf(env.Stderr, "foyer: job %d not %s: %s\n", id, pastTense(verb), foyer.ErrorMessage(refused))
				continue
			}
			fmt.Fprintf(env.Stdout, "Job %d (%s, %s): %s.\n", job.ID, job.Kind, jobOwner(job), job.State)
		}
	}
	if format == "json" {
		if err := writeJSON(env, map[string]any{"jobs": out}); err != nil {
			return err
		}
	}
	if failed > 0 {
		return said(ExitError, "%d of %d jobs not %s", failed, len(ids), pastTense(verb))
	}
	return nil
}

func pastTense(verb string) string {
	if verb == "retry" {
		return "retried"
	}
	return verb + "ed"
}
