package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/notify/email"
	"github.com/foyer-dev/foyer/store"
)

func newGuests(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "guests",
		Short: "Keep invited guests' redemption current, remind them, reset a redemption, expire access",
		Long: `guests acts on the guests foyer invited.

  foyer guests sync                      read the redemption state of every guest
                                         foyer holds as invited; move those who
                                         redeemed to active and tell their
                                         sponsors; send the reminders that are due
  foyer guests reset-redemption ADDRESS  make a guest redeem again (same object)
  foyer guests expire                    take back the access of guests whose
                                         profile's expiry has passed; tell those
                                         whose end is near
  foyer guests extend ADDRESS            move the end of a guest's access

foyer serve does what sync and expire do every hour by itself.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	sync := &cobra.Command{
		Use:   "sync [--tenant T]",
		Short: "Read invited guests' redemption, mark the redeemed active, send the reminders due",
		Long: `sync reads the redemption state (externalUserState and its change time) of
every guest foyer holds as invited, by object id, 15 guests a Graph read: it
reads no other guest. A guest who redeemed moves its request from invited to
active, with an audit entry, and its sponsors (the employee who asked, and
the profile's sponsors named by address) are told by email through the
smtp: section.

Then it sends the reminders that are due: an invitation still pending
reminders.after after it was sent (then after the last reminder) is sent
again, at most reminders.max times (profile setting, docs/config.md). Each
reminder is recorded in the ledger before it goes out and after, under the
ledger's lease, so that none is ever sent twice.

Exit codes: 0 done, 1 an error, 2 a usage error, 130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runGuestsSync(cmd, env) },
	}
	configFlag(sync)
	sync.Flags().String("tenant", "", "the configured tenant (default: the only one)")
	reset := &cobra.Command{
		Use:   "reset-redemption ADDRESS --profile P [--yes]",
		Short: "Make a guest redeem its invitation again, keeping its object, groups and licenses",
		Long: `reset-redemption resets the redemption of the guest who holds ADDRESS
(Graph's POST /invitations with resetRedemption and the guest's id): the
guest keeps its object id, groups, roles and licenses, becomes
PendingAcceptance again and must redeem with a new link, with whichever
account now holds the address. Use it when a guest must be bound to another
account (the person left the partner, their account was deleted and made
again).

The profile says where the guest lands and who tells the guest: Entra's
email (sender microsoft), foyer's own email (sender foyer), or nobody (sender
none: the new redeem URL is printed). The guest's active requests go back to
invited. The reset is in the audit log, before and after, in your name.

The question is asked on the terminal; --yes resets without asking.

Exit codes: 0 done, 1 an error (no such guest), 2 a usage error, 5 the
answer was not yes (nothing was changed), 130 interrupted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runResetRedemption(cmd, env, args[0]) },
	}
	configFlag(reset)
	reset.Flags().StringP("profile", "p", "", "the profile that gives the redirect URL and the sender (required)")
	reset.Flags().BoolP("yes", "y", false, "reset without asking")
	_ = reset.RegisterFlagCompletionFunc("profile", completeProfiles(env))
	cmd.AddCommand(sync, reset, newGuestsExpire(env), newGuestsExtend(env))
	return cmd
}

// guestsTenant returns the tenant --tenant names, or the only one.
func guestsTenant(cmd *cobra.Command, cfg *config.Config) (string, error) {
	name, _ := cmd.Flags().GetString("tenant")
	names := cfg.TenantNames()
	if name == "" {
		if len(names) != 1 {
			return "", usageError("%s has %d tenants (%s): name one with --tenant", cfg.Name(), len(names), strings.Join(names, ", "))
		}
		return names[0], nil
	}
	if _, ok := cfg.Tenants[name]; !ok {
		return "", usageError("no tenant %q in %s (tenants: %s)", name, cfg.Name(), strings.Join(names, ", "))
	}
	return name, nil
}

// guestsEngine wires an engine for the tenant's profiles, with foyer's
// invitation mailers and, when the configuration has an smtp: section,
// the postman for the sponsors' notices.
func guestsEngine(ctx context.Context, cfg *config.Config, tenantName string, env *Env, log *slog.Logger, actor string) (*engine.Engine, store.Store, error) {
	dir, tenant, err := openTenant(ctx, cfg, tenantName, env, log)
	if err != nil {
		return nil, nil, err
	}
	profiles, mailers, err := serveProfiles(ctx, cfg, tenantName, dir, env, log)
	if err != nil {
		return nil, nil, err
	}
	ledger, err := openLedger(ctx, cfg, env, log)
	if err != nil {
		return nil, nil, err
	}
	eng := &engine.Engine{
		Store: ledger, Dir: dir, Profiles: profiles, Clock: env.Clock, Log: log.With("component", "engine"),
		NewID: uuid.NewString, Owner: engine.NewOwner(uuid.NewString()[:8]), Workers: cfg.Pacing.Concurrency,
		Actor: actor, Tenant: tenant.ID, UnknownOutcomeGrace: time.Duration(cfg.Pacing.LookupGrace),
		TenantName: tenant.Name, DetailsURL: cfg.Notify.DetailsURL,
	}
	if len(mailers) > 0 {
		eng.Mailer = mailers
	}
	if cfg.SMTP != nil {
		sender, err := smtpSender(ctx, cfg, env, log)
		if err != nil {
			ledger.Close()
			return nil, nil, withCode(ExitError, err)
		}
		eng.Postman = email.Postman{Sender: sender}
	} else {
		log.Warn("no smtp: section: sponsors are not told when their guests redeem")
	}
	return eng, ledger, nil
}

// guestsCommand is what every foyer guests command opens: its logger, the
// configuration, the tenant it acts on and the engine for that tenant.
type guestsCommand struct {
	log    *slog.Logger
	cfg    *config.Config
	tenant string
	eng    *engine.Engine
	ledger store.Store
}

// openGuests opens a guests command for the tenant --tenant names (or the
// only one), or, when profile is set, for that profile's tenant. The
// caller closes the ledger.
func openGuests(cmd *cobra.Command, env *Env, profile, actor string) (*guestsCommand, error) {
	var g guestsCommand
	var err error
	if g.log, err = logger(cmd, env); err != nil {
		return nil, err
	}
	if g.cfg, err = loadConfig(cmd, env); err != nil {
		return nil, err
	}
	if profile != "" {
		cp, ok := g.cfg.Profiles[profile]
		if !ok {
			return nil, usageError("no profile %q in %s (profiles: %s)", profile, g.cfg.Name(), strings.Join(g.cfg.ProfileNames(), ", "))
		}
		g.tenant = cp.Tenant
	} else if g.tenant, err = guestsTenant(cmd, g.cfg); err != nil {
		return nil, err
	}
	if g.eng, g.ledger, err = guestsEngine(cmd.Context(), g.cfg, g.tenant, env, g.log, actor); err != nil {
		return nil, err
	}
	return &g, nil
}

// noticeWait bounds how long sync waits for the notices it owes to go
// out; those left are sent by foyer serve or the next sync.
const noticeWait = time.Minute

func runGuestsSync(cmd *cobra.Command, env *Env) error {
	ctx := cmd.Context()
	g, err := openGuests(cmd, env, "", "cli:guests sync")
	if err != nil {
		return err
	}
	defer g.ledger.Close()
	log, name, eng := g.log, g.tenant, g.eng
	if err := eng.Start(ctx); err != nil {
		return withCode(ExitError, err)
	}
	defer func() {
		if err := eng.Stop(context.WithoutCancel(ctx)); err != nil {
			log.Warn("give the ledger's lease back", "err", err)
		}
	}()
	sum, err := eng.SyncRedemptions(ctx)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("tenant %s: %w", name, err))
	}
	fmt.Fprintf(env.Stdout, "%s invited: %d redeemed (now active), %d still pending, %d not shown by the directory\n",
		plural(sum.Pending, "guest", "guests"), sum.Accepted, sum.Pending-sum.Accepted-sum.Missing, sum.Missing)
	if sum.Reset > 0 || sum.Removed > 0 {
		// Seen by the delta query: what happened to foyer's guests outside it.
		fmt.Fprintf(env.Stdout, "outside foyer: %s reset (invited again), %s deleted (removed)\n",
			plural(sum.Reset, "redemption", "redemptions"), plural(sum.Removed, "guest", "guests"))
	}
	reminded, remindErr := eng.RemindPending(ctx)
	fmt.Fprintf(env.Stdout, "%s sent again\n", plural(reminded, "invitation", "invitations"))
	wctx, cancel := context.WithTimeout(ctx, noticeWait)
	left, err := eng.SendNotices(wctx)
	cancel()
	if err != nil {
		log.Warn("send the sponsors' notices", "err", err)
	}
	if left > 0 {
		fmt.Fprintf(env.Stderr, "foyer: %s not sent yet: foyer serve or the next sync sends them\n", plural(left, "notice", "notices"))
	}
	if remindErr != nil {
		return withCode(ExitError, fmt.Errorf("tenant %s: reminders: %w", name, remindErr))
	}
	return nil
}

func runResetRedemption(cmd *cobra.Command, env *Env, arg string) error {
	ctx := cmd.Context()
	profile, _ := cmd.Flags().GetString("profile")
	if profile == "" {
		return usageError(`required flag(s) "profile" not set`)
	}
	addr, err := foyer.ParseAddress(arg)
	if err != nil {
		return usageError("%s", foyer.ErrorMessage(err))
	}
	yes, _ := cmd.Flags().GetBool("yes")
	var ask *asker
	if !yes {
		if ask, err = newAsker(env, false, "reset-redemption"); err != nil {
			return err
		}
		defer ask.close()
	}
	by := strings.TrimPrefix(approver(env), "cli:")
	g, err := openGuests(cmd, env, profile, "cli:"+by)
	if err != nil {
		return err
	}
	log, eng, ledger := g.log, g.eng, g.ledger
	defer ledger.Close()
	if ask != nil {
		ok, err := ask.ask(ctx, fmt.Sprintf("Reset the redemption of %s in tenant %s (the guest must redeem again)?", addr, g.tenant))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(env.Stderr, "Nothing changed.")
			return said(ExitDeclined, "declined")
		}
	}
	if err := eng.Start(ctx); err != nil {
		return withCode(ExitError, err)
	}
	res, err := eng.ResetRedemption(ctx, addr, profile, by)
	if stopErr := eng.Stop(context.WithoutCancel(ctx)); stopErr != nil {
		log.Warn("give the ledger's lease back", "err", stopErr)
	}
	if err != nil {
		return withCode(ExitError, err)
	}
	fmt.Fprintf(env.Stdout, "Guest %s (%s) must redeem again; %s back to invited.\n", addr, res.UserID, plural(len(res.Requests), "request", "requests"))
	if res.RedeemURL != "" {
		fmt.Fprintf(env.Stdout, "Profile %s sends no email: give the guest this link: %s\n", profile, res.RedeemURL)
	}
	return nil
}
