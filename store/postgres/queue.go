package postgres

import (
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
	if c.Schema == "" {
		c.Schema = db.schema
	}
	return riverq.New(riverpgxv5.New(db.pool), &c, db.ledger, func(c *conn) pgx.Tx { return c.tx })
}
