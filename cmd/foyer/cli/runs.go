package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/store"
)

func newRuns(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the runs recorded in the ledger, newest first; runs show RUN-ID for one",
		Long: `runs lists the runs recorded in the ledger, newest first: applies and
revokes, saved plans waiting to be applied, plans that were discarded. For
each: its id, kind, profile, input, state, counts and when it started.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRunsList(cmd, env) },
	}
	configFlag(cmd)
	cmd.Flags().StringP("output", "o", "human", "output format: human or json")
	cmd.Flags().Int("limit", 20, "how many runs to list (0: all)")
	show := &cobra.Command{
		Use:   "show RUN-ID",
		Short: "Show a run's rows and their results, from the ledger",
		Long: `show reads a run back from the ledger: its summary and its failed rows (with
--verbose, every row). RUN-ID may be the start of a run's id, as long as no
other run's id starts the same way (then the candidates are listed).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRunsShow(cmd, env, args[0]) },
	}
	configFlag(show)
	outputFlags(show)
	show.Flags().BoolP("verbose", "v", false, "show every row, not only the failed ones")
	cmd.AddCommand(show)
	return cmd
}

// stateSentence says where a run is and what to do about it.
func stateSentence(run *foyer.Run, program string) string {
	const at = "2006-01-02 15:04:05Z07:00"
	if run.Kind == foyer.RunSweep {
		switch run.State() {
		case foyer.RunPlanned:
			if run.Saved {
				return fmt.Sprintf("held by lifecycle.cap, nothing of it ran: let it go with: %s sweep release %s (or drop it: %s sweep discard %s)", program, run.ID, program, run.ID)
			}
		case foyer.RunApplying:
			return fmt.Sprintf("approved by %s, not finished: %s sweep --apply --tenant %s resumes it", run.ApprovedBy, program, run.Profile)
		}
	}
	switch run.State() {
	case foyer.RunRecording:
		return "its plan was being recorded when it stopped, and nothing of it ran: apply the same file with the same profile to record and run it"
	case foyer.RunPlanned:
		if run.Saved {
			return fmt.Sprintf("a saved plan, not applied: apply it with: %s apply %s", program, run.ID)
		}
		return "a plan that was never answered: nothing of it ran"
	case foyer.RunDiscarded:
		return "a plan that was discarded " + run.DiscardedAt.Format(at) + ": nothing of it ran"
	case foyer.RunApplying:
		return fmt.Sprintf("approved by %s, not finished: apply the same file with the same profile to resume it", run.ApprovedBy)
	}
	return "finished " + run.FinishedAt.Format(at)
}

func runRunsShow(cmd *cobra.Command, env *Env, id string) error {
	ctx := cmd.Context()
	vo := viewFlags(cmd, "")
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	var (
		run        *foyer.Run
		sum        foyer.Summary
		deliveries []store.Delivery
	)
	err = ledger.InTx(ctx, func(tx store.Tx) error {
		if run, err = findRun(ctx, tx, id); err != nil {
			return err
		}
		id = run.ID
		if sum, err = tx.RunSummary(ctx, id); err != nil {
			return err
		}
		deliveries, err = tx.Deliveries(ctx, id)
		return err
	})
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	if err != nil {
		return withCode(ExitError, fmt.Errorf("run %s: %w", id, err))
	}
	vo.cmd = string(run.Kind)
	v, err := newView(env, vo)
	if err != nil {
		return err
	}
	if vo.format != "json" {
		profile := run.Profile
		if run.Tenant != "" {
			profile += " (tenant " + run.Tenant + ")"
		}
		fmt.Fprintf(env.Stdout, "Run %s: %s of %s with profile %s, started %s, %s.\n", run.ID, run.Kind, run.Source,
			profile, run.StartedAt.Format("2006-01-02 15:04:05Z07:00"), stateSentence(run, env.program()))
	}
	if len(deliveries) > 0 {
		v.event(engine.Event{Kind: engine.EventNotice, Message: engine.DeliveryNotice(deliveries)})
	}
	if vo.format == "json" {
		v.event(engine.Event{Kind: engine.EventRunStarted, RunID: run.ID})
	}
	// The summary comes first: the JSON document opens with it.
	v.event(engine.Event{Kind: engine.EventRunFinished, Summary: &sum})
	names := namer(run.GrantNames)
	err = store.EachRunRow(ctx, ledger, id, func(r foyer.Row) error {
		r = names.row(r)
		v.event(engine.Event{Kind: engine.EventRowDone, Row: &r})
		v.result(r)
		return nil
	})
	if err != nil {
		return withCode(ExitError, err)
	}
	return v.close()
}

// ambiguousShown is how many candidates an ambiguous run id prefix lists.
const ambiguousShown = 10

// findRun finds the run whose id is id or, failing that, the only run whose
// id starts with id. A prefix that several runs share is a usage error that
// lists them.
func findRun(ctx context.Context, tx store.Tx, id string) (*foyer.Run, error) {
	run, err := tx.Run(ctx, id)
	if foyer.ErrorCode(err) != foyer.ENOTFOUND || id == "" {
		return run, err
	}
	ids, err := tx.RunIDs(ctx, id, ambiguousShown+1)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 && strings.ToLower(id) != id {
		if ids, err = tx.RunIDs(ctx, strings.ToLower(id), ambiguousShown+1); err != nil {
			return nil, err
		}
	}
	switch len(ids) {
	case 0:
		return nil, foyer.Errorf(foyer.ENOTFOUND, "no run has an id that is or starts with %q", id)
	case 1:
		return tx.Run(ctx, ids[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%q starts the ids of several runs; give more of the id:", id)
	for i, c := range ids {
		if i == ambiguousShown {
			fmt.Fprintf(&b, "\n  and more")
			break
		}
		r, err := tx.Run(ctx, c)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "\n  %s  %s of %s with profile %s, started %s", r.ID, r.Kind, r.Source, r.Profile, r.StartedAt.Format("2006-01-02 15:04:05Z07:00"))
	}
	return nil, usageError("%s", b.String())
}

// runJSON is one run in foyer runs --output json.
type runJSON struct {
	ID         string               `json:"run_id"`
	Kind       foyer.RunKind        `json:"kind"`
	Profile    string               `json:"profile"`
	Tenant     string               `json:"tenant,omitempty"`
	Source     string               `json:"source"`
	State      foyer.RunState       `json:"state"`
	Saved      bool                 `json:"saved,omitempty"`
	StartedAt  time.Time            `json:"started_at"`
	ApprovedBy string               `json:"approved_by,omitempty"`
	FinishedAt *time.Time           `json:"finished_at,omitempty"`
	Rows       int                  `json:"rows"`
	Actions    map[foyer.Action]int `json:"actions"`
	Results    map[foyer.Result]int `json:"results"`
}

func runRunsList(cmd *cobra.Command, env *Env) error {
	ctx := cmd.Context()
	format, _ := cmd.Flags().GetString("output")
	limit, _ := cmd.Flags().GetInt("limit")
	if format != "human" && format != "json" {
		return usageError("--output %q: want human or json", format)
	}
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	var runs []*foyer.Run
	err = ledger.InTx(ctx, func(tx store.Tx) error {
		return tx.ListRuns(ctx, limit, func(r *foyer.Run) error {
			runs = append(runs, r)
			return nil
		})
	})
	if err != nil {
		return withCode(ExitError, fmt.Errorf("list runs: %w", err))
	}
	if format == "json" {
		out := make([]runJSON, len(runs))
		for i, r := range runs {
			out[i] = runJSON{ID: r.ID, Kind: r.Kind, Profile: r.Profile, Tenant: r.Tenant, Source: r.Source, State: r.State(), Saved: r.Saved,
				StartedAt: r.StartedAt, ApprovedBy: r.ApprovedBy, Rows: r.Summary.Rows, Actions: r.Summary.Actions, Results: r.Summary.Results}
			if !r.FinishedAt.IsZero() {
				out[i].FinishedAt = &r.FinishedAt
			}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"runs": out})
	}
	if len(runs) == 0 {
		fmt.Fprintln(env.Stdout, "No runs in the ledger yet.")
		return nil
	}
	fmt.Fprintf(env.Stdout, "%-36s  %-6s  %-10s  %-9s  %-16s  %s\n", "run", "kind", "profile", "state", "started", "rows and results")
	for _, r := range runs {
		counts := plural(r.Summary.Rows, "row", "rows")
		if len(r.Summary.Results) > 0 {
			var parts []string
			for _, res := range append(foyer.Results(), foyer.ResultDisabled, foyer.ResultDeleted, foyer.ResultNotified) {
				if n := r.Summary.Results[res]; n > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", n, res))
				}
			}
			counts += ": " + strings.Join(parts, ", ")
		}
		fmt.Fprintf(env.Stdout, "%-36s  %-6s  %-10s  %-9s  %-16s  %s\n", r.ID, r.Kind, clipCells(r.Profile, 10), r.State(),
			r.StartedAt.Local().Format("2006-01-02 15:04"), counts)
	}
	return nil
}
