package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
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
		Use:   "apply --profile P FILE | apply RUN-ID",
		Short: "Invite the people in a CSV and grant them a profile, once, with a report",
		Long: `apply plans the file as plan does and records the plan in the ledger, shows
it from there with its counts and, once confirmed (or with --yes), does it:
each row's invitation and grants run as a durable job recorded in the ledger
before and after every directory write. If apply is stopped at any point,
running it again with the same file and profile resumes the run without
inviting anyone twice. A plan that is not confirmed is discarded.

apply RUN-ID applies a plan saved with foyer plan --save, exactly as it was
recorded (each person is still looked up right before being invited). A
plan already applied is not applied again.

When the run is done, its report goes to the configured Slack, Teams and
webhook channels as a job of its own: a channel that cannot be reached is
tried again, and the next foyer process that works jobs sends what is still
owed (foyer runs show says which).

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
	saved, err := savedPlanArg(cmd, env, spec)
	if err != nil {
		return err
	}
	profile, _ := cmd.Flags().GetString("profile")
	switch {
	case saved != nil && profile != "" && profile != saved.Profile:
		return usageError("run %s is a plan of profile %s, not %s", saved.ID, saved.Profile, profile)
	case saved != nil:
		profile = saved.Profile
	case profile == "":
		return usageError(`required flag(s) "profile" not set (apply FILE needs --profile; apply RUN-ID applies a saved plan)`)
	}
	// Before anything is planned or sent: where the results go, and where
	// the answer comes from.
	results, err := prepareResults(resultsPath, log)
	if err != nil {
		return err
	}
	defer results.discard()
	var ask *asker
	if !yes && (saved == nil || saved.State() == foyer.RunPlanned) {
		if ask, err = newAsker(env, spec == "-", "apply"); err != nil {
			return err
		}
		defer ask.close()
	}
	removeOrphanSpools(os.TempDir(), log)
	p, err := preparePlan(cmd, env, profile)
	if err != nil {
		return err
	}
	ns, err := notifiers(p.cfg, env, log.With("component", "notify"))
	if err != nil {
		return withCode(ExitError, err)
	}
	ledger, err := openLedger(ctx, p.cfg, env, log)
	if err != nil {
		return err
	}
	defer ledger.Close()
	eng := newEngine(p, ledger, ns, env, log, "cli:apply")
	// The ledger's lease is taken before planning: no other apply or revoke
	// can change the tenant while this plan is made and shown, and the
	// lease is checked after the question, in case it was lost while the
	// answer was awaited (a laptop asleep at the prompt).
	if err := eng.Start(ctx); err != nil {
		return withCode(ExitError, err)
	}
	stop := func(err error) error { return errors.Join(err, eng.Stop(context.WithoutCancel(ctx))) }
	var (
		run *foyer.Run
		pc  planCounts
	)
	if saved != nil {
		run, pc, err = showSaved(ctx, eng, ledger, saved.ID, v)
	} else {
		run, pc, err = recordApply(ctx, cmd, env, eng, p, spec, v)
	}
	if err != nil {
		return stop(err)
	}
	resumed := run.State() == foyer.RunApplying // approved before this command: interrupted
	if run.State() == foyer.RunPlanned && !p.profile.Approval.RunApprovers.Empty() {
		v.status().say("Profile %s needs a second admin to approve its runs: run %s is recorded and awaits them in foyer serve's approver UI (/admin/runs/%s), which applies it once approved. Nothing was applied.",
			p.profile.Name, run.ID, run.ID)
		return stop(said(ExitAwaitsApproval, "awaits a second admin"))
	}
	if run.State() == foyer.RunPlanned {
		if err := confirmPlan(ctx, env, ask, v, vo, pc, p.tenant.Name); err != nil {
			if !run.Saved {
				err = errors.Join(err, eng.Discard(context.WithoutCancel(ctx), run.ID, approver(env)))
			}
			return stop(err)
		}
		if err := eng.CheckLease(ctx); err != nil {
			err = fmt.Errorf("the plan went stale while it waited for an answer: %w; run apply again to plan anew", err)
			return stop(withCode(ExitError, err))
		}
		if run, err = eng.Approve(ctx, run.ID, approver(env)); err != nil {
			return stop(withCode(ExitError, err))
		}
	}
	run, err = eng.ApplyRun(ctx, run.ID, engine.RunOptions{Events: namer{}.sink(v.event), Resumed: resumed})
	stopErr := eng.Stop(context.WithoutCancel(ctx))
	switch {
	case errors.Is(err, engine.ErrFinished):
		v.status().say("Run %s was applied already (it finished %s); nothing to do. See it with: %s runs show %s",
			run.ID, run.FinishedAt.Local().Format(time.DateTime), env.program(), run.ID)
		return nil
	case err != nil:
		v.status().clear()
		if ctx.Err() != nil {
			return withCode(ExitInterrupted, errors.New("interrupted; run the same apply again to resume where it stopped"))
		}
		return withCode(ExitError, errors.Join(err, stopErr))
	}
	if stopErr != nil {
		log.Warn("stop the workers", "err", stopErr)
	}
	return reportRun(ctx, env, ledger, run, v, results)
}

// newEngine builds the engine an apply or revoke works with.
func newEngine(p *planner, ledger store.Store, ns []notify.Notifier, env *Env, log *slog.Logger, actor string) *engine.Engine {
	eng := &engine.Engine{
		Store: ledger, Dir: p.dir, Profiles: map[string]*foyer.Profile{},
		Clock: env.Clock, Log: log.With("component", "engine"), NewID: uuid.NewString,
		Owner: engine.NewOwner(uuid.NewString()[:8]), Workers: p.cfg.Pacing.Concurrency, Actor: actor, Tenant: p.tenant.ID,
		UnknownOutcomeGrace: time.Duration(p.cfg.Pacing.LookupGrace),
		Notifiers:           ns, TenantName: p.tenant.Name, DetailsURL: p.cfg.Notify.DetailsURL,
	}
	if p.profile != nil {
		eng.Profiles[p.profile.Name] = p.profile
	}
	if p.mailer != nil {
		eng.Mailer = p.mailer
	}
	return eng
}

// approver names who approves a plan at this terminal, for the audit log.
func approver(env *Env) string {
	user := cmp.Or(env.Getenv("USER"), env.Getenv("USERNAME"), "unknown user")
	host, _ := os.Hostname()
	return "cli:" + user + "@" + host
}

// savedPlanArg returns the saved plan the argument of apply names, or nil
// if it names a file. An argument names a saved plan when it is no file
// and is the start of a run's id.
func savedPlanArg(cmd *cobra.Command, env *Env, arg string) (*foyer.Run, error) {
	if !looksLikeRunID(arg) {
		return nil, nil
	}
	if _, err := os.Stat(arg); err == nil {
		return nil, nil
	}
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return nil, err
	}
	defer ledger.Close()
	var run *foyer.Run
	err = ledger.InTx(cmd.Context(), func(tx store.Tx) error {
		var err error
		run, err = findRun(cmd.Context(), tx, arg)
		return err
	})
	switch {
	case foyer.ErrorCode(err) == foyer.ENOTFOUND:
		return nil, nil // then it is a file that does not exist, and says so
	case err != nil:
		return nil, err
	case run.Kind != foyer.RunApply:
		return nil, usageError("run %s is a %s run, not a plan to apply", run.ID, run.Kind)
	case run.State() == foyer.RunDiscarded:
		return nil, withCode(ExitError, fmt.Errorf("run %s was discarded: its plan will not be applied; plan again", run.ID))
	case run.State() == foyer.RunRecording:
		return nil, withCode(ExitError, fmt.Errorf("run %s was never recorded whole: plan again", run.ID))
	}
	return run, nil
}

// looksLikeRunID says whether s could be (the start of) a run's id.
func looksLikeRunID(s string) bool {
	if len(s) < 4 || len(s) > 36 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef-", r) {
			return false
		}
	}
	return true
}

// recordApply plans the input and records the plan as a run (or finds the
// interrupted run of the same input to resume), showing the plan from the
// ledger.
func recordApply(ctx context.Context, cmd *cobra.Command, env *Env, eng *engine.Engine, p *planner, spec string, v view) (*foyer.Run, planCounts, error) {
	in, err := spoolInput(ctx, spec, p.cfg, env, 0)
	if err != nil {
		return nil, planCounts{}, withCode(ExitError, err)
	}
	defer in.remove()
	run, err := eng.Resumable(ctx, foyer.RunApply, p.profile.Name, in.digest)
	if err != nil || run != nil {
		return run, planCounts{}, err
	}
	f, err := in.open()
	if err != nil {
		return nil, planCounts{}, withCode(ExitError, err)
	}
	defer f.Close()
	run, err = eng.Record(ctx, engine.RecordInput{Profile: p.profile.Name, Source: in.name, Digest: in.digest, RecordedBy: approver(env),
		Plan: func(ctx context.Context, emit func(foyer.Row) error) error {
			_, err := p.plan(ctx, f, emit, func(m string) { v.event(engine.Event{Kind: engine.EventNotice, Message: m}) })
			return err
		}})
	if err != nil {
		return nil, planCounts{}, withCode(ExitError, fmt.Errorf("plan %s: %w", in.name, sourceHint(cmd, err)))
	}
	pc, err := showPlan(ctx, eng.Store, run, v)
	return run, pc, err
}

// showSaved reads a saved plan back and shows it, unless it is already
// being applied (then it is resumed) or finished.
func showSaved(ctx context.Context, eng *engine.Engine, ledger store.Store, id string, v view) (*foyer.Run, planCounts, error) {
	run, err := eng.Run(ctx, id)
	if err != nil || run.State() != foyer.RunPlanned {
		return run, planCounts{}, err
	}
	pc, err := showPlan(ctx, ledger, run, v)
	return run, pc, err
}

// showPlan shows a recorded plan from the ledger, row by row, and its
// counts: what is shown is what will be applied. It returns what the plan
// changes, for the question.
func showPlan(ctx context.Context, ledger store.Store, run *foyer.Run, v view) (planCounts, error) {
	pc := planCounts{sum: run.Summary}
	names := namer(run.GrantNames)
	err := store.EachRunRow(ctx, ledger, run.ID, func(r foyer.Row) error {
		r = names.row(r)
		switch {
		case r.Action == foyer.ActionInvite:
			pc.invite++
		case r.Action == foyer.ActionExists && len(r.Grants) > 0:
			pc.grant++
		}
		v.event(engine.Event{Kind: engine.EventPlanRow, Row: &r})
		return nil
	})
	if err != nil {
		return pc, withCode(ExitError, err)
	}
	v.event(engine.Event{Kind: engine.EventPlanned, Summary: &run.Summary})
	return pc, nil
}

// reportRun shows a finished run's rows and summary, writes its results
// file and says where its report went (the engine sends it as a job), in
// that order: a results file that cannot be written loses neither the
// summary nor the report, and its error comes after them.
func reportRun(ctx context.Context, env *Env, ledger store.Store, run *foyer.Run, v view, results *resultsFile) error {
	names := namer(run.GrantNames)
	err := store.EachRunRow(ctx, ledger, run.ID, func(r foyer.Row) error {
		r = names.row(r)
		v.result(r)
		results.write(r)
		return nil
	})
	if err != nil {
		return withCode(ExitError, err)
	}
	if err := errors.Join(v.close(), results.commit()); err != nil {
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
