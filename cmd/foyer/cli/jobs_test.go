package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// failArgs is a job of a run's row or of a request that always fails.
type failArgs struct {
	RunID     string `json:"run_id,omitempty"`
	Line      int    `json:"line,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

func (failArgs) Kind() string { return "clitest.fail" }

type failWorker struct {
	river.WorkerDefaults[failArgs]
}

func (failWorker) Work(context.Context, *river.Job[failArgs]) error {
	return errors.New("graph answered 503\nsecond line")
}

// discardedJobs puts jobs that failed for good into a ledger, as River
// leaves them after their last attempt: one per failArgs, on queue
// clitest. It returns their ids in order.
func discardedJobs(t *testing.T, path string, args ...failArgs) []int64 {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	workers := river.NewWorkers()
	river.AddWorker(workers, failWorker{})
	q, err := db.Queue(&river.Config{
		Queues:            map[string]river.QueueConfig{"clitest": {MaxWorkers: 2}},
		Workers:           workers,
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	err = db.InTx(ctx, func(tx store.Tx) error {
		ids = nil
		for _, a := range args {
			id, _, err := q.InsertTx(ctx, tx, a, &river.InsertOpts{Queue: "clitest", MaxAttempts: 1})
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(stop); err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var jobs []store.Job
		err := db.InTx(ctx, func(tx store.Tx) error {
			var err error
			jobs, err = q.ListJobsTx(ctx, tx, store.JobFilter{IDs: ids, States: []rivertype.JobState{rivertype.JobStateDiscarded}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == len(ids) {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("the jobs were not discarded in time: %d of %d", len(jobs), len(ids))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type jobsDoc struct {
	Jobs []struct {
		ID          int64  `json:"id"`
		Kind        string `json:"kind"`
		Queue       string `json:"queue"`
		State       string `json:"state"`
		Attempt     int    `json:"attempt"`
		MaxAttempts int    `json:"max_attempts"`
		LastError   string `json:"last_error"`
		RunID       string `json:"run_id"`
		Line        int    `json:"line"`
		RequestID   string `json:"request_id"`
		Error       string `json:"error"`
	} `json:"jobs"`
}

func decodeJobs(t *testing.T, s string) jobsDoc {
	t.Helper()
	var d jobsDoc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("output is not one JSON document: %v\n%s", err, s)
	}
	return d
}

// TestJobs: jobs that failed for good are listed with what they belong to
// and their last error; one is retried, one whose row has a result is
// refused, one is discarded; bad arguments are usage errors.
func TestJobs(t *testing.T) {
	t.Parallel()
	_, config, csv := tenant(t, sim.Options{})
	code, out, errs := run(t, "apply", "--yes", "--output", "json", "--config", config, "--profile", "partners", csv)
	if code != cli.ExitInvalidRows {
		t.Fatalf("apply: exit %d\n%s", code, errs)
	}
	d := decode(t, out)
	done := 0
	for _, r := range d.Rows {
		if r.Result == "invited" {
			done = r.Line
			break
		}
	}
	if done == 0 {
		t.Fatalf("the apply invited nobody:\n%s", out)
	}
	ids := discardedJobs(t, filepath.Join(filepath.Dir(config), "foyer.db"),
		failArgs{RunID: d.RunID, Line: done}, failArgs{RequestID: "req-1"}, failArgs{RequestID: "req-2"})
	onRow, req1, req2 := ids[0], ids[1], ids[2]

	code, out, errs = run(t, "jobs", "--config", config, "--queue", "clitest")
	if code != cli.ExitOK {
		t.Fatalf("jobs: exit %d\n%s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "id ") {
		t.Fatalf("jobs: want a header and 3 jobs, got\n%s", out)
	}
	for _, want := range []string{fmt.Sprint(onRow), "clitest.fail", "discarded", "1/1", fmt.Sprintf("run %s line %d", d.RunID, done), "graph answered 503"} {
		if !strings.Contains(lines[3], want) {
			t.Errorf("jobs: the oldest job's line lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "second line") {
		t.Errorf("jobs: an error's second line was shown:\n%s", out)
	}

	code, out, errs = run(t, "jobs", "--config", config, "--queue", "clitest", "--state", "discarded", "--limit", "2", "--output", "json")
	if code != cli.ExitOK {
		t.Fatalf("jobs --output json: exit %d\n%s", code, errs)
	}
	jd := decodeJobs(t, out)
	if len(jd.Jobs) != 2 || jd.Jobs[0].ID != req2 || jd.Jobs[1].ID != req1 {
		t.Fatalf("jobs --limit 2: %+v, want %d and %d, newest first", jd.Jobs, req2, req1)
	}
	if j := jd.Jobs[1]; j.RequestID != "req-1" || j.Kind != "clitest.fail" || j.Queue != "clitest" || j.Attempt != 1 ||
		!strings.HasPrefix(j.LastError, "graph answered 503") {
		t.Errorf("jobs --output json: %+v", j)
	}

	// The row's result is recorded: running its job again is refused, the
	// other job still retried, and the exit code says one was refused.
	code, out, errs = run(t, "jobs", "retry", "--config", config, fmt.Sprint(onRow), fmt.Sprint(req1))
	if code != cli.ExitError || !strings.Contains(errs, "already has a result") || !strings.Contains(out, fmt.Sprintf("Job %d", req1)) ||
		!strings.Contains(out, "available") {
		t.Errorf("retry: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = run(t, "jobs", "discard", "--config", config, "--output", "json", fmt.Sprint(req1), "999999")
	jd = decodeJobs(t, out)
	if code != cli.ExitError || len(jd.Jobs) != 2 || jd.Jobs[0].State != "cancelled" || jd.Jobs[1].Error == "" {
		t.Errorf("discard: exit %d %+v\n%s", code, jd.Jobs, errs)
	}

	code, out, errs = run(t, "jobs", "--config", config, "--queue", "clitest", "--state", "all", "--output", "json")
	if code != cli.ExitOK {
		t.Fatalf("jobs --state all: exit %d\n%s", code, errs)
	}
	states := map[int64]string{}
	for _, j := range decodeJobs(t, out).Jobs {
		states[j.ID] = j.State
	}
	if states[onRow] != "discarded" || states[req1] != "cancelled" || states[req2] != "discarded" {
		t.Errorf("states after retry and discard: %v", states)
	}

	// Each change is in the audit log, under the operator's command.
	db, err := sqlite.Open(t.Context(), filepath.Join(filepath.Dir(config), "foyer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	err = db.InTx(t.Context(), func(tx store.Tx) error {
		return tx.AuditLog(t.Context(), store.AuditFilter{RequestID: "req-1"}, func(e store.AuditEntry) error {
			ops = append(ops, e.Actor+": "+e.Op+" "+e.Detail)
			return nil
		})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ops, "; "); got != "cli:jobs retry: retry job now available; cli:jobs discard: discard job now cancelled" {
		t.Errorf("audit of req-1's job: %s", got)
	}

	for _, args := range [][]string{
		{"jobs", "--state", "lost"},
		{"jobs", "--output", "yaml"},
		{"jobs", "--limit", "0"},
		{"jobs", "retry", "abc"},
		{"jobs", "discard"},
	} {
		if code, _, errs := run(t, append(args, "--config", config)...); code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want a usage error\n%s", args, code, errs)
		}
	}
}
