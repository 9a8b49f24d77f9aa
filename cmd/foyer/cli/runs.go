package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/store"
)

func newRuns(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "Look at runs recorded in the ledger",
	}
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

func runRunsShow(cmd *cobra.Command, env *Env, id string) error {
	ctx := cmd.Context()
	vo := viewFlags(cmd, "")
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	var run *foyer.Run
	var sum foyer.Summary
	err = ledger.InTx(ctx, func(tx store.Tx) error {
		if run, err = findRun(ctx, tx, id); err != nil {
			return err
		}
		id = run.ID
		sum, err = tx.RunSummary(ctx, id)
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
		state := "finished " + run.FinishedAt.Format("2006-01-02 15:04:05Z07:00")
		switch {
		case run.FinishedAt.IsZero() && run.SealedAt.IsZero():
			state = "its plan was being recorded when it stopped, and nothing of it ran: apply the same file with the same profile to record and run it"
		case run.FinishedAt.IsZero():
			state = "not finished: apply the same file with the same profile to resume it"
		}
		fmt.Fprintf(env.Stdout, "Run %s: %s of %s with profile %s, started %s, %s.\n", run.ID, run.Kind, run.Source,
			run.Profile, run.StartedAt.Format("2006-01-02 15:04:05Z07:00"), state)
	}
	if vo.format == "json" {
		v.event(engine.Event{Kind: engine.EventRunStarted, RunID: run.ID})
	}
	// The summary comes first: the JSON document opens with it.
	v.event(engine.Event{Kind: engine.EventRunFinished, Summary: &sum})
	err = store.EachRunRow(ctx, ledger, id, func(r foyer.Row) error {
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
