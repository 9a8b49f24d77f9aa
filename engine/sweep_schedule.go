package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// SweepConfig is a tenant's lifecycle: section as a sweep is planned with
// it: the rules, who is left alone, whether Microsoft's guest lifecycle
// policies are read, and (foyer serve) when the sweep runs by itself.
type SweepConfig struct {
	Rules foyer.SweepRules
	// ExcludeUsers are addresses or object ids; ExcludeGroups object ids
	// of groups whose members are left alone; ExcludeAttributes leaves
	// alone the guests whose property has the value.
	ExcludeUsers      []string
	ExcludeGroups     []string
	ExcludeAttributes map[string]string
	// RespectMicrosoftPolicies leaves the guests a Microsoft guest
	// lifecycle policy governs to Microsoft, and refuses to sweep when
	// the policies cannot be read.
	RespectMicrosoftPolicies bool
	// Schedule, when not nil, sweeps the tenant in service mode at each
	// firing (ScheduledSweep).
	Schedule Schedule
}

// SweepRefusedError is a sweep that refuses to plan because what it would
// decide with cannot be trusted: the tenant cannot report sign-in activity,
// or which guests Microsoft governs cannot be read. Nothing is changed;
// trying again soon does not help.
type SweepRefusedError struct{ Err error }

func (e *SweepRefusedError) Error() string { return "sweep refused, nothing changed: " + e.Err.Error() }
func (e *SweepRefusedError) Unwrap() error { return e.Err }

// sweepDir returns the directory a sweep of tenant reads: the tenant's,
// or the engine's only one (foyer sweep).
func (e *Engine) sweepDir(tenant string) (directory.Directory, error) {
	if t := e.Tenants[tenant]; t != nil {
		return t.Dir, nil
	}
	if len(e.Tenants) == 0 && e.Dir != nil {
		return e.Dir, nil
	}
	return nil, foyer.Errorf(foyer.EINVALID, "tenant %q is not one foyer acts on here", tenant)
}

// PlanTenantSweep reads the tenant's exclusions (users, group members,
// guests by attribute), every guest's activity, and, when sc respects
// them, Microsoft's guest lifecycle policies, and decides with the
// ledger's history of the tenant's sweeps (PlanSweep). A refusal is a
// *SweepRefusedError.
func (e *Engine) PlanTenantSweep(ctx context.Context, tenant string, sc SweepConfig) (*foyer.SweepPlan, map[string]foyer.SweepHistory, error) {
	dir, err := e.sweepDir(tenant)
	if err != nil {
		return nil, nil, err
	}
	lc, _ := dir.(directory.Lifecycle)
	exclude := make(map[string]bool)
	for _, u := range sc.ExcludeUsers {
		exclude[strings.ToLower(strings.TrimSpace(u))] = true
	}
	for _, g := range sc.ExcludeGroups {
		ms, err := dir.Members(ctx, strings.TrimSpace(g))
		if err != nil {
			return nil, nil, fmt.Errorf("read the members of excluded group %s: %w", g, err)
		}
		for _, m := range ms {
			exclude[strings.ToLower(m.ID)] = true
		}
	}
	if len(sc.ExcludeAttributes) > 0 && lc == nil {
		return nil, nil, foyer.Errorf(foyer.EINVALID, "tenant %s: its directory cannot read guests by attribute (lifecycle.exclude.attributes)", tenant)
	}
	for _, prop := range slices.Sorted(maps.Keys(sc.ExcludeAttributes)) {
		ids, err := lc.GuestsWith(ctx, prop, sc.ExcludeAttributes[prop])
		if err != nil {
			return nil, nil, fmt.Errorf("read the guests excluded by %s: %w", prop, err)
		}
		for _, id := range ids {
			exclude[id] = true
		}
	}
	var since time.Time // no sign-in data is needed without the no-sign-in rule
	if sc.Rules.NoSignInDays > 0 {
		since = e.Clock.Now().UTC().Add(-time.Duration(sc.Rules.NoSignInDays) * 24 * time.Hour)
	}
	guests, err := dir.GuestActivity(ctx, since)
	if errors.Is(err, directory.ErrNoPremium) {
		return nil, nil, &SweepRefusedError{fmt.Errorf("the tenant cannot report sign-in activity: %w", err)}
	}
	if err != nil {
		return nil, nil, err
	}
	if sc.RespectMicrosoftPolicies {
		if lc == nil {
			return nil, nil, foyer.Errorf(foyer.EINVALID, "tenant %s: its directory cannot read Microsoft's guest lifecycle policies", tenant)
		}
		if err := MarkGoverned(ctx, lc, guests); err != nil {
			return nil, nil, &SweepRefusedError{fmt.Errorf("foyer leaves the guests a Microsoft lifecycle policy governs to Microsoft, "+
				"and cannot tell which they are (lifecycle.microsoft_policies: ignore sweeps without looking): %w", err)}
		}
	}
	plan, h, err := e.PlanSweep(ctx, tenant, sc.Rules, guests, exclude)
	var missing *foyer.ErrSignInUnreported
	if errors.As(err, &missing) {
		return nil, nil, &SweepRefusedError{err}
	}
	return plan, h, err
}

// ScheduleActor is who a scheduled sweep is recorded and approved by.
const ScheduleActor = "schedule"

// opSweepRefused is the audit operation of a scheduled sweep that refused.
const opSweepRefused = "scheduled sweep refused"

// SweepScheduleArgs is the job of one firing of a tenant's sweep schedule.
type SweepScheduleArgs struct {
	Tenant string `json:"tenant" river:"unique"`
	// Firing is the schedule's firing time (RFC 3339, UTC): a firing
	// inserted twice (a new leader's first pass) sweeps once.
	Firing string `json:"firing" river:"unique"`
}

// Kind names the job in River.
func (SweepScheduleArgs) Kind() string { return "foyer.sweep.schedule" }

// InsertOpts puts the job on the intake queue, once per firing in every
// state River keeps, like a trigger's.
func (SweepScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueIntake, MaxAttempts: sweepScheduleAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning,
		rivertype.JobStateScheduled, rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded,
	}}}
}

// sweepScheduleAttempts bounds the tries of a firing whose reads fail (a
// throttled or unreachable tenant); the next firing plans anew anyway.
const sweepScheduleAttempts = 5

// sweepScheduleJobs are the periodic jobs of the tenants' sweep
// schedules; River's scheduler runs on the elected leader.
func (e *Engine) sweepScheduleJobs() []*river.PeriodicJob {
	var jobs []*river.PeriodicJob
	for _, name := range slices.Sorted(maps.Keys(e.Tenants)) {
		t := e.Tenants[name]
		if t == nil || t.Lifecycle == nil || t.Lifecycle.Schedule == nil {
			continue
		}
		s := t.Lifecycle.Schedule
		jobs = append(jobs, river.NewPeriodicJob(s, func() (river.JobArgs, *river.InsertOpts) {
			at := lastFiring(s, e.now(), firingSlack)
			return SweepScheduleArgs{Tenant: name, Firing: at.UTC().Format(time.RFC3339)}, nil
		}, &river.PeriodicJobOpts{ID: "foyer.sweep." + name}))
	}
	return jobs
}

type sweepScheduleWorker struct {
	river.WorkerDefaults[SweepScheduleArgs]
	e *Engine
}

func (w *sweepScheduleWorker) Work(ctx context.Context, job *river.Job[SweepScheduleArgs]) error {
	e := w.e
	if err := e.lostLease(); err != nil {
		return err
	}
	_, err := e.ScheduledSweep(ctx, job.Args.Tenant)
	if err == nil {
		return nil
	}
	if foyer.ErrorCode(err) != foyer.EINVALID && job.Attempt < job.MaxAttempts {
		e.Log.Warn("scheduled sweep failed; it is tried again", "tenant", job.Args.Tenant, "firing", job.Args.Firing, "attempt", job.Attempt, "err", err)
		return err
	}
	e.Log.Error("scheduled sweep failed", "tenant", job.Args.Tenant, "firing", job.Args.Firing, "err", err)
	return river.JobCancel(err)
}

// ScheduledSweep is one firing of the tenant's sweep schedule, in service
// mode: it does nothing while the tenant has an open sweep (held by the
// cap, or being worked); otherwise it plans, and records the sweep in the
// name of ScheduleActor. A sweep held by the cap stays held until an admin
// releases it (/admin/runs); any other is approved, and its run job works
// it. A plan with nothing to do records nothing (nil run). A refusal is
// logged and audited, records no run, and is not an error: the next
// firing tries again.
func (e *Engine) ScheduledSweep(ctx context.Context, tenant string) (*foyer.Run, error) {
	t := e.Tenants[tenant]
	if t == nil || t.Lifecycle == nil {
		return nil, foyer.Errorf(foyer.EINVALID, "tenant %s has no lifecycle to sweep with", tenant)
	}
	if t.Sweep == nil {
		// The run's jobs are worked with Tenant.Sweep; without it they
		// would only be given back.
		return nil, foyer.Errorf(foyer.EINVALID, "tenant %s carries no sweep rules to work a sweep with", tenant)
	}
	open, err := e.OpenSweep(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("scheduled sweep of tenant %s: %w", tenant, err)
	}
	if open != nil {
		e.Log.Info("scheduled sweep skipped: the tenant's last sweep is not finished", "tenant", tenant, "run", open.ID, "state", open.State())
		return nil, nil
	}
	plan, h, err := e.PlanTenantSweep(ctx, tenant, *t.Lifecycle)
	var refused *SweepRefusedError
	if errors.As(err, &refused) {
		e.Log.Warn("scheduled sweep refused", "tenant", tenant, "err", err)
		if aerr := e.Store.InTx(ctx, func(tx store.Tx) error {
			return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: ScheduleActor, Op: opSweepRefused,
				Target: tenant, Detail: err.Error()})
		}); aerr != nil {
			return nil, fmt.Errorf("record the refusal of the scheduled sweep of tenant %s: %w", tenant, aerr)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plan the scheduled sweep of tenant %s: %w", tenant, err)
	}
	run, err := e.RecordSweep(ctx, tenant, plan, h, ScheduleActor)
	if err != nil || run == nil {
		return run, err
	}
	if plan.CapExceeded {
		e.Log.Warn("scheduled sweep held by the cap: release it at /admin/runs", "tenant", tenant, "run", run.ID,
			"changes", changes(plan), "cap", plan.CapLimit, "guests", plan.Guests)
		return run, nil
	}
	if run, err = e.Approve(ctx, run.ID, ScheduleActor); err != nil {
		return run, fmt.Errorf("approve the scheduled sweep of tenant %s: %w", tenant, err)
	}
	e.Log.Info("scheduled sweep recorded and approved", "tenant", tenant, "run", run.ID, "rows", run.Summary.Rows)
	return run, nil
}
