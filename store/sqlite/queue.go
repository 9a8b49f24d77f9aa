package sqlite

import (
	"database/sql"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/internal/riverq"
)

// Queue builds a River client on the ledger's connection. cfg is copied; its
// Logger defaults to the ledger's. A nil cfg gives a client that only
// inserts.
func (db *DB) Queue(cfg *river.Config) (store.Queue, error) {
	return riverq.New(riversqlite.New(db.sql), cfg, db.ledger, func(c *conn) *sql.Tx { return c.tx })
}
