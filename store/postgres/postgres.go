// Package postgres is the ledger on PostgreSQL, for several foyer replicas
// sharing one database: foyer's tables and River's in one schema, used
// through a pgx connection pool, River through riverpgxv5 on the same pool.
//
// Transactions run at READ COMMITTED. Every compare-and-set is a single
// UPDATE ... WHERE (PostgreSQL re-checks the condition after waiting for a
// concurrent writer), uniqueness is INSERT ... ON CONFLICT DO NOTHING, so a
// refused write (ECONFLICT, ENOTFOUND) never aborts the caller's
// transaction. Serialization failures and deadlocks are retried by InTx.
//
// The ledger's statements are written once, for this backend and
// store/sqlite, in store/internal/ledger; this package gives them
// PostgreSQL: the pool and its transactions, the retries, the migration
// lock and the dialect.
//
// Only cmd/foyer/cli (which wires the backends) and this package's tests
// import it; everything else uses the interfaces in package store.
package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/internal/ledger"
)

// Options tune Open. The zero value is usable.
type Options struct {
	// Clock gives each transaction its time; foyer.SystemClock if nil.
	Clock foyer.Clock
	// Logger receives the ledger's and River's logs; discarded if nil.
	Logger *slog.Logger
	// Schema is the schema foyer's and River's tables live in, created if
	// missing; lowercase letters, digits and _. Empty means the database's
	// search_path (usually public).
	Schema string
}

// DB is an open PostgreSQL ledger.
type DB struct {
	pool   *pgxpool.Pool
	log    *slog.Logger
	schema string
	ledger *ledger.DB
}

var _ store.Store = (*DB)(nil)

// idleInTxTimeout is the idle_in_transaction_session_timeout foyer's
// sessions get unless the DSN sets one: well below a lease's 15 seconds.
const idleInTxTimeout = 5 * time.Second

// maxTxAttempts bounds how many times InTx runs a transaction that failed
// with a serialization failure or a deadlock.
const maxTxAttempts = 5

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to the database dsn names (a postgres:// URL or key=value
// string, as pgx reads it), applies River's migrations and foyer's, and
// returns the ledger. The pool needs at least two connections (pgx's default
// is the larger of 4 and the number of CPUs).
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, foyer.Errorf(foyer.EINVALID, "the PostgreSQL connection string cannot be read")
	}
	if opts.Schema != "" && !schemaName.MatchString(opts.Schema) {
		return nil, foyer.Errorf(foyer.EINVALID, "PostgreSQL schema %q: use lowercase letters, digits and _ (at most 63)", opts.Schema)
	}
	if cfg.MaxConns < 2 {
		return nil, foyer.Errorf(foyer.EINVALID, "the PostgreSQL pool has %d connections; foyer needs at least 2", cfg.MaxConns)
	}
	if opts.Clock == nil {
		opts.Clock = foyer.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	if _, set := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		// A process stopped inside a transaction (SIGSTOP, a paused VM)
		// would hold its row locks (a lease, a write budget) until it is
		// resumed, and every other replica would wait on them: the server
		// ends such a session instead. foyer's transactions make no call
		// outside the database, so none is idle that long.
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.Itoa(int(idleInTxTimeout / time.Millisecond))
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	if opts.Schema != "" {
		where += " schema " + opts.Schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL %s: %w", where, err)
	}
	db := &DB{pool: pool, log: opts.Logger, schema: opts.Schema}
	db.ledger = &ledger.DB{
		Where: "PostgreSQL " + where,
		Dialect: ledger.Dialect{
			LockRow:       " FOR UPDATE",
			ByteOrder:     ` COLLATE "C"`,
			RiverNow:      "now()",
			WritableWith:  true,
			LastAttemptBy: "attempted_by[array_upper(attempted_by, 1)]",
			MigrationsTable: `CREATE TABLE IF NOT EXISTS foyer_migrations (
				version    integer PRIMARY KEY,
				name       text NOT NULL,
				applied_at timestamptz NOT NULL
			)`,
		},
		Clock: opts.Clock,
		Log:   opts.Logger,
		Begin: func(ctx context.Context) (ledger.Txn, error) { return begin(ctx, pool) },
		Retry: ledger.Retry{If: retryable, Why: "serialization failure or deadlock", Attempts: maxTxAttempts, Pause: 20 * time.Millisecond},
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL %s: %w", where, err)
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate PostgreSQL %s: %w", where, err)
	}
	return db, nil
}

// Pool returns the connection pool, for tests and diagnostics.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close closes the pool. Stop every Queue first.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// InTx runs fn in one READ COMMITTED transaction, again (at most
// maxTxAttempts times in all) if it fails with a serialization failure or a
// deadlock.
func (db *DB) InTx(ctx context.Context, fn func(store.Tx) error) error {
	return db.ledger.InTx(ctx, fn)
}
