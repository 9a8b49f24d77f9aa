package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var jobsCases = []testCase{
	{"RowJobs", testRowJobs},
	{"SweepRowJobs", testSweepRowJobs},
	{"Reclaim", testReclaimJobs},
	{"ReclaimOf", testReclaimJobsOf},
	{"Blocks", testBlocks},
	{"Wake", testWakeJobs},
	{"RunRowResult", testRunRowResult},
	{"OperatorListRetryDiscard", testOperatorJobs},
}

// setJobState moves a job to a state by SQL, as River's own producer or
// completer would, with what River's table requires of the state.
func setJobState(t *testing.T, s store.Store, id int64, state string) {
	t.Helper()
	ex, ok := s.(Execer)
	if !ok {
		t.Fatalf("the store does not implement storetest.Execer")
	}
	finalized := "NULL"
	switch state {
	case "cancelled", "completed", "discarded":
		finalized = "CURRENT_TIMESTAMP"
	}
	q := fmt.Sprintf(`UPDATE river_job SET state = '%s', finalized_at = %s, attempt = attempt + 1, attempted_at = CURRENT_TIMESTAMP WHERE id = %d`, state, finalized, id)
	must(t, "set job state "+state, ex.ExecSQL(testContext(t), q))
}

// testRowJobs: rows with work and no live job are the ones to enqueue; a
// row names its job; a job that ended without a result frees its row.
func testRowJobs(t *testing.T, s store.Store) {
	q, err := s.Queue(&river.Config{Logger: testLogger(t), TestOnly: true})
	must(t, "Queue", err)
	rows := []foyer.Row{
		{Line: 2, Email: "a@x.example", Action: foyer.ActionInvite},
		{Line: 3, Email: "b@x.example", Action: foyer.ActionExists},
		{Line: 4, Email: "c@x.example", Action: foyer.ActionSkip, Result: foyer.ResultSkipped},
		{Line: 5, Email: "d@x.example", Action: foyer.ActionInvite, Result: foyer.ResultInvited},
		{Line: 6, Email: "e@x.example", Action: foyer.ActionInvite},
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "CreateRun", tx.CreateRun(ctx, newRun("run-1", "d1")))
		must(t, "PutRunRows", tx.PutRunRows(ctx, "run-1", rows))
		return tx.SealRun(ctx, "run-1")
	})
	lines := func(after, limit int) []int {
		var got []int
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			rs, err := tx.UnqueuedRunRows(ctx, "run-1", after, limit)
			for _, r := range rs {
				got = append(got, r.Line)
				if r.Email == "" || r.Action == "" {
					t.Errorf("UnqueuedRunRows: line %d read without its email or action: %+v", r.Line, r)
				}
			}
			return err
		})
		return got
	}
	if got := fmt.Sprint(lines(0, 10)); got != "[2 3 6]" {
		t.Errorf("UnqueuedRunRows before any job = %s, want [2 3 6]", got)
	}
	if got := fmt.Sprint(lines(2, 1)); got != "[3]" {
		t.Errorf("UnqueuedRunRows after line 2, limit 1 = %s, want [3]", got)
	}
	var job2, job3 int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		job2, _, err = q.InsertTx(ctx, tx, echoArgs{Marker: "line 2"}, nil)
		must(t, "InsertTx", err)
		job3, _, err = q.InsertTx(ctx, tx, echoArgs{Marker: "line 3"}, nil)
		must(t, "InsertTx", err)
		must(t, "SetRunRowJob", tx.SetRunRowJob(ctx, "run-1", 2, job2))
		must(t, "SetRunRowJob", tx.SetRunRowJob(ctx, "run-1", 3, job3))
		wantCode(t, "SetRunRowJob of a missing line", tx.SetRunRowJob(ctx, "run-1", 99, job2), foyer.ENOTFOUND)
		got, err := tx.RunRowJob(ctx, "run-1", 2)
		if err != nil || got != job2 {
			t.Errorf("RunRowJob(line 2) = %d, %v; want %d", got, err, job2)
		}
		if got, err := tx.RunRowJob(ctx, "run-1", 6); err != nil || got != 0 {
			t.Errorf("RunRowJob of a row never enqueued = %d, %v; want 0", got, err)
		}
		_, err = tx.RunRowJob(ctx, "run-1", 99)
		wantCode(t, "RunRowJob of a missing line", err, foyer.ENOTFOUND)
		return nil
	})
	if got := fmt.Sprint(lines(0, 10)); got != "[6]" {
		t.Errorf("UnqueuedRunRows with live jobs for lines 2 and 3 = %s, want [6]", got)
	}
	// A running job is live; a cancelled one frees its row, and so does a
	// job River's cleaner removed.
	setJobState(t, s, job2, "running")
	setJobState(t, s, job3, "cancelled")
	if got := fmt.Sprint(lines(0, 10)); got != "[3 6]" {
		t.Errorf("UnqueuedRunRows with line 2 running and line 3's job cancelled = %s, want [3 6]", got)
	}
	must(t, "delete job", s.(Execer).ExecSQL(testContext(t), fmt.Sprintf(`DELETE FROM river_job WHERE id = %d`, job2)))
	if got := fmt.Sprint(lines(0, 10)); got != "[2 3 6]" {
		t.Errorf("UnqueuedRunRows once line 2's job is gone = %s, want [2 3 6]", got)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "SetRunRowJob 0", tx.SetRunRowJob(ctx, "run-1", 3, 0))
		if got, err := tx.RunRowJob(ctx, "run-1", 3); err != nil || got != 0 {
			t.Errorf("RunRowJob after SetRunRowJob(0) = %d, %v; want 0", got, err)
		}
		_, err := tx.UnqueuedRunRows(ctx, "no-run", 0, 10)
		wantCode(t, "UnqueuedRunRows of an unknown run", err, foyer.ENOTFOUND)
		return nil
	})
}

// testSweepRowJobs: a sweep's disable, delete and notice rows have work;
// its hold rows (skip) do not.
func testSweepRowJobs(t *testing.T, s store.Store) {
	rows := []foyer.Row{
		{Line: 1, Email: "a@x.example", UserID: "u1", Action: foyer.ActionNoticeDisable},
		{Line: 2, Email: "b@x.example", UserID: "u2", Action: foyer.ActionDisable},
		{Line: 3, Email: "c@x.example", UserID: "u3", Action: foyer.ActionSkip, Result: foyer.ResultSkipped},
		{Line: 4, Email: "d@x.example", UserID: "u4", Action: foyer.ActionNoticeDelete},
		{Line: 5, Email: "e@x.example", UserID: "u5", Action: foyer.ActionDelete},
		{Line: 6, Email: "f@x.example", UserID: "u6", Action: foyer.ActionDelete, Result: foyer.ResultDeleted},
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		run := newRun("sweep-1", "sweep t")
		run.Kind = foyer.RunSweep
		must(t, "CreateRun", tx.CreateRun(ctx, run))
		must(t, "PutRunRows", tx.PutRunRows(ctx, "sweep-1", rows))
		must(t, "SealRun", tx.SealRun(ctx, "sweep-1"))
		rs, err := tx.UnqueuedRunRows(ctx, "sweep-1", 0, 10)
		var got []string
		for _, r := range rs {
			got = append(got, fmt.Sprintf("%d %s %s", r.Line, r.Action, r.UserID))
		}
		if want := "[1 notice_disable u1 2 disable u2 4 notice_delete u4 5 delete u5]"; fmt.Sprint(got) != want {
			t.Errorf("UnqueuedRunRows of a sweep = %v, want %s", got, want)
		}
		n, err2 := tx.PendingRunRows(ctx, "sweep-1")
		if n != 4 {
			t.Errorf("PendingRunRows of a sweep = %d, want 4", n)
		}
		return errors.Join(err, err2)
	})
}

// testReclaimJobs: running jobs of a queue become available; others stay.
func testReclaimJobs(t *testing.T, s store.Store) {
	q, err := s.Queue(&river.Config{Logger: testLogger(t), TestOnly: true})
	must(t, "Queue", err)
	ids := make([]int64, 4)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range ids {
			opts := &river.InsertOpts{Queue: "work"}
			if i == 3 {
				opts.Queue = "other"
			}
			var err error
			ids[i], _, err = q.InsertTx(ctx, tx, echoArgs{Marker: fmt.Sprint(i)}, opts)
			must(t, "InsertTx", err)
		}
		return nil
	})
	setJobState(t, s, ids[0], "running")
	setJobState(t, s, ids[1], "completed")
	setJobState(t, s, ids[3], "running")
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		n, err := tx.LiveJobs(ctx, "work")
		if err != nil || n != 2 {
			t.Errorf("LiveJobs(work) = %d, %v; want 2 (one running, one available)", n, err)
		}
		n, err = tx.ReclaimJobs(ctx, "work")
		if err != nil || n != 1 {
			t.Errorf("ReclaimJobs(work) = %d, %v; want 1", n, err)
		}
		if n, _ := tx.ReclaimJobs(ctx, "work"); n != 0 {
			t.Errorf("ReclaimJobs(work) again = %d, want 0", n)
		}
		if n, _ := tx.LiveJobs(ctx, "work"); n != 2 {
			t.Errorf("LiveJobs(work) after reclaiming = %d, want 2", n)
		}
		return nil
	})
	// The reclaimed job is worked; the other queue's running job is not.
	w := &echoWorker{}
	startQueueOn(t, s, w, "work")
	waitFor(t, func() bool { return len(w.markers()) == 2 })
	for _, m := range w.markers() {
		if m == "1" || m == "3" {
			t.Errorf("job %s was worked: it was completed, or running on another queue", m)
		}
	}
}

// testReclaimJobsOf: the running jobs whose latest attempt was a given
// client's become available; another client's stay running.
func testReclaimJobsOf(t *testing.T, s store.Store) {
	release := make(chan struct{})
	started := make(chan string, 2)
	w := &echoWorker{work: func(ctx context.Context, _ store.Queue, job *river.Job[echoArgs]) error {
		started <- job.Args.Marker
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}}
	for i, client := range []string{"replica-a", "replica-b"} {
		workers := river.NewWorkers()
		river.AddWorker(workers, w)
		q, err := s.Queue(&river.Config{
			ID:                client,
			Queues:            map[string]river.QueueConfig{fmt.Sprint("q", i): {MaxWorkers: 1}},
			Workers:           workers,
			FetchCooldown:     10 * time.Millisecond,
			FetchPollInterval: 50 * time.Millisecond,
			TestOnly:          true,
			Logger:            testLogger(t),
		})
		must(t, "Queue", err)
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			_, _, err := q.InsertTx(ctx, tx, echoArgs{Marker: client}, &river.InsertOpts{Queue: fmt.Sprint("q", i)})
			return err
		})
		must(t, "Start", q.Start(testContext(t)))
		t.Cleanup(func() {
			ctx, stop := context.WithTimeout(context.Background(), timeout)
			defer stop()
			if err := q.Stop(ctx); err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
	}
	defer close(release)
	for range 2 {
		select {
		case <-started:
		case <-time.After(timeout):
			t.Fatal("the jobs did not start")
		}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		n, err := tx.ReclaimJobsOf(ctx, "replica-c")
		if err != nil || n != 0 {
			t.Errorf("ReclaimJobsOf(a client with no job) = %d, %v; want 0", n, err)
		}
		n, err = tx.ReclaimJobsOf(ctx, "replica-a")
		if err != nil || n != 1 {
			t.Errorf("ReclaimJobsOf(replica-a) = %d, %v; want 1", n, err)
		}
		if n, _ := tx.ReclaimJobsOf(ctx, "replica-a"); n != 0 {
			t.Errorf("ReclaimJobsOf(replica-a) again = %d, want 0", n)
		}
		if n, _ := tx.LiveJobs(ctx, "q1"); n != 1 {
			t.Errorf("replica-b's job: %d live, want 1", n)
		}
		_, err = tx.ReclaimJobsOf(ctx, "")
		wantCode(t, "ReclaimJobsOf without client", err, foyer.EINVALID)
		return nil
	})
}

// testBlocks: a tenant's block is recorded once, read, and cleared.
func testBlocks(t *testing.T, s store.Store) {
	var since time.Time
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		since = tx.Now()
		_, err := tx.TenantBlock(ctx, "t1")
		wantCode(t, "TenantBlock of a tenant not blocked", err, foyer.ENOTFOUND)
		must(t, "PutBlock", tx.PutBlock(ctx, store.Block{Tenant: "t1", RunID: "run-1", Reason: "blocked"}))
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "PutBlock again", tx.PutBlock(ctx, store.Block{Tenant: "t1", RunID: "run-2", Reason: "again"}))
		b, err := tx.TenantBlock(ctx, "t1")
		must(t, "TenantBlock", err)
		if b.RunID != "run-1" || b.Reason != "blocked" || !b.Since.Equal(since) {
			t.Errorf("TenantBlock = %+v, want the first record (run-1, blocked, since %v)", b, since)
		}
		wantCode(t, "PutBlock without tenant", tx.PutBlock(ctx, store.Block{}), foyer.EINVALID)
		must(t, "ClearBlock", tx.ClearBlock(ctx, "t1"))
		wantCode(t, "ClearBlock again", tx.ClearBlock(ctx, "t1"), foyer.ENOTFOUND)
		_, err = tx.TenantBlock(ctx, "t1")
		wantCode(t, "TenantBlock after ClearBlock", err, foyer.ENOTFOUND)
		return nil
	})
}

// testWakeJobs: jobs waiting for a retry or their time become available.
func testWakeJobs(t *testing.T, s store.Store) {
	q, err := s.Queue(&river.Config{Logger: testLogger(t), TestOnly: true})
	must(t, "Queue", err)
	var done int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		_, _, err = q.InsertTx(ctx, tx, echoArgs{Marker: "later"}, &river.InsertOpts{Queue: "report", ScheduledAt: time.Now().Add(time.Hour)})
		must(t, "InsertTx", err)
		done, _, err = q.InsertTx(ctx, tx, echoArgs{Marker: "done"}, &river.InsertOpts{Queue: "report"})
		must(t, "InsertTx", err)
		return nil
	})
	setJobState(t, s, done, "completed")
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		n, err := tx.WakeJobs(ctx, "report")
		if err != nil || n != 1 {
			t.Errorf("WakeJobs = %d, %v; want 1 (the scheduled job, not the completed one)", n, err)
		}
		return nil
	})
	w := &echoWorker{}
	startQueueOn(t, s, w, "report")
	waitFor(t, func() bool { return len(w.markers()) == 1 })
	if got := w.markers(); got[0] != "later" {
		t.Errorf("worked %v, want the woken job", got)
	}
}
