package engine

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/store"
)

// A sweep is a run like a revoke (docs/sweep.md): its plan (foyer.PlanSweep
// with the ledger's history) is recorded as one row per guest acted on,
// approved, each row worked by a job under the ledger's lease, every
// directory write fenced and recorded as intent and outcome in the audit
// log, and reported when finished. The audit log is also the sweep's
// memory: when foyer disabled a guest, when it told the guest of a
// disable or a delete, when it found a guest it had disabled enabled
// again (SweepHistory reads it back).

// Audit operations of sweeps, by which SweepHistory reads the log back.
const (
	opSweepDisable       = "sweep disable"        // intent and outcome
	opSweepDelete        = "sweep delete"         // intent and outcome
	opSweepNoticeDisable = "sweep notice disable" // change: the notice is owed (its jobs inserted)
	opSweepNoticeDelete  = "sweep notice delete"  // change
	opSweepReenabled     = "sweep re-enabled"     // change: a guest foyer disabled was found enabled
	opSweepHeld          = "sweep held by cap"    // change: the run waits for a release
	opSweepReleased      = "release sweep"        // change: an admin released a held sweep
	opSweepLeft          = "sweep left"           // change: a row's job left the guest alone, and why
)

// SweepDigest names a tenant's sweeps: one is open at a time, and
// foyer sweep --apply resumes it instead of planning again.
func SweepDigest(tenant string) string { return "sweep " + tenant }

// OpenSweep returns the tenant's sweep that is neither finished nor
// discarded (held by the cap, or approved and interrupted), or nil.
func (e *Engine) OpenSweep(ctx context.Context, tenant string) (*foyer.Run, error) {
	return e.openRun(ctx, foyer.RunSweep, tenant, SweepDigest(tenant))
}

// SweepHistory reads what the ledger remembers of the tenant's sweeps, per
// guest (by lowercased object id): the audit entries of every sweep run
// of the tenant, in the order they were written.
func (e *Engine) SweepHistory(ctx context.Context, tenant string) (map[string]foyer.SweepHistory, error) {
	return e.sweepHistory(ctx, tenant, "")
}

// sweepHistory is SweepHistory without the entries of run except (""
// for none).
func (e *Engine) sweepHistory(ctx context.Context, tenant, except string) (map[string]foyer.SweepHistory, error) {
	var entries []store.AuditEntry
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var runs []string
		err := tx.ListRuns(ctx, 0, func(r *foyer.Run) error {
			if r.Kind == foyer.RunSweep && r.Profile == tenant && r.ID != except {
				runs = append(runs, r.ID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		entries = entries[:0]
		for _, id := range runs {
			err := tx.AuditLog(ctx, store.AuditFilter{RunID: id}, func(a store.AuditEntry) error {
				if strings.HasPrefix(a.Op, "sweep ") {
					entries = append(entries, a)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the sweeps of tenant %s from the ledger: %w", tenant, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Seq < entries[j].Seq })
	h := map[string]foyer.SweepHistory{}
	for _, a := range entries {
		id := strings.ToLower(a.Target)
		g := h[id]
		switch {
		case a.Op == opSweepDisable && a.Kind == store.AuditOutcome && a.Error == "":
			g.DisabledAt = a.At
		case a.Op == opSweepDelete && a.Kind == store.AuditOutcome && a.Error == "":
			g = foyer.SweepHistory{} // gone: a guest of the same id will not come back
		case a.Op == opSweepNoticeDisable:
			g.DisableNoticeAt = a.At
		case a.Op == opSweepNoticeDelete:
			g.DeleteNoticeAt = a.At
		case a.Op == opSweepReenabled:
			// The round ends: what foyer did before is forgotten but for
			// when the guest was found enabled again.
			g = foyer.SweepHistory{ReenabledAt: a.At, DisabledOn: g.DisabledAt}
		}
		h[id] = g
	}
	return h, nil
}

// historyBefore returns the history of the tenant's sweeps before run,
// read once per run and kept while the engine works it: only one sweep of
// a tenant is open at a time, so the earlier ones do not change. A row's
// checks need nothing of its own run's history (a guest is told, disabled
// and deleted in different runs); what the run did itself is read by
// sweepState.
func (e *Engine) historyBefore(ctx context.Context, tenant, runID string) (map[string]foyer.SweepHistory, error) {
	e.mu.Lock()
	h, ok := e.sweepBefore[runID]
	e.mu.Unlock()
	if ok {
		return h, nil
	}
	h, err := e.sweepHistory(ctx, tenant, runID)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sweepBefore == nil {
		e.sweepBefore = map[string]map[string]foyer.SweepHistory{}
	}
	clear(e.sweepBefore) // one run at a time: forget the others
	e.sweepBefore[runID] = h
	return h, nil
}

// PlanSweep reads the tenant's sweep history from the ledger and decides
// every guest (foyer.PlanSweep).
func (e *Engine) PlanSweep(ctx context.Context, tenant string, rules foyer.SweepRules, guests []foyer.GuestActivity,
	exclude map[string]bool) (*foyer.SweepPlan, map[string]foyer.SweepHistory, error) {
	h, err := e.SweepHistory(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	p, err := foyer.PlanSweep(e.Clock.Now(), rules, guests, exclude, h)
	return p, h, err
}

// PolicyReportBudget is how many requests a sweep spends, for all
// Microsoft guest lifecycle policies together, on their reports (one per
// policy) and the pages of their subjects. It keeps a 100,000-guest
// sweep's reads within 200 (docs/sweep.md, "What it costs"); a policy
// whose subjects do not fit is taken to govern every guest.
const PolicyReportBudget = 40

// MarkGoverned reads the tenant's Microsoft guest lifecycle policies and
// marks the guests one governs (GovernedBy), so that PlanSweep leaves them
// to Microsoft. A disabled policy governs nobody. For each enabled one it
// reads the policy's report within PolicyReportBudget: a guest the report
// lists as effective or pending is governed by that policy, one listed as
// inScopeButIneffective by the policy the report names (another one). A
// policy whose report cannot be read to its end (none yet, its scope being
// processed, a report of an older version, the budget spent) is taken to
// govern every guest, and the reason says so. An error (403 without
// LifecyclePolicies-Guests.Read.All among them) means the sweep cannot
// know whom Microsoft governs: the caller refuses to sweep.
func MarkGoverned(ctx context.Context, lc directory.Lifecycle, guests []foyer.GuestActivity) error {
	ps, err := lc.GuestLifecyclePolicies(ctx)
	if err != nil {
		return fmt.Errorf("read Microsoft's guest lifecycle policies: %w", err)
	}
	named := func(p directory.LifecyclePolicy) string { return fmt.Sprintf("%s (%s)", p.DisplayName, p.ID) }
	byID := map[string]directory.LifecyclePolicy{}
	for _, p := range ps {
		byID[strings.ToLower(p.ID)] = p
	}
	governed := map[string]string{} // user id → GovernedBy
	ineffective := map[string]string{}
	every := "" // GovernedBy of every other guest: the first policy left unread
	budget := PolicyReportBudget
	for _, p := range ps {
		if !p.Enabled {
			continue
		}
		r, err := lc.PolicySubjects(ctx, p, budget)
		if err != nil {
			return fmt.Errorf("read the report of Microsoft lifecycle policy %s: %w", named(p), err)
		}
		budget -= r.Requests
		if r.Unread != "" {
			if every == "" {
				every = fmt.Sprintf("%s, as every guest is: report of policy %s not read: %s", named(p), named(p), r.Unread)
			}
			continue
		}
		for _, s := range r.Subjects {
			if s.Relationship != directory.RelationshipInScopeButIneffective {
				// effective, pending, or a value Graph adds later: the
				// safe side is that this policy governs the guest.
				governed[s.UserID] = named(p)
				continue
			}
			by := fmt.Sprintf("another policy than %s (its report says so)", named(p))
			if q, ok := byID[strings.ToLower(s.EffectivePolicyID)]; ok {
				by = named(q)
			} else if s.EffectivePolicyID != "" {
				by = fmt.Sprintf("%s (named by the report of %s)", s.EffectivePolicyID, named(p))
			}
			if _, ok := ineffective[s.UserID]; !ok {
				ineffective[s.UserID] = by
			}
		}
	}
	for i := range guests {
		id := strings.ToLower(guests[i].ID)
		switch {
		case governed[id] != "":
			guests[i].GovernedBy = governed[id]
		case ineffective[id] != "":
			guests[i].GovernedBy = ineffective[id]
		default:
			guests[i].GovernedBy = every
		}
	}
	return nil
}

// RecordSweep records a sweep's plan as a run of the tenant: one row per
// decision (a hold is a row foyer leaves alone, with its reason), and, for
// each guest foyer disabled that is found enabled again, that it was (the
// round ends; the guest is held). A plan beyond the cap is recorded and
// held: saved and not approved, until ReleaseSweep. Otherwise the run
// awaits approval (Approve) like any plan. A plan with nothing to do is
// not recorded: the run is nil.
func (e *Engine) RecordSweep(ctx context.Context, tenant string, p *foyer.SweepPlan, h map[string]foyer.SweepHistory, by string) (*foyer.Run, error) {
	// A guest a Microsoft lifecycle policy governs is shown by the plan
	// and left out of the run: foyer does nothing to it, not even record.
	acts := slices.DeleteFunc(slices.Clone(p.Actions), func(d foyer.SweepDecision) bool { return d.Action == foyer.SweepSkip })
	if len(acts) == 0 {
		return nil, nil
	}
	rows := make([]foyer.Row, len(acts))
	for i, d := range acts {
		rows[i] = foyer.Row{Line: i + 1, Email: foyer.Address(d.Guest.Email()), DisplayName: d.Guest.UserPrincipalName,
			UserID: d.Guest.ID, Action: d.Action.RowAction(), Reason: d.Reason}
		if d.Action == foyer.SweepNoticeDisable || d.Action == foyer.SweepNoticeDelete {
			rows[i].Message = sweepNoticeText(e.TenantName, tenant, d)
		}
	}
	source := fmt.Sprintf("sweep of tenant %s", tenant)
	run, err := e.Record(ctx, RecordInput{Kind: foyer.RunSweep, Profile: tenant, Source: source, Digest: SweepDigest(tenant),
		Saved: p.CapExceeded, RecordedBy: by, Plan: planOfRows(rows)})
	if err != nil {
		return nil, fmt.Errorf("record the sweep: %w", err)
	}
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		for _, d := range acts {
			if d.Action != foyer.SweepHold || h[strings.ToLower(d.Guest.ID)].DisabledAt.IsZero() {
				continue
			}
			if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RunID: run.ID,
				Op: opSweepReenabled, Target: d.Guest.ID, Detail: d.Reason}); err != nil {
				return err
			}
		}
		if !p.CapExceeded {
			return nil
		}
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: by, RunID: run.ID, Op: opSweepHeld, Target: tenant,
			Detail: fmt.Sprintf("%d guests to disable or delete, more than the cap allows (%d of %d guests)", changes(p), p.CapLimit, p.Guests)})
	})
	if err != nil {
		return run, fmt.Errorf("record the sweep %s: %w", run.ID, err)
	}
	return run, nil
}

func changes(p *foyer.SweepPlan) int {
	n := 0
	for _, d := range p.Actions {
		if d.Action.Changes() {
			n++
		}
	}
	return n
}

func planOfRows(rows []foyer.Row) func(context.Context, func(foyer.Row) error) error {
	return func(_ context.Context, emit func(foyer.Row) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// ReleaseSweep lets a sweep the cap held go: it approves it in the name
// of by, with an audit entry saying it was released. Only a held sweep is
// released (ECONFLICT otherwise).
func (e *Engine) ReleaseSweep(ctx context.Context, runID, by string) (*foyer.Run, error) {
	run, err := e.Run(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("release sweep %s: %w", runID, err)
	}
	if run.Kind != foyer.RunSweep {
		return run, foyer.Errorf(foyer.ECONFLICT, "run %s is a %s, not a sweep", run.ID, run.Kind)
	}
	if run.State() != foyer.RunPlanned || !run.Saved {
		return run, foyer.Errorf(foyer.ECONFLICT, "sweep %s is %s, not held by the cap: there is nothing to release", run.ID, run.State())
	}
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: by, RunID: run.ID, Op: opSweepReleased, Target: run.Profile,
			Detail: fmt.Sprintf("%d rows", run.Summary.Rows)})
	})
	if err != nil {
		return run, fmt.Errorf("release sweep %s: %w", runID, err)
	}
	return e.Approve(ctx, runID, by)
}

// ReleaseSweepAs releases a sweep the cap held from the approver UI, in
// the name of the signed-in admin who (ReleaseSweep: audited, approved,
// and in service mode its run job enqueued). The engine must carry the
// tenant's lifecycle rules, or the released sweep's jobs would only be
// given back: ECONFLICT then, naming foyer sweep release.
func (e *Engine) ReleaseSweepAs(ctx context.Context, runID string, who foyer.Principal) (*foyer.Run, error) {
	run, err := e.Run(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("release sweep %s: %w", runID, err)
	}
	if run.Kind == foyer.RunSweep {
		if _, ok := e.SweepRules(run.Profile); !ok {
			return run, foyer.Errorf(foyer.ECONFLICT, "this foyer serve has no lifecycle rules for tenant %s (no lifecycle: section): release sweep %s with foyer sweep release", run.Profile, run.ID)
		}
	}
	return e.ReleaseSweep(ctx, runID, who.String())
}

// DiscardSweep drops a sweep the cap held, in the name of by: it will
// never be applied, and the next sweep plans anew.
func (e *Engine) DiscardSweep(ctx context.Context, runID, by string) error {
	run, err := e.Run(ctx, runID)
	if err != nil {
		return fmt.Errorf("discard sweep %s: %w", runID, err)
	}
	if run.Kind != foyer.RunSweep || run.State() != foyer.RunPlanned || !run.Saved {
		return foyer.Errorf(foyer.ECONFLICT, "run %s is not a sweep held by the cap (%s %s): only a held sweep is discarded", run.ID, run.Kind, run.State())
	}
	if err := e.discard(ctx, runID, by, "a sweep held by the cap, discarded"); err != nil {
		return fmt.Errorf("discard sweep %s: %w", runID, err)
	}
	return nil
}

// sweepNoticeText is what the guest and its sponsors are told.
func sweepNoticeText(tenantName, tenant string, d foyer.SweepDecision) string {
	org := tenantName
	if org == "" {
		org = tenant
	}
	what := "disabled: you will no longer be able to sign in"
	if d.Action == foyer.SweepNoticeDelete {
		what = "deleted, with its access"
	}
	who := d.Guest.Email()
	if who == "" {
		who = d.Guest.UserPrincipalName
	}
	return fmt.Sprintf("The guest account %s in %s will be %s, on %s or later.\n\nWhy: %s.\n\n"+
		"If the account is still needed, sign in with it before then, or ask your contact in %s to keep it.\n",
		who, org, what, d.Due.UTC().Format("2006-01-02"), d.Reason, org)
}

// SweepArgs is the job that works one row of a sweep.
type SweepArgs struct {
	RunID  string        `json:"run_id" river:"unique"`
	Line   int           `json:"line" river:"unique"`
	Tenant string        `json:"tenant"`
	UserID string        `json:"user_id"`
	Email  foyer.Address `json:"email"`
	Action foyer.Action  `json:"action"`
	Notice string        `json:"notice,omitempty"` // a notice row's text
	// Planned is when the sweep was planned: a guest that signed in
	// since is not disabled (a sweep held by the cap may wait for days).
	Planned time.Time `json:"planned"`
}

// Kind names the job in River.
func (SweepArgs) Kind() string { return "foyer.sweep" }

// InsertOpts puts sweep jobs with the provisioning ones (they share the
// pace of directory writes), unique by run and line among live jobs.
func (SweepArgs) InsertOpts() river.InsertOpts { return ProvisionArgs{}.InsertOpts() }

// enqueueSweep inserts a sweep row's job and records it as the row's.
func (e *Engine) enqueueSweep(ctx context.Context, tx store.Tx, q store.Queue, run *foyer.Run, r foyer.Row) error {
	return e.insertRowJob(ctx, tx, q, run.ID, r.Line, SweepArgs{RunID: run.ID, Line: r.Line, Tenant: run.Profile,
		UserID: r.UserID, Email: r.Email, Action: r.Action, Notice: r.Message, Planned: run.StartedAt})
}

// sweepWorker works one sweep row.
type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	e *Engine
}

func (w *sweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	e, a := w.e, job.Args
	if err := e.lostLease(); err != nil {
		return err
	}
	ctx, end := e.beginAttempt(ctx)
	defer end()
	if _, ok := e.SweepRules(a.Tenant); !ok {
		// An engine without the tenant's lifecycle rules (foyer serve of a
		// configuration without them took the lease from a sweep that
		// died) gives the row back: the next foyer sweep --apply enqueues
		// it again.
		return e.giveBack(ctx, job.JobRow, a.RunID, a.Line)
	}
	if mine, err := e.claim(ctx, job.JobRow, a.RunID, a.Line); err != nil || !mine {
		return err
	}
	key := "sweep " + strings.ToLower(a.UserID)
	if !e.take(key) {
		return river.JobSnooze(time.Second)
	}
	defer e.release(key)
	row, err := e.sweepOne(ctx, a)
	if err := e.endAttempt(ctx, "sweep", job.JobRow, &row, err); err != nil {
		return err
	}
	q, err := e.currentQueue()
	if err != nil {
		return err
	}
	wctx := context.WithoutCancel(ctx)
	err = e.Store.InTx(wctx, func(tx store.Tx) error {
		if err := e.holdLease(wctx, tx); err != nil {
			return err
		}
		if err := tx.UpdateRunRow(wctx, a.RunID, row); err != nil {
			return err
		}
		if row.Result == foyer.ResultUnchanged {
			// The row keeps the plan's reason; why the job left the guest
			// alone goes to the audit log (SweepLeft reads it back).
			if err := tx.AppendAudit(wctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RunID: a.RunID,
				Op: opSweepLeft, Target: a.UserID, Detail: row.Reason}); err != nil {
				return err
			}
		}
		return q.CompleteTx(wctx, tx, job.JobRow)
	})
	if err != nil {
		return fmt.Errorf("record the result of line %d: %w", a.Line, err)
	}
	e.emitRow(row)
	return nil
}

// SweepLeft returns, by lowercased object id, why the jobs of a sweep run
// left guests alone (the rows whose result is unchanged).
func SweepLeft(ctx context.Context, s store.Store, runID string) (map[string]string, error) {
	left := map[string]string{}
	err := s.InTx(ctx, func(tx store.Tx) error {
		return tx.AuditLog(ctx, store.AuditFilter{RunID: runID}, func(a store.AuditEntry) error {
			if a.Op == opSweepLeft {
				left[strings.ToLower(a.Target)] = a.Detail
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read why sweep %s left guests alone: %w", runID, err)
	}
	return left, nil
}

// giveBack completes a job without working it, and makes its row forget
// it if it is still the row's.
func (e *Engine) giveBack(ctx context.Context, job *rivertype.JobRow, runID string, line int) error {
	q, err := e.currentQueue()
	if err != nil {
		return err
	}
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		id, err := tx.RunRowJob(ctx, runID, line)
		if err == nil && id == job.ID {
			err = tx.SetRunRowJob(ctx, runID, line, 0)
		}
		if err != nil && foyer.ErrorCode(err) != foyer.ENOTFOUND {
			return err
		}
		return q.CompleteTx(ctx, tx, job)
	})
	if err != nil {
		return fmt.Errorf("give back the job of line %d of run %s: %w", line, runID, err)
	}
	return nil
}

// sweepRun is what the ledger holds of one guest for a sweep row: its
// history, and what this run did to it already.
type sweepRun struct {
	h         foyer.SweepHistory
	attempted bool // this run recorded the intent of the row's write: it may have gone out
	done      bool // this run recorded the row's write (or notice) as done
}

// sweepState reads the guest's history and this run's entries for it:
// only the entries of its operation on this guest (every one is written
// with the row's UserID as target), so what a job reads does not grow
// with the run (TestSweepJobReadsIndependentOfRunSize).
func (e *Engine) sweepState(ctx context.Context, a SweepArgs, op string) (sweepRun, error) {
	hs, err := e.historyBefore(ctx, a.Tenant, a.RunID)
	if err != nil {
		return sweepRun{}, err
	}
	s := sweepRun{h: hs[strings.ToLower(a.UserID)]}
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		return tx.AuditLog(ctx, store.AuditFilter{RunID: a.RunID, Target: a.UserID, Op: op}, func(en store.AuditEntry) error {
			switch en.Kind {
			case store.AuditIntent:
				s.attempted = true
			case store.AuditOutcome:
				s.done = s.done || en.Error == ""
			case store.AuditChange:
				s.done = true
			}
			return nil
		})
	})
	if err != nil {
		return s, fmt.Errorf("read what sweep %s did to %s: %w", a.RunID, a.UserID, err)
	}
	return s, nil
}

// sweepOne works one row and returns it with its result, or the error
// that stopped it (which may be worth another attempt).
func (e *Engine) sweepOne(ctx context.Context, a SweepArgs) (foyer.Row, error) {
	r := foyer.Row{Line: a.Line, Email: a.Email, UserID: a.UserID, Action: a.Action}
	rules, ok := e.SweepRules(a.Tenant)
	if !ok {
		return r, foyer.Errorf(foyer.EINVALID, "no lifecycle rules are loaded for tenant %s", a.Tenant)
	}
	// A sweep's run names its tenant where its profile would be; an engine
	// of one tenant (the CLI sweeps one at a time) acts on that one.
	t := e.single()
	if len(e.Tenants) > 0 {
		var err error
		if t, err = e.tenantNamed(a.Tenant); err != nil {
			return r, err
		}
	}
	lc, ok := t.Dir.(directory.Lifecycle)
	if !ok {
		return r, foyer.Errorf(foyer.EINVALID, "the directory cannot disable or delete users")
	}
	switch a.Action {
	case foyer.ActionNoticeDisable, foyer.ActionNoticeDelete:
		return e.sweepNotice(ctx, lc, a, r)
	case foyer.ActionDisable:
		return e.sweepDisable(ctx, lc, rules, a, r)
	case foyer.ActionDelete:
		return e.sweepDelete(ctx, lc, rules, a, r)
	}
	return r, foyer.Errorf(foyer.EINVALID, "line %d: a sweep does not %q", a.Line, a.Action)
}

// sweepNotice records that the guest and its sponsors are told, and
// enqueues the notices in the same transaction.
func (e *Engine) sweepNotice(ctx context.Context, lc directory.Lifecycle, a SweepArgs, r foyer.Row) (foyer.Row, error) {
	op, subject := opSweepNoticeDisable, "Your guest account will be disabled"
	if a.Action == foyer.ActionNoticeDelete {
		op, subject = opSweepNoticeDelete, "Your guest account will be deleted"
	}
	st, err := e.sweepState(ctx, a, op)
	if err != nil {
		return r, err
	}
	if st.done {
		r.Result, r.Reason = foyer.ResultNotified, "told"
		return r, nil
	}
	if e.Postman == nil {
		return r, foyer.Errorf(foyer.EINVALID, "notices are due and no email is configured to send them (smtp:)")
	}
	acct, exists, err := lc.Account(ctx, a.UserID)
	if err != nil {
		return r, err
	}
	if !exists {
		r.Result, r.Reason = foyer.ResultUnchanged, "the guest is gone"
		return r, nil
	}
	sponsors, err := lc.Sponsors(ctx, a.UserID)
	if err != nil {
		return r, err
	}
	to := []foyer.Address{}
	if g, err := foyer.ParseAddress(cmpOr(string(a.Email), acct.Mail)); err == nil {
		to = append(to, g)
	}
	to = append(to, sponsors...)
	if len(to) == 0 {
		return r, foyer.Errorf(foyer.EINVALID, "guest %s has no address and no sponsor with one: nobody can be told, so nothing will be done to it", a.UserID)
	}
	names := make([]string, len(to))
	for i, t := range to {
		names[i] = string(t)
	}
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := e.holdLease(ctx, tx); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: e.actor(), RunID: a.RunID, Op: op,
			Target: a.UserID, Detail: "to " + strings.Join(names, ", ")}); err != nil {
			return err
		}
		return e.notify(ctx, tx, Notice{To: to, Subject: subject, Text: a.Notice, ID: noticeID(a.RunID, "sweep", a.UserID)})
	})
	if err != nil {
		return r, fmt.Errorf("record the notice to %s: %w", a.UserID, err)
	}
	r.Result, r.Reason = foyer.ResultNotified, fmt.Sprintf("told %s", strings.Join(names, ", "))
	return r, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// sweepDisable disables one guest: the account is read first, so that an
// earlier attempt whose answer was lost is not sent again.
func (e *Engine) sweepDisable(ctx context.Context, lc directory.Lifecycle, rules foyer.SweepRules, a SweepArgs, r foyer.Row) (foyer.Row, error) {
	st, err := e.sweepState(ctx, a, opSweepDisable)
	if err != nil {
		return r, err
	}
	if st.done {
		r.Result, r.Reason = foyer.ResultDisabled, "disabled"
		return r, nil
	}
	now := e.Clock.Now()
	if rules.NoticeDays > 0 && (st.h.DisableNoticeAt.IsZero() || now.Before(st.h.DisableNoticeAt.AddDate(0, 0, rules.NoticeDays))) {
		r.Result, r.Reason = foyer.ResultUnchanged, fmt.Sprintf("not disabled: its notice was not sent %d days ago", rules.NoticeDays)
		return r, nil
	}
	acct, exists, err := lc.Account(ctx, a.UserID)
	if err != nil {
		return r, err
	}
	switch {
	case !exists:
		r.Result, r.Reason = foyer.ResultUnchanged, "the guest is gone"
		return r, nil
	case !acct.Enabled && st.attempted:
		// An earlier attempt sent it and lost the answer, or died.
		return r, e.sweepOutcome(ctx, a, opSweepDisable, "", nil, &r, foyer.ResultDisabled, "disabled (by an earlier attempt)")
	case !acct.Enabled:
		r.Result, r.Reason = foyer.ResultUnchanged, "already disabled, not by foyer: it will not be deleted by a sweep"
		return r, nil
	case acct.LastSignIn.After(a.Planned):
		r.Result, r.Reason = foyer.ResultUnchanged, fmt.Sprintf("not disabled: it signed in on %s, after the sweep was planned",
			acct.LastSignIn.UTC().Format("2006-01-02"))
		return r, nil
	}
	if err := e.sweepIntent(ctx, a, opSweepDisable); err != nil {
		return r, err
	}
	id, dirErr := lc.DisableUser(ctx, a.UserID)
	if dirErr != nil && ctx.Err() != nil && context.Cause(ctx) != errAttemptTimedOut {
		return r, dirErr // stopped: the intent stays for the next attempt
	}
	return r, e.sweepOutcome(ctx, a, opSweepDisable, id, dirErr, &r, foyer.ResultDisabled, "disabled")
}

// sweepDelete deletes one guest, only if the ledger shows foyer disabled
// it at least delete_after days ago (and told of the delete notice_days
// ago), and the directory shows it still disabled.
func (e *Engine) sweepDelete(ctx context.Context, lc directory.Lifecycle, rules foyer.SweepRules, a SweepArgs, r foyer.Row) (foyer.Row, error) {
	st, err := e.sweepState(ctx, a, opSweepDelete)
	if err != nil {
		return r, err
	}
	if st.done {
		r.Result, r.Reason = foyer.ResultDeleted, "deleted"
		return r, nil
	}
	if why := deleteRefused(rules, st.h, e.Clock.Now()); why != "" && !st.attempted {
		r.Result, r.Reason = foyer.ResultUnchanged, "not deleted: "+why
		return r, nil
	}
	acct, exists, err := lc.Account(ctx, a.UserID)
	if err != nil {
		return r, err
	}
	switch {
	case !exists && st.attempted:
		return r, e.sweepOutcome(ctx, a, opSweepDelete, "", nil, &r, foyer.ResultDeleted, "deleted (by an earlier attempt)")
	case !exists:
		r.Result, r.Reason = foyer.ResultUnchanged, "the guest is gone, not deleted by foyer"
		return r, nil
	case acct.Enabled:
		r.Result, r.Reason = foyer.ResultUnchanged, "not deleted: it was enabled again by hand"
		return r, nil
	}
	if err := e.sweepIntent(ctx, a, opSweepDelete); err != nil {
		return r, err
	}
	id, gone, dirErr := lc.DeleteUser(ctx, a.UserID)
	if dirErr != nil && ctx.Err() != nil && context.Cause(ctx) != errAttemptTimedOut {
		return r, dirErr
	}
	reason := "deleted"
	if gone {
		reason = "deleted (it was gone when asked: an earlier answer was lost)"
	}
	return r, e.sweepOutcome(ctx, a, opSweepDelete, id, dirErr, &r, foyer.ResultDeleted, reason)
}

// deleteRefused says why the ledger forbids deleting a guest now, or "".
func deleteRefused(rules foyer.SweepRules, h foyer.SweepHistory, now time.Time) string {
	switch {
	case rules.DeleteAfterDays <= 0:
		return "lifecycle.delete_after_days is off"
	case h.DisabledAt.IsZero():
		return "the ledger has no disable of it by foyer"
	case now.Before(h.DisabledAt.AddDate(0, 0, rules.DeleteAfterDays)):
		return fmt.Sprintf("disabled by foyer on %s, fewer than %d days ago", h.DisabledAt.Format("2006-01-02"), rules.DeleteAfterDays)
	case rules.NoticeDays > 0 && (h.DeleteNoticeAt.Before(h.DisabledAt) || now.Before(h.DeleteNoticeAt.AddDate(0, 0, rules.NoticeDays))):
		return fmt.Sprintf("its delete notice was not sent %d days ago", rules.NoticeDays)
	}
	return ""
}

// sweepIntent records, fenced by the lease, that a write is about to go
// out.
func (e *Engine) sweepIntent(ctx context.Context, a SweepArgs, op string) error {
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := e.holdLease(ctx, tx); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditIntent, Actor: e.actor(), RunID: a.RunID, Op: op, Target: a.UserID,
			Detail: string(a.Email)})
	})
	if err != nil {
		return fmt.Errorf("record the intent to %s %s: %w", op, a.UserID, err)
	}
	return nil
}

// sweepOutcome records a write's outcome and sets the row's result, and
// with a success what it did to the guest's row and requests; it returns
// dirErr (the row fails or is tried again) or the ledger's error.
func (e *Engine) sweepOutcome(ctx context.Context, a SweepArgs, op, graphID string, dirErr error, r *foyer.Row, ok foyer.Result, reason string) error {
	ctx = context.WithoutCancel(ctx) // the outcome is recorded whatever happens to ctx
	entry := store.AuditEntry{Kind: store.AuditOutcome, Actor: e.actor(), RunID: a.RunID, Op: op, Target: a.UserID, GraphID: graphID}
	if dirErr != nil {
		entry.Error = e.safeMessage(dirErr)
	}
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.AppendAudit(ctx, entry); err != nil || dirErr != nil {
			return err
		}
		// The ledger's guest row and requests follow what was done, in
		// the transaction that records it.
		switch op {
		case opSweepDisable:
			return guestDisabled(ctx, tx, a.UserID)
		case opSweepDelete:
			return e.removeGuest(ctx, tx, a.UserID, a.RunID)
		}
		return nil
	})
	if dirErr != nil {
		return dirErr
	}
	if err != nil {
		return fmt.Errorf("record the outcome of %s %s: %w", op, a.UserID, err)
	}
	r.Result, r.Reason = ok, reason
	return nil
}
