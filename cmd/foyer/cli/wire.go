package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
)

// This file builds the concrete parts (the Graph client, the ledger) from
// the configuration. It is the only place that knows them.

// configFlag adds --config to cmd.
func configFlag(cmd *cobra.Command) {
	cmd.Flags().StringP("config", "c", "", "configuration file (default $FOYER_CONFIG, else foyer.yaml)")
}

// loadConfig reads the file --config names and prints its warnings.
func loadConfig(cmd *cobra.Command, env *Env) (*config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		path = env.Getenv("FOYER_CONFIG")
	}
	if path == "" {
		path = "foyer.yaml"
	}
	c, err := config.Load(cmd.Context(), path)
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	for _, w := range c.Warnings() {
		fmt.Fprintln(env.Stderr, "foyer: warning:", w)
	}
	return c, nil
}

// tenantOf returns the tenant a profile acts on.
func tenantOf(c *config.Config, profile string) (string, *config.Tenant, error) {
	p, ok := c.Profiles[profile]
	if !ok {
		return "", nil, withCode(ExitError, fmt.Errorf("no profile %q in %s (profiles: %s)", profile, c.Name(), strings.Join(c.ProfileNames(), ", ")))
	}
	return p.Tenant, c.Tenants[p.Tenant], nil
}

// graphOptions maps a configured tenant to the Graph client's options.
func graphOptions(c *config.Config, t *config.Tenant, env *Env, log *slog.Logger, clock foyer.Clock) graph.Options {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pacing := c.TenantPacing(t)
	return graph.Options{
		TenantID: t.TenantID,
		ClientID: t.ClientID,
		Cloud:    graph.Cloud(t.Cloud),
		Endpoints: graph.Endpoints{
			Authority: t.Endpoints.Authority,
			Graph:     t.Endpoints.Graph,
			ARM:       t.Endpoints.ARM,
			Exchange:  t.Endpoints.Exchange,
		},
		CAFile: c.Path(t.CAFile),
		Credential: graph.Credential{
			Type:                    graph.CredentialType(t.Credential.Type),
			SecretEnv:               t.Credential.SecretEnv,
			SecretFile:              c.Path(t.Credential.SecretFile),
			CertificateFile:         c.Path(t.Credential.CertificateFile),
			PasswordEnv:             t.Credential.CertificatePasswordEnv,
			ManagedIdentityClientID: t.Credential.ManagedIdentityClientID,
			TokenFile:               c.Path(t.Credential.TokenFile),
		},
		Pacing: graph.Pacing{
			InvitesPerMinute: pacing.InvitationsPerMinute,
			Invitations:      graph.InvitePacing(pacing.Invitations),
		},
		Logger: log.With("component", "graph"),
		Clock:  clock,
		Getenv: env.Getenv,
	}
}

// openDirectory builds the Graph client for a profile's tenant.
func openDirectory(ctx context.Context, c *config.Config, profile string, env *Env, log *slog.Logger) (*graph.Client, *foyer.Tenant, error) {
	name, _, err := tenantOf(c, profile)
	if err != nil {
		return nil, nil, err
	}
	return openTenant(ctx, c, name, env, log)
}

// openTenant builds the Graph client for a configured tenant and signs in.
func openTenant(ctx context.Context, c *config.Config, name string, env *Env, log *slog.Logger) (*graph.Client, *foyer.Tenant, error) {
	t := c.Tenants[name]
	dir, err := graph.New(ctx, graphOptions(c, t, env, log, env.Clock))
	if err != nil {
		return nil, nil, withCode(ExitError, fmt.Errorf("tenant %s: %w", name, err))
	}
	// Sign in before anything else: a credential, tenant or network that
	// does not work is told once, with what to fix, not once per call.
	if err := dir.SignIn(ctx); err != nil {
		return nil, nil, withCode(ExitError, fmt.Errorf("tenant %s: %w", name, err))
	}
	ft, err := c.Tenant(name)
	if err != nil {
		return nil, nil, withCode(ExitError, err)
	}
	return dir, ft, nil
}

// resolveProfile reads a profile from the configuration and resolves its
// grants against the directory, reporting every problem with its place in
// the file.
func resolveProfile(ctx context.Context, c *config.Config, name string, dir *graph.Client) (*foyer.Profile, error) {
	p, paths, err := c.Profile(name)
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	grants, err := engine.ResolveGrants(ctx, dir, p.Grants, func(i int) string { return c.Where(paths[i]) })
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	p.Grants = grants
	return p, nil
}
