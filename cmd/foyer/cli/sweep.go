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
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/graph"
)

func newSweep(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sweep [--plan] [--tenant T]",
		Short: "List the stale guests a sweep would disable, and why, without changing anything",
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

Guests in exclude.users or in a group of exclude.groups are left alone, and
so are guests already disabled. It prints every guest it would act on (email,
user_id, action, reason with the dates behind it) and a summary; --output
json writes one document with "summary" and "guests".

--plan is the default and the only mode so far: sweep never changes the
tenant. --apply is not built yet.

It refuses, and changes nothing, when the tenant cannot report sign-in
activity: without Microsoft Entra ID P1 or P2, without the AuditLog.Read.All
permission, or when no guest at all has sign-in activity (what missing data
looks like; acting on it would disable active guests). It says when the plan
acts on more guests than lifecycle.cap allows: an apply would stop before
acting.

Exit codes: 0 the plan was made (also when it exceeds the cap: it says so),
1 an error or a refusal (configuration, sign-in, no sign-in data), 2 a usage
error, 130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSweep(cmd, env) },
	}
	configFlag(cmd)
	outputFlags(cmd)
	cmd.Flags().Bool("plan", true, "list what a sweep would do (the default); nothing is changed")
	cmd.Flags().Bool("apply", false, "act on the plan (not built yet)")
	cmd.Flags().String("tenant", "", "the configured tenant to sweep (default: the only one)")
	return cmd
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
	if apply, _ := cmd.Flags().GetBool("apply"); apply {
		return usageError("foyer sweep --apply is not built yet: only --plan (the default), which changes nothing")
	}
	if plan, _ := cmd.Flags().GetBool("plan"); !plan {
		return usageError("foyer sweep only plans so far: --plan=false leaves it nothing to do")
	}
	o := viewFlags(cmd, "sweep")
	if o.format != "human" && o.format != "json" {
		return usageError("--output %q: want human or json", o.format)
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
	dir, _, err := openTenant(ctx, cfg, name, env, log)
	if err != nil {
		return err
	}
	plan, err := planSweep(ctx, dir, lc, env.Clock.Now())
	if err != nil {
		return withCode(ExitError, fmt.Errorf("tenant %s: %w", name, err))
	}
	if err := writeSweep(env.Stdout, o, plan); err != nil {
		return err
	}
	if plan.CapExceeded {
		fmt.Fprintf(env.Stderr, "foyer: this sweep would act on %d of %d guests, more than lifecycle.cap allows (%d): an apply would stop before acting\n",
			len(plan.Actions), plan.Guests, plan.CapLimit)
	}
	return nil
}

// planSweep reads the guests and the exclusions and decides.
func planSweep(ctx context.Context, dir *graph.Client, lc *config.Lifecycle, now time.Time) (*foyer.SweepPlan, error) {
	exclude := make(map[string]bool)
	for _, u := range lc.Exclude.Users {
		exclude[strings.ToLower(strings.TrimSpace(u))] = true
	}
	for _, g := range lc.Exclude.Groups {
		ms, err := dir.Members(ctx, strings.TrimSpace(g))
		if err != nil {
			return nil, fmt.Errorf("read the members of excluded group %s: %w", g, err)
		}
		for _, m := range ms {
			exclude[strings.ToLower(m.ID)] = true
		}
	}
	guests, err := dir.GuestActivity(ctx)
	if errors.Is(err, directory.ErrNoPremium) {
		return nil, fmt.Errorf("sweep refused, nothing changed: the tenant cannot report sign-in activity: %w", err)
	}
	if err != nil {
		return nil, err
	}
	plan, err := foyer.PlanSweep(now, lc.SweepRules(), guests, exclude, nil)
	var missing *foyer.ErrSignInUnreported
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("sweep refused, nothing changed: %w", err)
	}
	return plan, err
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
	counts := map[string]int{"guests": p.Guests, "excluded": p.Excluded, string(foyer.SweepDisable): 0}
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
		fmt.Fprintf(w, "%-8s  %-36s  %-36s  %s\n", "action", "email", "user_id", "reason")
	}
	for _, d := range p.Actions {
		fmt.Fprintf(w, "%-8s  %-36s  %-36s  %s\n", d.Action, printable(d.Guest.Email()), printable(d.Guest.ID), printable(d.Reason))
	}
	_, err := fmt.Fprintf(w, "%s read: %d to disable, %d left alone by an exclusion\n",
		plural(p.Guests, "guest", "guests"), counts[string(foyer.SweepDisable)], p.Excluded)
	return err
}
