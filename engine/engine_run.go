package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/store"
)

// Engine applies plans: it records them in the ledger and works their rows as
// River jobs. One Engine serves one ledger and one or more tenants
// (Tenants): each run acts on its own tenant (tenant.go).
//
// Start takes the ledger's worker lease; from then until Stop, every
// directory write the engine sends passes a fence that checks, right before
// the write goes out, that the lease is still this engine's.
type Engine struct {
	Store store.Store
	// Tenants are the tenants the engine acts on, by name (the
	// configuration's). When it is empty, Dir, Tenant, TenantName and
	// InternalDomains describe the engine's one tenant.
	Tenants  map[string]*Tenant
	Dir      directory.Directory
	Mailer   Mailer                    // sends invitation emails for profiles whose sender is foyer; nil if none do
	Profiles map[string]*foyer.Profile // by name, grants resolved
	Clock    foyer.Clock
	Log      *slog.Logger
	NewID    func() string // ids for runs and requests
	Owner    Owner         // this process, for the ledger lease
	// Tenant is the id of the tenant Dir acts on: a block of its
	// invitations is recorded in the ledger under it. (Single tenant:
	// see Tenants.)
	Tenant string
	// Workers is how many rows are worked at once. The directory client paces
	// the writes; this only bounds how many wait on it. Zero means 32.
	Workers int
	// Actor names who is acting, for the audit log (e.g. "cli:apply").
	Actor string
	// UnknownOutcomeGrace is how long after an invitation whose answer was
	// lost the engine keeps looking the person up before inviting again, to
	// let replication show a guest it may have created. It runs from when
	// the invitation was sent. Zero means DefaultUnknownOutcomeGrace.
	UnknownOutcomeGrace time.Duration
	// AttemptTimeout bounds one attempt of a row's job, pacing waits
	// included. Zero means 10 minutes.
	AttemptTimeout time.Duration
	// MaxAttempts is how many times a row's job is tried before its row
	// fails. Zero means 8.
	MaxAttempts int

	// Notifiers send each finished run's report (Slack, Teams, webhook).
	Notifiers []notify.Notifier
	// TenantName (single tenant: see Tenants; else the run's tenant's
	// name) and DetailsURL go into the reports.
	TenantName string
	DetailsURL string
	// ReportWait is how long ApplyRun waits for the first attempt at the
	// run's report before returning (the report job goes on regardless).
	// Zero means a minute.
	ReportWait time.Duration

	// Service is foyer serve's mode: the engine works every run, not only
	// the one ApplyRun applies. Start works jobs at once; approving a run
	// enqueues its run job (RunArgs), which enqueues its rows and finishes
	// it; requests from the request page and the API are routed, decided,
	// timed out and provisioned by jobs too (intake.go, approval.go).
	Service bool
	// Replicas lets several foyer serve processes (service mode, a
	// PostgreSQL ledger) work the ledger's jobs side by side. Each holds a
	// lease of its own (replica:OWNER) instead of the exclusive one, and
	// its River client is named by its Owner, so that a job's attempts say
	// which replica made them. A live replica ends the lease of one that
	// let it lapse and makes the jobs it was working available again
	// (takeOverReplicas); the exclusive lease of apply and revoke still
	// excludes them, and they it.
	Replicas bool
	// PublicURL is where the server is reached, for the links in notices:
	// {PublicURL}/r/{token} for a requester, {PublicURL}/admin/requests/{id}
	// for an approver.
	PublicURL string
	// Postman delivers notices (verification links, approvals awaited,
	// decisions). Nil sends none; the request page then cannot take
	// anonymous requests, whose address must be proved by email.
	Postman Postman
	// LinkTTL is how long a requester has to prove the address; zero
	// means 30 minutes. StatusTTL is how long the same link shows where
	// the request stands; zero means 90 days.
	LinkTTL   time.Duration
	StatusTTL time.Duration
	// IdempotencyTTL is how long an API call's idempotency key is kept;
	// zero means DefaultIdempotencyTTL (7 days).
	IdempotencyTTL time.Duration
	// NewToken makes the request page's links; nil uses 32 random bytes.
	NewToken func() string
	// InternalDomains are the organisation's own domains beside the
	// tenant's verified ones (foyer.Tenant.Domains): their addresses are
	// employees, never asked in as guests. (Single tenant: see Tenants.)
	InternalDomains []string
	// RunPoll is how often, in service mode, a run's job looks whether its
	// rows are done; zero means a second.
	RunPoll time.Duration
	// RedemptionEvery is how often, in service mode, redemption states
	// are synced and reminders sent (redemption.go); zero means hourly,
	// negative never (a caller that drives them itself).
	RedemptionEvery time.Duration
	// Metrics, when set, is given the run time of every job attempt
	// (NewMetrics; the caller registers it for /metrics).
	Metrics *Metrics
	// Triggers start runs without a terminal (trigger.go), by name;
	// Sources opens their sources. Service mode only.
	Triggers map[string]Trigger
	Sources  Sources
	// Sweep is the lifecycle rules of the tenant, for the jobs of a sweep
	// run, which check them again before each write (sweep.go).
	Sweep *foyer.SweepRules
	// triggerLocks holds, by trigger name, a channel of one slot: the
	// blobs and files of one trigger are applied one at a time.
	triggerLocks sync.Map

	// riverTime, when set (tests), is River's clock (Config.Test.Time):
	// its periodic jobs then fire by the injected clock.
	riverTime rivertype.TimeGenerator
	// deltaApplied, when set (tests), runs in the transaction that
	// records a delta round, right before its token is kept: an error
	// rolls it back, as a process killed there would.
	deltaApplied func() error

	mu       sync.Mutex
	epoch    int64 // the lease generation while started
	queue    store.Queue
	running  bool               // the queue works jobs
	stopping bool               // Stop is draining the jobs under way
	active   map[string]bool    // runs being applied: only their jobs are worked
	busy     map[string]bool    // requests a job of this process is working now
	woken    int                // reports an earlier process owed, made due when the lease was taken
	tried    map[string]bool    // runs whose report this process tried to send
	triedCh  chan struct{}      // closed and replaced when tried grows
	work     context.Context    // every job's work ends with it
	stop     context.CancelFunc // ends work and the lease's renewal
	done     chan struct{}      // closed when the renewal ended
	lost     error              // set when the lease was lost
	sink     Sink
	// blocked holds, by tenant key, the tenants whose invitations Entra
	// blocked for suspicious activity (recorded in the ledger): every
	// further attempt would only prolong the block, so the rest of their
	// invitations fail with the reason, until the ledger says the block
	// was cleared.
	blocked map[string]bool
	// verified caches each tenant's verified domains, by name, for the
	// request page (intake.go), read again after domainsTTL.
	verified map[string]verifiedDomains
	// sweepBefore caches, per sweep run being worked, the history of the
	// tenant's earlier sweeps (sweep.go).
	sweepBefore map[string]map[string]foyer.SweepHistory
}

// verifiedDomains are a tenant's verified domains as read at a time.
type verifiedDomains struct {
	domains []string
	at      time.Time
}

// DefaultUnknownOutcomeGrace is how long, by default, an invitation whose
// answer was lost and whose guest no look-up shows waits before it is sent
// again. A direct read of the guest's user principal name finds a new
// guest at once, so the grace matters only when that read misses (a guest
// whose name needed a suffix); list queries have been seen to lag by more
// than 30 seconds, so the default leaves minutes.
const DefaultUnknownOutcomeGrace = 5 * time.Minute

// ErrLeaseLost is returned by work that stopped because another process
// took the ledger's worker lease: this one must not write to the
// directory any more.
var ErrLeaseLost = errors.New("the ledger's worker lease was lost")

// Start takes the ledger's worker lease (taking it over from a holder that
// is provably dead), makes the jobs a previous holder left running
// available again, and keeps the lease until Stop. Jobs are worked once a
// run is applied, or at once in service mode.
func (e *Engine) Start(ctx context.Context) error {
	if e.Clock == nil {
		e.Clock = foyer.SystemClock{}
	}
	if e.Log == nil {
		e.Log = slog.New(slog.DiscardHandler)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &provisionWorker{e: e})
	river.AddWorker(workers, &revokeWorker{e: e})
	river.AddWorker(workers, &sweepWorker{e: e})
	river.AddWorker(workers, &reportWorker{e: e})
	queues := map[string]river.QueueConfig{
		queueProvision: {MaxWorkers: e.workers()},
		queueReport:    {MaxWorkers: 2},
	}
	e.serviceWorkers(workers, queues)
	e.commandNotices(workers, queues)
	var periodic []*river.PeriodicJob
	if e.Service {
		periodic = append(e.purgeJobs(), e.triggerJobs()...)
		periodic = append(periodic, e.sweepScheduleJobs()...)
		periodic = append(periodic, e.redemptionJobs(workers)...)
	}
	if e.Replicas && !e.Service {
		return errors.New("replicas work in service mode only")
	}
	q, err := e.Store.Queue(&river.Config{
		ID:           e.clientID(),
		Queues:       queues,
		Workers:      workers,
		PeriodicJobs: periodic,
		RetryPolicy:  retryPolicy{now: e.Clock.Now},
		// The worker bounds each attempt itself (AttemptTimeout), so that
		// a last attempt cut off by its deadline still gives its row a
		// result; River's own timeout would discard the job silently.
		JobTimeout: -1,
		Logger:     e.Log.With("component", "river"),
		Test:       river.TestConfig{Time: e.riverTime},
	})
	if err != nil {
		return fmt.Errorf("set up the job queue: %w", err)
	}
	lease, reclaimed, woken, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	work, stop := context.WithCancel(context.WithoutCancel(ctx))
	e.mu.Lock()
	e.epoch, e.queue, e.work, e.stop, e.done = lease.Generation, q, work, stop, make(chan struct{})
	e.lost, e.running, e.active = nil, false, map[string]bool{}
	e.woken, e.tried, e.triedCh = woken, map[string]bool{}, make(chan struct{})
	e.mu.Unlock()
	go e.keepLease(work)
	e.Log.Info("took the ledger's worker lease", "lease", lease.Name, "lease_generation", lease.Generation, "reclaimed_jobs", reclaimed)
	if e.Service {
		return e.startService(ctx)
	}
	return nil
}

func (e *Engine) workers() int {
	if e.Workers <= 0 {
		return 32
	}
	return e.Workers
}

// work starts working jobs of the runs marked active, once.
func (e *Engine) startWork(ctx context.Context) error {
	e.mu.Lock()
	q, running := e.queue, e.running
	e.mu.Unlock()
	if q == nil {
		return errors.New("the engine is not started")
	}
	if running {
		return nil
	}
	// Report attempts are watched from the start, so that awaitReport
	// knows which reports this process tried, its own and those it owed.
	events, unsubscribe := q.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobSnoozed)
	go e.watchReports(e.workContext(), events, unsubscribe)
	unwatch := func() {}
	if e.Metrics != nil {
		jobs, stop := q.Subscribe(jobEventKinds...)
		go e.Metrics.watch(e.workContext(), jobs, stop)
		unwatch = stop
	}
	if err := q.Start(ctx); err != nil {
		unsubscribe()
		unwatch()
		return fmt.Errorf("start the job queue: %w", err)
	}
	e.mu.Lock()
	e.running = true
	e.mu.Unlock()
	e.Log.Info("working jobs", "workers", e.workers())
	return nil
}

// Stop stops working jobs, waiting for running ones until ctx ends (they
// are cancelled if it does), and gives the lease up. A replica makes the
// jobs still marked as its own available in the same transaction, for
// the other replicas to take at once.
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	q, running, stop, done, stopping := e.queue, e.running, e.stop, e.done, e.stopping
	if q == nil || stopping {
		e.mu.Unlock()
		return nil
	}
	e.stopping = true
	e.mu.Unlock()
	// The queue stays the engine's while the jobs under way drain: they
	// complete through it and may enqueue (an approved run's job).
	defer func() {
		e.mu.Lock()
		e.queue, e.running, e.stopping = nil, false, false
		e.mu.Unlock()
	}()
	var err error
	if running {
		stopped := make(chan struct{})
		go func() {
			select {
			case <-ctx.Done():
				stop() // cancel the jobs still working
			case <-stopped:
			}
		}()
		err = q.Stop(context.WithoutCancel(ctx))
		close(stopped)
	}
	stop()
	<-done
	rctx := context.WithoutCancel(ctx)
	rerr := e.Store.InTx(rctx, func(tx store.Tx) error {
		if e.Replicas {
			// River stopped: a job still marked running by this replica
			// is nobody's (whatever it still does is fenced).
			if _, err := tx.ReclaimJobsOf(rctx, e.clientID()); err != nil {
				return err
			}
		}
		return tx.ReleaseLease(rctx, e.lease(), e.Owner.String())
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

// loseLease records that the lease is gone and ends every job's work.
func (e *Engine) loseLease(cause error) error {
	err := fmt.Errorf("%w: %w", ErrLeaseLost, cause)
	e.mu.Lock()
	first := e.lost == nil
	if first {
		e.lost = err
	}
	stop := e.stop
	e.mu.Unlock()
	if first {
		e.Log.Error("lost the ledger's worker lease; no more directory writes from this process", "err", cause)
		if stop != nil {
			stop()
		}
	}
	return err
}

func (e *Engine) currentQueue() (store.Queue, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.queue == nil {
		return nil, errors.New("the engine is not started")
	}
	return e.queue, nil
}

// workContext is the context every job's work ends with: Stop, or the
// lease lost.
func (e *Engine) workContext() context.Context {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.work == nil {
		return context.Background()
	}
	return e.work
}

// setActive marks a run as being applied (its jobs are worked) or not.
func (e *Engine) setActive(runID string, on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.active == nil {
		e.active = map[string]bool{}
	}
	if on {
		e.active[runID] = true
	} else {
		delete(e.active, runID)
	}
}

// take marks a request as worked by the calling job; false if another job
// of this process works it now. A job can be fetched twice while its first
// fetch still runs: a process that lost the lease, when it stops, has its
// River client record its jobs as retryable or available, jobs the new
// holder is working, which then fetches them again. Two workers on one
// request would both look the person up before either invites.
func (e *Engine) take(requestID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.busy == nil {
		e.busy = map[string]bool{}
	}
	if e.busy[requestID] {
		return false
	}
	e.busy[requestID] = true
	return true
}

func (e *Engine) release(requestID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.busy, requestID)
}

func (e *Engine) isActive(runID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.active[runID]
}

// failRow records a row as failed when its request cannot be read.
func (e *Engine) failRow(ctx context.Context, a ProvisionArgs, cause error) error {
	ctx = context.WithoutCancel(ctx)
	row := foyer.Row{Line: a.Line, Result: foyer.ResultFailed, Error: e.safeMessage(cause)}
	err := e.Store.InTx(ctx, func(tx store.Tx) error { return tx.UpdateRunRow(ctx, a.RunID, row) })
	if err != nil {
		return fmt.Errorf("record the failure of line %d: %w", a.Line, err)
	}
	e.emitRow(row)
	return nil
}
