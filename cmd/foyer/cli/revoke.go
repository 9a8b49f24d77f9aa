package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

func newRevoke(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke --profile P EMAIL...",
		Short: "Take back what a profile granted to people, and only that",
		Long: `revoke removes from each person the grants that foyer gave them through the
profile (group memberships, app roles, licenses, directory and Azure roles,
the address book, a mail contact made by an older foyer), as recorded in
the ledger. A grant that another profile
also gave them stays. The guest account itself stays.

The question is asked on the terminal; --yes revokes without asking.

A revoke is a run, like an apply: recorded in the ledger, each person worked
as a job under the ledger's lease, and reported to the configured channels.
If it is stopped, running the same revoke (same profile, same people) again
resumes it: every grant is removed once.

Exit codes: 0 done, 1 an error, 2 a usage error, 3 some people failed, 5 the
answer was not yes (nothing was revoked), 130 interrupted.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRevoke(cmd, env, args) },
	}
	configFlag(cmd)
	cmd.Flags().StringP("profile", "p", "", "the profile to take back (required)")
	outputFlags(cmd)
	cmd.Flags().BoolP("yes", "y", false, "revoke without asking")
	_ = cmd.RegisterFlagCompletionFunc("profile", completeProfiles(env))
	return cmd
}

func runRevoke(cmd *cobra.Command, env *Env, args []string) error {
	ctx := cmd.Context()
	profile, _ := cmd.Flags().GetString("profile")
	if profile == "" {
		return usageError(`required flag(s) "profile" not set`)
	}
	yes, _ := cmd.Flags().GetBool("yes")
	vo := viewFlags(cmd, "revoke")
	vo.verbose = true
	v, err := newView(env, vo)
	if err != nil {
		return err
	}
	emails := make([]foyer.Address, len(args))
	for i, a := range args {
		if emails[i], err = foyer.ParseAddress(a); err != nil {
			return usageError("%s", foyer.ErrorMessage(err))
		}
	}
	var ask *asker
	if !yes {
		if ask, err = newAsker(env, false, "revoke"); err != nil {
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
	dir, tenant, err := openDirectory(ctx, cfg, profile, env, log)
	if err != nil {
		return err
	}
	if ask != nil {
		ok, err := ask.ask(ctx, fmt.Sprintf("Take profile %s back from %s in tenant %s?", profile, plural(len(emails), "person", "people"), tenant.Name))
		if err != nil {
			return err
		}
		if !ok {
			v.status().say("Nothing revoked.")
			return said(ExitDeclined, "declined")
		}
	}
	ledger, err := openLedger(ctx, cfg, env, log)
	if err != nil {
		return err
	}
	defer ledger.Close()
	ns, err := notifiers(cfg, env, log.With("component", "notify"))
	if err != nil {
		return withCode(ExitError, err)
	}
	eng := newEngine(&planner{cfg: cfg, dir: dir, tenant: tenant}, ledger, ns, env, log, "cli:revoke")
	// Revoke takes the ledger's lease as apply does: the two never race.
	if err := eng.Start(ctx); err != nil {
		return withCode(ExitError, err)
	}
	run, err := eng.Revoke(ctx, profile, emails, namer{}.sink(v.event))
	if stopErr := eng.Stop(context.WithoutCancel(ctx)); stopErr != nil {
		log.Warn("give the ledger's lease back", "err", stopErr)
	}
	if err != nil {
		return withCode(ExitError, err)
	}
	names := namer(run.GrantNames)
	err = store.EachRunRow(ctx, ledger, run.ID, func(r foyer.Row) error { v.result(names.row(r)); return nil })
	if err != nil {
		return withCode(ExitError, err)
	}
	if err := v.close(); err != nil {
		return err
	}
	if n := run.Summary.Results[foyer.ResultFailed]; n > 0 {
		return said(ExitRowsFail, "%d people failed", n)
	}
	return nil
}
