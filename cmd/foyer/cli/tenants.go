package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer/engine"
)

func newTenants(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenants",
		Short: "The tenants in the configuration, and whether Entra blocked their invitations",
		Long: `tenants lists the tenants of the configuration and, from the ledger, whether
Entra has blocked their invitations "due to suspicious activity".

Once Entra answers an invitation that way, foyer records it in the ledger and
invites nobody into that tenant again, from any run or process: every further
invitation would only prolong the block, and only Microsoft support lifts it.
When support has lifted it, clear foyer's record with:

  foyer tenants unblock TENANT`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTenants(cmd, env) },
	}
	configFlag(cmd)
	unblock := &cobra.Command{
		Use:   "unblock TENANT",
		Short: "Let foyer invite into a tenant again, once Microsoft support lifted Entra's block",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return runUnblock(cmd, env, args[0]) },
	}
	configFlag(unblock)
	cmd.AddCommand(unblock)
	return cmd
}

func runTenants(cmd *cobra.Command, env *Env) error {
	ctx := cmd.Context()
	cfg, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	for _, name := range cfg.TenantNames() {
		t := cfg.Tenants[name]
		b, err := (&engine.Engine{Store: ledger, Tenant: t.TenantID}).Block(ctx)
		if err != nil {
			return withCode(ExitError, err)
		}
		state := "invitations allowed"
		if b != nil {
			state = fmt.Sprintf("INVITATIONS BLOCKED by Entra since %s (%s); after Microsoft support lifts it: foyer tenants unblock %s",
				b.Since.Local().Format(time.DateTime), b.Reason, name)
		}
		fmt.Fprintf(env.Stdout, "%-16s %s  %s\n", name, t.TenantID, state)
	}
	return nil
}

func runUnblock(cmd *cobra.Command, env *Env, name string) error {
	ctx := cmd.Context()
	cfg, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	t, ok := cfg.Tenants[name]
	if !ok {
		return usageError("no tenant %q in %s (tenants: %s)", name, cfg.Name(), strings.Join(cfg.TenantNames(), ", "))
	}
	cleared, err := (&engine.Engine{Store: ledger, Tenant: t.TenantID}).ClearBlock(ctx, "cli:tenants unblock")
	if err != nil {
		return withCode(ExitError, err)
	}
	if !cleared {
		fmt.Fprintf(env.Stderr, "foyer: tenant %s was not blocked; nothing to clear\n", name)
		return nil
	}
	fmt.Fprintf(env.Stdout, "Tenant %s: foyer invites into it again. If Entra still refuses, the block is recorded again at the first refusal.\n", name)
	return nil
}
