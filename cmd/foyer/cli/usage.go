package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// Usage errors are marked where they arise, as exitError with ExitUsage:
// cobra's flag errors through the root's FlagErrorFunc, its argument
// checks through markUsage, an unknown command by the root's own RunE, and
// a missing required flag by the command that needs it.

// markUsage makes every command's argument check, and those of the
// commands below it, return a usage error.
func markUsage(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return usageError("%w (see %s --help)", err, c.CommandPath())
			}
			return nil
		}
	}
	for _, c := range cmd.Commands() {
		markUsage(c)
	}
}

// unknownCommand is the root's RunE: foyer alone shows the help; foyer
// with a word that names no command is a usage error.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return usageError("%s (see %s --help)", msg, cmd.CommandPath())
}
