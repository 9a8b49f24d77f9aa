package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/notify/email"
	"github.com/foyer-dev/foyer/store"
)

func newSweep(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sweep [--plan | --apply [--yes]] [--tenant T]",
		Short: "Disable, then delete, the stale guests of a tenant (--plan, the default, only lists them)",
		Long: `sweep reads every guest of the tenant once (redemption state, whether the
account is enabled, when it was created, and its sign-in activity) and applies
the tenant's lifecycle: rules from the configuration:

  never_redeemed_days   a guest still PendingAcceptance this many days after
                        it was invited is disabled
  no_sign_in_days       a guest whose latest sign-in (the latest of the
                        interactive, non-interactive and successful ones;
                        its creation when it never signed in) is this many
                        days old is disabled, unless it is younger than
                        new_guest_grace_days
  delete_after_days     a guest foyer disabled this many days ago, still
                        disabled and still stale, is deleted (0: never)
  notice_days           the guest and its sponsors are emailed this many
                        days before the disable and before the delete
  reenabled_hold_days   a guest foyer disabled that someone enabled again is
                        left alone this many days

Guests in exclude.users, in a group of exclude.groups or with an attribute of
exclude.attributes (a built-in property, extension_{appId}_{name} or
onPremisesExtensionAttributes/extensionAttributeN) are left alone, and so
are guests disabled by someone else. With lifecycle.microsoft_policies:
respect (the default), a guest a Microsoft guest lifecycle policy governs
(its report lists it; every guest while an enabled policy's report cannot be
read) is listed as skip, the policy named, and left to Microsoft. It prints every guest it would act on (email, user_id, action, reason
with the dates behind it) and a summary; --output json writes one document
with "summary" and "guests".

--plan (the default) changes nothing. --apply records the plan as a run (one
row per guest; foyer runs lists it), asks (or not, with --yes), and works it
under the ledger's lease: each disable and delete recorded before and after
it is sent, notices sent as emails. Run again, it resumes an unfinished sweep
of the tenant instead of planning anew. A sweep that would disable or delete
more guests than lifecycle.cap allows is recorded and held, changing
nothing: "foyer sweep release RUN-ID" lets it go, and the next
"foyer sweep --apply" works it; or an admin releases it on the run's page
in foyer serve's /admin/runs, and serve works it.

It refuses, and changes nothing, when the tenant cannot report sign-in
activity: without Microsoft Entra ID P1 or P2, without the AuditLog.Read.All
permission, or when no guest at all has sign-in activity (what missing data
looks like; acting on it would disable active guests).

Exit codes: 0 the plan was made or the sweep done (also a plan beyond the
cap: it says so), 1 an error or a refusal, 2 a usage error, 3 some guests
failed, 5 the answer was not yes, 7 the sweep is held by the cap, 130
interrupted (run it again to resume).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSweep(cmd, env) },
	}
	configFlag(cmd)
	outputFlags(cmd)
	cmd.Flags().Bool("plan", true, "list what a sweep would do (the default); nothing is changed")
	cmd.Flags().Bool("apply", false, "record the sweep as a run and do it, within the cap")
	cmd.Flags().BoolP("yes", "y", false, "with --apply: do it without asking")
	cmd.Flags().String("tenant", "", "the configured tenant to sweep (default: the only one)")
	cmd.AddCommand(newSweepRelease(env), newSweepDiscard(env))
	return cmd
}

func newSweepRelease(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "release RUN-ID",
		Short: "Let a sweep held by lifecycle.cap go; the next foyer sweep --apply works it",
		Long: `release approves a sweep that lifecycle.cap held (it would disable or
delete more guests than the cap allows), in your name, with an entry in the
audit log. Nothing is changed in the tenant until "foyer sweep --apply" works
the released sweep (each guest is read again before it is acted on).

Exit codes: 0 released, 1 an error (no such run, not a held sweep), 2 a usage
error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runSweepRelease(cmd, env, args[0]) },
	}
	configFlag(cmd)
	return cmd
}

func newSweepDiscard(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "discard RUN-ID",
		Short: "Drop a sweep held by lifecycle.cap; the next foyer sweep --apply plans anew",
		Long: `discard drops a sweep that lifecycle.cap held, in your name, with an entry in
the audit log: it will never be applied. The next "foyer sweep --apply" plans
a new sweep (held again if it is still beyond the cap).

Exit codes: 0 discarded, 1 an error (no such run, not a held sweep), 2 a usage
error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runHeldSweep(cmd, env, args[0], false) },
	}
	configFlag(cmd)
	return cmd
}

func runSweepRelease(cmd *cobra.Command, env *Env, id string) error {
	return runHeldSweep(cmd, env, id, true)
}

// runHeldSweep releases (release) or discards a sweep the cap held.
func runHeldSweep(cmd *cobra.Command, env *Env, id string, release bool) error {
	ctx := cmd.Context()
	log, err := logger(cmd, env)
	if err != nil {
		return err
	}
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	var run *foyer.Run
	err = ledger.InTx(ctx, func(tx store.Tx) error {
		run, err = findRun(ctx, tx, id)
		return err
	})
	if err != nil {
		return withCode(ExitError, err)
	}
	eng := &engine.Engine{Store: ledger, Clock: env.Clock, Log: log.With("component", "engine"), Actor: "cli:sweep"}
	if !release {
		if err := eng.DiscardSweep(ctx, run.ID, approver(env)); err != nil {
			return withCode(ExitError, err)
		}
		fmt.Fprintf(env.Stdout, "Sweep %s of tenant %s is discarded; nothing of it was done.\n", run.ID, run.Profile)
		return nil
	}
	if run, err = eng.ReleaseSweep(ctx, run.ID, approver(env)); err != nil {
		return withCode(ExitError, err)
	}
	fmt.Fprintf(env.Stdout, "Sweep %s of tenant %s is released (%s). Run foyer sweep --apply --tenant %s to do it.\n",
		run.ID, run.Profile, plural(run.Summary.Rows, "guest", "guests"), run.Profile)
	return nil
}

// sweepTenant returns the tenant --tenant names, or the only one.
func sweepTenant(cmd *cobra.Command, cfg *config.Config) (string, *config.Lifecycle, error) {
	name, _ := cmd.Flags().GetString("tenant")
	names := cfg.TenantNames()
	if name == "" {
		if len(names) != 1 {
			return "", nil, usageError("%s has %d tenants (%s): name one with --tenant", cfg.Name(), len(names), strings.Join(names, ", "))
		}
		name = names[0]
	}
	t, ok := cfg.Tenants[name]
	if !ok {
		return "", nil, usageError("no tenant %q in %s (tenants: %s)", name, cfg.Name(), strings.Join(names, ", "))
	}
	if t.Lifecycle == nil {
		return "", nil, withCode(ExitError, fmt.Errorf("%s: tenant %s has no lifecycle: section: add one to say which guests are stale (docs/config.md)", cfg.Name(), name))
	}
	return name, t.Lifecycle, nil
}

func runSweep(cmd *cobra.Command, env *Env) error {
	ctx := cmd.Context()
	apply, _ := cmd.Flags().GetBool("apply")
	yes, _ := cmd.Flags().GetBool("yes")
	if plan, _ := cmd.Flags().GetBool("plan"); !plan && !apply {
		return usageError("--plan=false without --apply leaves sweep nothing to do")
	}
	if yes && !apply {
		return usageError("--yes answers the question of --apply; a plan asks nothing")
	}
	o := viewFlags(cmd, "sweep")
	if o.format != "human" && o.format != "json" {
		return usageError("--output %q: want human or json", o.format)
	}
	var ask *asker
	if apply && !yes {
		var err error
		if ask, err = newAsker(env, false, "sweep"); err != nil {
			return err
		}
		defer ask.close()
	}
	log, err := logger(cmd, env)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cmd, env)
	if err != nil {
		return err
	}
	name, lc, err := sweepTenant(cmd, cfg)
	if err != nil {
		return err
	}
	dir, tenant, err := openTenant(ctx, cfg, name, env, log)
	if err != nil {
		return err
	}
	ledger, err := openLedger(ctx, cfg, env, log)
	if err != nil {
		return err
	}
	defer ledger.Close()
	rules := lc.SweepRules()
	if !apply {
		eng := &engine.Engine{Store: ledger, Dir: dir, Clock: env.Clock, Log: log.With("component", "engine")}
		plan, _, err := planSweep(ctx, eng, name, lc)
		if err != nil {
			return withCode(ExitError, fmt.Errorf("tenant %s: %w", name, err))
		}
		if err := writeSweep(env.Stdout, o, plan); err != nil {
			return err
		}
		if plan.CapExceeded {
			fmt.Fprintf(env.Stderr, "foyer: this sweep would disable or delete %d of %d guests, more than lifecycle.cap allows (%d): an apply would stop before acting\n",
				changeCount(plan), plan.Guests, plan.CapLimit)
		}
		return nil
	}
	ns, err := notifiers(cfg, env, log.With("component", "notify"))
	if err != nil {
		return withCode(ExitError, err)
	}
	eng := newEngine(&planner{cfg: cfg, dir: dir, tenant: tenant}, ledger, ns, env, log, "cli:sweep")
	eng.Sweep = &rules
	if rules.NoticeDays > 0 {
		sender, err := smtpSender(ctx, cfg, env, log)
		if err != nil {
			return withCode(ExitError, err)
		}
		eng.Postman = email.Postman{Sender: sender}
	}
	if err := eng.Start(ctx); err != nil {
		return withCode(ExitError, err)
	}
	stop := func(err error) error { return errors.Join(err, eng.Stop(context.WithoutCancel(ctx))) }
	run, err := eng.OpenSweep(ctx, name)
	if err != nil {
		return stop(withCode(ExitError, err))
	}
	if run != nil && run.State() == foyer.RunPlanned && run.Saved {
		fmt.Fprintf(env.Stderr, "foyer: sweep %s of tenant %s (recorded %s, %s) is held: it acts on more guests than lifecycle.cap allows. "+
			"Nothing was changed. Look at it with: %s runs show %s; let it go with: %s sweep release %s\n",
			run.ID, name, run.StartedAt.Local().Format(time.DateTime), plural(run.Summary.Rows, "row", "rows"), env.program(), run.ID, env.program(), run.ID)
		return stop(said(ExitSweepHeld, "held by the cap"))
	}
	resumed := run != nil && run.State() == foyer.RunApplying
	if resumed {
		fmt.Fprintf(env.Stderr, "foyer: resuming sweep %s of tenant %s, started %s\n", run.ID, name, run.StartedAt.Local().Format(time.DateTime))
	} else {
		plan, h, err := planSweep(ctx, eng, name, lc)
		if err != nil {
			return stop(withCode(ExitError, fmt.Errorf("tenant %s: %w", name, err)))
		}
		if run, err = eng.RecordSweep(ctx, name, plan, h, approver(env)); err != nil {
			return stop(withCode(ExitError, err))
		}
		// The plan is shown; with --output json only when no run's
		// results follow (the one document on standard output).
		if o.format == "human" || run == nil || plan.CapExceeded {
			if err := writeSweep(env.Stdout, o, plan); err != nil {
				return stop(err)
			}
		}
		if run == nil {
			fmt.Fprintln(env.Stderr, "foyer: nothing to do")
			return stop(nil)
		}
		if plan.CapExceeded {
			fmt.Fprintf(env.Stderr, "foyer: this sweep would disable or delete %d of %d guests, more than lifecycle.cap allows (%d). "+
				"It is recorded as run %s and held: nothing was changed. Let it go with: %s sweep release %s\n",
				changeCount(plan), plan.Guests, plan.CapLimit, run.ID, env.program(), run.ID)
			return stop(said(ExitSweepHeld, "held by the cap"))
		}
		if ask != nil {
			ok, err := ask.ask(ctx, fmt.Sprintf("Do this sweep of tenant %s (%s)?", tenant.Name, sweepCounts(plan)))
			if err != nil || !ok {
				derr := eng.Discard(context.WithoutCancel(ctx), run.ID, approver(env))
				if err != nil {
					return stop(errors.Join(withCode(ExitInterrupted, err), derr))
				}
				fmt.Fprintln(env.Stderr, "foyer: nothing was changed")
				return stop(errors.Join(said(ExitDeclined, "declined"), derr))
			}
			if err := eng.CheckLease(ctx); err != nil {
				return stop(withCode(ExitError, fmt.Errorf("the plan went stale while it waited for an answer: %w; run the sweep again", err)))
			}
		}
		if run, err = eng.Approve(ctx, run.ID, approver(env)); err != nil {
			return stop(withCode(ExitError, err))
		}
	}
	run, err = eng.ApplyRun(ctx, run.ID, engine.RunOptions{Resumed: resumed})
	if err == nil {
		nctx, cancel := context.WithTimeout(ctx, time.Minute)
		left, werr := eng.SendNotices(nctx)
		cancel()
		if werr != nil || left > 0 {
			log.Warn("notices not sent yet; the next process that works the ledger's jobs sends them", "left", left, "err", werr)
		}
	}
	stopErr := eng.Stop(context.WithoutCancel(ctx))
	switch {
	case err != nil && ctx.Err() != nil:
		return withCode(ExitInterrupted, errors.New("interrupted; run foyer sweep --apply again to resume where it stopped"))
	case err != nil:
		return withCode(ExitError, errors.Join(err, stopErr))
	}
	if stopErr != nil {
		log.Warn("stop the workers", "err", stopErr)
	}
	return writeSweepRun(ctx, env, ledger, o, run)
}

// planSweep reads the guests, the exclusions and the ledger's history of
// the tenant's sweeps, and decides (engine.PlanTenantSweep).
func planSweep(ctx context.Context, eng *engine.Engine, tenant string, lc *config.Lifecycle) (*foyer.SweepPlan, map[string]foyer.SweepHistory, error) {
	return eng.PlanTenantSweep(ctx, tenant, sweepConfig(lc, nil))
}

// sweepConfig is a tenant's lifecycle: section as the engine plans a
// sweep with it; schedule is its parsed lifecycle.schedule (serve), or nil.
func sweepConfig(lc *config.Lifecycle, schedule engine.Schedule) engine.SweepConfig {
	return engine.SweepConfig{Rules: lc.SweepRules(), ExcludeUsers: lc.Exclude.Users, ExcludeGroups: lc.Exclude.Groups,
		ExcludeAttributes: lc.Exclude.Attributes, RespectMicrosoftPolicies: lc.RespectMicrosoftPolicies(), Schedule: schedule}
}

func changeCount(p *foyer.SweepPlan) int {
	n := 0
	for _, d := range p.Actions {
		if d.Action.Changes() {
			n++
		}
	}
	return n
}

// sweepCounts says what a sweep does, for its question.
func sweepCounts(p *foyer.SweepPlan) string {
	c := map[foyer.SweepAction]int{}
	for _, d := range p.Actions {
		c[d.Action]++
	}
	return fmt.Sprintf("disable %d, delete %d, notify %d, hold %d", c[foyer.SweepDisable], c[foyer.SweepDelete],
		c[foyer.SweepNoticeDisable]+c[foyer.SweepNoticeDelete], c[foyer.SweepHold])
}

// writeSweepRun shows what a sweep run did, row by row, from the ledger.
func writeSweepRun(ctx context.Context, env *Env, ledger store.Store, o viewOptions, run *foyer.Run) error {
	type row struct {
		Email  string `json:"email"`
		UserID string `json:"user_id"`
		Action string `json:"action"`
		Result string `json:"result"`
		Reason string `json:"reason,omitempty"`
		Error  string `json:"error,omitempty"`
	}
	var rows []row
	left, err := engine.SweepLeft(ctx, ledger, run.ID)
	if err != nil {
		return withCode(ExitError, err)
	}
	err = store.EachRunRow(ctx, ledger, run.ID, func(r foyer.Row) error {
		reason := r.Reason
		if why := left[strings.ToLower(r.UserID)]; why != "" && r.Result == foyer.ResultUnchanged {
			reason = why
		}
		rows = append(rows, row{Email: string(r.Email), UserID: r.UserID, Action: string(r.Action), Result: string(r.Result), Reason: reason, Error: r.Error})
		return nil
	})
	if err != nil {
		return withCode(ExitError, err)
	}
	failed := run.Summary.Results[foyer.ResultFailed]
	if o.format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"command": "sweep", "run_id": run.ID, "results": run.Summary.Results, "rows": rows}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(env.Stdout, "\n%-14s  %-9s  %-36s  %s\n", "action", "result", "email", "reason")
		for _, r := range rows {
			fmt.Fprintf(env.Stdout, "%-14s  %-9s  %-36s  %s\n", r.Action, r.Result, printable(r.Email), printable(cmpOr(r.Error, r.Reason)))
		}
		var parts []string
		for _, res := range []foyer.Result{foyer.ResultDisabled, foyer.ResultDeleted, foyer.ResultNotified, foyer.ResultUnchanged, foyer.ResultSkipped, foyer.ResultFailed} {
			if n := run.Summary.Results[res]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, res))
			}
		}
		fmt.Fprintf(env.Stdout, "Sweep %s finished: %s.\n", run.ID, strings.Join(parts, ", "))
	}
	if failed > 0 {
		return said(ExitRowsFail, "%d guests failed", failed)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// sweepGuest is a guest in sweep's JSON document.
type sweepGuest struct {
	Email  string    `json:"email"`
	UserID string    `json:"user_id"`
	Action string    `json:"action"`
	Rule   string    `json:"rule"`
	Since  time.Time `json:"since"`
	Days   int       `json:"days"`
	Reason string    `json:"reason"`
}

type sweepDoc struct {
	Command string         `json:"command"`
	At      time.Time      `json:"at"`
	Summary map[string]int `json:"summary"`
	Cap     struct {
		Limit    *int `json:"limit"` // null: no cap
		Exceeded bool `json:"exceeded"`
	} `json:"cap"`
	Guests []sweepGuest `json:"guests"`
}

func writeSweep(w io.Writer, o viewOptions, p *foyer.SweepPlan) error {
	counts := map[string]int{"guests": p.Guests, "excluded": p.Excluded, string(foyer.SweepDisable): 0, string(foyer.SweepDelete): 0}
	for _, d := range p.Actions {
		counts[string(d.Action)]++
	}
	if o.format == "json" {
		doc := sweepDoc{Command: "sweep", At: p.At, Summary: counts, Guests: make([]sweepGuest, 0, len(p.Actions))}
		if p.CapLimit >= 0 {
			doc.Cap.Limit = &p.CapLimit
		}
		doc.Cap.Exceeded = p.CapExceeded
		for _, d := range p.Actions {
			doc.Guests = append(doc.Guests, sweepGuest{Email: d.Guest.Email(), UserID: d.Guest.ID, Action: string(d.Action),
				Rule: d.Rule, Since: d.Since, Days: d.Days, Reason: d.Reason})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	if len(p.Actions) > 0 {
		fmt.Fprintf(w, "%-14s  %-36s  %-36s  %s\n", "action", "email", "user_id", "reason")
	}
	for _, d := range p.Actions {
		fmt.Fprintf(w, "%-14s  %-36s  %-36s  %s\n", d.Action, printable(d.Guest.Email()), printable(d.Guest.ID), printable(d.Reason))
	}
	parts := []string{fmt.Sprintf("%d to disable", counts[string(foyer.SweepDisable)])}
	for _, c := range []struct {
		a    foyer.SweepAction
		what string
	}{{foyer.SweepDelete, "to delete"}, {foyer.SweepNoticeDisable, "to tell of a disable"}, {foyer.SweepNoticeDelete, "to tell of a delete"},
		{foyer.SweepHold, "re-enabled by hand, left alone"}, {foyer.SweepSkip, "governed by a Microsoft lifecycle policy, left to Microsoft"}} {
		if n := counts[string(c.a)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, c.what))
		}
	}
	_, err := fmt.Fprintf(w, "%s read: %s, %d left alone by an exclusion\n",
		plural(p.Guests, "guest", "guests"), strings.Join(parts, ", "), p.Excluded)
	return err
}
