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
name or id, app roles, licenses and their free seats, directory roles, Azure
roles at their scopes; and, for profiles that send their own invitation
emails, connects to the SMTP server. Every problem is reported with the line
of the configuration it comes from. It changes nothing.

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
		problems, grants := checkProfile(cmd.Context(), cfg, name, env, log)
		if len(problems) == 0 {
			fmt.Fprintf(env.Stdout, "profile %s: ready (%s)\n", name, describeGrants(grants))
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

// checkProfile returns every problem of one profile, and its grants once
// resolved.
func checkProfile(ctx context.Context, cfg *config.Config, name string, env *Env, log *slog.Logger) (problems []string, grants []foyer.Grant) {
	dir, _, err := openDirectory(ctx, cfg, name, env, log)
	if err != nil {
		return []string{err.Error()}, nil
	}
	p, paths, err := cfg.Profile(name)
	if err != nil {
		return []string{err.Error()}, nil
	}
	grants, err = engine.ResolveGrants(ctx, dir, p.Grants, func(i int) string { return cfg.Where(paths[i]) })
	var gp *engine.GrantProblems
	switch {
	case errors.As(err, &gp):
		problems = append(problems, gp.Problems...)
	case err != nil:
		problems = append(problems, err.Error())
	}
	if p.Sender == foyer.SenderFoyer {
		if _, err := newMailer(ctx, cfg, name, env, log); err != nil {
			problems = append(problems, cfg.Where("$.smtp")+": "+err.Error())
		}
	}
	return problems, grants
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
