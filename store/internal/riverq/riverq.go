// Package riverq is store.Queue on River for any ledger backend: the
// SQLite and PostgreSQL backends differ only in their transaction type and
// River driver, which are its type parameters.
package riverq

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/internal/ledger"
)

// Queue is River on a ledger's database. TTx is the backend's transaction
// type and TDriver its River driver.
type Queue[TTx any, TDriver riverdriver.Driver[TTx]] struct {
	client *river.Client[TTx]
	where  string                      // the database, for messages
	own    func(store.Tx) (TTx, error) // River's transaction inside a store.Tx of the queue's ledger
}

// New builds a River client with driver and cfg (copied; its Logger is the
// ledger's when unset) on the database of the ledger db. A Queue's ...Tx
// methods take only transactions of db, of the backend's type C; tx gives
// the River transaction inside one.
func New[TTx any, TDriver riverdriver.Driver[TTx], C ledger.Txn](driver TDriver, cfg *river.Config, db *ledger.DB, tx func(C) TTx) (*Queue[TTx, TDriver], error) {
	var c river.Config
	if cfg != nil {
		c = *cfg
	}
	if c.Logger == nil {
		c.Logger = db.Log
	}
	client, err := river.NewClient[TTx](driver, &c)
	if err != nil {
		return nil, fmt.Errorf("start River on %s: %w", db.Where, err)
	}
	own := func(t store.Tx) (TTx, error) {
		c, err := ledger.Own[C](db, t)
		if err != nil {
			var none TTx
			return none, fmt.Errorf("queue on %s: %w", db.Where, err)
		}
		return tx(c), nil
	}
	return &Queue[TTx, TDriver]{client: client, where: db.Where, own: own}, nil
}

var _ store.Queue = (*Queue[any, riverdriver.Driver[any]])(nil)

// InsertTx inserts a job inside the ledger transaction t.
func (q *Queue[TTx, TDriver]) InsertTx(ctx context.Context, t store.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, bool, error) {
	tx, err := q.own(t)
	if err != nil {
		return 0, false, err
	}
	res, err := q.client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return 0, false, fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return res.Job.ID, !res.UniqueSkippedAsDuplicate, nil
}

// completeArgs stands for any job's arguments: JobCompleteTx needs a type
// but uses only the job row.
type completeArgs struct{}

func (completeArgs) Kind() string { return "" }

// CompleteTx marks job completed in t. ctx must be the one River passed to
// the worker's Work: River finds its client there.
func (q *Queue[TTx, TDriver]) CompleteTx(ctx context.Context, t store.Tx, job *rivertype.JobRow) error {
	tx, err := q.own(t)
	if err != nil {
		return err
	}
	if job == nil {
		return fmt.Errorf("complete job: the job is missing")
	}
	if _, err := river.JobCompleteTx[TDriver](ctx, tx, &river.Job[completeArgs]{JobRow: job}); err != nil {
		return fmt.Errorf("complete %s job %d: %w", job.Kind, job.ID, err)
	}
	return nil
}

// Start starts working jobs.
func (q *Queue[TTx, TDriver]) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start River on %s: %w", q.where, err)
	}
	return nil
}

// Stop waits for running jobs (or ctx) and stops.
func (q *Queue[TTx, TDriver]) Stop(ctx context.Context) error {
	if err := q.client.Stop(ctx); err != nil {
		return fmt.Errorf("stop River on %s: %w", q.where, err)
	}
	return nil
}

// Subscribe passes through to River; the client must have been built with
// Queues (River panics otherwise).
func (q *Queue[TTx, TDriver]) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return q.client.Subscribe(kinds...)
}
