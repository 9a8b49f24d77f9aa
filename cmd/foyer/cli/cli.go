// Package cli holds foyer's commands. It parses, validates and runs; it is
// the only place where concrete backends (graph, the SQLite and PostgreSQL
// ledgers, the notifiers, the emulated tenant) are wired together.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
)

// Exit codes. They are never overloaded: each means one thing. README.md
// ("Exit codes") and every command's --help list them.
const (
	ExitOK             = 0   // everything asked was done (or there was nothing to do)
	ExitError          = 1   // an error stopped the command; the message says what, and whether anything ran
	ExitUsage          = 2   // the command line is wrong
	ExitRowsFail       = 3   // the run finished and some rows failed
	ExitInvalidRows    = 4   // the file has invalid rows (the others were planned, or applied); none failed
	ExitDeclined       = 5   // the plan was shown and the answer was not "yes": nothing was applied
	ExitAwaitsApproval = 6   // the plan was recorded and awaits a second admin's approval (four eyes): nothing was applied
	ExitSweepHeld      = 7   // the sweep acts on more guests than lifecycle.cap allows: recorded and held, nothing changed, until foyer sweep release
	ExitInterrupted    = 130 // interrupted (SIGINT; main turns SIGTERM into 143): the same apply resumes
)

// Env is everything a command reads from or writes to the outside world.
type Env struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer // data: tables, summaries, the JSON document
	Stderr io.Writer // progress, prompts, messages and logs
	Getenv func(string) string
	Clock  foyer.Clock // nil means the system clock
	// InputClient fetches https:// and azblob:// inputs; nil uses a client
	// with timeouts that trusts the system's CAs. (Graph's client is built
	// from the configuration.)
	InputClient *http.Client
	// Program is how the binary was invoked (os.Args[0]); hints name it so
	// ("./foyer runs show ...", "go run ./cmd/foyer ..."). Empty is "foyer".
	Program string
	// Terminal reports whether f (Stdin, Stdout or Stderr) is a terminal
	// and, if it is, its width in columns (0 when unknown). Nil looks at
	// the file descriptor.
	Terminal func(f any) (ok bool, width int)
	// OpenTerminal opens the controlling terminal, to read the answer to a
	// question when standard input carries the guest list. Nil opens
	// /dev/tty (CONIN$ on Windows).
	OpenTerminal func() (io.ReadCloser, error)
}

// isTerminal reports whether f is a terminal.
func (env *Env) isTerminal(f any) bool {
	ok, _ := env.Terminal(f)
	return ok
}

// exitError carries an exit code out of a command.
type exitError struct {
	code   int
	err    error
	silent bool // the command has said it already
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a command-line mistake (exit code 2).
func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// withCode marks err with an exit code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// said returns an exit code whose reason the command has already shown.
func said(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...), silent: true}
}

// Run runs the command line in env and returns the process's exit code.
func Run(ctx context.Context, env Env) int {
	if env.Clock == nil {
		env.Clock = foyer.SystemClock{}
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Terminal == nil {
		env.Terminal = fileTerminal(env.Getenv)
	}
	if env.OpenTerminal == nil {
		env.OpenTerminal = openControllingTerminal
	}
	root := newRoot(&env)
	root.SetArgs(env.Args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		// Usage errors are marked where they arise (usage.go); anything
		// else that reached here unmarked is an error.
		ee = &exitError{code: ExitError, err: err}
	}
	if ctx.Err() != nil && ee.code != ExitInterrupted {
		// The command stopped because it was interrupted; its error (a
		// cancelled context, in whatever words) says nothing more.
		ee = &exitError{code: ExitInterrupted, err: errors.New("interrupted")}
	}
	if !ee.silent {
		fmt.Fprintln(env.Stderr, "foyer:", ee.err)
	}
	return ee.code
}

func newRoot(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "foyer",
		Short:         "Let outside people into your Entra tenant as guests, with exactly the access granted",
		Version:       versionLine(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("foyer {{.Version}}\n")
	root.PersistentFlags().String("log-level", "warn", "log level: debug, info, warn or error (any level set here also shows the job queue's own logs)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%w (see %s --help)", err, c.CommandPath())
	})
	for _, add := range commands() {
		root.AddCommand(add(env))
	}
	root.Args, root.RunE, root.SuggestionsMinimumDistance = cobra.ArbitraryArgs, unknownCommand, 2
	markUsage(root)
	return root
}

// commands lists the constructors of the subcommands, written out here so
// that the set of commands is visible in one place.
func commands() []func(*Env) *cobra.Command {
	return []func(*Env) *cobra.Command{
		newVersion,
		newInit,
		newSim,
		newDemo,
		newPlan,
		newApply,
		newRevoke,
		newSweep,
		newGuests,
		newProfiles,
		newRuns,
		newTenants,
		newJobs,
		newTriggers,
		newAPIKeys,
		newServe,
	}
}

func newVersion(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print foyer's version and the commit it was built from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(env.Stdout, "foyer", versionLine())
			return err
		},
	}
}
