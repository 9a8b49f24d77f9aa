package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/postgres"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// openLedger opens the ledger the configuration names, migrating it.
func openLedger(ctx context.Context, c *config.Config, env *Env, log *slog.Logger) (store.Store, error) {
	l := c.Ledger
	switch l.Driver {
	case "postgres":
		dsn := l.DSN
		if l.DSNEnv != "" {
			if dsn = env.Getenv(l.DSNEnv); dsn == "" {
				return nil, withCode(ExitError, fmt.Errorf("ledger: environment variable %s is empty or unset", l.DSNEnv))
			}
		}
		db, err := postgres.Open(ctx, dsn, postgres.Options{Clock: env.Clock, Logger: log.With("component", "ledger")})
		if err != nil {
			return nil, withCode(ExitError, fmt.Errorf("open the ledger: %w", err))
		}
		return db, nil
	default:
		db, err := sqlite.Open(ctx, c.Path(l.DSN), sqlite.Options{Clock: env.Clock, Logger: log.With("component", "ledger")})
		if err != nil {
			return nil, withCode(ExitError, fmt.Errorf("open the ledger %s: %w", c.Path(l.DSN), err))
		}
		return db, nil
	}
}

// configAndLedger loads the configuration --config names and opens its
// ledger, for the commands that read or change only the ledger. The
// caller closes the ledger.
func configAndLedger(cmd *cobra.Command, env *Env) (*config.Config, store.Store, error) {
	log, err := logger(cmd, env)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := loadConfig(cmd, env)
	if err != nil {
		return nil, nil, err
	}
	ledger, err := openLedger(cmd.Context(), cfg, env, log)
	if err != nil {
		return nil, nil, err
	}
	return cfg, ledger, nil
}
