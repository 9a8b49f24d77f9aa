// Package sqlite is the ledger on SQLite, foyer's default database: one file
// holding foyer's tables and River's, opened with modernc.org/sqlite (pure
// Go), in WAL mode, with a busy timeout and foreign keys on.
//
// The database is used through one connection. River asks for that (see the
// riversqlite package doc: SQLite runs one write at a time and River works in
// parallel), and it is also what makes a job inserted in a ledger
// transaction safe: the ledger's transaction and River's insert use the same
// connection, and nothing inside a transaction ever waits on a second one.
// The price is that everything that touches the database, River's own
// upkeep included, takes turns. So, inside Store.InTx, use only the Tx (and
// Queue.InsertTx/CompleteTx with it): calling InTx again, or a River method
// without Tx, would wait for the connection the transaction holds.
//
// The ledger's statements are written once, for this backend and
// store/postgres, in store/internal/ledger; this package gives them SQLite:
// the connection and its transactions, times and lists as text (conn), the
// retry of a busy file, and the dialect.
//
// Only cmd/foyer/cli (which wires the backends) and this package's tests
// import it; everything else uses the interfaces in package store.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

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
	// BusyTimeout is how long a statement waits for another process's lock
	// before failing with SQLITE_BUSY; 5s if zero.
	BusyTimeout time.Duration
}

// DB is an open SQLite ledger.
type DB struct {
	sql    *sql.DB
	log    *slog.Logger
	path   string
	ledger *ledger.DB
}

var _ store.Store = (*DB)(nil)

// maxTxAttempts bounds how many times InTx runs a transaction that failed
// because another process held the database (SQLITE_BUSY after the busy
// timeout).
const maxTxAttempts = 3

// Open opens (creating it if needed) the SQLite database at path, applies
// River's migrations and foyer's, and returns the ledger. path is a file
// path or ":memory:" (a private in-memory database that lives as long as the
// DB, for tests and trials).
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if strings.TrimSpace(path) == "" {
		return nil, foyer.Errorf(foyer.EINVALID, "the SQLite database path is empty")
	}
	if strings.Contains(path, "?") || strings.HasPrefix(path, "file:") {
		return nil, foyer.Errorf(foyer.EINVALID, "the SQLite database path %q is not a plain file path (no ? and no file: URI)", path)
	}
	if opts.Clock == nil {
		opts.Clock = foyer.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if path != ":memory:" {
		if err := createPrivate(path, opts.Logger); err != nil {
			return nil, err
		}
	}
	sdb, err := sql.Open("sqlite", dsn(path, opts.BusyTimeout))
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	// One connection, kept for the life of the DB (a :memory: database dies
	// with its connection).
	sdb.SetMaxOpenConns(1)
	sdb.SetMaxIdleConns(1)
	sdb.SetConnMaxLifetime(0)
	sdb.SetConnMaxIdleTime(0)
	db := &DB{sql: sdb, log: opts.Logger, path: path}
	db.ledger = &ledger.DB{
		Where: "SQLite database " + path,
		Dialect: ledger.Dialect{
			RiverNow:      `datetime('now', 'subsec')`, // as riversqlite writes scheduled_at
			LastAttemptBy: `json_extract(attempted_by, '$[#-1]')`,
			MigrationsTable: `CREATE TABLE IF NOT EXISTS foyer_migrations (
				version    INTEGER PRIMARY KEY,
				name       TEXT NOT NULL,
				applied_at TEXT NOT NULL
			)`,
		},
		Clock: opts.Clock,
		Log:   opts.Logger,
		Begin: db.begin,
		Retry: ledger.Retry{If: isBusy, Why: "database busy", Attempts: maxTxAttempts, Pause: 50 * time.Millisecond},
	}
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("migrate SQLite database %s: %w", path, err)
	}
	return db, nil
}

// dsn builds modernc.org/sqlite's data source name. _txlock=immediate makes
// every transaction BEGIN IMMEDIATE: it takes the write lock when it starts,
// so two processes on one file queue on the busy timeout instead of failing
// when a reader tries to become a writer.
//
// synchronous(FULL): in WAL mode, NORMAL syncs the log only at checkpoints,
// so a transaction committed just before a power loss (or a kernel panic, or
// a VM stopped hard) can be gone when the machine comes back. The ledger
// records the intent of an invitation before sending it; an intent that
// vanished would let the next attempt invite without looking the person up.
// FULL syncs the log at every commit (docs/ledger.md, "Cost per row", measures the cost).
func dsn(path string, busy time.Duration) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if path != ":memory:" {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	q.Set("_txlock", "immediate")
	// A plain name, not a file: URI, so that the path is used as written.
	return path + "?" + q.Encode()
}

// SQL returns the database handle, for tests and diagnostics. It has one
// connection: do not hold it.
func (db *DB) SQL() *sql.DB { return db.sql }

// Close closes the database. Stop every Queue first.
func (db *DB) Close() error {
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("close SQLite database %s: %w", db.path, err)
	}
	return nil
}

// InTx runs fn in one transaction (BEGIN IMMEDIATE). If the database stays
// locked by another process past the busy timeout, the transaction is run
// again, at most maxTxAttempts times in all.
func (db *DB) InTx(ctx context.Context, fn func(store.Tx) error) error {
	return db.ledger.InTx(ctx, fn)
}

// begin starts a transaction; the DSN's _txlock makes it BEGIN IMMEDIATE.
func (db *DB) begin(ctx context.Context) (ledger.Txn, error) {
	stx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &conn{tx: stx}, nil
}
