// Package ledger is store.Tx on SQL, written once for the SQLite and
// PostgreSQL backends: every aggregate's statements and the Go around them,
// the transaction loop with its retries, and the migration runner.
//
// A backend fills a DB: how to begin one of its transactions (a Txn: Exec,
// Query and QueryRow with its codecs for times and lists, Commit and
// Rollback), which failures are worth running a transaction again, and its
// Dialect, the few places where the two databases' SQL really differs.
// DB.InTx hands fn a *Tx, which is the store.Tx.
//
// Statements use PostgreSQL's numbered parameters, $1, $2, ..., on both
// databases: modernc.org/sqlite binds a parameter named $N to the Nth
// argument, as PostgreSQL does, so the text is the same and nothing is
// rewritten. A parameter may appear more than once.
//
// Only the backends (store/sqlite, store/postgres) and store/internal/riverq
// import this package.
package ledger

import (
	"context"
)

// Conn runs statements in a backend's open transaction.
//
// Arguments and scan destinations are Go values, and the Conn stores them
// as its database does. A time.Time argument is a time column (nil for
// NULL); a []string argument, never nil, is a list column; a bool is a
// boolean. A scan into *time.Time reads a time column, into **time.Time a
// nullable one, into *[]string a list, into *bool a boolean; into *string,
// *int, *int64 and their pointers (for NULL), []byte as usual.
type Conn interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// ExecEach runs one statement once for each element of args, in
	// order, in as few round trips as the backend can. On failure it
	// returns how many ran before the one that failed.
	ExecEach(ctx context.Context, query string, args [][]any) (int, error)
	// Query runs a query; the caller closes the rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query for at most one row: its Scan fails with an
	// error that matches sql.ErrNoRows if there is none.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Txn is a backend's open transaction.
type Txn interface {
	Conn
	Commit(ctx context.Context) error
	// Rollback ends the transaction without its changes, even once ctx
	// has ended. A transaction already ended is no error.
	Rollback(ctx context.Context) error
}

// Row is one row of a query's result.
type Row interface {
	Scan(dest ...any) error
}

// Rows are the rows of a query's result.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	// Err returns the error that ended Next, if any; it may be called
	// after Close.
	Err() error
	// Close releases the rows. Closing twice is no error.
	Close() error
}

// Dialect holds what differs between the ledger's two databases beyond
// how a Conn stores values.
type Dialect struct {
	// LockRow ends a SELECT of a row the transaction is about to decide
	// on and change, so that a concurrent transaction deciding on the
	// same row waits for it: " FOR UPDATE" on PostgreSQL; "" on SQLite,
	// where every transaction holds the write lock from its start.
	LockRow string
	// ByteOrder follows a text column in ORDER BY so that it sorts by
	// bytes: ` COLLATE "C"` on PostgreSQL, whose default collation may
	// follow a locale; "" on SQLite, whose default (BINARY) does.
	ByteOrder string
	// RiverNow is an expression for the database's current time as
	// River's driver writes and compares river_job.scheduled_at.
	RiverNow string
	// WritableWith says that a WITH clause may hold INSERT or UPDATE
	// (PostgreSQL), so that a request's change and its history row go in
	// one statement, one round trip. Without it (SQLite) they are two.
	WritableWith bool
	// MigrationsTable creates foyer_migrations if it is missing: version,
	// name, applied_at (a time), in the database's types.
	MigrationsTable string
	// LastAttemptBy is an expression for the client that made a River
	// job's latest attempt (the last element of river_job.attempted_by).
	LastAttemptBy string
}

// pageSize is how many rows the iterating methods read at a time. They read
// a page, close it, then call fn for each row, so fn may use the
// transaction (pgx cannot run a query while another's rows are open).
const pageSize = 500
