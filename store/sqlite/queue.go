package sqlite

import (
	"database/sql"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/internal/riverq"
)

// Queue builds a River client on the ledger's connection. cfg is copied; its
// Logger defaults to the ledger's. A nil cfg gives a client that only
// inserts.
func (db *DB) Queue(cfg *river.Config) (store.Queue, error) {
	var c river.Config
	if cfg != nil {
		c = *cfg
	}
	if c.Logger == nil {
		c.Logger = db.log
	}
	return riverq.New(riversqlite.New(db.sql), &c, "SQLite database "+db.path, db.own)
}

// own returns the SQLite transaction inside t, which must come from this
// ledger's InTx.
func (db *DB) own(t store.Tx) (*sql.Tx, error) {
	x, ok := t.(*tx)
	if !ok {
		return nil, fmt.Errorf("queue on SQLite database %s: %T is not a transaction of a SQLite ledger", db.path, t)
	}
	if x.db != db {
		return nil, fmt.Errorf("queue on SQLite database %s: the transaction belongs to another ledger (%s)", db.path, x.db.path)
	}
	return x.tx, nil
}
