package cli

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/store"
)

func newRevoke(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke --profile P EMAIL...",
		Short: "Take back what a profile granted to people, and only that",
		Long: `revoke removes from each person the grants that foyer gave them through the
profile (group memberships, app roles, licenses, directory and Azure roles,
the mail contact), as recorded in the ledger. A grant that another profile
also gave them stays. The guest account itself stays.

Exit codes: 0 done, 1 an error before anything ran, 2 usage, 3 some people
failed.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRevoke(cmd, env, args) },
	}
	configFlag(cmd)
	cmd.Flags().StringP("profile", "p", "", "the profile to take back (required)")
	cmd.Flags().StringP("output", "o", "human", "output format: human or json")
	cmd.Flags().BoolP("yes", "y", false, "revoke without asking")
	_ = cmd.MarkFlagRequired("profile")
	return cmd
}

func runRevoke(cmd *cobra.Command, env *Env, args []string) error {
	ctx := cmd.Context()
	profile, _ := cmd.Flags().GetString("profile")
	format, _ := cmd.Flags().GetString("output")
	yes, _ := cmd.Flags().GetBool("yes")
	v, err := newView(format, env.Stdout, "revoke", true)
	if err != nil {
		return err
	}
	emails := make([]foyer.Address, len(args))
	for i, a := range args {
		if emails[i], err = foyer.ParseAddress(a); err != nil {
			return usageError("%s", foyer.ErrorMessage(err))
		}
	}
	if !yes && !isTerminal(env.Stdout) {
		return usageError("not on a terminal: pass --yes to revoke without being asked")
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
	if !yes && !confirm(env, fmt.Sprintf("Take profile %s back from %d people in tenant %s?", profile, len(emails), tenant.Name)) {
		fmt.Fprintln(env.Stdout, "Nothing revoked.")
		return nil
	}
	ledger, err := openLedger(ctx, cfg, env, log)
	if err != nil {
		return err
	}
	defer ledger.Close()
	eng := &engine.Engine{Store: ledger, Dir: dir, Clock: env.Clock, Log: log.With("component", "engine"),
		NewID: uuid.NewString, Actor: "cli:revoke", Owner: engine.NewOwner(uuid.NewString()[:8]), Tenant: tenant.ID}
	// Revoke takes the ledger's lease as apply does: the two never race.
	if err := eng.Start(ctx); err != nil {
		return withCode(ExitError, err)
	}
	run, err := eng.Revoke(ctx, profile, emails, v.event)
	if stopErr := eng.Stop(context.WithoutCancel(ctx)); stopErr != nil {
		log.Warn("give the ledger's lease back", "err", stopErr)
	}
	if err != nil {
		return withCode(ExitError, err)
	}
	err = store.EachRunRow(ctx, ledger, run.ID, func(r foyer.Row) error { v.result(r); return nil })
	if err != nil {
		return withCode(ExitError, err)
	}
	if err := v.close(); err != nil {
		return err
	}
	if n := run.Summary.Results[foyer.ResultFailed]; n > 0 {
		return &exitError{code: ExitRowsFail, err: fmt.Errorf("%d people failed", n)}
	}
	return nil
}
