package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/source"
	"github.com/foyer-dev/foyer/store"
)

// Triggers start runs in service mode without a terminal: a schedule
// (a River periodic job, so it fires on the elected leader only, once
// however many replicas run), a signed or keyed webhook (web/hooks), an
// Event Grid BlobCreated event (StartBlob), or a watched folder's scan (a
// periodic job too). Each inserts a TriggerArgs job; its worker reads the
// trigger's source (or the one blob an event names, or each new input
// under a prefix or in the folder: trigger_items.go), plans and records
// it as a run recorded by "trigger:NAME", and approves it, unless the
// profile needs a second admin (then it waits in /admin/runs). The
// approved run is worked by its RunArgs job, as any other.
//
// Once per delivery: TriggerArgs is unique by its arguments among jobs in
// every state River keeps, so a webhook delivery id given twice, an event
// delivered twice, or a schedule's firing (the trigger's name and the
// firing's time) enqueued twice, inserts one job and starts one run.
// River deletes finished jobs after a day (its job cleaner): a delivery
// repeated later than that would start a run again, which the signed
// webhook's five-minute window refuses, and which a schedule never does;
// blobs and watched files are remembered in the ledger by version, for
// good.

// Trigger is a way to start runs of a profile from a source.
type Trigger struct {
	Name    string
	Profile string
	// Source names the CSV: a path, an https:// URL (a SAS URL, whose
	// query is a secret: never logged) or azblob://container/blob. Sources
	// opens it. azblob://container/prefix/ (a trailing slash) is a blob
	// prefix: each firing applies, one run per blob in name order, the
	// blobs under it not yet applied in their current version (ETag).
	Source string
	// Schedule, when not nil, fires the trigger: Next gives the firing
	// after a time, in the schedule's time zone (cron). Nil: webhook only.
	Schedule Schedule
	// Events: Event Grid's BlobCreated events for blobs under Source (a
	// blob prefix) start runs of those blobs (StartBlob).
	Events bool
	// Watch is a folder scanned every WatchEvery (on the leader): a new
	// or replaced file whose name matches Pattern (default *.csv) is
	// applied once, when two scans at least half WatchEvery apart found
	// it with the same size and modification time.
	Watch      string
	Pattern    string
	WatchEvery time.Duration
	// CSV are the reading options, as foyer apply's flags give them.
	CSV CSVOptions
	// MaxBytes refuses a larger input, from its announced size and while
	// reading; 0 means DefaultTriggerMaxBytes.
	MaxBytes int64
}

// CSVOptions are a trigger's reading options (source.Options).
type CSVOptions struct {
	Encoding    string
	Delimiter   rune
	EmailColumn string
}

// DefaultTriggerMaxBytes is the largest input a trigger reads by default.
const DefaultTriggerMaxBytes = 50 << 20

func (t Trigger) maxBytes() int64 {
	if t.MaxBytes > 0 {
		return t.MaxBytes
	}
	return DefaultTriggerMaxBytes
}

func (t Trigger) readOptions() source.Options {
	return source.Options{Encoding: t.CSV.Encoding, Delimiter: t.CSV.Delimiter, EmailColumn: t.CSV.EmailColumn}
}

// Schedule is when a trigger fires; it is a river.PeriodicSchedule.
type Schedule interface {
	Next(after time.Time) time.Time
}

// Sources opens what a trigger's source names. cmd/foyer/cli implements it
// with the concrete inputs (files, https, Azure blob storage).
type Sources interface {
	// Open reads spec whole into a private copy and returns it; the
	// caller removes it. An input larger than maxBytes (announced or
	// read) fails with EINVALID. Its errors never carry the spec (a SAS
	// URL's query is a secret), only a name safe to show.
	Open(ctx context.Context, spec string, maxBytes int64) (*Spooled, error)
	// List returns what is under a blob prefix (azblob://container/prefix/)
	// or directly in a folder (a path), in any order.
	List(ctx context.Context, spec string) ([]SourceItem, error)
}

// SourceItem is one input under a blob prefix or in a folder.
type SourceItem struct {
	Spec    string // what Sources.Open opens: azblob://container/name, or a path
	Version string // a blob's ETag, a file's size and modification time
	Size    int64  // -1 when unknown
}

// Spooled is an input read whole, which can be read again.
type Spooled struct {
	Name   string // where it came from, safe to show
	Digest string // hex SHA-256 of its bytes
	Reader func() (io.ReadCloser, error)
	Remove func()
}

// TriggerArgs is the job that starts a trigger's run.
type TriggerArgs struct {
	Trigger string `json:"trigger" river:"unique"`
	// Delivery identifies the firing or the delivery: a webhook's delivery
	// id, or "schedule:" and a schedule's firing time (RFC 3339, UTC).
	Delivery string `json:"delivery" river:"unique"`
	// Item, when set, is the one input this job applies instead of the
	// trigger's source (a blob an Event Grid event names), in Version.
	Item    string `json:"item,omitempty" river:"unique"`
	Version string `json:"version,omitempty" river:"unique"`
	// Size is the item's size as announced, -1 or 0 when unknown.
	Size int64 `json:"size,omitempty"`
}

// Kind names the job in River.
func (TriggerArgs) Kind() string { return "foyer.trigger" }

// InsertOpts puts trigger jobs on the intake queue, one per delivery in
// every state River keeps (see above).
func (TriggerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueIntake, MaxAttempts: triggerAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning,
		rivertype.JobStateScheduled, rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded,
	}}}
}

// triggerAttempts bounds the tries of a source that cannot be read (a
// storage account down): about a quarter of an hour with the retry
// policy's backoff.
const triggerAttempts = 10

// StartTrigger enqueues the job that starts the named trigger's run for
// a delivery, and returns the job's id; the same delivery again starts
// nothing: started is false and jobID is the first delivery's job.
// ENOTFOUND for an unknown trigger, EINVALID for an empty delivery id.
func (e *Engine) StartTrigger(ctx context.Context, name, delivery string) (jobID int64, started bool, err error) {
	if _, ok := e.Triggers[name]; !ok {
		return 0, false, foyer.Errorf(foyer.ENOTFOUND, "no trigger is named %q", name)
	}
	if delivery == "" || len(delivery) > 200 {
		return 0, false, foyer.Errorf(foyer.EINVALID, "a delivery id of 1 to 200 characters is needed")
	}
	return e.insertTrigger(ctx, TriggerArgs{Trigger: name, Delivery: delivery})
}

// insertTrigger inserts a trigger's job, once by its arguments.
func (e *Engine) insertTrigger(ctx context.Context, args TriggerArgs) (jobID int64, started bool, err error) {
	q, err := e.currentQueue()
	if err != nil {
		return 0, false, err
	}
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if jobID, started, err = q.InsertTx(ctx, tx, args, nil); err != nil {
			return fmt.Errorf("enqueue trigger %s: %w", args.Trigger, err)
		}
		return nil
	})
	return jobID, started, err
}

type triggerWorker struct {
	river.WorkerDefaults[TriggerArgs]
	e *Engine
}

func (w *triggerWorker) Work(ctx context.Context, job *river.Job[TriggerArgs]) error {
	e := w.e
	if err := e.lostLease(); err != nil {
		return err
	}
	t, ok := e.Triggers[job.Args.Trigger]
	if !ok {
		return river.JobCancel(foyer.Errorf(foyer.ENOTFOUND, "trigger %s is not configured any more", job.Args.Trigger))
	}
	var err error
	switch a := job.Args; {
	case a.Item != "":
		err = e.fireItem(ctx, t, a.Delivery, SourceItem{Spec: a.Item, Version: a.Version, Size: a.Size})
	case t.Watch != "":
		err = e.scanWatch(ctx, t, a.Delivery)
	case isPrefix(t.Source):
		err = e.scanPrefix(ctx, t, a.Delivery)
	default:
		_, err = e.fire(ctx, t, t.Source, a.Delivery)
	}
	if err == nil {
		return nil
	}
	if !final(err) && job.Attempt < job.MaxAttempts {
		e.Log.Warn("trigger failed; it is tried again", "trigger", t.Name, "delivery", job.Args.Delivery, "attempt", job.Attempt, "err", err)
		return err
	}
	reason := foyer.ErrorMessage(err)
	if aerr := e.Store.InTx(ctx, func(tx store.Tx) error {
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: triggerActor(t.Name), Op: "trigger failed",
			Target: t.Profile, Detail: fmt.Sprintf("trigger %s, delivery %s: %s", t.Name, job.Args.Delivery, reason)})
	}); aerr != nil {
		err = errors.Join(err, fmt.Errorf("record the trigger's failure: %w", aerr))
	}
	e.Log.Error("trigger failed", "trigger", t.Name, "delivery", job.Args.Delivery, "err", err)
	return river.JobCancel(err)
}

// triggerActor is who a trigger's runs are recorded by.
func triggerActor(name string) string { return "trigger:" + name }

// final says whether a trigger's failure will not pass if tried again:
// the input is not a CSV, is too large or is gone, or the profile is.
func final(err error) bool {
	c := foyer.ErrorCode(err)
	return c == foyer.EINVALID || c == foyer.ENOTFOUND
}

// fire reads spec, records its plan as a run and approves it unless its
// profile needs a second admin, and returns the run's id. A run of the
// same input that is being applied, or that awaits that admin, is not
// planned again: fire returns its id.
func (e *Engine) fire(ctx context.Context, t Trigger, spec, delivery string) (string, error) {
	p := e.Profiles[t.Profile]
	if p == nil {
		return "", foyer.Errorf(foyer.ENOTFOUND, "trigger %s: profile %s is not served", t.Name, t.Profile)
	}
	if e.Sources == nil {
		return "", foyer.Errorf(foyer.EINTERNAL, "trigger %s: no source reader was configured", t.Name)
	}
	in, err := e.Sources.Open(ctx, spec, t.maxBytes())
	if err != nil {
		return "", fmt.Errorf("trigger %s: %w", t.Name, err)
	}
	defer in.Remove()
	by := triggerActor(t.Name)
	open, err := e.openRun(ctx, foyer.RunApply, p.Name, in.Digest)
	if err != nil {
		return "", err
	}
	switch {
	case open != nil && open.State() == foyer.RunApplying:
		e.Log.Info("trigger: the same input is being applied already", "trigger", t.Name, "run", open.ID)
		return open.ID, nil
	case open != nil && open.State() == foyer.RunPlanned && open.Saved && open.RecordedBy == by:
		e.Log.Info("trigger: the same input awaits a second admin already", "trigger", t.Name, "run", open.ID)
		return open.ID, nil
	}
	if err := checkCSV(ctx, in, t.readOptions()); err != nil {
		return "", fmt.Errorf("trigger %s: %w", t.Name, err)
	}
	needsAdmin := !p.Approval.RunApprovers.Empty()
	run, err := e.Record(ctx, RecordInput{Profile: p.Name, Source: in.Name, Digest: in.Digest, RecordedBy: by, Saved: needsAdmin,
		Plan: func(ctx context.Context, emit func(foyer.Row) error) error {
			return e.planSource(ctx, p, in, t.readOptions(), emit)
		}})
	if err != nil {
		return "", fmt.Errorf("trigger %s: plan %s: %w", t.Name, in.Name, err)
	}
	if needsAdmin {
		e.Log.Info("trigger recorded a run that awaits a second admin", "trigger", t.Name, "delivery", delivery, "run", run.ID)
		return run.ID, nil
	}
	if _, err := e.Approve(ctx, run.ID, by); err != nil {
		return "", fmt.Errorf("trigger %s: approve run %s: %w", t.Name, run.ID, err)
	}
	e.Log.Info("trigger started a run", "trigger", t.Name, "delivery", delivery, "run", run.ID, "rows", run.Summary.Rows)
	return run.ID, nil
}

// errFirstRow stops checkCSV's read at the first row.
var errFirstRow = errors.New("first row")

// checkCSV reads the input up to its first row: a file that is no CSV
// with addresses fails here, before a run is recorded.
func checkCSV(ctx context.Context, in *Spooled, o source.Options) error {
	r, err := in.Reader()
	if err != nil {
		return fmt.Errorf("read %s: %w", in.Name, err)
	}
	defer r.Close()
	_, err = source.Read(ctx, r, o, func(foyer.Row) error { return errFirstRow })
	if err != nil && !errors.Is(err, errFirstRow) {
		return fmt.Errorf("read %s: %w", in.Name, err)
	}
	return nil
}

// planSource plans a spooled CSV against the profile, as foyer apply does
// with the reading options o.
func (e *Engine) planSource(ctx context.Context, p *foyer.Profile, in *Spooled, o source.Options, emit func(foyer.Row) error) error {
	t, err := e.TenantOf(p.Name)
	if err != nil {
		return err
	}
	pl := &Planner{Dir: t.Dir, Profile: p}
	pre, err := pl.Prepare(ctx, nil)
	if err != nil {
		return err
	}
	r, err := in.Reader()
	if err != nil {
		return fmt.Errorf("read %s: %w", in.Name, err)
	}
	defer r.Close()
	pl.Limits = pre.Limits
	rows := func(yield func(foyer.Row) error) error {
		o.VerifiedDomains, o.InternalDomains, o.Profile = pre.Verified, t.InternalDomains, p
		_, err := source.Read(ctx, r, o, yield)
		return err
	}
	return pl.Plan(ctx, rows, pre.Held, emit)
}

// triggerJobs are the periodic jobs of the scheduled triggers. Each
// firing's delivery is the firing's time: River inserts it when that time
// comes (its scheduler runs on the elected leader), and uniqueness keeps a
// firing inserted twice (a new leader's first pass) to one run.
func (e *Engine) triggerJobs() []*river.PeriodicJob {
	var jobs []*river.PeriodicJob
	for _, name := range slices.Sorted(maps.Keys(e.Triggers)) {
		t := e.Triggers[name]
		if t.Watch != "" && t.WatchEvery > 0 {
			jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(t.WatchEvery), func() (river.JobArgs, *river.InsertOpts) {
				return TriggerArgs{Trigger: t.Name, Delivery: "watch:" + e.now().UTC().Format(time.RFC3339Nano)}, nil
			}, &river.PeriodicJobOpts{ID: "foyer.watch." + name, RunOnStart: true}))
		}
		if t.Schedule == nil {
			continue
		}
		jobs = append(jobs, river.NewPeriodicJob(t.Schedule, func() (river.JobArgs, *river.InsertOpts) {
			return e.firing(t, e.now()), nil
		}, &river.PeriodicJobOpts{ID: "foyer.trigger." + name}))
	}
	return jobs
}

// firingSlack is how late after its time a firing may be enqueued and
// still be named for that time; River's scheduler is late by well under
// a second.
const firingSlack = time.Minute

// firing is the job of the schedule's firing due at now: the latest
// firing time not after now, and not more than firingSlack before it (a
// schedule asked early, before its first firing, is named for the next).
func (e *Engine) firing(t Trigger, now time.Time) TriggerArgs {
	at := lastFiring(t.Schedule, now, firingSlack)
	return TriggerArgs{Trigger: t.Name, Delivery: "schedule:" + at.UTC().Format(time.RFC3339)}
}

// lastFiring returns the latest firing of s at or before now and after
// now-slack, or the next firing after now if there is none.
func lastFiring(s Schedule, now time.Time, slack time.Duration) time.Time {
	at := s.Next(now.Add(-slack - time.Nanosecond))
	if at.After(now) {
		return at
	}
	for {
		n := s.Next(at)
		if n.After(now) || !n.After(at) {
			return at
		}
		at = n
	}
}
