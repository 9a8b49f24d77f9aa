package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/web/api"
)

func newAPIKeys(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikeys",
		Short: "Make, list and revoke the keys other applications use on foyer serve's API",
		Long: `apikeys manages the keys other applications send to foyer serve's API
(/api/v1) as "Authorization: Bearer foyer_...". The ledger keeps only a
key's hash and its first characters: a key is shown once, when it is made.
Applications may use an Entra app token instead (see the README).`,
		Args: cobra.NoArgs,
	}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Make a key and print it, once, on standard output",
		Long: `create makes a key named NAME (letters, digits, '.', '_' and '-') and prints
it on standard output, and nothing else there, so that it can be piped
into a secret store. It is not shown again; the API names its caller
apikey:NAME in the audit log.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runAPIKeysCreate(cmd, env, args[0]) },
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the keys: name, first characters, when made and revoked",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runAPIKeysList(cmd, env) },
	}
	list.Flags().StringP("output", "o", "human", "output format: human or json")
	list.Flags().Bool("json", false, "the same as --output json")
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a key: the API refuses it from now on",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return runAPIKeysRevoke(cmd, env, args[0]) },
	}
	for _, c := range []*cobra.Command{create, list, revoke} {
		configFlag(c)
		cmd.AddCommand(c)
	}
	return cmd
}

var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkKeyName(name string) error {
	if !keyName.MatchString(name) {
		return usageError("API key name %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

func runAPIKeysCreate(cmd *cobra.Command, env *Env, name string) error {
	if err := checkKeyName(name); err != nil {
		return err
	}
	key, hash, prefix, err := api.NewKey(nil)
	if err != nil {
		return withCode(ExitError, err)
	}
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	ctx := cmd.Context()
	err = ledger.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateAPIKey(ctx, store.APIKey{Name: name, Hash: hash, Prefix: prefix, CreatedAt: tx.Now()})
	})
	if foyer.ErrorCode(err) == foyer.ECONFLICT {
		return withCode(ExitError, fmt.Errorf("an API key named %s exists already: revoke it, or choose another name", name))
	}
	if err != nil {
		return withCode(ExitError, fmt.Errorf("record API key %s: %w", name, err))
	}
	if _, err := fmt.Fprintln(env.Stdout, key); err != nil {
		return withCode(ExitError, err)
	}
	fmt.Fprintf(env.Stderr, "API key %s made. It is shown this once and cannot be shown again: keep it in a secret store.\n", name)
	return nil
}

// apiKeyJSON is one key in foyer apikeys list --output json.
type apiKeyJSON struct {
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func runAPIKeysList(cmd *cobra.Command, env *Env) error {
	format, _ := cmd.Flags().GetString("output")
	if j, _ := cmd.Flags().GetBool("json"); j {
		format = "json"
	}
	if format != "human" && format != "json" {
		return usageError("--output %q: want human or json", format)
	}
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	ctx := cmd.Context()
	var keys []store.APIKey
	err = ledger.InTx(ctx, func(tx store.Tx) error {
		var err error
		keys, err = tx.APIKeysList(ctx)
		return err
	})
	if err != nil {
		return withCode(ExitError, fmt.Errorf("list API keys: %w", err))
	}
	if format == "json" {
		out := make([]apiKeyJSON, len(keys))
		for i, k := range keys {
			out[i] = apiKeyJSON{Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt}
			if !k.RevokedAt.IsZero() {
				out[i].RevokedAt = &k.RevokedAt
			}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"api_keys": out})
	}
	if len(keys) == 0 {
		fmt.Fprintf(env.Stdout, "No API keys yet: make one with %s apikeys create NAME.\n", env.program())
		return nil
	}
	const at = "2006-01-02 15:04"
	fmt.Fprintf(env.Stdout, "%-24s  %-14s  %-16s  %s\n", "name", "starts with", "created", "revoked")
	for _, k := range keys {
		revoked := "-"
		if !k.RevokedAt.IsZero() {
			revoked = k.RevokedAt.Local().Format(at)
		}
		fmt.Fprintf(env.Stdout, "%-24s  %-14s  %-16s  %s\n", clipCells(k.Name, 24), k.Prefix+"…", k.CreatedAt.Local().Format(at), revoked)
	}
	return nil
}

func runAPIKeysRevoke(cmd *cobra.Command, env *Env, name string) error {
	if err := checkKeyName(name); err != nil {
		return err
	}
	_, ledger, err := configAndLedger(cmd, env)
	if err != nil {
		return err
	}
	defer ledger.Close()
	ctx := cmd.Context()
	err = ledger.InTx(ctx, func(tx store.Tx) error { return tx.RevokeAPIKey(ctx, name) })
	if foyer.ErrorCode(err) == foyer.ENOTFOUND {
		return withCode(ExitError, fmt.Errorf("there is no API key named %s (%s apikeys list shows them)", name, env.program()))
	}
	if err != nil {
		return withCode(ExitError, fmt.Errorf("revoke API key %s: %w", name, err))
	}
	fmt.Fprintf(env.Stderr, "API key %s revoked: the API refuses it from now on.\n", name)
	return nil
}
