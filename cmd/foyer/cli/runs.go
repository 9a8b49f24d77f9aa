package cli

import (
	"fmt"

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
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return runRunsShow(cmd, env, args[0]) },
	}
	configFlag(show)
	show.Flags().StringP("output", "o", "human", "output format: human or json")
	show.Flags().BoolP("verbose", "v", false, "show every row, not only the failed ones")
	cmd.AddCommand(show)
	return cmd
}

func runRunsShow(cmd *cobra.Command, env *Env, id string) error {
	ctx := cmd.Context()
	format, _ := cmd.Flags().GetString("output")
	verbose, _ := cmd.Flags().GetBool("verbose")
	log, err := logger(cmd, env)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cmd, env)
	if err != nil {
		return err
	}
	ledger, err := openLedger(ctx, cfg, env, log)
	if err != nil {
		return err
	}
	defer ledger.Close()
	var run *foyer.Run
	var sum foyer.Summary
	err = ledger.InTx(ctx, func(tx store.Tx) error {
		if run, err = tx.Run(ctx, id); err != nil {
			return err
		}
		sum, err = tx.RunSummary(ctx, id)
		return err
	})
	if err != nil {
		return withCode(ExitError, fmt.Errorf("run %s: %w", id, err))
	}
	v, err := newView(format, env.Stdout, string(run.Kind), verbose)
	if err != nil {
		return err
	}
	if format != "json" {
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
	if format == "json" {
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
