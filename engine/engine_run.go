package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// Engine applies plans: it records them in the ledger and works their rows as
// River jobs. One Engine serves one ledger and one tenant.
type Engine struct {
	Store    store.Store
	Dir      directory.Directory
	Mailer   Mailer                    // sends invitation emails for profiles whose sender is foyer; nil if none do
	Profiles map[string]*foyer.Profile // by name, grants resolved
	Clock    foyer.Clock
	Log      *slog.Logger
	NewID    func() string // ids for runs and requests
	Owner    Owner         // this process, for the ledger lease
	// Workers is how many rows are worked at once. The directory client paces
	// the writes; this only bounds how many wait on it. Zero means 32.
	Workers int
	// Actor names who is acting, for the audit log (e.g. "cli:apply").
	Actor string
	// UnknownOutcomeGrace is how long after an invitation whose answer was
	// lost the engine keeps looking the person up before inviting again, to
	// let replication show a guest it may have created. Zero means 30 s.
	UnknownOutcomeGrace time.Duration

	mu     sync.Mutex
	epoch  int64 // the lease generation while started
	queue  store.Queue
	cancel context.CancelFunc
	done   chan struct{}
	lost   error // set when the lease was lost
	sink   Sink
	// blocked is set once Entra blocks invitations for suspicious activity:
	// every further attempt would only prolong the block, so the rest of
	// the run's invitations fail at once with the reason.
	blocked error
}

// Start takes the ledger's worker lease (taking it over from a holder that
// is provably dead) and starts working jobs. Stop stops.
func (e *Engine) Start(ctx context.Context) error {
	if e.Clock == nil {
		e.Clock = foyer.SystemClock{}
	}
	if e.Log == nil {
		e.Log = slog.New(slog.DiscardHandler)
	}
	lease, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &provisionWorker{e: e})
	n := e.Workers
	if n <= 0 {
		n = 32
	}
	q, err := e.Store.Queue(&river.Config{
		Queues:      map[string]river.QueueConfig{queueProvision: {MaxWorkers: n}},
		Workers:     workers,
		RetryPolicy: retryPolicy{now: e.Clock.Now},
		JobTimeout:  10 * time.Minute,
		Logger:      e.Log.With("component", "river"),
	})
	if err != nil {
		return fmt.Errorf("set up the job queue: %w", err)
	}
	if err := q.Start(ctx); err != nil {
		return fmt.Errorf("start the job queue: %w", err)
	}
	leaseCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.mu.Lock()
	e.epoch, e.queue, e.cancel, e.done = lease.Generation, q, cancel, make(chan struct{})
	e.mu.Unlock()
	go e.keepLease(leaseCtx)
	e.Log.Info("working jobs", "lease_generation", lease.Generation, "workers", n)
	return nil
}

// Stop stops working jobs, waiting for running ones until ctx ends, and
// gives the lease up.
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	q, cancel, done := e.queue, e.cancel, e.done
	e.queue = nil
	e.mu.Unlock()
	if q == nil {
		return nil
	}
	err := q.Stop(ctx)
	cancel()
	<-done
	rerr := e.Store.InTx(context.WithoutCancel(ctx), func(tx store.Tx) error {
		return tx.ReleaseLease(ctx, leaseName, e.Owner.String())
	})
	return errors.Join(err, rerr)
}

func (e *Engine) generation() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.epoch
}

func (e *Engine) lostLease() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lost
}

func (e *Engine) currentQueue() (store.Queue, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.queue == nil {
		return nil, errors.New("the engine is not started")
	}
	return e.queue, nil
}

// setBlocked records that Entra blocked invitations, first seen at line.
func (e *Engine) setBlocked(line int, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.blocked == nil {
		e.blocked = &directory.Error{Op: "invite", Kind: directory.ErrBlocked,
			Message: fmt.Sprintf("Entra blocked invitations for this tenant at line %d; no more are sent in this run (only Microsoft support lifts the block): %v", line, err)}
	}
}

func (e *Engine) blockedErr() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.blocked
}

// failRow records a row as failed when its request cannot be read.
func (e *Engine) failRow(ctx context.Context, a ProvisionArgs, cause error) error {
	row := foyer.Row{Line: a.Line, Result: foyer.ResultFailed, Error: safeMessage(cause)}
	err := e.Store.InTx(context.WithoutCancel(ctx), func(tx store.Tx) error { return tx.UpdateRunRow(ctx, a.RunID, row) })
	if err != nil {
		return fmt.Errorf("record the failure of line %d: %w", a.Line, err)
	}
	e.emitRow(row)
	return nil
}
