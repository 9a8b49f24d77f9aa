package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/store"
)

func newGuestsExpire(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "expire [--tenant T] [--yes]",
		Short: "Take back the access of guests whose profile's expiry has passed; send the notices due before",
		Long: `expire acts on the guests of the profiles whose access ends (profile
settings expiry and expires_on, docs/config.md). A request invited or active
whose access was granted more than expiry ago, or whose profile's expires_on
day has come (or whose end an admin moved with foyer guests extend, and that
end passed) is expired: the profile's grants are taken back
by a revoke run recorded by "expiry" (the same run as foyer revoke: one row
per address, every directory write recorded before and after, under the
ledger's lease) and the request ends in expired. The guest account stays.

Before the end, at end - expiry_notice (7d by default when smtp: is set),
the guest and the sponsors are told by email, once per end. The expiry
happens at the end whether or not the notice went out.

The plan is shown, then the question is asked on the terminal; --yes does
it without asking. foyer serve does the same every hour by itself.

Exit codes: 0 done (or nothing due), 1 an error, 2 a usage error, 3 some
people failed, 5 the answer was not yes (nothing was changed), 130
interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runGuestsExpire(cmd, env) },
	}
	configFlag(cmd)
	cmd.Flags().String("tenant", "", "the configured tenant (default: the only one)")
	cmd.Flags().BoolP("yes", "y", false, "expire without asking")
	return cmd
}

func newGuestsExtend(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "extend ADDRESS --profile P --until DATE",
		Short: "Move the end of a guest's access to a profile with an expiry",
		Long: `extend moves the end of the access that the profile gives ADDRESS to DATE
(2027-06-30, which means 00:00 UTC that day, or a time such as
2027-06-30T17:00:00Z). The request must be invited or active and the profile
must have an expiry or expires_on. The extension is recorded in the audit log in your name;
the notice before the new end is sent again. The profile's approval policy
is not asked: whoever may run foyer on this configuration may extend.

Exit codes: 0 done, 1 an error (no such request, profile without expiry),
2 a usage error, 130 interrupted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runGuestsExtend(cmd, env, args[0]) },
	}
	configFlag(cmd)
	cmd.Flags().StringP("profile", "p", "", "the profile whose access is extended (required)")
	cmd.Flags().String("until", "", "the new end: a date (2027-06-30, 00:00 UTC) or an RFC 3339 time (required)")
	_ = cmd.RegisterFlagCompletionFunc("profile", completeProfiles(env))
	return cmd
}

// parseUntil reads the new end of an extension: a date (00:00 UTC that
// day) or an RFC 3339 time.
func parseUntil(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, foyer.Errorf(foyer.EINVALID, "--until %q is neither a date (2027-06-30) nor an RFC 3339 time (2027-06-30T17:00:00Z)", s)
	}
	return t.UTC(), nil
}

func runGuestsExpire(cmd *cobra.Command, env *Env) error {
	ctx := cmd.Context()
	yes, _ := cmd.Flags().GetBool("yes")
	var ask *asker
	var err error
	if !yes {
		if ask, err = newAsker(env, false, "guests expire"); err != nil {
			return err
		}
		defer ask.close()
	}
	g, err := openGuests(cmd, env, "", "cli:guests expire")
	if err != nil {
		return err
	}
	defer g.ledger.Close()
	log, name, eng := g.log, g.tenant, g.eng
	plan, err := eng.PlanExpiry(ctx)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("tenant %s: %w", name, err))
	}
	if len(plan.Expire) == 0 && len(plan.Notices) == 0 && len(plan.Open) == 0 {
		next := ""
		for _, it := range plan.Items {
			next = fmt.Sprintf(" (the next end: %s, %s of %s)", it.Ends.UTC().Format(time.RFC3339), it.Request.Email, it.Request.Profile)
			break
		}
		fmt.Fprintf(env.Stdout, "Nothing due in tenant %s: %s with an end%s.\n", name, plural(len(plan.Items), "guest", "guests"), next)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tPROFILE\tSTATE\tGRANTED\tENDS\tDUE")
	show := func(its []engine.ExpiryItem, due string) {
		for _, it := range its {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", it.Request.Email, it.Request.Profile, it.Request.State,
				it.GrantedAt.UTC().Format(time.RFC3339), it.Ends.UTC().Format(time.RFC3339), due)
		}
	}
	show(plan.Expire, "expire")
	show(plan.Notices, "notice")
	_ = tw.Flush()
	for _, run := range plan.Open {
		fmt.Fprintf(env.Stdout, "Run %s, the expiry of profile %s, was interrupted: it is finished first.\n", run.ID, run.Profile)
	}
	fmt.Fprintf(env.Stdout, "%s to expire, %s to tell.\n", plural(len(plan.Expire), "guest", "guests"), plural(len(plan.Notices), "guest", "guests"))
	if ask != nil {
		ok, err := ask.ask(ctx, fmt.Sprintf("Take back the access of %s and send %s in tenant %s?",
			plural(len(plan.Expire), "guest", "guests"), plural(len(plan.Notices), "notice", "notices"), name))
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
	defer func() {
		if err := eng.Stop(context.WithoutCancel(ctx)); err != nil {
			log.Warn("give the ledger's lease back", "err", err)
		}
	}()
	done, expErr := eng.Expire(ctx, nil)
	failed := 0
	for _, run := range append(done.Resumed, done.Runs...) {
		err := store.EachRunRow(ctx, g.ledger, run.ID, func(r foyer.Row) error {
			switch {
			case r.Result == foyer.ResultFailed:
				failed++
				fmt.Fprintf(env.Stdout, "%s: failed: %s\n", r.Email, r.Error)
			case r.Result != "":
				fmt.Fprintf(env.Stdout, "%s: expired (%s, %s)\n", r.Email, r.Result, plural(len(r.Grants), "grant taken back", "grants taken back"))
			}
			return nil
		})
		if err != nil {
			return withCode(ExitError, err)
		}
	}
	if len(done.Resumed) > 0 {
		fmt.Fprintf(env.Stdout, "%s finished\n", plural(len(done.Resumed), "interrupted expiry run", "interrupted expiry runs"))
	}
	fmt.Fprintf(env.Stdout, "%s told, %s expired in %s\n", plural(done.Notices, "guest", "guests"),
		plural(done.Expired, "guest", "guests"), plural(len(done.Runs), "revoke run", "revoke runs"))
	wctx, cancel := context.WithTimeout(ctx, noticeWait)
	left, err := eng.SendNotices(wctx)
	cancel()
	if err != nil {
		log.Warn("send the expiry notices", "err", err)
	}
	if left > 0 {
		fmt.Fprintf(env.Stderr, "foyer: %s not sent yet: foyer serve or the next command sends them\n", plural(left, "notice", "notices"))
	}
	if expErr != nil {
		return withCode(ExitError, fmt.Errorf("tenant %s: %w", name, expErr))
	}
	if failed > 0 {
		return said(ExitRowsFail, "%d people failed", failed)
	}
	return nil
}

func runGuestsExtend(cmd *cobra.Command, env *Env, arg string) error {
	ctx := cmd.Context()
	profile, _ := cmd.Flags().GetString("profile")
	if profile == "" {
		return usageError(`required flag(s) "profile" not set`)
	}
	u, _ := cmd.Flags().GetString("until")
	if u == "" {
		return usageError(`required flag(s) "until" not set`)
	}
	until, err := parseUntil(u)
	if err != nil {
		return usageError("%s", foyer.ErrorMessage(err))
	}
	addr, err := foyer.ParseAddress(arg)
	if err != nil {
		return usageError("%s", foyer.ErrorMessage(err))
	}
	by := approver(env)
	g, err := openGuests(cmd, env, profile, by)
	if err != nil {
		return err
	}
	defer g.ledger.Close()
	if _, err := g.eng.Extend(ctx, addr, profile, until, by); err != nil {
		return withCode(ExitError, err)
	}
	fmt.Fprintf(env.Stdout, "The access of %s to %s now ends %s.\n", addr, profile, until.Format(time.RFC3339))
	return nil
}
