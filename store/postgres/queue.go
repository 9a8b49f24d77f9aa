package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/internal/riverq"
)

// Queue builds a River client on the ledger's pool. cfg is copied; its
// Logger defaults to the ledger's and its Schema to Options.Schema. A nil cfg
// gives a client that only inserts.
func (db *DB) Queue(cfg *river.Config) (store.Queue, error) {
	var c river.Config
	if cfg != nil {
		c = *cfg
	}
	if c.Logger == nil {
		c.Logger = db.log
	}
	if c.Schema == "" {
		c.Schema = db.schema
	}
	return riverq.New(riverpgxv5.New(db.pool), &c, "PostgreSQL "+db.where, db.own)
}

// own returns the PostgreSQL transaction inside t, which must come from this
// ledger's InTx.
func (db *DB) own(t store.Tx) (pgx.Tx, error) {
	x, ok := t.(*tx)
	if !ok {
		return nil, fmt.Errorf("queue on PostgreSQL %s: %T is not a transaction of a PostgreSQL ledger", db.where, t)
	}
	if x.db != db {
		return nil, fmt.Errorf("queue on PostgreSQL %s: the transaction belongs to another ledger (%s)", db.where, x.db.where)
	}
	return x.tx, nil
}
