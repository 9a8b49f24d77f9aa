package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/store"
)

// A finished run's report is a job, inserted in the transaction that
// finishes the run. Its worker builds the report from the ledger and sends
// it through every channel still owed, recording each delivery; a channel
// that fails is tried again with backoff, by this process or the next one
// that works jobs (taking the lease wakes the owed reports). Delivery is at
// least once; the report's id (notify.Report.ID) is the same on every
// attempt, so a receiver drops a repeat by it.

// ReportArgs is the job that sends a finished run's report.
type ReportArgs struct {
	RunID string `json:"run_id" river:"unique"`
}

// Kind names the job in River.
func (ReportArgs) Kind() string { return "foyer.report" }

// InsertOpts puts reports on their own queue, one live job per run, tried
// for about a day.
func (ReportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       queueReport,
		MaxAttempts: reportAttempts,
		UniqueOpts:  uniqueAmongLive(),
	}
}

const (
	queueReport = "report"
	// reportAttempts with reportBackoff: 10 s, 20 s, 40 s, ... up to an
	// hour between attempts, about a day in all.
	reportAttempts = 30
)

// reportBackoff is the wait before a report's next attempt.
func reportBackoff(attempt int) time.Duration {
	return min(10*time.Second<<min(attempt-1, 10), time.Hour)
}

// oweReport records, in tx, that the run's report is owed through every
// configured channel and enqueues the job that sends it. Without channels
// there is nothing to send.
func (e *Engine) oweReport(ctx context.Context, tx store.Tx, runID string) error {
	if len(e.Notifiers) == 0 {
		return nil
	}
	q, err := e.currentQueue()
	if err != nil {
		return err
	}
	if err := tx.OweReport(ctx, runID, e.channels()); err != nil {
		return err
	}
	if _, _, err := q.InsertTx(ctx, tx, ReportArgs{RunID: runID}, nil); err != nil {
		return fmt.Errorf("enqueue the report: %w", err)
	}
	return nil
}

func (e *Engine) channels() []string {
	names := make([]string, len(e.Notifiers))
	for i, n := range e.Notifiers {
		names[i] = n.Name()
	}
	return names
}

// reportWorker sends a run's report through the channels it is owed.
type reportWorker struct {
	river.WorkerDefaults[ReportArgs]
	e *Engine
}

func (w *reportWorker) NextRetry(job *river.Job[ReportArgs]) time.Time {
	return w.e.Clock.Now().Add(reportBackoff(job.Attempt))
}

func (w *reportWorker) Work(ctx context.Context, job *river.Job[ReportArgs]) error {
	e := w.e
	if err := e.lostLease(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, e.attemptTimeout())
	defer cancel()
	defer context.AfterFunc(e.workContext(), cancel)()
	var (
		run   *foyer.Run
		owed  []string
		tries = map[string]int{}
	)
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if run, err = tx.Run(ctx, job.Args.RunID); err != nil {
			return err
		}
		ds, err := tx.Deliveries(ctx, run.ID)
		for _, d := range ds {
			if !d.Sent {
				owed = append(owed, d.Channel)
				tries[d.Channel] = d.Attempts
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("read the report of run %s: %w", job.Args.RunID, err)
	}
	var send []notify.Notifier
	for _, n := range e.Notifiers {
		if slices.Contains(owed, n.Name()) {
			send = append(send, n)
		}
	}
	if len(owed) == 0 {
		return nil // everything was sent
	}
	if len(send) == 0 {
		return fmt.Errorf("the report of run %s is owed through %s, which this process does not have configured", run.ID, strings.Join(owed, ", "))
	}
	report, err := e.buildReport(ctx, run)
	if err != nil {
		return err
	}
	errs := notify.NotifyAll(ctx, send, report)
	var failed []error
	err = e.Store.InTx(context.WithoutCancel(ctx), func(tx store.Tx) error {
		for i, n := range send {
			msg := ""
			if errs[i] != nil {
				msg = e.safeMessage(errs[i])
				failed = append(failed, errs[i])
			}
			if err := tx.RecordDelivery(ctx, run.ID, n.Name(), msg); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the report deliveries of run %s: %w", run.ID, err)
	}
	for i, n := range send {
		if errs[i] != nil {
			e.Log.Warn("report not delivered; it will be tried again", "run", run.ID, "channel", n.Name(),
				"attempt", tries[n.Name()]+1, "err", errs[i])
		}
	}
	return errors.Join(failed...)
}

// buildReport builds a finished run's report from the ledger.
func (e *Engine) buildReport(ctx context.Context, run *foyer.Run) (notify.Report, error) {
	name := run.Tenant
	if t, err := e.runTenant(run); err == nil && t.Name != "" {
		name = t.Name
	}
	report := notify.NewReport(*run, name, nil, e.DetailsURL)
	err := store.EachRunRow(ctx, e.Store, run.ID, func(r foyer.Row) error {
		report.Add(r)
		return nil
	})
	if err != nil {
		return report, fmt.Errorf("build the report of run %s: %w", run.ID, err)
	}
	return report, nil
}

// watchReports records, until ctx ends, which runs' reports this process
// tried to send.
func (e *Engine) watchReports(ctx context.Context, events <-chan *river.Event, unsubscribe func()) {
	defer unsubscribe()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			var a ReportArgs
			if ev == nil || ev.Job == nil || ev.Job.Kind != (ReportArgs{}).Kind() || json.Unmarshal(ev.Job.EncodedArgs, &a) != nil {
				continue
			}
			e.mu.Lock()
			if !e.tried[a.RunID] {
				e.tried[a.RunID] = true
				close(e.triedCh)
				e.triedCh = make(chan struct{})
			}
			e.mu.Unlock()
		}
	}
}

// awaitReport waits a while (ReportWait) for the first attempt at a run's
// report, and at the reports an earlier process owed, which taking the
// lease made due; then it says what was sent and what is still owed.
func (e *Engine) awaitReport(ctx context.Context, runID string) {
	if len(e.Notifiers) == 0 {
		return
	}
	wait := e.ReportWait
	if wait <= 0 {
		wait = time.Minute
	}
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	for {
		e.mu.Lock()
		done := e.tried[runID] && len(e.tried) >= e.woken+1
		changed := e.triedCh
		e.mu.Unlock()
		if done {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-timeout.C:
		case <-changed:
			continue
		}
		break
	}
	ds, err := e.Deliveries(ctx, runID)
	if err != nil || len(ds) == 0 {
		return
	}
	e.emit(Event{Kind: EventNotice, At: e.Clock.Now(), RunID: runID, Message: DeliveryNotice(ds)})
}

// Deliveries returns which channels a run's report was sent through and
// which it is still owed.
func (e *Engine) Deliveries(ctx context.Context, runID string) ([]store.Delivery, error) {
	var ds []store.Delivery
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		ds, err = tx.Deliveries(ctx, runID)
		return err
	})
	return ds, err
}

// DeliveryNotice says, in one line, where a run's report went and where
// it is still owed.
func DeliveryNotice(ds []store.Delivery) string {
	var sent, owed []string
	for _, d := range ds {
		if d.Sent {
			sent = append(sent, d.Channel)
		} else {
			o := d.Channel
			if d.LastError != "" {
				o += " (" + d.LastError + ")"
			}
			owed = append(owed, o)
		}
	}
	var parts []string
	if len(sent) > 0 {
		parts = append(parts, "report sent to "+strings.Join(sent, ", "))
	}
	if len(owed) > 0 {
		parts = append(parts, "report still owed to "+strings.Join(owed, "; ")+
			": foyer tries again, and the next foyer process that works jobs (apply, revoke) sends it")
	}
	return strings.Join(parts, "; ")
}
