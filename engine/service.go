package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// Service mode (Engine.Service) is how foyer serve works: it holds the
// lease for hours and works every run rather than the one a command
// applies. An approved run is worked by a durable job, RunArgs, inserted
// in the transaction that approves it: its worker enqueues the run's rows
// (enqueue is idempotent), comes back while rows are pending, and
// finishes the run, whose report is owed and enqueued in the same
// transaction, as ApplyRun does for the CLI.

// RunArgs is the job that works an approved run in service mode.
type RunArgs struct {
	RunID string `json:"run_id" river:"unique"`
}

// Kind names the job in River.
func (RunArgs) Kind() string { return "foyer.run" }

// InsertOpts puts run jobs on the intake queue, one live job per run. A
// run's job waits (snoozes) while its rows are worked, which costs no
// attempt.
func (RunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueIntake, MaxAttempts: defaultMaxAttempts, UniqueOpts: uniqueAmongLive()}
}

type runWorker struct {
	river.WorkerDefaults[RunArgs]
	e *Engine
}

func (w *runWorker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	e := w.e
	if err := e.lostLease(); err != nil {
		return err
	}
	run, err := e.Run(ctx, job.Args.RunID)
	if foyer.ErrorCode(err) == foyer.ENOTFOUND {
		return river.JobCancel(err)
	}
	if err != nil {
		return fmt.Errorf("work run %s: %w", job.Args.RunID, err)
	}
	switch run.State() {
	case foyer.RunApplying:
	case foyer.RunFinished, foyer.RunDiscarded:
		return nil
	default:
		return river.JobCancel(foyer.Errorf(foyer.ECONFLICT, "run %s is %s: only an approved plan is applied", run.ID, run.State()))
	}
	if _, err := e.enqueue(ctx, run); err != nil {
		return err
	}
	pending, err := e.pendingRows(ctx, run.ID)
	if err != nil {
		return err
	}
	if pending > 0 {
		return river.JobSnooze(e.runPoll())
	}
	if err := e.finish(ctx, run); err != nil {
		return err
	}
	e.Log.Info("run finished", "run", run.ID, "profile", run.Profile, "rows", run.Summary.Rows)
	return nil
}

func (e *Engine) runPoll() time.Duration {
	if e.RunPoll <= 0 {
		return time.Second
	}
	return e.RunPoll
}

func (e *Engine) pendingRows(ctx context.Context, runID string) (int, error) {
	var n int
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.PendingRunRows(ctx, runID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count the pending rows of run %s: %w", runID, err)
	}
	return n, nil
}

// enqueueRun inserts, in tx, the job that works an approved run, in
// service mode; the CLI applies its runs itself (ApplyRun).
func (e *Engine) enqueueRun(ctx context.Context, tx store.Tx, runID string) error {
	if !e.Service {
		return nil
	}
	q, err := e.currentQueue()
	if err != nil {
		return err
	}
	if _, _, err := q.InsertTx(ctx, tx, RunArgs{RunID: runID}, nil); err != nil {
		return fmt.Errorf("enqueue the run's job: %w", err)
	}
	return nil
}

// serviceWorkers adds the workers and queues of service mode.
func (e *Engine) serviceWorkers(workers *river.Workers, queues map[string]river.QueueConfig) {
	if !e.Service {
		return
	}
	river.AddWorker(workers, &runWorker{e: e})
	river.AddWorker(workers, &timeoutWorker{e: e})
	river.AddWorker(workers, &extensionTimeoutWorker{e: e})
	river.AddWorker(workers, &provisionRequestWorker{e: e})
	river.AddWorker(workers, &noticeWorker{e: e})
	river.AddWorker(workers, &approverNoticeWorker{e: e})
	river.AddWorker(workers, &announceWorker{e: e})
	river.AddWorker(workers, &purgeWorker{e: e})
	river.AddWorker(workers, &triggerWorker{e: e})
	river.AddWorker(workers, &sweepScheduleWorker{e: e})
	queues[queueIntake] = river.QueueConfig{MaxWorkers: 4}
	queues[queueNotice] = river.QueueConfig{MaxWorkers: 4}
}

// serviceQueues are the queues whose running jobs are made available
// again when the lease is taken: their holder died or lost the lease.
func (e *Engine) serviceQueues() []string {
	if !e.Service {
		if e.Postman != nil {
			return []string{queueNotice} // a command's notices (commandNotices)
		}
		return nil
	}
	return []string{queueIntake, queueNotice}
}

// startService starts working jobs at once, and gives the row of a job
// River discards its failed result, as ApplyRun's wait does for the CLI.
func (e *Engine) startService(ctx context.Context) error {
	q, err := e.currentQueue()
	if err != nil {
		return err
	}
	events, unsubscribe := q.Subscribe(river.EventKindJobFailed)
	go e.watchDiscards(e.workContext(), events, unsubscribe)
	if err := e.startWork(ctx); err != nil {
		unsubscribe()
		return err
	}
	return nil
}

func (e *Engine) watchDiscards(ctx context.Context, events <-chan *river.Event, unsubscribe func()) {
	defer unsubscribe()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev == nil || ev.Job == nil || ev.Job.State != rivertype.JobStateDiscarded {
				continue
			}
			var a struct {
				RunID string `json:"run_id"`
			}
			if json.Unmarshal(ev.Job.EncodedArgs, &a) != nil || a.RunID == "" {
				continue
			}
			if err := e.discarded(ctx, a.RunID, ev); err != nil {
				e.Log.Error("record the failure of a row whose job was discarded", "run", a.RunID, "err", err)
			}
		}
	}
}

// Done is closed when the engine stops working: Stop was called, or the
// lease was lost (Err then says so). foyer serve exits when it closes.
func (e *Engine) Done() <-chan struct{} { return e.workContext().Done() }

// Err returns why the engine stopped working (ErrLeaseLost), or nil.
func (e *Engine) Err() error { return e.lostLease() }
