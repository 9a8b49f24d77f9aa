// Package store is the ledger: runs and their rows, requests with their state
// and history, the steps done for each request, guests and the grants they
// hold through foyer, and an append-only audit log of every change and every
// directory write.
//
// This package holds only the interfaces, split by aggregate, and their
// types. The SQLite backend (the default) is in store/sqlite, the PostgreSQL
// backend in store/postgres; both pass the conformance suite in
// store/storetest. Their statements are written once, in
// store/internal/ledger. The ledger and River's job tables live in one database so
// that a job is inserted in the same transaction as the ledger write that
// causes it.
//
// Anything may import this package; it imports the root package and River's
// public types only.
package store

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer"
)

// Store is an open ledger.
type Store interface {
	// InTx runs fn in one transaction, committed if fn returns nil and rolled
	// back otherwise. fn may be called more than once if the backend retries
	// a serialization failure, so it must not have effects outside tx.
	// Inside fn, use only tx (and Queue.InsertTx/CompleteTx with it): on
	// SQLite the transaction holds the database's one connection, so a
	// nested InTx or a River call without tx would wait for it until ctx
	// ends.
	InTx(ctx context.Context, fn func(Tx) error) error

	// Queue builds a River client on the ledger's database with cfg (its
	// Workers, Queues, ...). The caller starts and stops it.
	Queue(cfg *river.Config) (Queue, error)

	// Close closes the database. Stop every Queue first.
	Close() error
}

// Tx is one ledger transaction. Its time is fixed once, when it begins, so
// that every row written in it carries the same instant; it is in UTC,
// truncated to the microsecond, as both backends store times. Methods that
// call fn for each item read them in pages, so fn may use the Tx.
type Tx interface {
	Now() time.Time
	Runs
	Requests
	Steps
	Guests
	Grants
	Audit
	Leases
	Jobs
	Blocks
	Reports
	Tokens
	Decisions
	APIKeys
	Idempotency
	GuestList
	Tallies
	TriggerItems
	Budgets
	Extensions
	DeltaTokens
}

// Queue is River running over the ledger's database.
type Queue interface {
	// InsertTx inserts a job inside the ledger transaction tx: the job exists
	// if and only if tx commits. With unique options, a job already present
	// is not inserted again: inserted is false and id is that job's.
	InsertTx(ctx context.Context, tx Tx, args river.JobArgs, opts *river.InsertOpts) (id int64, inserted bool, err error)

	// CompleteTx marks a running job completed inside tx, together with the
	// ledger writes that finish its work. ctx must be (or derive from) the
	// one River passed to the worker's Work: River finds its client there.
	CompleteTx(ctx context.Context, tx Tx, job *rivertype.JobRow) error

	// Start starts working jobs; Stop waits for running jobs to finish (or ctx
	// to end) and stops.
	Start(ctx context.Context) error
	Stop(ctx context.Context) error

	// Subscribe returns a channel of job events of the given kinds (see
	// river.EventKind) and a function to stop the subscription.
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())

	// The jobs an operator looks at and acts on (foyer jobs). They go
	// through River's own calls (JobListTx, JobRetryTx, JobCancelTx),
	// inside a ledger transaction so that a retry can be refused by what
	// the ledger holds, in the same transaction.

	// ListJobsTx returns the jobs matching f, newest first.
	ListJobsTx(ctx context.Context, tx Tx, f JobFilter) ([]Job, error)
	// RetryJobTx makes a job that failed for good (discarded), was
	// cancelled, or waits for its next attempt (retryable) available to
	// run now, one more attempt allowed if it had used them all.
	// ENOTFOUND if there is no such job; ECONFLICT if it is still live
	// (available, pending, running, scheduled), completed its work, or its
	// arguments name a run row that already has a result (running it
	// again would act on a row whose outcome is recorded) or that names
	// another job as its own (a resumed run gave the row a new job).
	RetryJobTx(ctx context.Context, tx Tx, id int64) (Job, error)
	// DiscardJobTx stops a job for good: one waiting to run is cancelled
	// at once; a running one is asked to stop (its context is cancelled
	// by the process running it) and ends cancelled if it fails. River
	// names the final state "cancelled"; it has no call that discards.
	// Discarding a job that already ended cancelled or discarded changes
	// nothing. ENOTFOUND if there is no such job; ECONFLICT if it
	// completed.
	DiscardJobTx(ctx context.Context, tx Tx, id int64) (Job, error)
}

// Job is one of River's jobs, as an operator sees it.
type Job struct {
	ID          int64
	Kind        string
	Queue       string
	State       rivertype.JobState
	Attempt     int // attempts made
	MaxAttempts int
	LastError   string // River's record of the last failed attempt
	// What the job belongs to, from its arguments (the keys foyer's jobs
	// use: run_id, line, request_id); empty or zero when they have none.
	RunID     string
	Line      int
	RequestID string
	CreatedAt time.Time
	// At is when the job last changed: when it ended, else when it was
	// last attempted, else when it is scheduled to run.
	At time.Time
}

// JobFilter selects jobs. Zero fields match everything.
type JobFilter struct {
	States []rivertype.JobState
	Queues []string
	Kinds  []string
	IDs    []int64
	Limit  int // at most this many (0: 100)
}

// Runs are executions of bulk changes and their rows.
//
// A run's rows may be recorded over several transactions, so that a large
// plan never holds the ledger for long; SealRun marks them all in. A run
// that is not sealed is a recording that was cut off: nothing of it ran.
type Runs interface {
	// CreateRun records a new run, not sealed. r.ID is set by the caller.
	CreateRun(ctx context.Context, r *foyer.Run) error
	// SealRun records that every row of a run is in; ECONFLICT if it already
	// was.
	SealRun(ctx context.Context, id string) error
	// DeleteRun removes a run that was never sealed, with its rows;
	// ECONFLICT for a sealed run, whose rows may have run.
	DeleteRun(ctx context.Context, id string) error
	// Run returns a run; ENOTFOUND if there is none.
	Run(ctx context.Context, id string) (*foyer.Run, error)
	// RunIDs returns the ids of the runs whose id starts with prefix, in
	// order, at most limit of them (limit > 0), so that a run can be named
	// by a prefix of its id.
	RunIDs(ctx context.Context, prefix string, limit int) ([]string, error)
	// OpenRun returns the newest run of the same kind, profile and input
	// digest that is neither finished nor discarded, sealed or not, so that
	// an interrupted run is resumed rather than started again (or, not
	// sealed, deleted and recorded again); ENOTFOUND if there is none.
	OpenRun(ctx context.Context, kind foyer.RunKind, profile, digest string) (*foyer.Run, error)
	// ApproveRun records that a sealed run's plan was approved, by whom;
	// ECONFLICT if it is not sealed, was discarded, or was approved already.
	ApproveRun(ctx context.Context, id, by string) error
	// DiscardRun records that a sealed run's plan will never be applied;
	// ECONFLICT if it was approved (its rows may have run) or is finished.
	// Discarding a discarded run is no error.
	DiscardRun(ctx context.Context, id string) error
	// ListRuns calls fn for each run, newest first, at most limit of them
	// (0: every run).
	ListRuns(ctx context.Context, limit int, fn func(*foyer.Run) error) error
	// FinishRun records the end of an approved run and its summary;
	// ECONFLICT for a run that is finished or not approved.
	FinishRun(ctx context.Context, id string, s foyer.Summary) error
	// PutRunRows records rows of a run, replacing any with the same line.
	PutRunRows(ctx context.Context, runID string, rows []foyer.Row) error
	// UpdateRunRow records a row's result (Result, UserID, Grants, Error).
	UpdateRunRow(ctx context.Context, runID string, row foyer.Row) error
	// RunRows calls fn for each row of a run whose line is greater than
	// after (0 for every row), in line order. It reads a page of rows at a
	// time, so fn may use the transaction; fn's error stops it and is
	// returned.
	RunRows(ctx context.Context, runID string, after int, fn func(foyer.Row) error) error
	// RunSummary counts a run's rows by action and result.
	RunSummary(ctx context.Context, runID string) (foyer.Summary, error)
	// PendingRunRows counts a run's rows that have no result yet, at a cost
	// that does not grow with the rows that have one.
	PendingRunRows(ctx context.Context, runID string) (int, error)

	// A row with work names the one job that does it, so that a resumed run
	// holds one live job per unfinished row, however often it was resumed,
	// and a job can tell whether it is still the row's.

	// SetRunRowJob records the job that does a row's work; 0 records none
	// (the row is to be enqueued again). ENOTFOUND if there is no such row.
	SetRunRowJob(ctx context.Context, runID string, line int, jobID int64) error
	// RunRowJob returns the job recorded for a row, 0 if none; ENOTFOUND if
	// there is no such row.
	RunRowJob(ctx context.Context, runID string, line int) (int64, error)
	// UnqueuedRunRows returns, in line order, up to limit rows of a run after
	// line after that have work (foyer.Action.Work: an apply's invite or
	// exists, a sweep's disable, delete or notice), no result, and no
	// live job: never enqueued, or their job ended without giving the row a
	// result (cancelled, discarded, or already removed by River's cleaner).
	UnqueuedRunRows(ctx context.Context, runID string, after, limit int) ([]foyer.Row, error)
}

// Jobs is what the ledger knows of River's jobs besides inserting them.
// A job is live while it is available, pending, retryable, running or
// scheduled.
type Jobs interface {
	// ReclaimJobs makes every running job of a queue available again at
	// once and returns how many there were. Call it only in the transaction
	// that takes the worker lease: a job running then was started by a
	// process that has died or lost the lease, and River itself would wait
	// an hour before rescuing it.
	ReclaimJobs(ctx context.Context, queue string) (int, error)
	// ReclaimJobsOf makes every running job whose latest attempt was made
	// by the River client named client available again at once, whatever
	// its queue, and returns how many there were. Call it only in the
	// transaction that ended that client's lease (ExpireLease, or its own
	// ReleaseLease): nobody else may be working them.
	ReclaimJobsOf(ctx context.Context, client string) (int, error)
	// LiveJobs counts a queue's live jobs.
	LiveJobs(ctx context.Context, queue string) (int, error)
	// WakeJobs makes a queue's jobs that wait for a retry or their
	// scheduled time available now, and returns how many there were: a
	// new process sends the reports an earlier one still owes at once.
	WakeJobs(ctx context.Context, queue string) (int, error)
	// RunRowResult returns the result recorded for a row of a run, empty
	// while it has none; ENOTFOUND if there is no such row.
	RunRowResult(ctx context.Context, runID string, line int) (foyer.Result, error)
}

// Delivery is the delivery of a finished run's report through one channel.
type Delivery struct {
	RunID     string
	Channel   string // the notifier's name: slack, teams, webhook
	Sent      bool
	Attempts  int
	LastError string    // user-safe, from the last failed attempt
	SentAt    time.Time // zero while owed
}

// Reports records which channels a run's report was delivered through and
// which it is still owed.
type Reports interface {
	// OweReport records that a run's report is owed through each channel;
	// a channel already recorded keeps its state.
	OweReport(ctx context.Context, runID string, channels []string) error
	// RecordDelivery records an attempt to deliver a run's report through a
	// channel: sent if errMsg is empty, else failed with errMsg.
	RecordDelivery(ctx context.Context, runID, channel, errMsg string) error
	// Deliveries returns a run's deliveries, by channel.
	Deliveries(ctx context.Context, runID string) ([]Delivery, error)
}

// Block records that Entra blocked a tenant's invitations for suspicious
// activity. Only Microsoft support lifts such a block, so foyer stops
// inviting into the tenant until an operator says it was lifted.
type Block struct {
	Tenant string    // the tenant's id
	Since  time.Time // when foyer first saw the block
	RunID  string    // the run that saw it, if any
	Reason string    // what the service answered, user-safe
}

// Blocks are the tenants whose invitations are blocked.
type Blocks interface {
	// PutBlock records a block; a tenant already blocked keeps its first
	// record.
	PutBlock(ctx context.Context, b Block) error
	// TenantBlock returns a tenant's block; ENOTFOUND if it is not blocked.
	TenantBlock(ctx context.Context, tenant string) (Block, error)
	// ClearBlock forgets a tenant's block; ENOTFOUND if it was not blocked.
	ClearBlock(ctx context.Context, tenant string) error
}

// Tally is what the ledger holds, counted, for monitoring (/metrics).
type Tally struct {
	Runs     map[foyer.RunState]int // every run, by state
	Rows     map[foyer.Result]int   // rows of every run that have a result, by result
	Requests map[foyer.State]int    // every request, by state
	// Tenants splits Runs and Rows by the runs' tenant (foyer.Run.Tenant;
	// "" for runs recorded before runs named their tenant).
	Tenants map[string]TenantTally
}

// TenantTally is the runs of one tenant and their rows, counted.
type TenantTally struct {
	Runs map[foyer.RunState]int
	Rows map[foyer.Result]int
}

// Tallies counts the ledger's records.
type Tallies interface {
	// Tally counts runs by state, rows by result and requests by state.
	// It reads the runs, the stored summaries of finished runs, the rows
	// of the runs being applied and the requests' state index: its cost
	// grows with the runs and the requests, not with finished runs' rows.
	Tally(ctx context.Context) (Tally, error)
}

// Requests are "this person should hold this profile", one per person and
// profile.
type Requests interface {
	// CreateRequest records a new request. ECONFLICT if a request for the
	// same profile and address (compared by Address.Key) exists.
	CreateRequest(ctx context.Context, r *foyer.Request) error
	// Request returns a request by id; ENOTFOUND if there is none.
	Request(ctx context.Context, id string) (*foyer.Request, error)
	// FindRequest returns the request for a profile and address; ENOTFOUND
	// if there is none.
	FindRequest(ctx context.Context, profile string, email foyer.Address) (*foyer.Request, error)
	// MoveRequest moves r from its current state to next, writing r's other
	// fields (UserID, RedeemURL, RunID, Line, Failure) with it and appending
	// the transition to the history. It fails with ECONFLICT if the move is
	// not allowed or if the stored request is no longer in r.State (someone
	// else moved it). On success r.State and r.UpdatedAt are updated.
	MoveRequest(ctx context.Context, r *foyer.Request, next foyer.State, note string) error
	// UpdateRequest writes r's fields other than State, if the stored request
	// is still in r.State (ECONFLICT otherwise). Email, Profile (the
	// request's identity) and CreatedAt are not changed.
	UpdateRequest(ctx context.Context, r *foyer.Request) error
	// History returns a request's transitions, oldest first.
	History(ctx context.Context, id string) ([]Transition, error)
	// Requests calls fn for each request matching f, oldest first.
	Requests(ctx context.Context, f RequestFilter, fn func(*foyer.Request) error) error
}

// Transition is one entry of a request's history.
type Transition = foyer.Transition

// RequestFilter selects requests. Zero fields match everything.
type RequestFilter struct {
	RunID   string
	Profile string
	States  []foyer.State
	Email   foyer.Address
	// UserID selects the requests whose guest is that directory object
	// (foyer.Request.UserID), whatever address each was made for.
	UserID  string
	Origins []foyer.Origin
	// Newest lists newest first instead of oldest first (by creation: the
	// order the ledger recorded the requests in, which no two share);
	// AfterID continues a list after the request with that id, in the
	// same order (ENOTFOUND if there is none); Limit bounds it (0: no
	// bound).
	Newest  bool
	AfterID string
	Limit   int
}

// StepState is where a step is.
type StepState string

// Step states.
const (
	StepStarted StepState = "started" // intent recorded; the outcome is unknown until done or failed
	StepDone    StepState = "done"
	StepFailed  StepState = "failed"
)

// Step is one unit of a request's work ("invite", "grant group:<id>"),
// recorded before the directory is called and after it answers.
type Step struct {
	RequestID  string
	Name       string
	State      StepState
	Attempts   int // how many times it was started
	StartedAt  time.Time
	FinishedAt time.Time // zero while started
	Result     string    // e.g. the new user's id
	GraphID    string    // the directory's request id of the last call
	Error      string    // user-safe reason, for failed
}

// Steps records the work done for requests.
type Steps interface {
	// StartStep records the intent to do a step and returns the step as it
	// was before (zero State if it never started). A previous State of
	// StepStarted means an earlier attempt may or may not have reached the
	// directory. Every call is a new attempt: the step becomes started, its
	// Attempts grows and its Result, GraphID and Error are cleared, whatever
	// it was before. ENOTFOUND if the request does not exist.
	StartStep(ctx context.Context, requestID, name string) (prev Step, err error)
	// FinishStep records a step's outcome (State done or failed, Result,
	// GraphID, Error). ENOTFOUND if the step never started, ECONFLICT if it
	// is not started (already finished).
	FinishStep(ctx context.Context, s Step) error
	// RequestSteps returns a request's steps in the order they first started.
	RequestSteps(ctx context.Context, requestID string) ([]Step, error)
}

// Guests are the directory users foyer invited or found, as last seen.
type Guests interface {
	// PutGuest inserts or replaces a guest by UserID.
	PutGuest(ctx context.Context, g *foyer.Guest) error
	// Guest returns a guest by object id; ENOTFOUND if unknown.
	Guest(ctx context.Context, userID string) (*foyer.Guest, error)
	// GuestByEmail returns a guest by address (compared by Key); ENOTFOUND
	// if unknown.
	GuestByEmail(ctx context.Context, email foyer.Address) (*foyer.Guest, error)
	// DeleteGuest removes a guest's row, once the directory object is
	// deleted; the guest's requests, grants and audit entries stay.
	// Deleting a guest with no row is not an error.
	DeleteGuest(ctx context.Context, userID string) error
}

// HeldGrant is a grant a guest holds through a profile, as given by foyer.
type HeldGrant struct {
	UserID    string
	Profile   string
	Key       string // foyer.Grant.Key
	Grant     string // foyer.Grant.String, for people
	GrantedAt time.Time
}

// Grants records which grants foyer gave to whom through which profile, so
// that revoking one profile leaves what another profile also grants.
type Grants interface {
	// RecordGrant records that userID holds key through profile (idempotent).
	RecordGrant(ctx context.Context, h HeldGrant) error
	// DropGrant forgets that userID holds key through profile (idempotent).
	DropGrant(ctx context.Context, userID, profile, key string) error
	// HeldGrants returns what userID holds through foyer, by profile and key.
	HeldGrants(ctx context.Context, userID string) ([]HeldGrant, error)
}

// AuditKind says what an audit entry records.
type AuditKind string

// Kinds of audit entries.
const (
	AuditIntent  AuditKind = "intent"  // a directory write is about to be sent
	AuditOutcome AuditKind = "outcome" // the directory answered (or did not)
	AuditChange  AuditKind = "change"  // a ledger change not tied to a directory write
)

// AuditEntry is one line of the append-only audit log. It never holds a
// secret.
type AuditEntry struct {
	Seq       int64 // assigned by the store, increasing
	At        time.Time
	Kind      AuditKind
	Actor     string // who caused it: "cli:apply", "worker", an approver's UPN
	RunID     string
	RequestID string
	Op        string // "invite", "grant group:…", "move provisioning→invited"
	Target    string // the address or object id acted on
	GraphID   string // the directory's request-id, for outcomes
	Error     string // for failed outcomes
	Detail    string // anything else, as JSON or text
}

// Check reports what the log needs of an entry: a known kind and an
// operation. Errors are *foyer.Error with code EINVALID.
func (e AuditEntry) Check() error {
	switch e.Kind {
	case AuditIntent, AuditOutcome, AuditChange:
	default:
		return foyer.Errorf(foyer.EINVALID, "audit entry has unknown kind %q", e.Kind)
	}
	if e.Op == "" {
		return foyer.Errorf(foyer.EINVALID, "audit entry has no operation")
	}
	return nil
}

// Audit is the append-only log. There is no way to change or remove an
// entry; backends also refuse it in the database.
type Audit interface {
	// AppendAudit appends e (Seq and, if zero, At are filled).
	AppendAudit(ctx context.Context, e AuditEntry) error
	// AuditLog calls fn for entries matching f, in Seq order.
	AuditLog(ctx context.Context, f AuditFilter, fn func(AuditEntry) error) error
}

// AuditFilter selects audit entries. Zero fields match everything.
type AuditFilter struct {
	RunID     string
	RequestID string
	// Target and Op match exactly (case included): a sweep's job reads only
	// its own guest's entries of one operation, so what it reads does not
	// grow with its run.
	Target   string
	Op       string
	AfterSeq int64
	Limit    int
}

// Budget is a write budget shared by the processes on one ledger: at most
// Limit write units in any Window.
type Budget struct {
	Key    string // e.g. "tenant:<tenant-id>/app:<client-id>"
	Limit  int
	Window time.Duration
}

// Budgets keeps the write budgets that several processes (foyer serve
// replicas) spend together, as a sliding-window log per budget.
type Budgets interface {
	// ReserveWrites takes n write units in every budget given, if each has
	// room for them among the units reserved in the Window ending now (read
	// from the store's clock once the budgets are locked, not Tx.Now: the
	// transaction may have waited for them), and returns 0. Otherwise it takes nothing and returns how
	// long until the fullest has room (at least a microsecond). Each
	// budget's row stays locked until the transaction ends. EINVALID for
	// n below 1 or above a Limit, a Limit below 1, a Window not positive
	// or an empty Key.
	ReserveWrites(ctx context.Context, budgets []Budget, n int) (time.Duration, error)
}

// Lease is the right of one process to work a ledger's jobs. Its generation
// increases every time it changes hands, so that work started under an older
// generation can tell it is stale.
type Lease struct {
	Name       string
	Owner      string // who holds it, e.g. "host:pid:nonce"
	Generation int64
	Until      time.Time // it lapses then unless renewed
}

// Leases are named, expiring, fenced locks in the ledger.
type Leases interface {
	// AcquireLease gives the named lease to owner until the given time if it
	// is free, lapsed (Until before Tx.Now), already owner's, or held by
	// takeOver (a holder the caller knows to be dead; "" for none). A lease
	// that changes hands gets Generation+1 (the first is 1). ECONFLICT, with
	// the holder named in the message, if someone else holds it.
	AcquireLease(ctx context.Context, name, owner, takeOver string, until time.Time) (Lease, error)
	// RenewLease extends owner's lease; ECONFLICT if owner no longer holds it.
	RenewLease(ctx context.Context, name, owner string, until time.Time) (Lease, error)
	// ReleaseLease gives the lease up if owner holds it (idempotent).
	ReleaseLease(ctx context.Context, name, owner string) error
	// GetLease returns the lease as stored; ENOTFOUND if it was never taken.
	GetLease(ctx context.Context, name string) (Lease, error)
	// ListLeases returns the leases whose name starts with prefix, held
	// or not, by name.
	ListLeases(ctx context.Context, prefix string) ([]Lease, error)
	// ExpireLease ends owner's lease if it lapsed (Until before Tx.Now):
	// its row stays locked until the transaction ends, nobody holds it
	// any more, and owner's renewal fails from then on. It reports whether
	// it ended it; false if owner no longer holds it or it has not lapsed
	// (a renewal came first).
	ExpireLease(ctx context.Context, name, owner string) (bool, error)
}

// TriggerItemState is where an input a trigger found stands.
type TriggerItemState string

const (
	// ItemSeen: found once; a watched file waits to be found again
	// unchanged before it is applied.
	ItemSeen TriggerItemState = "seen"
	// ItemApplied: a run was recorded for it (or one of the same input
	// was under way already).
	ItemApplied TriggerItemState = "applied"
	// ItemFailed: it could not be applied (not a CSV, too large); Detail
	// says why. It is not tried again in this version.
	ItemFailed TriggerItemState = "failed"
)

// TriggerItem is one version of one input a trigger found: a blob under
// an azblob:// prefix (or named by an Event Grid event), or a file in a
// watched folder.
type TriggerItem struct {
	Trigger string
	Item    string // the blob (container/name) or the file's path
	// Version tells versions of the item apart: a blob's ETag, a file's
	// size and modification time.
	Version string
	State   TriggerItemState
	RunID   string    // the run recorded for it, if any
	Detail  string    // why it failed, user-safe
	SeenAt  time.Time // when it was first recorded; set by the ledger
	DoneAt  time.Time // when it was applied or failed; set by the ledger
}

// TriggerItems remember what triggers applied from a blob prefix, an Event
// Grid event or a watched folder, so that each version of an input is
// applied once, however long ago it was.
type TriggerItems interface {
	// PutTriggerItem records a version of an item. A version not yet
	// recorded is inserted in it.State; one recorded as seen moves to
	// it.State (applied or failed, with RunID and Detail); one applied or
	// failed stays as it is. EINVALID without trigger, item or state.
	PutTriggerItem(ctx context.Context, it TriggerItem) error
	// TriggerItem returns the record of a version; ENOTFOUND if it has
	// none.
	TriggerItem(ctx context.Context, trigger, item, version string) (TriggerItem, error)
	// ListTriggerItems calls fn for the records matching f, newest first:
	// by SeenAt, then by trigger, item and version, each descending (by
	// bytes). EINVALID for a negative limit or an unknown state.
	ListTriggerItems(ctx context.Context, f TriggerItemFilter, fn func(TriggerItem) error) error
	// PruneSeenTriggerItems deletes the seen versions first seen before
	// before of items for which a version first seen later is recorded
	// (a file that changed before it was applied: that version will not
	// be found again), and returns how many it deleted. Applied and
	// failed versions are never deleted, nor the latest version of an
	// item: they are what keeps a version from being applied twice.
	PruneSeenTriggerItems(ctx context.Context, before time.Time) (int, error)
}

// TriggerItemFilter selects trigger items. Zero fields match everything.
type TriggerItemFilter struct {
	Trigger string
	States  []TriggerItemState // any of these
	// After continues a listing after this record (its SeenAt, Trigger,
	// Item and Version), in the listing's order: the last of a page.
	After *TriggerItem
	Limit int
}
