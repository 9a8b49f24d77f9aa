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

It writes nothing, to the tenant or to the ledger, unless --save is given:
then the plan is recorded in the ledger as a run, and its id printed
("run_id" with --output json), to be applied later, exactly as recorded,
with foyer apply RUN-ID.

The file's encoding (UTF-8 or UTF-16) and its email column (a header such as
Email, E-Mail-Adresse, Courriel or Correo electrónico) are recognised; name
them with --encoding and --email-column when they are not.

The table goes to standard output, cut to the terminal's width (--wide cuts
nothing; neither is anything cut off a terminal); messages go to standard
error. --output json writes one JSON document instead, whose summary counts
each action ("summary": {"invalid": 6, ...}).

Exit codes: 0 every row can be applied, 1 an error (configuration, sign-in,
input), 2 a usage error, 4 the file has invalid rows (the others are
planned; see the reasons), 130 interrupted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd, env, args[0])
		},
	}
	configFlag(cmd)
	planFlags(cmd, env)
	cmd.Flags().Bool("save", false, "record the plan in the ledger and print its run id, to apply it later with: foyer apply RUN-ID")
	return cmd
}

func planFlags(cmd *cobra.Command, env *Env) {
	cmd.Flags().StringP("profile", "p", "", "the profile to grant (required, except to apply a saved plan)")
	outputFlags(cmd)
	cmd.Flags().BoolP("verbose", "v", false, "show every row, also guests who already have every grant")
	cmd.Flags().String("encoding", "", "the file's encoding when it is not UTF-8 or UTF-16, e.g. windows-1252 (Excel's plain CSV on Western Windows) or iso-8859-15")
	cmd.Flags().String("email-column", "", "the column that holds the addresses: its name in the header, or its number from 1")
	_ = cmd.RegisterFlagCompletionFunc("profile", completeProfiles(env))
	_ = cmd.RegisterFlagCompletionFunc("encoding", cobra.FixedCompletions([]string{"utf-8", "utf-16le", "utf-16be", "windows-1252", "iso-8859-1", "iso-8859-15", "windows-1250", "shift_jis", "gb18030"}, cobra.ShellCompDirectiveNoFileComp))
}

// outputFlags adds --output and --wide.
func outputFlags(cmd *cobra.Command) {
	cmd.Flags().StringP("output", "o", "human", "output format: human or json")
	cmd.Flags().Bool("wide", false, "show every column in full, whatever the terminal's width")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"human", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// viewFlags reads the flags that shape the view of cmd.
func viewFlags(cmd *cobra.Command, name string) viewOptions {
	o := viewOptions{cmd: name}
	o.format, _ = cmd.Flags().GetString("output")
	o.verbose, _ = cmd.Flags().GetBool("verbose")
	o.wide, _ = cmd.Flags().GetBool("wide")
	return o
}

// completeProfiles completes --profile with the profiles of the
// configuration --config names.
func completeProfiles(env *Env) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		cfg, err := loadConfig(cmd, env)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cfg.ProfileNames(), cobra.ShellCompDirectiveNoFileComp
	}
}

// sourceFlags reads --encoding and --email-column, and refuses values that
// can never work before anything is read or signed in to.
func sourceFlags(cmd *cobra.Command) (source.Options, error) {
	var o source.Options
	o.Encoding, _ = cmd.Flags().GetString("encoding")
	o.EmailColumn, _ = cmd.Flags().GetString("email-column")
	if err := o.Check(); err != nil {
		return o, usageError("%s", foyer.ErrorMessage(err))
	}
	return o, nil
}

// sourceHint adds to a problem with the whole file the flag that settles
// it, when the flag was not given.
func sourceHint(cmd *cobra.Command, err error) error {
	var fe *source.FileError
	if !errors.As(err, &fe) {
		return err
	}
	switch {
	case fe.Option == source.OptionEncoding && !cmd.Flags().Changed("encoding"):
		return fmt.Errorf("%w (name the encoding with --encoding, e.g. --encoding windows-1252)", err)
	case fe.Option == source.OptionEmailColumn && !cmd.Flags().Changed("email-column"):
		return fmt.Errorf("%w (choose the column with --email-column NAME or --email-column NUMBER)", err)
	}
	return err
}

// planner is everything a plan needs, ready.
type planner struct {
	cfg     *config.Config
	dir     *graph.Client
	tenant  *foyer.Tenant
	profile *foyer.Profile
	pre     *engine.Prepared // what the plan reads before its first row
	mailer  *smtpMailer      // for a profile whose sender is foyer
	src     source.Options   // --encoding, --email-column
}

// preparePlan loads the configuration, signs in, resolves the profile and
// reads what the directory holds: everything that can fail before a row is
// read.
func preparePlan(cmd *cobra.Command, env *Env, name string) (*planner, error) {
	ctx := cmd.Context()
	src, err := sourceFlags(cmd)
	if err != nil {
		return nil, err
	}
	log, err := logger(cmd, env)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(cmd, env)
	if err != nil {
		return nil, err
	}
	dir, tenant, err := openDirectory(ctx, cfg, name, env, log)
	if err != nil {
		return nil, err
	}
	p := &planner{cfg: cfg, dir: dir, tenant: tenant, src: src}
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
		o := p.src
		o.VerifiedDomains, o.InternalDomains, o.Profile = p.pre.Verified, p.tenant.Domains, p.profile
		_, err := source.Read(ctx, r, o, yield)
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
	v, err := newView(env, viewFlags(cmd, "plan"))
	if err != nil {
		return err
	}
	profile, _ := cmd.Flags().GetString("profile")
	if profile == "" {
		return usageError(`required flag(s) "profile" not set`)
	}
	save, _ := cmd.Flags().GetBool("save")
	p, err := preparePlan(cmd, env, profile)
	if err != nil {
		return err
	}
	names := namer(foyer.GrantNames(p.profile.Grants))
	show := func(r foyer.Row) error {
		r = names.row(r)
		v.event(engine.Event{Kind: engine.EventPlanRow, Row: &r})
		return nil
	}
	notice := func(m string) { v.event(engine.Event{Kind: engine.EventNotice, Message: m}) }
	var sum foyer.Summary
	if save {
		run, err := savePlan(ctx, cmd, env, p, spec, show, notice)
		if err != nil {
			return err
		}
		sum = run.Summary
		v.event(engine.Event{Kind: engine.EventPlanned, Summary: &sum})
		v.event(engine.Event{Kind: engine.EventSaved, RunID: run.ID})
	} else {
		in, err := openInput(ctx, spec, p.cfg, env, 0)
		if err != nil {
			return withCode(ExitError, err)
		}
		defer in.Close()
		if sum, err = p.plan(ctx, in, show, notice); err != nil {
			return withCode(ExitError, fmt.Errorf("plan %s: %w", in.Name, sourceHint(cmd, err)))
		}
		v.event(engine.Event{Kind: engine.EventPlanned, Summary: &sum})
	}
	if err := v.close(); err != nil {
		return err
	}
	return invalidRows(v.status(), sum, "apply would skip them")
}

// savePlan plans the input and records the plan in the ledger as a saved
// run, for foyer apply RUN-ID (or an approver) to apply later, showing each
// row as it is planned.
func savePlan(ctx context.Context, cmd *cobra.Command, env *Env, p *planner, spec string, show func(foyer.Row) error, notice func(string)) (*foyer.Run, error) {
	log, err := logger(cmd, env)
	if err != nil {
		return nil, err
	}
	in, err := spoolInput(ctx, spec, p.cfg, env, 0)
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	defer in.remove()
	f, err := in.open()
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	defer f.Close()
	ledger, err := openLedger(ctx, p.cfg, env, log)
	if err != nil {
		return nil, err
	}
	defer ledger.Close()
	eng := newEngine(p, ledger, nil, env, log, "cli:plan")
	run, err := eng.Record(ctx, engine.RecordInput{Profile: p.profile.Name, Source: in.name, Digest: in.digest, Saved: true, RecordedBy: approver(env),
		Plan: func(ctx context.Context, emit func(foyer.Row) error) error {
			_, err := p.plan(ctx, f, func(r foyer.Row) error {
				if err := show(r); err != nil {
					return err
				}
				return emit(r)
			}, notice)
			return err
		}})
	if err != nil {
		return nil, withCode(ExitError, fmt.Errorf("plan %s: %w", in.name, sourceHint(cmd, err)))
	}
	return run, nil
}

// invalidRows returns exit code 4 when the file had invalid rows, saying so
// on stderr: automation sees them without reading the output. what says
// what became of them.
func invalidRows(st *status, sum foyer.Summary, what string) error {
	n := sum.Actions[foyer.ActionInvalid]
	if n == 0 {
		return nil
	}
	verb := "are"
	if n == 1 {
		verb = "is"
	}
	st.say("foyer: %s of the file %s invalid (%s; each has its reason): exit code %d", plural(n, "row", "rows"), verb, what, ExitInvalidRows)
	return said(ExitInvalidRows, "%d invalid rows", n)
}
