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
	rows, err := runRows(ctx, ledger, id)
	if err != nil {
		return withCode(ExitError, err)
	}
	v, err := newView(format, env.Stdout, string(run.Kind), verbose)
	if err != nil {
		return err
	}
	if format != "json" {
		state := "finished " + run.FinishedAt.Format("2006-01-02 15:04:05Z07:00")
		if run.FinishedAt.IsZero() {
			state = "not finished: apply the same file with the same profile to resume it"
		}
		fmt.Fprintf(env.Stdout, "Run %s: %s of %s with profile %s, started %s, %s.\n", run.ID, run.Kind, run.Source,
			run.Profile, run.StartedAt.Format("2006-01-02 15:04:05Z07:00"), state)
	}
	if format == "json" {
		v.event(engine.Event{Kind: engine.EventRunStarted, RunID: run.ID})
	}
	for i := range rows {
		v.event(engine.Event{Kind: engine.EventRowDone, Row: &rows[i]})
	}
	v.event(engine.Event{Kind: engine.EventRunFinished, Summary: &sum})
	v.results(rows)
	return v.close()
}
