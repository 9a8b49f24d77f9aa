package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// starterConfig is what foyer init writes: a configuration for a real
// tenant, every option foyer has shown and explained, and the two values
// only the reader knows marked FILL IN (config refuses them until they are
// filled, at their lines).
const starterConfig = `# foyer's configuration. Fill in the two values marked FILL IN, put the
# client secret in the environment variable named below, then run:
#   foyer profiles check
# which signs in and reports anything missing, with its line here.
# Every option is described in README.md ("Configuration"). Secrets are
# never written in this file: it names the variable or file that holds each.

tenants:
  main:                                # a name of your choosing, used by profiles below
    tenant_id: "FILL IN: your directory (tenant) id, a GUID"
    client_id: "FILL IN: the application (client) id of foyer's app registration"
    cloud: public                      # public, usgov, china (or custom, with endpoints:)
    credential:
      type: client_secret              # or certificate (preferred), managed_identity,
      secret_env: FOYER_CLIENT_SECRET  #   workload_identity, azure_cli, default
      # type: certificate
      # certificate_file: foyer.pem    # PEM with its key, or PFX
      # certificate_password_env: FOYER_CERT_PASSWORD
    # internal_domains: [contoso-labs.example]   # your own, beside the verified domains

ledger:
  driver: sqlite                       # or postgres, with dsn_env naming a variable holding the DSN
  dsn: foyer.db                        # relative to this file

pacing:
  invitations_per_minute: 60           # a ceiling of your own, below Graph's limits (0: none)
  # concurrency: 32                    # rows worked at once
  # lookup_grace: 30s

# notify:                              # run reports; webhook URLs carry tokens: *_env or *_file
#   slack: {url_env: SLACK_WEBHOOK_URL}
#   teams: {url_env: TEAMS_WORKFLOW_URL}
#   webhook: {url_env: HOOK_URL, secret_env: HOOK_SECRET}

profiles:
  partners:                            # what a guest gets: foyer apply --profile partners FILE
    tenant: main
    redirect_url: https://myapps.microsoft.com/   # where guests land after redeeming
    sender: microsoft                  # microsoft (Entra's email), foyer (smtp: section), none
    # message: Welcome to the analytics workspace.
    # groups: [Partners]               # display names or object ids
    # app_roles: [{service_principal: Analytics, role: Reader}]
    # licenses: [{sku: ENTERPRISEPACK, usage_location: US}]
    # directory_roles: [Guest Inviter]
    # azure_roles: [{role: Reader, scope: /subscriptions/…/resourceGroups/analytics}]
    # address_book: true               # show guests in the address book (Exchange)
    # allow_domains: [fabrikam.example]
    deny_domains: [gmail.com, outlook.com, hotmail.com, yahoo.com]
`

func newInit(env *Env) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a starter foyer.yaml for your tenant, with every option explained",
		Long: `init writes DIR/foyer.yaml (the current directory by default): a commented
configuration for a real tenant, with one profile that only invites, for you
to complete. It never overwrites a file. The two values
only you know (the tenant id and the application id) are marked FILL IN;
until they are filled, every command reports them with their line.

For an emulated tenant to try foyer with, use foyer demo or foyer sim.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runInit(env, dir) },
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "the directory to write foyer.yaml into (made if missing)")
	return cmd
}

func runInit(env *Env, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return withCode(ExitError, fmt.Errorf("make %s: %w", dir, err))
	}
	path := filepath.Join(dir, "foyer.yaml")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return withCode(ExitError, fmt.Errorf("%s exists: init never overwrites a configuration (choose another --dir, or edit it)", path))
	}
	if err != nil {
		return withCode(ExitError, fmt.Errorf("write %s: %w", path, err))
	}
	_, err = f.WriteString(starterConfig)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return withCode(ExitError, fmt.Errorf("write %s: %w", path, err))
	}
	prog := env.program()
	fmt.Fprintf(env.Stdout, `Wrote %s. Next:
  1. fill in tenant_id and client_id (marked FILL IN);
  2. export FOYER_CLIENT_SECRET=...  (the app registration's client secret);
  3. %s profiles check --config %s
  4. %s plan --config %s --profile partners guests.csv
`, path, prog, path, prog, path)
	return nil
}
