package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/store"
)

func newTriggers(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "triggers",
		Short: "What the triggers found in blob prefixes, Event Grid events and watched folders: applied, failed, seen",
		Long: `triggers reads what foyer serve's triggers recorded about the inputs they
found under a blob prefix, in an Event Grid event or in a watched folder: one
record per version of an input (a blob's ETag, a file's size and modification
time), seen, applied (with its run) or failed (with the reason). A failed
version is not tried again: write or upload the file again (a new version)
once it is fixed.

  foyer triggers items    list the records, newest first
  foyer triggers prune    delete the seen versions a later version replaced

Both read the ledger only, without a lease: they may run while foyer serve
does.`,
		// foyer triggers alone shows this help; with a word that names
		// no subcommand it is a usage error.
		Args: cobra.ArbitraryArgs,
		RunE: unknownCommand,
	}
	items := &cobra.Command{
		Use:   "items",
		Short: "List the inputs the triggers found, newest first, and why one failed",
		Long: `items lists the versions of inputs the triggers recorded, newest first: the
trigger, the input (azblob://container/blob or the file's path), its version,
its state, the run recorded for it, when it was first seen, when it was
applied or failed, and why it failed.

  seen     found; a watched file waits to be found again unchanged (it
           stopped growing) before it is applied
  applied  a run was recorded for it (foyer runs show RUN-ID); it is not
           applied again in this version
  failed   it could not be applied (not a CSV, too large, no such profile);
           it is not tried again in this version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTriggerItems(cmd, env) },
	}
	items.Flags().String("trigger", "", "list only this trigger's inputs")
	items.Flags().StringSlice("state", nil, "list only these states, comma-separated: seen, applied, failed")
	items.Flags().Int("limit", 50, "how many records to list (0: all)")
	items.Flags().StringP("output", "o", "human", "output format: human or json")
	_ = items.RegisterFlagCompletionFunc("state", cobra.FixedCompletions(triggerItemStates(), cobra.ShellCompDirectiveNoFileComp))
	_ = items.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"human", "json"}, cobra.ShellCompDirectiveNoFileComp))
	prune := &cobra.Command{
		Use:   "prune",
		Short: "Delete the seen versions of inputs that a later version replaced",
		Long: `prune deletes the records of versions that were only seen (a watched file
that changed again before it was applied, a file still being written) when a
later version of the same input is recorded and the version was first seen
longer ago than --older-than. Such a version will not be found again, so its
record stops nothing. Applied and failed versions are never deleted: they
are what keeps a trigger from applying the same version twice, however late
it is found again. Nor is the latest version of an input. foyer serve prunes
as well, hourly, with the default age.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTriggersPrune(cmd, env) },
	}
	// The default is the age foyer serve prunes at.
	prune.Flags().String("older-than", fmt.Sprintf("%dd", engine.SeenTriggerItemsAge/(24*time.Hour)), "delete only versions first seen longer ago than this: 30d, 2w, 36h")
	for _, c := range []*cobra.Command{items, prune} {
		configFlag(c)
		cmd.AddCommand(c)
	}
	return cmd
}

func triggerItemStates() []string {
	return []string{string(store.ItemSeen), string(store.ItemApplied), string(store.ItemFailed)}
}

// triggerItemJSON is one record in foyer triggers items --output json.
type triggerItemJSON struct {
	Trigger string     `json:"trigger"`
	Item    string     `json:"item"`
	Version string     `json:"version"`
	State   string     `json:"state"`
	RunID   string     `json:"run_id,omitempty"`
	SeenAt  time.Time  `json:"seen_at"`
	DoneAt  *time.Time `json:"done_at,omitempty"`
	Detail  string     `json:"detail,omitempty"`
}

// triggerItemFilter reads --trigger, --state and --limit.
func triggerItemFilter(cmd *cobra.Command) (store.TriggerItemFilter, error) {
	var f store.TriggerItemFilter
	f.Trigger, _ = cmd.Flags().GetString("trigger")
	f.Limit, _ = cmd.Flags().GetInt("limit")
	if f.Limit < 0 {
		return f, usageError("--limit %d: want 0 (all) or more", f.Limit)
	}
	states, _ := cmd.Flags().GetStringSlice("state")
	for _, s := range states {
		s = strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(triggerItemStates(), s) {
			return f, usageError("--state %q: want %s", s, strings.Join(triggerItemStates(), ", "))
		}
		f.States = append(f.States, store.TriggerItemState(s))
	}
	return f, nil
}

func runTriggerItems(cmd *cobra.Command, env *Env) error {
	ctx := cmd.Context()
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	f, err := triggerItemFilter(cmd)
	if err != nil {
		return err
	}
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	var items []store.TriggerItem
	err = ledger.InTx(ctx, func(tx store.Tx) error {
		items = nil // a transaction run again lists again
		return tx.ListTriggerItems(ctx, f, func(it store.TriggerItem) error {
			items = append(items, it)
			return nil
		})
	})
	if err != nil {
		return withCode(ExitError, fmt.Errorf("list trigger items: %w", err))
	}
	if format == "json" {
		out := make([]triggerItemJSON, len(items))
		for i, it := range items {
			out[i] = triggerItemJSON{Trigger: it.Trigger, Item: it.Item, Version: it.Version, State: string(it.State),
				RunID: it.RunID, SeenAt: it.SeenAt, Detail: it.Detail}
			if !it.DoneAt.IsZero() {
				out[i].DoneAt = &items[i].DoneAt
			}
		}
		return writeJSON(env, map[string]any{"trigger_items": out})
	}
	if len(items) == 0 {
		what := "trigger inputs"
		if len(f.States) > 0 {
			var names []string
			for _, s := range f.States {
				names = append(names, string(s))
			}
			what = strings.Join(names, " or ") + " " + what
		}
		if f.Trigger != "" {
			what += " of trigger " + printable(f.Trigger)
		}
		fmt.Fprintf(env.Stdout, "No %s in the ledger.\n", what)
		return nil
	}
	// Columns as wide as their widest cell, as foyer jobs: an input's
	// path and a run's id are not cut; the reason is, at 100 columns.
	const at = "2006-01-02 15:04"
	cells := [][]string{{"trigger", "item", "version", "state", "run", "seen", "done", "detail"}}
	for _, it := range items {
		run, done := it.RunID, "-"
		if run == "" {
			run = "-"
		}
		if !it.DoneAt.IsZero() {
			done = it.DoneAt.In(time.Local).Format(at)
		}
		cells = append(cells, []string{printable(it.Trigger), printable(it.Item), printable(it.Version), string(it.State), run,
			it.SeenAt.In(time.Local).Format(at), done, clipCells(printable(oneLine(it.Detail)), 100)})
	}
	widths := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], cellsOf(c))
		}
	}
	for _, row := range cells {
		var b strings.Builder
		for i, c := range row {
			if i < len(row)-1 {
				c = padCells(c, widths[i]+2)
			}
			b.WriteString(c)
		}
		fmt.Fprintln(env.Stdout, strings.TrimRight(b.String(), " "))
	}
	return nil
}

func runTriggersPrune(cmd *cobra.Command, env *Env) error {
	ctx := cmd.Context()
	s, _ := cmd.Flags().GetString("older-than")
	age, err := config.ParseDuration(s)
	if err != nil {
		return usageError("--older-than: %w", err)
	}
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	before := env.Clock.Now().Add(-age)
	var n int
	err = ledger.InTx(ctx, func(tx store.Tx) error {
		n, err = tx.PruneSeenTriggerItems(ctx, before)
		return err
	})
	if err != nil {
		return withCode(ExitError, err)
	}
	fmt.Fprintf(env.Stdout, "Deleted %s: seen before %s and replaced by a later version. Applied and failed versions are kept.\n",
		plural(n, "seen version", "seen versions"), before.In(time.Local).Format("2006-01-02 15:04"))
	return nil
}
