package cli

import (
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
		Long: `apply plans the file as plan does, shows the plan and its counts and, once
confirmed (or with --yes), does it: each row's invitation and grants run as a
durable job recorded in the ledger before and after every directory write. If
apply is stopped at any point, running it again with the same file and
profile resumes the run without inviting anyone twice.

The question is asked on the terminal; when the file comes on standard input
(FILE is -), the answer is read from the terminal, never from the file. A
plan with nothing to change (nobody to invite, no grant missing) is applied
without asking. With --output json the plan's counts go to standard error
before the question, and the JSON document to standard output after the run.

Progress goes to standard error: a line redrawn in place on a terminal, with
the rate and the time left; elsewhere a line when the count changed, at most
every 30 seconds, and the last one always.

--results FILE is made ready before anything is planned (a private file
beside FILE, renamed over it at the end, so a symbolic link there is
replaced, never followed). If it cannot be written at the end, the summary
and the notifications still go out, and the error follows them (exit 1).

Exit codes:
  0    every row was done (or there was nothing to do)
  1    an error: nothing ran if it came before the run started; a run that
       stopped resumes when the same apply is run again
  2    a usage error
  3    the run finished and some rows failed (see them: foyer runs show RUN)
  4    the file has invalid rows, which were not applied; every other row
       was done ("summary": {"invalid": N} in --output json)
  5    the answer was not yes: nothing was applied
  130  interrupted (Ctrl-C); 143 for SIGTERM. Run the same apply to resume.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runApply(cmd, env, args[0])
		},
	}
	configFlag(cmd)
	planFlags(cmd, env)
	cmd.Flags().BoolP("yes", "y", false, "apply without asking")
	cmd.Flags().String("results", "", "write every row's result to this CSV file (created 0600)")
	return cmd
}

func runApply(cmd *cobra.Command, env *Env, spec string) error {
	ctx := cmd.Context()
	yes, _ := cmd.Flags().GetBool("yes")
	resultsPath, _ := cmd.Flags().GetString("results")
	vo := viewFlags(cmd, "apply")
	v, err := newView(env, vo)
	if err != nil {
		return err
	}
	log, err := logger(cmd, env)
	if err != nil {
		return err
	}
	// Before anything is planned or sent: where the results go, and where
	// the answer comes from.
	results, err := prepareResults(resultsPath, log)
	if err != nil {
		return err
	}
	defer results.discard()
	var ask *asker
	if !yes {
		if ask, err = newAsker(env, spec == "-", "apply"); err != nil {
			return err
		}
		defer ask.close()
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
		Owner: engine.NewOwner(uuid.NewString()[:8]), Workers: p.cfg.Pacing.Concurrency, Actor: "cli:apply", Tenant: p.tenant.ID,
		UnknownOutcomeGrace: time.Duration(p.cfg.Pacing.LookupGrace),
	}
	if p.mailer != nil {
		eng.Mailer = p.mailer
	}
	// The ledger's lease is taken before planning: no other apply or revoke
	// can change the tenant while this plan is made and shown, and the
	// plan is checked after the question, in case the lease was lost while
	// the answer was awaited (a laptop asleep at the prompt).
	if err := eng.Start(ctx); err != nil {
		return withCode(ExitError, err)
	}
	open, err := eng.Resumable(ctx, p.profile.Name, in.digest)
	if err != nil {
		return withCode(ExitError, errors.Join(err, eng.Stop(context.WithoutCancel(ctx))))
	}
	var planned *planSpool
	if open == nil {
		var pc planCounts
		if planned, pc, err = planAndShow(ctx, cmd, p, in, v); err != nil {
			return errors.Join(err, eng.Stop(context.WithoutCancel(ctx)))
		}
		defer planned.remove()
		if err := confirmPlan(ctx, env, ask, v, vo, pc, p.tenant.Name); err != nil {
			return errors.Join(err, eng.Stop(context.WithoutCancel(ctx)))
		}
		if err := eng.CheckLease(ctx); err != nil {
			err = fmt.Errorf("the plan went stale while it waited for an answer: %w; run apply again to plan anew", err)
			return withCode(ExitError, errors.Join(err, eng.Stop(context.WithoutCancel(ctx))))
		}
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
		v.status().clear()
		if ctx.Err() != nil {
			return withCode(ExitInterrupted, errors.New("interrupted; run the same apply again to resume where it stopped"))
		}
		return withCode(ExitError, errors.Join(err, stopErr))
	}
	if stopErr != nil {
		log.Warn("stop the workers", "err", stopErr)
	}
	return reportRun(ctx, env, ledger, run, p.tenant.Name, p.cfg.Notify.DetailsURL, ns, v, results)
}

// reportRun shows a finished run's rows and summary, writes its results
// file and sends its report, in that order: a results file that cannot be
// written loses neither the summary nor the notifications, and its error
// comes after them.
func reportRun(ctx context.Context, env *Env, ledger store.Store, run *foyer.Run, tenant, detailsURL string,
	ns []notify.Notifier, v view, results *resultsFile) error {
	report := notify.NewReport(*run, tenant, nil, detailsURL)
	err := store.EachRunRow(ctx, ledger, run.ID, func(r foyer.Row) error {
		v.result(r)
		report.Add(r)
		results.write(r)
		return nil
	})
	if err != nil {
		return withCode(ExitError, err)
	}
	viewErr := v.close()
	for _, err := range notify.NotifyAll(ctx, ns, report) {
		if err != nil {
			v.status().say("foyer: %v", err)
		}
	}
	if err := errors.Join(viewErr, results.commit()); err != nil {
		return withCode(ExitError, fmt.Errorf("run %s finished, but: %w (read its rows again with: %s runs show %s --output json)", run.ID, err, env.program(), run.ID))
	}
	if n := run.Summary.Results[foyer.ResultFailed]; n > 0 {
		return said(ExitRowsFail, "%d rows failed", n)
	}
	return invalidRows(v.status(), run.Summary, "they were not applied")
}

// planCounts are what the question before an apply states.
type planCounts struct {
	sum    foyer.Summary
	invite int // people to invite
	grant  int // guests missing grants
}

// changes says what applying the plan changes in the tenant, "" for
// nothing.
func (c planCounts) changes() string {
	var parts []string
	if c.invite > 0 {
		parts = append(parts, "invite "+plural(c.invite, "person", "people"))
	}
	if c.grant > 0 {
		parts = append(parts, "add missing grants to "+plural(c.grant, "guest", "guests"))
	}
	return strings.Join(parts, " and ")
}

// planAndShow plans the spooled input and shows each row and the summary.
// It returns the planned rows, kept on disk, and their counts.
func planAndShow(ctx context.Context, cmd *cobra.Command, p *planner, in *spooled, v view) (*planSpool, planCounts, error) {
	var pc planCounts
	f, err := in.open()
	if err != nil {
		return nil, pc, withCode(ExitError, err)
	}
	defer f.Close()
	planned, err := newPlanSpool()
	if err != nil {
		return nil, pc, withCode(ExitError, err)
	}
	sum, err := p.plan(ctx, f, func(r foyer.Row) error {
		switch {
		case r.Action == foyer.ActionInvite:
			pc.invite++
		case r.Action == foyer.ActionExists && len(r.Grants) > 0:
			pc.grant++
		}
		v.event(engine.Event{Kind: engine.EventPlanRow, Row: &r})
		return planned.put(r)
	}, func(m string) { v.event(engine.Event{Kind: engine.EventNotice, Message: m}) })
	if err != nil {
		planned.remove()
		return nil, pc, withCode(ExitError, fmt.Errorf("plan %s: %w", in.name, sourceHint(cmd, err)))
	}
	pc.sum = sum
	v.event(engine.Event{Kind: engine.EventPlanned, Summary: &sum})
	return planned, pc, nil
}

// confirmPlan asks whether to apply the plan, stating what it changes; a
// plan that changes nothing is not asked about. With --output json, or
// when the table does not go to the terminal, the plan's counts go to
// stderr first, so the question is never asked blind.
func confirmPlan(ctx context.Context, env *Env, ask *asker, v view, vo viewOptions, pc planCounts, tenant string) error {
	st := v.status()
	changes := pc.changes()
	if changes == "" {
		st.say("Nothing to change in tenant %s: nobody to invite, no grant missing.", tenant)
		return nil
	}
	if ask == nil {
		return nil
	}
	if vo.format == "json" || !env.isTerminal(env.Stdout) {
		st.say("%s", planLine(pc.sum))
	}
	ok, err := ask.ask(ctx, fmt.Sprintf("\nApply this plan to tenant %s: %s?", tenant, changes))
	if err != nil {
		return err
	}
	if !ok {
		st.say("Nothing applied.")
		return said(ExitDeclined, "declined")
	}
	return nil
}
