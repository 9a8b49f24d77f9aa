package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer/store"
)

// queue is River on the ledger's database; it implements store.Queue.
type queue struct {
	db     *DB
	client *river.Client[pgx.Tx]
}

var _ store.Queue = (*queue)(nil)

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
	client, err := river.NewClient(riverpgxv5.New(db.pool), &c)
	if err != nil {
		return nil, fmt.Errorf("start River on PostgreSQL %s: %w", db.where, err)
	}
	return &queue{db: db, client: client}, nil
}

// own returns the SQLite transaction inside t, which must come from this
// ledger's InTx.
func (q *queue) own(t store.Tx) (pgx.Tx, error) {
	x, ok := t.(*tx)
	if !ok {
		return nil, fmt.Errorf("queue on PostgreSQL %s: %T is not a transaction of a PostgreSQL ledger", q.db.where, t)
	}
	if x.db != q.db {
		return nil, fmt.Errorf("queue on PostgreSQL %s: the transaction belongs to another ledger (%s)", q.db.where, x.db.where)
	}
	return x.tx, nil
}

func (q *queue) InsertTx(ctx context.Context, t store.Tx, args river.JobArgs, opts *river.InsertOpts) (bool, error) {
	stx, err := q.own(t)
	if err != nil {
		return false, err
	}
	res, err := q.client.InsertTx(ctx, stx, args, opts)
	if err != nil {
		return false, fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

// completeArgs stands for any job's arguments: JobCompleteTx needs a type
// but uses only the job row.
type completeArgs struct{}

func (completeArgs) Kind() string { return "" }

// CompleteTx marks job completed in t. ctx must be the one River passed to
// the worker's Work: River finds its client there.
func (q *queue) CompleteTx(ctx context.Context, t store.Tx, job *rivertype.JobRow) error {
	stx, err := q.own(t)
	if err != nil {
		return err
	}
	if job == nil {
		return fmt.Errorf("complete job: the job is missing")
	}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, stx, &river.Job[completeArgs]{JobRow: job}); err != nil {
		return fmt.Errorf("complete %s job %d: %w", job.Kind, job.ID, err)
	}
	return nil
}

func (q *queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start River on PostgreSQL %s: %w", q.db.where, err)
	}
	return nil
}

func (q *queue) Stop(ctx context.Context) error {
	if err := q.client.Stop(ctx); err != nil {
		return fmt.Errorf("stop River on PostgreSQL %s: %w", q.db.where, err)
	}
	return nil
}

// Subscribe passes through to River; the client must have been built with
// Queues (River panics otherwise).
func (q *queue) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return q.client.Subscribe(kinds...)
}
