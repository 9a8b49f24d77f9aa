package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
)

func newProfiles(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profiles",
		Short: "Work with the profiles in the configuration",
	}
	check := &cobra.Command{
		Use:   "check [PROFILE...]",
		Short: "Check profiles against their tenant: every group, role, license and the SMTP server",
		Long: `check reads the configuration and, for each profile (or those named), signs
in to its tenant and resolves every grant: groups and service principals by
name or id, app roles, licenses, directory roles, Azure roles at their
scopes. Then it makes every read a plan makes before its first row: the
verified domains, who holds each grant, the free seats of each license and
the tenant's directory object quota, and shows the seats and the quota (a
license without a free seat is a warning: people who hold it are still
planned). For profiles that send their own invitation emails, it connects
to the SMTP server. Every problem is reported with the line of the
configuration it comes from. It changes nothing.

Exit codes: 0 every profile is ready, 1 a problem was found, 2 usage.`,
		RunE: func(cmd *cobra.Command, args []string) error { return runProfilesCheck(cmd, env, args) },
	}
	configFlag(check)
	cmd.AddCommand(check)
	return cmd
}

func runProfilesCheck(cmd *cobra.Command, env *Env, names []string) error {
	log, err := logger(cmd, env)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cmd, env)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		names = cfg.ProfileNames()
	}
	bad := 0
	for _, name := range names {
		problems, grants, pre := checkProfile(cmd.Context(), cfg, name, env, log)
		if len(problems) == 0 {
			fmt.Fprintf(env.Stdout, "profile %s: ready (%s)\n", name, describeGrants(grants))
			for _, l := range describeLimits(grants, pre.Limits) {
				fmt.Fprintf(env.Stdout, "  %s\n", l)
			}
			continue
		}
		bad++
		fmt.Fprintf(env.Stdout, "profile %s: %d problems\n", name, len(problems))
		for _, p := range problems {
			fmt.Fprintf(env.Stdout, "  %s\n", strings.ReplaceAll(p, "\n", "\n  "))
		}
	}
	if bad > 0 {
		return withCode(ExitError, fmt.Errorf("%d of %d profiles have problems", bad, len(names)))
	}
	return nil
}

// checkProfile returns every problem of one profile, its grants once
// resolved, and what a plan reads before its first row (nil if the grants
// do not resolve). It makes the plan's own reads, through the same
// function (engine.Planner.Prepare).
func checkProfile(ctx context.Context, cfg *config.Config, name string, env *Env, log *slog.Logger) (problems []string, grants []foyer.Grant, pre *engine.Prepared) {
	dir, _, err := openDirectory(ctx, cfg, name, env, log)
	if err != nil {
		return []string{err.Error()}, nil, nil
	}
	p, paths, err := cfg.Profile(name)
	if err != nil {
		return []string{err.Error()}, nil, nil
	}
	where := func(i int) string { return cfg.Where(paths[i]) }
	grants, err = engine.ResolveGrants(ctx, dir, p.Grants, where)
	var gp *engine.GrantProblems
	switch {
	case errors.As(err, &gp):
		problems = append(problems, gp.Problems...)
	case err != nil:
		problems = append(problems, err.Error())
	}
	// The plan's reads. Who holds a grant and its seats can be read only
	// once every grant resolves; the others are checked anyway, so that
	// every problem shows at once.
	p.Grants = grants
	pl := &engine.Planner{Dir: dir, Profile: p}
	pre, err = pl.Prepare(ctx, where)
	var rp *engine.ReadProblems
	switch {
	case errors.As(err, &rp):
		problems = append(problems, rp.Problems...)
	case err != nil:
		problems = append(problems, err.Error())
	}
	if p.Sender == foyer.SenderFoyer {
		if _, err := newMailer(ctx, cfg, name, env, log); err != nil {
			problems = append(problems, cfg.Where("$.smtp")+": "+err.Error())
		}
	}
	return problems, grants, pre
}

// describeLimits shows the free seats of each license and the object
// quota: what the plan will count rows against.
func describeLimits(grants []foyer.Grant, l engine.Limits) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range grants {
		free, ok := l.Seats[g.Key()]
		if !ok || seen[g.Key()] {
			continue
		}
		seen[g.Key()] = true
		if free <= 0 {
			out = append(out, fmt.Sprintf("warning: %s has no free seats: people who do not hold it yet will be held back", g))
		} else {
			out = append(out, fmt.Sprintf("%s: %d free seats", g, free))
		}
	}
	q := l.Quota
	free, known := q.Free()
	switch {
	case !known:
		out = append(out, "directory objects: the tenant does not report its quota")
	case free <= 0:
		out = append(out, fmt.Sprintf("warning: directory objects: %d of %d used: the quota is full, nobody can be invited", q.Used, q.Total))
	default:
		out = append(out, fmt.Sprintf("directory objects: %d of %d used (%d more fit)", q.Used, q.Total, free))
	}
	return out
}

func describeGrants(grants []foyer.Grant) string {
	if len(grants) == 0 {
		return "invitation only, no grants"
	}
	names := make([]string, len(grants))
	for i, g := range grants {
		names[i] = g.String()
	}
	return strings.Join(names, ", ")
}
