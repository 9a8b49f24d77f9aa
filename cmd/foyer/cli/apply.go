package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/store"
)

func newApply(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apply --profile P FILE",
		Short: "Invite the people in a CSV and grant them a profile, once, with a report",
		Long: `apply plans the file as plan does, shows the plan and, once confirmed (or with
--yes), does it: each row's invitation and grants run as a durable job
recorded in the ledger before and after every directory write. If apply is
stopped at any point, running it again with the same file and profile
resumes the run without inviting anyone twice.

Exit codes: 0 every row done, 1 an error before anything ran, 2 a usage
error, 3 the run finished and some rows failed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runApply(cmd, env, args[0])
		},
	}
	configFlag(cmd)
	planFlags(cmd)
	cmd.Flags().BoolP("yes", "y", false, "apply without asking")
	cmd.Flags().String("results", "", "write every row's result to this CSV file")
	return cmd
}

func runApply(cmd *cobra.Command, env *Env, spec string) error {
	ctx := cmd.Context()
	format, _ := cmd.Flags().GetString("output")
	verbose, _ := cmd.Flags().GetBool("verbose")
	yes, _ := cmd.Flags().GetBool("yes")
	resultsPath, _ := cmd.Flags().GetString("results")
	v, err := newView(format, env.Stdout, "apply", verbose)
	if err != nil {
		return err
	}
	if !yes && !isTerminal(env.Stdout) {
		return usageError("not on a terminal: pass --yes to apply without being asked")
	}
	log, err := logger(cmd, env)
	if err != nil {
		return err
	}
	removeOrphanSpools(os.TempDir(), log)
	p, err := preparePlan(cmd, env)
	if err != nil {
		return err
	}
	ns, err := notifiers(p.cfg, env, log.With("component", "notify"))
	if err != nil {
		return withCode(ExitError, err)
	}
	in, err := spoolInput(ctx, spec, p.cfg, env)
	if err != nil {
		return withCode(ExitError, err)
	}
	defer in.remove()
	ledger, err := openLedger(ctx, p.cfg, env, log)
	if err != nil {
		return err
	}
	defer ledger.Close()

	eng := &engine.Engine{
		Store: ledger, Dir: p.dir, Profiles: map[string]*foyer.Profile{p.profile.Name: p.profile},
		Clock: env.Clock, Log: log.With("component", "engine"), NewID: uuid.NewString,
		Owner: engine.NewOwner(uuid.NewString()[:8]), Workers: p.cfg.Pacing.Concurrency, Actor: "cli:apply",
		UnknownOutcomeGrace: time.Duration(p.cfg.Pacing.LookupGrace),
	}
	if p.mailer != nil {
		eng.Mailer = p.mailer
	}
	open, err := eng.Resumable(ctx, p.profile.Name, in.digest)
	if err != nil {
		return withCode(ExitError, err)
	}
	var planned *planSpool
	if open == nil {
		if planned, err = planAndShow(ctx, p, in, v); err != nil {
			return err
		}
		defer planned.remove()
		if !yes && !confirm(env, "Apply this plan to tenant "+p.tenant.Name+"?") {
			fmt.Fprintln(env.Stdout, "Nothing applied.")
			return nil
		}
	}
	if err := eng.Start(ctx); err != nil {
		return withCode(ExitError, err)
	}
	run, err := eng.Apply(ctx, engine.ApplyInput{
		Profile: p.profile.Name,
		Source:  in.name,
		Digest:  in.digest,
		Plan: func(ctx context.Context, emit func(foyer.Row) error) error {
			return planned.each(emit)
		},
		Events: v.event,
	})
	stopErr := eng.Stop(context.WithoutCancel(ctx))
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(env.Stderr, "foyer: interrupted; run the same apply again to resume where it stopped")
		}
		return withCode(ExitError, errors.Join(err, stopErr))
	}
	report := notify.NewReport(*run, p.tenant.Name, nil, p.cfg.Notify.DetailsURL)
	var (
		resultsFile *os.File
		results     *notify.ResultsWriter
	)
	if resultsPath != "" {
		if resultsFile, err = os.OpenFile(resultsPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return withCode(ExitError, fmt.Errorf("write results: %w", err))
		}
		defer resultsFile.Close()
		results = notify.NewResultsWriter(resultsFile)
	}
	err = store.EachRunRow(ctx, ledger, run.ID, func(r foyer.Row) error {
		v.result(r)
		report.Add(r)
		if results != nil {
			if err := results.Write(r); err != nil {
				return fmt.Errorf("write results to %s: %w", resultsPath, err)
			}
		}
		return nil
	})
	if err != nil {
		return withCode(ExitError, err)
	}
	if err := v.close(); err != nil {
		return err
	}
	if results != nil {
		if err := errors.Join(results.Flush(), resultsFile.Close()); err != nil {
			return withCode(ExitError, fmt.Errorf("write results to %s: %w", resultsPath, err))
		}
	}
	for _, err := range notify.NotifyAll(ctx, ns, report) {
		if err != nil {
			fmt.Fprintln(env.Stderr, "foyer:", err)
		}
	}
	if stopErr != nil {
		log.Warn("stop the workers", "err", stopErr)
	}
	if run.Summary.Results[foyer.ResultFailed] > 0 {
		return &exitError{code: ExitRowsFail, err: fmt.Errorf("%d rows failed", run.Summary.Results[foyer.ResultFailed])}
	}
	return nil
}

// planAndShow plans the spooled input and shows each row and the summary.
// It returns the planned rows, kept on disk.
func planAndShow(ctx context.Context, p *planner, in *spooled, v view) (*planSpool, error) {
	f, err := in.open()
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	defer f.Close()
	planned, err := newPlanSpool()
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	sum, err := p.plan(ctx, f, func(r foyer.Row) error {
		v.event(engine.Event{Kind: engine.EventPlanRow, Row: &r})
		return planned.put(r)
	}, func(m string) { v.event(engine.Event{Kind: engine.EventNotice, Message: m}) })
	if err != nil {
		planned.remove()
		return nil, withCode(ExitError, fmt.Errorf("plan %s: %w", in.name, err))
	}
	v.event(engine.Event{Kind: engine.EventPlanned, Summary: &sum})
	return planned, nil
}

// confirm asks a yes/no question on the terminal.
func confirm(env *Env, question string) bool {
	fmt.Fprintf(env.Stdout, "\n%s Only 'yes' applies: ", question)
	line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
	return strings.TrimSpace(strings.ToLower(line)) == "yes"
}
