package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer/store"
)

// What the ledger keeps of the request page and the API is bounded: a link
// is deleted once it expired (its request and history stay), and an
// idempotency key once IdempotencyTTL has passed (a call repeated after
// that is a new call, as with the payment APIs that made the header
// common). The seen versions of a trigger's inputs that a later version
// replaced are deleted once SeenTriggerItemsAge old (they will not be
// found again; applied and failed versions stay, so that none is applied
// twice). In service mode a periodic job does it, hourly and at start.

// DefaultIdempotencyTTL is how long an API call's idempotency key is kept
// when Engine.IdempotencyTTL is zero.
const DefaultIdempotencyTTL = 7 * 24 * time.Hour

// SeenTriggerItemsAge is how long a superseded seen version of a
// trigger's input is kept (foyer triggers prune's default too).
const SeenTriggerItemsAge = 30 * 24 * time.Hour

// purgeEvery is how often the purge job runs.
const purgeEvery = time.Hour

// PurgeArgs is the job that deletes expired links and old idempotency
// keys.
type PurgeArgs struct{}

// Kind names the job in River.
func (PurgeArgs) Kind() string { return "foyer.purge" }

// InsertOpts puts the job on the intake queue, once at a time.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueIntake, MaxAttempts: 3, UniqueOpts: uniqueAmongLive()}
}

type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	e *Engine
}

func (w *purgeWorker) Work(ctx context.Context, job *river.Job[PurgeArgs]) error {
	e := w.e
	ttl := e.IdempotencyTTL
	if ttl <= 0 {
		ttl = DefaultIdempotencyTTL
	}
	now := e.now()
	var links, keys, seen int
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if links, err = tx.PurgeTokens(ctx, now); err != nil {
			return err
		}
		if keys, err = tx.PurgeIdempotencyKeys(ctx, now.Add(-ttl)); err != nil {
			return err
		}
		seen, err = tx.PruneSeenTriggerItems(ctx, now.Add(-SeenTriggerItemsAge))
		return err
	})
	if err != nil {
		return fmt.Errorf("purge the ledger: %w", err)
	}
	if links+keys+seen > 0 {
		e.Log.Info("purged expired links, old idempotency keys and superseded trigger inputs", "links", links,
			"idempotency_keys", keys, "seen_trigger_items", seen)
	}
	return nil
}

// purgeJobs are service mode's periodic jobs.
func (e *Engine) purgeJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(purgeEvery),
		func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
}
