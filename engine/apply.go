package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// ApplyInput is one bulk change to record and apply at once.
type ApplyInput struct {
	Profile string // the profile's name; Engine.Profiles must hold it
	Source  string // where the rows came from, safe to show (no secrets)
	Digest  string // SHA-256 of the input, to resume an interrupted run of the same input
	// Plan produces the planned rows. It is called only when no unfinished
	// run of the same input exists.
	Plan func(ctx context.Context, emit func(foyer.Row) error) error
	// Events receives progress; nil discards it.
	Events Sink
	// Heartbeat is how often a progress event is sent while rows are
	// worked. Zero means every 2 seconds.
	Heartbeat time.Duration
}

// Apply resumes the unfinished run of the same input and profile, or
// records the plan, approves it in the engine's name and applies it: Record,
// Approve and ApplyRun, for callers that ask nobody.
func (e *Engine) Apply(ctx context.Context, in ApplyInput) (*foyer.Run, error) {
	run, err := e.Resumable(ctx, foyer.RunApply, in.Profile, in.Digest)
	if err != nil {
		return nil, err
	}
	resumed := run != nil
	if run == nil {
		if run, err = e.Record(ctx, RecordInput{Profile: in.Profile, Source: in.Source, Digest: in.Digest, Plan: in.Plan}); err != nil {
			return nil, err
		}
		if run, err = e.Approve(ctx, run.ID, e.actor()); err != nil {
			return run, err
		}
	}
	return e.ApplyRun(ctx, run.ID, RunOptions{Events: in.Events, Heartbeat: in.Heartbeat, Resumed: resumed})
}

// RunOptions say how ApplyRun reports on a run.
type RunOptions struct {
	// Events receives progress; nil discards it.
	Events Sink
	// Heartbeat is how often a progress event is sent while rows are
	// worked. Zero means every 2 seconds.
	Heartbeat time.Duration
	// Resumed says the run was interrupted and is taken up again (its
	// started event says so).
	Resumed bool
}

// ApplyRun applies an approved run, or resumes one that was interrupted:
// each row with work and no result gets one job, and ApplyRun waits until
// every row has a result, finishes the run and, in the same transaction,
// enqueues its report. It then waits a while (ReportWait) for the report's
// first attempt. The engine must be started. A finished run is not applied
// again: ApplyRun returns it with ErrFinished.
func (e *Engine) ApplyRun(ctx context.Context, runID string, o RunOptions) (*foyer.Run, error) {
	sink := o.Events
	if sink == nil {
		sink = func(Event) {}
	}
	e.setSink(sink)
	defer e.setSink(nil)

	if err := e.CheckLease(ctx); err != nil {
		return nil, err
	}
	run, err := e.Run(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("apply run %s: %w", runID, err)
	}
	switch run.State() {
	case foyer.RunApplying:
	case foyer.RunFinished:
		return run, fmt.Errorf("run %s finished at %s: %w", run.ID, run.FinishedAt.Format(time.RFC3339), ErrFinished)
	default:
		return run, foyer.Errorf(foyer.ECONFLICT, "run %s is %s: only an approved plan is applied", run.ID, run.State())
	}
	if _, ok := e.Profiles[run.Profile]; !ok && run.Kind == foyer.RunApply {
		return run, foyer.Errorf(foyer.EINVALID, "run %s is of profile %q, which is not loaded", run.ID, run.Profile)
	}
	resumed := o.Resumed // or some row already has a result of its work
	for r, n := range run.Summary.Results {
		resumed = resumed || (r != foyer.ResultSkipped && n > 0)
	}
	sink(Event{Kind: EventRunStarted, At: e.Clock.Now(), RunID: run.ID, Resumed: resumed, Summary: &run.Summary, GrantNames: run.GrantNames})
	t, err := e.runTenant(run)
	if err != nil {
		return run, err
	}
	if b, err := e.tenantBlock(ctx, t); err != nil {
		return run, err
	} else if b != nil && run.Kind == foyer.RunApply {
		sink(Event{Kind: EventNotice, At: e.Clock.Now(), RunID: run.ID, Message: blockNotice(t, *b)})
	}
	e.setActive(run.ID, true)
	defer e.setActive(run.ID, false)
	if err := e.startWork(ctx); err != nil {
		return run, err
	}
	total, err := e.enqueue(ctx, run)
	if err != nil {
		return run, err
	}
	if err := e.wait(ctx, run.ID, total, o.Heartbeat); err != nil {
		return run, err
	}
	if err := e.finish(ctx, run); err != nil {
		return run, err
	}
	sink(Event{Kind: EventRunFinished, At: run.FinishedAt, RunID: run.ID, Summary: &run.Summary})
	e.awaitReport(ctx, run.ID)
	return run, nil
}

// finish records the run's end and summary and, in the same transaction,
// owes its report through every channel and enqueues the job that sends
// it: a process killed right after finishing the run still has the report
// sent, by the next process that works jobs.
func (e *Engine) finish(ctx context.Context, run *foyer.Run) error {
	var sum foyer.Summary
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := e.holdLease(ctx, tx); err != nil {
			return err
		}
		var err error
		if sum, err = tx.RunSummary(ctx, run.ID); err != nil {
			return err
		}
		if err := tx.FinishRun(ctx, run.ID, sum); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RunID: run.ID, Op: "finish run",
			Detail: fmt.Sprintf("%d rows: %v", sum.Rows, sum.Results)}); err != nil {
			return err
		}
		return e.oweReport(ctx, tx, run.ID)
	})
	if err != nil {
		return fmt.Errorf("finish run %s: %w", run.ID, err)
	}
	run.Summary, run.FinishedAt = sum, e.Clock.Now()
	return nil
}

// enqueue makes sure every row of the run that has work and no result has
// a request in provisioning and one live job, recorded as the row's. It is
// idempotent: a resumed run calls it again, and it enqueues only the rows
// whose job is gone or ended without a result, so the ledger never holds
// more live jobs than unfinished rows, and the jobs a previous process left
// (reclaimed when the lease was taken) are worked at once, in line order,
// while the rest are enqueued. Each batch is its own transaction. It returns
// how many rows have work in all.
func (e *Engine) enqueue(ctx context.Context, run *foyer.Run) (int, error) {
	q, err := e.currentQueue()
	if err != nil {
		return 0, err
	}
	const batch = 200
	for after := 0; ; {
		var (
			refused []foyer.Row
			n       int
		)
		err := e.Store.InTx(ctx, func(tx store.Tx) error {
			if err := e.holdLease(ctx, tx); err != nil {
				return err
			}
			rows, err := tx.UnqueuedRunRows(ctx, run.ID, after, batch)
			if err != nil {
				return err
			}
			n, refused = len(rows), refused[:0]
			for _, r := range rows {
				after = r.Line
				ok, err := e.enqueueRow(ctx, tx, q, run, r)
				if err != nil {
					return fmt.Errorf("line %d: %w", r.Line, err)
				}
				if !ok {
					refused = append(refused, r)
				}
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("enqueue the rows of run %s: %w", run.ID, err)
		}
		for _, r := range refused {
			e.emitRow(r)
		}
		if n < batch {
			break
		}
	}
	var sum foyer.Summary
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		sum, err = tx.RunSummary(ctx, run.ID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count the rows of run %s: %w", run.ID, err)
	}
	total := 0
	for a, n := range sum.Actions {
		if a.Work() {
			total += n
		}
	}
	return total, nil
}

// enqueueRow brings the row's request to provisioning, inserts its job and
// records it as the row's, in tx. A row whose request may not be
// provisioned (it was rejected) gets its failed result instead, and ok is
// false.
func (e *Engine) enqueueRow(ctx context.Context, tx store.Tx, q store.Queue, run *foyer.Run, r foyer.Row) (ok bool, err error) {
	switch run.Kind {
	case foyer.RunRevoke:
		return true, e.enqueueRevoke(ctx, tx, q, run, r)
	case foyer.RunSweep:
		return true, e.enqueueSweep(ctx, tx, q, run, r)
	}
	req, err := tx.FindRequest(ctx, run.Profile, r.Email)
	switch foyer.ErrorCode(err) {
	case "":
	case foyer.ENOTFOUND:
		req = &foyer.Request{ID: e.NewID(), Origin: foyer.OriginCSV, Email: r.Email, DisplayName: r.DisplayName,
			Profile: run.Profile, State: foyer.StateReceived, CreatedAt: tx.Now()}
		if err := tx.CreateRequest(ctx, req); err != nil {
			return false, err
		}
	default:
		return false, err
	}
	if req.State.Final() && !req.State.CanMove(foyer.StateProvisioning) {
		r.Result, r.Error = foyer.ResultFailed, fmt.Sprintf("the request for %s in profile %s is %s; it cannot be provisioned", r.Email, run.Profile, req.State)
		return false, tx.UpdateRunRow(ctx, run.ID, r)
	}
	note := "applied from " + run.Source
	heldBy := req.UserID // the guest whose row may list this profile until now
	for _, next := range pathToProvisioning(req.State) {
		if err := tx.MoveRequest(ctx, req, next, note); err != nil {
			return false, err
		}
	}
	if req.RunID != run.ID {
		// First time this run takes the request. The plan's view of the
		// directory wins over what an older run remembered: an invite row
		// means nobody had the address when the plan was made (a guest the
		// request knew was deleted); an exists row names the guest. Either
		// way the job looks the person up again right before inviting.
		switch r.Action {
		case foyer.ActionInvite:
			req.UserID, req.RedeemURL = "", ""
		case foyer.ActionExists:
			req.UserID = r.UserID
		}
	}
	req.RunID, req.Line = run.ID, r.Line
	if req.DisplayName == "" {
		req.DisplayName = r.DisplayName
	}
	if err := tx.UpdateRequest(ctx, req); err != nil {
		return false, err
	}
	// Provisioning again, the request holds no access until its job
	// finishes; the plan may also have named another guest.
	if err := syncGuestRow(ctx, tx, heldBy); err != nil {
		return false, err
	}
	if req.UserID != heldBy {
		if err := syncGuestRow(ctx, tx, req.UserID); err != nil {
			return false, err
		}
	}
	args := ProvisionArgs{RunID: run.ID, RequestID: req.ID, Line: r.Line, RunStarted: run.StartedAt, Tenant: run.Tenant,
		Invite: r.Action == foyer.ActionInvite, Grants: r.Grants, Accepted: r.GuestState == foyer.Accepted,
		DisplayName: r.DisplayName, RedirectURL: r.RedirectURL, Message: r.Message, SendEmail: r.SendEmail,
		Notify: run.Source == requestSource(req.ID)}
	return true, e.insertRowJob(ctx, tx, q, run.ID, r.Line, args)
}

// rowJob is the arguments of a job that works one row of a run.
type rowJob interface {
	river.JobArgs
	InsertOpts() river.InsertOpts
}

// insertRowJob inserts a row's job and records it as the row's.
func (e *Engine) insertRowJob(ctx context.Context, tx store.Tx, q store.Queue, runID string, line int, args rowJob) error {
	opts := args.InsertOpts()
	if e.MaxAttempts > 0 {
		opts.MaxAttempts = e.MaxAttempts
	}
	id, _, err := q.InsertTx(ctx, tx, args, &opts)
	if err != nil {
		return fmt.Errorf("insert the job: %w", err)
	}
	return tx.SetRunRowJob(ctx, runID, line, id)
}

// pathToProvisioning lists the moves that bring a request in state s to
// provisioning: a CSV applied by an admin is its approval.
func pathToProvisioning(s foyer.State) []foyer.State {
	switch s {
	case foyer.StateProvisioning:
		return nil
	case foyer.StateReceived, foyer.StateVerified, foyer.StatePendingApproval:
		return []foyer.State{foyer.StateApproved, foyer.StateProvisioning}
	default:
		return []foyer.State{foyer.StateProvisioning}
	}
}

// wait returns when every row of the run with work has a result, sending a
// progress event at each heartbeat. Job events wake it, but it counts the
// finished rows at most five times a second, whatever the job rate.
func (e *Engine) wait(ctx context.Context, runID string, total int, heartbeat time.Duration) error {
	if heartbeat <= 0 {
		heartbeat = 2 * time.Second
	}
	q, err := e.currentQueue()
	if err != nil {
		return err
	}
	events, unsubscribe := q.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer unsubscribe()
	work := e.workContext()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	var soon <-chan time.Time // armed by a job event, fires one count later
	last, beat := -1, false
	for {
		done, err := e.doneRows(ctx, runID, total)
		if err != nil {
			return err
		}
		if done != last || beat {
			e.emit(Event{Kind: EventProgress, At: e.Clock.Now(), RunID: runID, Done: done, Total: total})
			last, beat = done, false
		}
		if done >= total {
			return nil
		}
		if err := e.lostLease(); err != nil {
			return err
		}
	sleep:
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-work.Done():
				if err := e.lostLease(); err != nil {
					return err
				}
				return errors.New("the engine was stopped")
			case ev := <-events:
				if err := e.discarded(ctx, runID, ev); err != nil {
					return err
				}
				if soon == nil {
					soon = time.After(200 * time.Millisecond)
				}
			case <-soon:
				soon = nil
				break sleep
			case <-tick.C:
				beat = true
				break sleep
			}
		}
	}
}

// discarded gives the row of a job River discarded (its attempts ran out
// without the worker recording a result: a panic, say) a failed result,
// unless it has one, so that a run never waits for ever on a row whose job
// is gone.
func (e *Engine) discarded(ctx context.Context, runID string, ev *river.Event) error {
	if ev == nil || ev.Job == nil || ev.Job.State != rivertype.JobStateDiscarded ||
		(ev.Job.Kind != (ProvisionArgs{}).Kind() && ev.Job.Kind != (RevokeArgs{}).Kind() && ev.Job.Kind != (SweepArgs{}).Kind()) {
		return nil
	}
	var a struct {
		RunID string `json:"run_id"`
		Line  int    `json:"line"`
	}
	if err := json.Unmarshal(ev.Job.EncodedArgs, &a); err != nil || a.RunID != runID {
		return nil
	}
	reason := "its job was given up after its last attempt"
	if n := len(ev.Job.Errors); n > 0 {
		reason += ": " + ev.Job.Errors[n-1].Error
	}
	var row foyer.Row
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		job, err := tx.RunRowJob(ctx, runID, a.Line)
		if err != nil || job != ev.Job.ID {
			return err
		}
		var pending bool
		err = tx.RunRows(ctx, runID, a.Line-1, func(r foyer.Row) error {
			if r.Line == a.Line {
				pending, row = r.Result == "", r
			}
			return errStopRows
		})
		if err != nil && !errors.Is(err, errStopRows) || !pending {
			return err
		}
		row.Result, row.Error = foyer.ResultFailed, reason
		return tx.UpdateRunRow(ctx, runID, row)
	})
	if err != nil {
		return fmt.Errorf("record the failure of line %d: %w", a.Line, err)
	}
	if row.Result == foyer.ResultFailed {
		e.emitRow(row)
	}
	return nil
}

var errStopRows = errors.New("stop reading rows")

// doneRows counts the run's rows with work that have a result: total less
// those still pending, which the ledger counts without reading the rest.
func (e *Engine) doneRows(ctx context.Context, runID string, total int) (int, error) {
	var pending int
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		pending, err = tx.PendingRunRows(ctx, runID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count finished rows: %w", err)
	}
	return total - pending, nil
}

func (e *Engine) actor() string {
	if e.Actor == "" {
		return "foyer"
	}
	return e.Actor
}

func (e *Engine) setSink(s Sink) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sink = s
}

// emit sends an event to the current sink, one at a time.
func (e *Engine) emit(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sink != nil {
		e.sink(ev)
	}
}

func (e *Engine) emitRow(r foyer.Row) {
	e.emit(Event{Kind: EventRowDone, At: e.Clock.Now(), Row: &r})
}
