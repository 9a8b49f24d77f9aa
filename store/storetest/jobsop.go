package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// rowArgs is a job that belongs to a run's row or to a request, with the
// keys foyer's jobs use.
type rowArgs struct {
	RunID     string `json:"run_id,omitempty"`
	Line      int    `json:"line,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

func (rowArgs) Kind() string { return "storetest_row" }

// rowWorker fails while failing is set, with errGraphDown, and fails as a
// worker should if its context is cancelled (a discard of a retried job
// must not follow it into its next attempt).
type rowWorker struct {
	river.WorkerDefaults[rowArgs]
	failing atomic.Bool
}

var errGraphDown = errors.New("graph is down")

func (w *rowWorker) Work(ctx context.Context, _ *river.Job[rowArgs]) error {
	if w.failing.Load() {
		return errGraphDown
	}
	return ctx.Err()
}

// testRunRowResult: a row's result is read back; a missing row is
// ENOTFOUND.
func testRunRowResult(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("run-1", "d1")))
		must(t, "PutRunRows", tx.PutRunRows(ctx, "run-1", []foyer.Row{
			{Line: 2, Email: "a@x.example", Action: foyer.ActionInvite},
			{Line: 3, Email: "b@x.example", Action: foyer.ActionInvite, Result: foyer.ResultInvited},
		}))
		if got, err := tx.RunRowResult(ctx, "run-1", 2); err != nil || got != "" {
			t.Errorf("RunRowResult(line 2) = %q, %v; want no result", got, err)
		}
		if got, err := tx.RunRowResult(ctx, "run-1", 3); err != nil || got != foyer.ResultInvited {
			t.Errorf("RunRowResult(line 3) = %q, %v; want %q", got, err, foyer.ResultInvited)
		}
		_, err := tx.RunRowResult(ctx, "run-1", 9)
		wantCode(t, "RunRowResult of a missing line", err, foyer.ENOTFOUND)
		_, err = tx.RunRowResult(ctx, "no-run", 2)
		wantCode(t, "RunRowResult of a missing run", err, foyer.ENOTFOUND)
		return nil
	})
}

// testOperatorJobs: jobs that failed for good are listed with their last
// error and what they belong to; a retry brings one back and it runs,
// unless its row has a result or it is live or completed; a discard
// cancels a waiting job.
func testOperatorJobs(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("run-1", "d1")))
		return tx.PutRunRows(ctx, "run-1", []foyer.Row{
			{Line: 2, Email: "a@x.example", Action: foyer.ActionInvite},
			{Line: 3, Email: "b@x.example", Action: foyer.ActionInvite, Result: foyer.ResultInvited},
		})
	})
	w := &rowWorker{}
	w.failing.Store(true)
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	q, err := s.Queue(&river.Config{
		Queues:            map[string]river.QueueConfig{"ops": {MaxWorkers: 1}},
		Workers:           workers,
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
		Logger:            testLogger(t),
	})
	must(t, "Queue", err)
	// The operator's client only reads and changes jobs, as foyer jobs does.
	op, err := s.Queue(nil)
	must(t, "Queue(nil)", err)

	once := func(queue string) *river.InsertOpts { return &river.InsertOpts{Queue: queue, MaxAttempts: 1} }
	var row2, row3, req, later, other, done, stale, waiting int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ins := func(args rowArgs, opts *river.InsertOpts) int64 {
			id, _, err := q.InsertTx(ctx, tx, args, opts)
			must(t, "InsertTx", err)
			return id
		}
		row2 = ins(rowArgs{RunID: "run-1", Line: 2}, once("ops"))
		row3 = ins(rowArgs{RunID: "run-1", Line: 3}, once("ops"))
		req = ins(rowArgs{RequestID: "req-1"}, once("ops"))
		later = ins(rowArgs{RequestID: "req-2"}, &river.InsertOpts{Queue: "ops", ScheduledAt: time.Now().Add(time.Hour)})
		other = ins(rowArgs{RequestID: "req-3"}, once("other"))
		done = ins(rowArgs{RequestID: "req-4"}, once("other"))
		// An earlier job for line 2, before a resumed run gave the row
		// row2.
		stale = ins(rowArgs{RunID: "run-1", Line: 2}, once("other"))
		waiting = ins(rowArgs{RequestID: "req-5"}, &river.InsertOpts{Queue: "other", ScheduledAt: time.Now().Add(time.Hour)})
		return tx.SetRunRowJob(ctx, "run-1", 2, row2)
	})
	setJobState(t, s, done, "completed")
	setJobState(t, s, stale, "discarded")
	// Discarding: a waiting job is cancelled at once, and again changes
	// nothing. (Before the queue starts: River keeps a cancel it hears of
	// during a fetch for the jobs of that fetch, so a job cancelled and
	// retried within one fetch could start cancelled.)
	for range 2 {
		var j store.Job
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			j, err = op.DiscardJobTx(ctx, tx, later)
			return err
		})
		if j.State != rivertype.JobStateCancelled {
			t.Errorf("discarded scheduled job is %s, want cancelled", j.State)
		}
	}
	must(t, "Start", q.Start(testContext(t)))
	t.Cleanup(func() {
		ctx, stop := context.WithTimeout(context.Background(), timeout)
		defer stop()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})

	list := func(f store.JobFilter) []store.Job {
		var jobs []store.Job
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			jobs, err = op.ListJobsTx(ctx, tx, f)
			return err
		})
		return jobs
	}
	ids := func(jobs []store.Job) string {
		var out []int64
		for _, j := range jobs {
			out = append(out, j.ID)
		}
		return fmt.Sprint(out)
	}
	discarded := store.JobFilter{States: []rivertype.JobState{rivertype.JobStateDiscarded}, Queues: []string{"ops"}}
	waitFor(t, func() bool { return len(list(discarded)) == 3 })

	jobs := list(discarded)
	if got, want := ids(jobs), fmt.Sprint([]int64{req, row3, row2}); got != want {
		t.Errorf("discarded jobs = %s, want %s (newest first)", got, want)
	}
	j := jobs[2]
	if j.Kind != "storetest_row" || j.Queue != "ops" || j.State != rivertype.JobStateDiscarded ||
		j.Attempt != 1 || j.MaxAttempts != 1 || j.RunID != "run-1" || j.Line != 2 || j.RequestID != "" ||
		j.LastError != errGraphDown.Error() || j.CreatedAt.IsZero() || j.At.Before(j.CreatedAt) {
		t.Errorf("discarded job for line 2 = %+v", j)
	}
	if jobs[0].RequestID != "req-1" || jobs[0].RunID != "" {
		t.Errorf("discarded job for req-1 = %+v, want its request", jobs[0])
	}
	if got := ids(list(store.JobFilter{States: discarded.States, Limit: 1})); got != fmt.Sprint([]int64{stale}) {
		t.Errorf("discarded jobs of every queue, limit 1 = %s, want [%d]", got, stale)
	}
	if got := ids(list(store.JobFilter{States: discarded.States, Queues: discarded.Queues, Limit: 1})); got != fmt.Sprint([]int64{req}) {
		t.Errorf("discarded jobs, limit 1 = %s, want [%d]", got, req)
	}
	if got, want := ids(list(store.JobFilter{Queues: []string{"other"}})), fmt.Sprint([]int64{waiting, stale, done, other}); got != want {
		t.Errorf("jobs of queue other = %s, want %s", got, want)
	}
	if got := ids(list(store.JobFilter{IDs: []int64{later}, Kinds: []string{"storetest_row"}})); got != fmt.Sprint([]int64{later}) {
		t.Errorf("job by id and kind = %s, want [%d]", got, later)
	}

	act := func(what string, fn func(context.Context, store.Tx) (store.Job, error)) (store.Job, error) {
		var (
			j   store.Job
			err error
		)
		must(t, what, s.InTx(testContext(t), func(tx store.Tx) error {
			j, err = fn(testContext(t), tx)
			return nil
		}))
		return j, err
	}
	retry := func(id int64) (store.Job, error) {
		return act("retry", func(ctx context.Context, tx store.Tx) (store.Job, error) { return op.RetryJobTx(ctx, tx, id) })
	}
	discard := func(id int64) (store.Job, error) {
		return act("discard", func(ctx context.Context, tx store.Tx) (store.Job, error) { return op.DiscardJobTx(ctx, tx, id) })
	}

	refused := []struct {
		what string
		id   int64
		code string
	}{
		{"a job whose row has a result", row3, foyer.ECONFLICT},
		{"a job whose row names another job", stale, foyer.ECONFLICT},
		{"a completed job", done, foyer.ECONFLICT},
		{"a job waiting for its time", waiting, foyer.ECONFLICT},
		{"a job waiting to run", other, foyer.ECONFLICT},
		{"a job that does not exist", 1 << 40, foyer.ENOTFOUND},
	}
	for _, c := range refused {
		_, err := retry(c.id)
		wantCode(t, "RetryJobTx of "+c.what, err, c.code)
	}
	if got := list(store.JobFilter{IDs: []int64{row3}}); len(got) != 1 || got[0].State != rivertype.JobStateDiscarded {
		t.Errorf("job for line 3 after a refused retry = %+v, want it still discarded", got)
	}

	// A retry rolled back with its transaction leaves the job discarded.
	err = s.InTx(testContext(t), func(tx store.Tx) error {
		if _, err := op.RetryJobTx(testContext(t), tx, req); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("rolled-back retry: %v", err)
	}
	if got := list(store.JobFilter{IDs: []int64{req}}); got[0].State != rivertype.JobStateDiscarded {
		t.Errorf("job after a rolled-back retry is %s, want discarded", got[0].State)
	}

	// Graph is back: the retried job runs, with one more attempt allowed.
	w.failing.Store(false)
	j, err = retry(row2)
	must(t, "RetryJobTx of line 2's job", err)
	if j.State != rivertype.JobStateAvailable || j.MaxAttempts != 2 {
		t.Errorf("retried job = %s with %d attempts allowed, want available with 2", j.State, j.MaxAttempts)
	}
	waitFor(t, func() bool { return list(store.JobFilter{IDs: []int64{row2}})[0].State == rivertype.JobStateCompleted })

	// A completed job is not discarded; a missing one is not found.
	_, err = discard(done)
	wantCode(t, "DiscardJobTx of a completed job", err, foyer.ECONFLICT)
	_, err = discard(1 << 40)
	wantCode(t, "DiscardJobTx of a job that does not exist", err, foyer.ENOTFOUND)
	if got := list(store.JobFilter{IDs: []int64{done}}); got[0].State != rivertype.JobStateCompleted {
		t.Errorf("completed job after a refused discard is %s", got[0].State)
	}

	// A cancelled job may be retried: it runs now, not at its old time.
	_, err = retry(later)
	must(t, "RetryJobTx of a cancelled job", err)
	waitFor(t, func() bool { return list(store.JobFilter{IDs: []int64{later}})[0].State == rivertype.JobStateCompleted })
}
