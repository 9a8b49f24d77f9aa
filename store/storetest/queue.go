package storetest

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer/store"
)

var queueCases = []testCase{
	{"CommittedJobIsWorked", testJobCommitted},
	{"RolledBackJobNeverExists", testJobRolledBack},
	{"UniqueJobOnce", testJobUnique},
	{"CompleteTxWithLedgerWrite", testCompleteTx},
	{"ForeignTx", testForeignTx},
}

// echoArgs is the suite's job: its worker records the marker.
type echoArgs struct {
	Marker string `json:"marker"`
}

func (echoArgs) Kind() string { return "storetest_echo" }

type echoWorker struct {
	river.WorkerDefaults[echoArgs]
	mu   sync.Mutex
	seen []string
	// work, if set, runs inside Work (e.g. to complete the job in a ledger
	// transaction) with the queue working the job.
	work  func(ctx context.Context, q store.Queue, job *river.Job[echoArgs]) error
	queue store.Queue // set before the queue starts
}

func (w *echoWorker) Work(ctx context.Context, job *river.Job[echoArgs]) error {
	w.mu.Lock()
	w.seen = append(w.seen, job.Args.Marker)
	w.mu.Unlock()
	if w.work != nil {
		return w.work(ctx, w.queue, job)
	}
	return nil
}

func (w *echoWorker) markers() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

// testLogger sends River's warnings and errors to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startQueue builds and starts a queue with one worker on the default queue
// (so jobs are worked one at a time, oldest first) and subscribes to
// completed jobs before starting. It stops the queue when the test ends.
func startQueue(t *testing.T, s store.Store, w *echoWorker) (store.Queue, <-chan *river.Event) {
	return startQueueOn(t, s, w, river.QueueDefault)
}

// startQueueOn is startQueue on the named queue.
func startQueueOn(t *testing.T, s store.Store, w *echoWorker, queue string) (store.Queue, <-chan *river.Event) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	q, err := s.Queue(&river.Config{
		Queues:            map[string]river.QueueConfig{queue: {MaxWorkers: 1}},
		Workers:           workers,
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
		Logger:            testLogger(t),
	})
	must(t, "Queue", err)
	w.queue = q
	events, cancel := q.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	must(t, "Start", q.Start(testContext(t)))
	t.Cleanup(func() {
		cancel()
		ctx, stop := context.WithTimeout(context.Background(), timeout)
		defer stop()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return q, events
}

// waitFor polls cond until it holds, failing the test after the suite's
// timeout.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	ctx := testContext(t)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("condition not met: %v", ctx.Err())
		case <-tick.C:
		}
	}
}

// waitJob waits for the event of the job with the marker and fails the
// test if it is not a completion.
func waitJob(t *testing.T, events <-chan *river.Event, marker string) *river.Event {
	t.Helper()
	ctx := testContext(t)
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("no event for job %q: %v", marker, ctx.Err())
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the subscription closed before job %q was worked", marker)
			}
			var args echoArgs
			if err := json.Unmarshal(ev.Job.EncodedArgs, &args); err != nil || args.Marker != marker {
				continue
			}
			if ev.Kind != river.EventKindJobCompleted {
				t.Fatalf("job %q: event %s (errors %v), want it completed", marker, ev.Kind, ev.Job.Errors)
			}
			return ev
		}
	}
}

func insert(t *testing.T, s store.Store, q store.Queue, args echoArgs, opts *river.InsertOpts) bool {
	t.Helper()
	var inserted bool
	inTx(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		_, inserted, err = q.InsertTx(ctx, tx, args, opts)
		return err
	})
	return inserted
}

func testJobCommitted(t *testing.T, s store.Store) {
	w := &echoWorker{}
	q, events := startQueue(t, s, w)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		// The ledger write and the job it causes, in one transaction.
		if err := tx.CreateRequest(ctx, newRequest(t, "req-1", "ann@example.com", "partners")); err != nil {
			return err
		}
		_, inserted, err := q.InsertTx(ctx, tx, echoArgs{Marker: "committed"}, nil)
		if err == nil && !inserted {
			t.Errorf("InsertTx of a new job reported it not inserted")
		}
		return err
	})
	waitJob(t, events, "committed")
	if got := w.markers(); len(got) != 1 || got[0] != "committed" {
		t.Errorf("the worker saw %v, want [committed]", got)
	}
}

// testJobRolledBack inserts a job in a transaction that rolls back, then one
// in a transaction that commits. The queue works one job at a time, oldest
// first, so once the second is done the first would have been worked if it
// existed. Inserting the first's unique arguments again then succeeds, which
// it would not if the first existed.
func testJobRolledBack(t *testing.T, s store.Store) {
	w := &echoWorker{}
	q, events := startQueue(t, s, w)
	unique := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
	ctx := testContext(t)
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateRequest(ctx, newRequest(t, "req-1", "ann@example.com", "partners")); err != nil {
			return err
		}
		if _, _, err := q.InsertTx(ctx, tx, echoArgs{Marker: "rolled back"}, unique); err != nil {
			return err
		}
		return errRollback
	})
	if err != errRollback {
		t.Fatalf("InTx = %v, want the rollback", err)
	}
	insert(t, s, q, echoArgs{Marker: "committed"}, nil)
	waitJob(t, events, "committed")
	if got := w.markers(); len(got) != 1 || got[0] != "committed" {
		t.Fatalf("the worker saw %v, want only the committed job", got)
	}
	if !insert(t, s, q, echoArgs{Marker: "rolled back"}, unique) {
		t.Errorf("a unique job inserted in a rolled-back transaction blocks the same job later: it exists")
	}
	waitJob(t, events, "rolled back")
}

// testJobUnique inserts a unique job twice, in two transactions and twice in
// one, on a client that only inserts.
func testJobUnique(t *testing.T, s store.Store) {
	q, err := s.Queue(&river.Config{Logger: testLogger(t), TestOnly: true})
	must(t, "Queue", err)
	unique := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
	if !insert(t, s, q, echoArgs{Marker: "one"}, unique) {
		t.Errorf("the first insert of a unique job reported it not inserted")
	}
	if insert(t, s, q, echoArgs{Marker: "one"}, unique) {
		t.Errorf("the second insert of a unique job, in another transaction, inserted it again")
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		id1, first, err := q.InsertTx(ctx, tx, echoArgs{Marker: "two"}, unique)
		must(t, "InsertTx", err)
		id2, second, err := q.InsertTx(ctx, tx, echoArgs{Marker: "two"}, unique)
		must(t, "InsertTx", err)
		if !first || second {
			t.Errorf("a unique job inserted twice in one transaction: inserted %v then %v, want true then false", first, second)
		}
		if id1 == 0 || id2 != id1 {
			t.Errorf("a unique job inserted twice: ids %d then %d, want the same job's id twice", id1, id2)
		}
		return nil
	})
	if !insert(t, s, q, echoArgs{Marker: "one"}, nil) {
		t.Errorf("a job without unique options was not inserted")
	}
}

// testCompleteTx completes a job in the worker's ledger transaction, with a
// ledger write.
func testCompleteTx(t *testing.T, s store.Store) {
	w := &echoWorker{}
	w.work = func(ctx context.Context, q store.Queue, job *river.Job[echoArgs]) error {
		return s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: "worker", Op: "work " + job.Args.Marker}); err != nil {
				return err
			}
			return q.CompleteTx(ctx, tx, job.JobRow)
		})
	}
	q, events := startQueue(t, s, w)
	insert(t, s, q, echoArgs{Marker: "complete me"}, nil)
	ev := waitJob(t, events, "complete me")
	if ev.Job.State != "completed" {
		t.Errorf("the job is %s, want completed", ev.Job.State)
	}
	log := auditLog(t, s, store.AuditFilter{})
	if len(log) != 1 || log[0].Op != "work complete me" {
		t.Errorf("audit log = %+v, want the worker's one entry", log)
	}
	// Outside a worker there is no running job to complete.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := q.CompleteTx(ctx, tx, ev.Job); err == nil {
			t.Errorf("CompleteTx of a completed job outside a worker succeeded")
		}
		return nil
	})
}

// foreignTx is a Tx that no backend made.
type foreignTx struct{ store.Tx }

func testForeignTx(t *testing.T, s store.Store) {
	q, err := s.Queue(nil)
	must(t, "Queue(nil)", err)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if _, _, err := q.InsertTx(ctx, foreignTx{tx}, echoArgs{Marker: "x"}, nil); err == nil {
			t.Errorf("InsertTx with a Tx the store did not make succeeded")
		}
		if err := q.CompleteTx(ctx, foreignTx{tx}, nil); err == nil {
			t.Errorf("CompleteTx with a Tx the store did not make succeeded")
		}
		return nil
	})
}
