package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/source"
)

func newPlan(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan --profile P FILE",
		Short: "Show, row by row, what applying a CSV would do, without changing anything",
		Long: `plan reads a CSV of people (a local path, - for standard input, an https URL
such as a blob SAS URL, or azblob://container/blob), checks every row, looks
the people up in the tenant, and prints what apply would do with each row:

  invite     nobody has this address: invite and grant the profile
  exists     already a guest: only add the grants that are missing
  skip       an address of the organisation, or a domain the profile refuses;
             or held back: no free seat of a license the row needs, or past
             the tenant's directory object quota (counted in file order)
  duplicate  the address appeared on an earlier line
  invalid    the row cannot be read as a person (the reason says why)

It writes nothing, to the tenant or to the ledger.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd, env, args[0])
		},
	}
	configFlag(cmd)
	planFlags(cmd)
	return cmd
}

func planFlags(cmd *cobra.Command) {
	cmd.Flags().StringP("profile", "p", "", "the profile to grant (required)")
	cmd.Flags().StringP("output", "o", "human", "output format: human or json")
	cmd.Flags().BoolP("verbose", "v", false, "show every row, also guests who already have every grant")
	_ = cmd.MarkFlagRequired("profile")
}

// planner is everything a plan needs, ready.
type planner struct {
	cfg     *config.Config
	dir     *graph.Client
	tenant  *foyer.Tenant
	profile *foyer.Profile
	pre     *engine.Prepared // what the plan reads before its first row
	mailer  *smtpMailer      // for a profile whose sender is foyer
}

// preparePlan loads the configuration, signs in, resolves the profile and
// reads what the directory holds: everything that can fail before a row is
// read.
func preparePlan(cmd *cobra.Command, env *Env) (*planner, error) {
	ctx := cmd.Context()
	log, err := logger(cmd, env)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(cmd, env)
	if err != nil {
		return nil, err
	}
	name, _ := cmd.Flags().GetString("profile")
	dir, tenant, err := openDirectory(ctx, cfg, name, env, log)
	if err != nil {
		return nil, err
	}
	p := &planner{cfg: cfg, dir: dir, tenant: tenant}
	// Every problem of the profile at once: its grants, and its SMTP server
	// when it sends its own invitation emails.
	var problems []error
	if p.profile, err = resolveProfile(ctx, cfg, name, dir); err != nil {
		problems = append(problems, err)
	}
	if cfg.Profiles[name].Sender == string(foyer.SenderFoyer) {
		if p.mailer, err = newMailer(ctx, cfg, name, env, log); err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", cfg.Where("$.smtp"), err))
		}
	}
	if len(problems) > 0 {
		return nil, withCode(ExitError, errors.Join(problems...))
	}
	pl := &engine.Planner{Dir: dir, Profile: p.profile}
	if p.pre, err = pl.Prepare(ctx, grantWhere(cfg, name)); err != nil {
		return nil, withCode(ExitError, err)
	}
	return p, nil
}

// grantWhere gives the place in the configuration of a profile's grant i.
func grantWhere(cfg *config.Config, profile string) func(i int) string {
	_, paths, err := cfg.Profile(profile)
	return func(i int) string {
		if err != nil || i >= len(paths) {
			return cfg.Name()
		}
		return cfg.Where(paths[i])
	}
}

// plan streams the rows of r through the source's checks and the engine's
// plan, calling emit with each planned row and notice with what people
// should know about the plan as a whole (rows held back, and why).
func (p *planner) plan(ctx context.Context, r io.Reader, emit func(foyer.Row) error, notice func(string)) (foyer.Summary, error) {
	var sum foyer.Summary
	rows := func(yield func(foyer.Row) error) error {
		_, err := source.Read(ctx, r, source.Options{VerifiedDomains: p.pre.Verified, InternalDomains: p.tenant.Domains, Profile: p.profile}, yield)
		return err
	}
	pl := &engine.Planner{Dir: p.dir, Profile: p.profile, Limits: p.pre.Limits, Notice: notice}
	err := pl.Plan(ctx, rows, p.pre.Held, func(row foyer.Row) error {
		sum.Count(row)
		return emit(row)
	})
	return sum, err
}

func runPlan(cmd *cobra.Command, env *Env, spec string) error {
	ctx := cmd.Context()
	format, _ := cmd.Flags().GetString("output")
	verbose, _ := cmd.Flags().GetBool("verbose")
	v, err := newView(format, env.Stdout, "plan", verbose)
	if err != nil {
		return err
	}
	p, err := preparePlan(cmd, env)
	if err != nil {
		return err
	}
	in, err := openInput(ctx, spec, p.cfg, env)
	if err != nil {
		return withCode(ExitError, err)
	}
	defer in.Close()
	sum, err := p.plan(ctx, in, func(r foyer.Row) error {
		v.event(engine.Event{Kind: engine.EventPlanRow, Row: &r})
		return nil
	}, func(m string) { v.event(engine.Event{Kind: engine.EventNotice, Message: m}) })
	if err != nil {
		return withCode(ExitError, fmt.Errorf("plan %s: %w", in.Name, err))
	}
	v.event(engine.Event{Kind: engine.EventPlanned, Summary: &sum})
	return v.close()
}
