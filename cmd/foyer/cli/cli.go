// Package cli holds foyer's commands. It parses, validates and runs; it is
// the only place where concrete backends (graph, the SQLite and PostgreSQL
// ledgers, the notifiers, the emulated tenant) are wired together.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
)

// Exit codes. They are never overloaded: each means one thing.
const (
	ExitOK       = 0 // everything asked was done
	ExitError    = 1 // an error before anything ran (config, connection, input)
	ExitUsage    = 2 // the command line is wrong
	ExitRowsFail = 3 // the run finished and some rows failed
)

// Env is everything a command reads from or writes to the outside world.
type Env struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Clock  foyer.Clock // nil means the system clock
	// InputClient fetches https:// and azblob:// inputs; nil uses a client
	// with timeouts that trusts the system's CAs. (Graph's client is built
	// from the configuration.)
	InputClient *http.Client
}

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
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

// Run runs the command line in env and returns the process's exit code.
func Run(ctx context.Context, env Env) int {
	if env.Clock == nil {
		env.Clock = foyer.SystemClock{}
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
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
	if errors.As(err, &ee) {
		if ee.code != ExitRowsFail {
			fmt.Fprintln(env.Stderr, "foyer:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(env.Stderr, "foyer:", err)
	// cobra's own parse errors (unknown flag, wrong argument count) are usage
	// errors; everything else returned a plain error before it could run.
	if isCobraUsage(err) {
		return ExitUsage
	}
	return ExitError
}

func newRoot(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "foyer",
		Short:         "Let outside people into your Entra tenant as guests, with exactly the access granted",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("log-level", "warn", "log level: debug, info, warn or error")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%w (see %s --help)", err, c.CommandPath())
	})
	for _, add := range commands() {
		root.AddCommand(add(env))
	}
	return root
}

// commands lists the constructors of the subcommands, written out here so
// that the set of commands is visible in one place.
func commands() []func(*Env) *cobra.Command {
	return []func(*Env) *cobra.Command{
		newVersion,
		newSim,
		newDemo,
		newPlan,
		newApply,
		newRevoke,
		newProfiles,
		newRuns,
	}
}

func newVersion(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print foyer's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(env.Stdout, "foyer", version())
			return err
		},
	}
}

// logger returns the logger for a command, writing to stderr at the level the
// --log-level flag names.
func logger(cmd *cobra.Command, env *Env) (*slog.Logger, error) {
	name, _ := cmd.Flags().GetString("log-level")
	var level slog.Level
	if err := level.UnmarshalText([]byte(name)); err != nil {
		return nil, usageError("--log-level %q: want debug, info, warn or error", name)
	}
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level})), nil
}
