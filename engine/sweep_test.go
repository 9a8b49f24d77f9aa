package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// postbox is a Postman that keeps what it is given.
type postbox struct {
	mu   sync.Mutex
	sent []engine.Notice
}

func (p *postbox) Send(_ context.Context, n engine.Notice) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, n)
	return nil
}

// to returns the subjects of the notices sent to addr.
func (p *postbox) to(addr string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, n := range p.sent {
		for _, a := range n.To {
			if strings.EqualFold(string(a), addr) {
				out = append(out, n.Subject)
			}
		}
	}
	return out
}

// sweepWorld is a tenant with guests, a ledger and an engine, all on the
// sim's clock.
type sweepWorld struct {
	sim   *sim.Server
	store store.Store
	eng   *engine.Engine
	post  *postbox
	rules foyer.SweepRules
}

const sweepTenant = "default"

func newSweepWorld(t *testing.T, rules foyer.SweepRules) *sweepWorld {
	t.Helper()
	s := simtest.Start(t, sim.Options{Empty: true})
	clock := foyer.ClockFunc(s.Now)
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	post := &postbox{}
	var n atomic.Int64
	eng := &engine.Engine{Store: db, Dir: newDirectory(t, s, graph.Pacing{RetryDelay: 20 * time.Millisecond}), Clock: clock,
		NewID: func() string { return "sweep-" + itoa(n.Add(1)) }, Owner: engine.NewOwner("test"), Workers: 4,
		Postman: post, Sweep: &rules, TenantName: "Contoso", ReportWait: time.Millisecond}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Stop(context.Background()) })
	return &sweepWorld{sim: s, store: db, eng: eng, post: post, rules: rules}
}

// sweep plans and, unless it is held by the cap, applies one sweep, as
// foyer sweep --apply --yes does; it returns the run (nil: nothing to do)
// and its plan.
func (w *sweepWorld) sweep(t *testing.T, exclude map[string]bool) (*foyer.Run, *foyer.SweepPlan) {
	t.Helper()
	ctx := context.Background()
	guests, err := w.eng.Dir.GuestActivity(ctx, w.since())
	if err != nil {
		t.Fatal(err)
	}
	plan, h, err := w.eng.PlanSweep(ctx, sweepTenant, w.rules, guests, exclude)
	if err != nil {
		t.Fatal(err)
	}
	run, err := w.eng.RecordSweep(ctx, sweepTenant, plan, h, "test")
	if err != nil || run == nil || plan.CapExceeded {
		if err != nil {
			t.Fatal(err)
		}
		return run, plan
	}
	if _, err := w.eng.Approve(ctx, run.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if run, err = w.eng.ApplyRun(ctx, run.ID, engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	return run, plan
}

// since is what a sweep asks the tenant's sign-ins from: no_sign_in_days
// before now.
func (w *sweepWorld) since() time.Time {
	if w.rules.NoSignInDays == 0 {
		return time.Time{}
	}
	return w.sim.Now().AddDate(0, 0, -w.rules.NoSignInDays)
}

// active adds a guest who signed in today: a tenant where nobody signed
// in within no_sign_in_days looks like one whose sign-in data is missing,
// and is refused.
func (w *sweepWorld) active(t *testing.T) string {
	t.Helper()
	ids := seedSweepGuests(t, w.sim, staleGuest("active@partner.example", w.sim.Now().AddDate(-1, 0, 0)))
	id := ids["active@partner.example"]
	if err := w.sim.SignIn(id, w.sim.Now(), true); err != nil {
		t.Fatal(err)
	}
	return id
}

func (w *sweepWorld) days(n int) { w.sim.Advance(time.Duration(n) * 24 * time.Hour) }

// actions returns the plan's actions by address.
func actions(p *foyer.SweepPlan) map[string]foyer.SweepAction {
	m := map[string]foyer.SweepAction{}
	for _, d := range p.Actions {
		m[d.Guest.Mail] = d.Action
	}
	return m
}

// results returns the run's row results by address.
func (w *sweepWorld) results(t *testing.T, run *foyer.Run) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, r := range runRows(t, w.store, run.ID) {
		m[string(r.Email)] = string(r.Action) + " " + string(r.Result)
	}
	return m
}

func (w *sweepWorld) counts(id string) (disables, deletes int) {
	st := w.sim.Stats()
	return st.DisablesByUser[strings.ToLower(id)], st.DeletesByUser[strings.ToLower(id)]
}

func seedSweepGuests(t *testing.T, s *sim.Server, us ...sim.SeedUser) map[string]string {
	t.Helper()
	d, err := s.Seed(sim.SeedData{Users: us})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for i, u := range d.Users {
		ids[us[i].Mail] = u.ID
	}
	return ids
}

func staleGuest(mail string, created time.Time, sponsors ...string) sim.SeedUser {
	return sim.SeedUser{DisplayName: mail, Mail: mail, UserType: "Guest", ExternalUserState: "Accepted", CreatedDateTime: created, Sponsors: sponsors}
}

// TestSweepLifecycle walks guests through every state against the sim,
// its clock advanced: a stale guest is told, disabled notice_days later,
// told of the delete, and deleted once delete_after_days have passed since
// the disable and notice_days since that notice, and not a day before; a
// guest re-enabled by hand is left alone; excluded and active guests are
// never touched; every write is made once.
func TestSweepLifecycle(t *testing.T) {
	t.Parallel()
	rules := foyer.SweepRules{NoSignInDays: 90, NoticeDays: 7, DeleteAfterDays: 30, ReenabledHoldDays: 60}
	w := newSweepWorld(t, rules)
	t0 := w.sim.Now()
	boss := seedSweepGuests(t, w.sim, sim.SeedUser{DisplayName: "Boss", Mail: "boss@" + domainOf(t, w.sim),
		UserPrincipalName: "boss@" + domainOf(t, w.sim)})
	old := t0.AddDate(0, 0, -200)
	ids := seedSweepGuests(t, w.sim,
		staleGuest("stale@partner.example", old, boss["boss@"+domainOf(t, w.sim)]),
		staleGuest("handy@partner.example", old),
		staleGuest("fresh@partner.example", old),
		staleGuest("listed@partner.example", old),
		staleGuest("grouped@partner.example", old),
		staleGuest("company@partner.example", old),
	)
	for _, id := range ids {
		if err := w.sim.SignIn(id, t0.AddDate(0, 0, -100), true); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.sim.SignIn(ids["fresh@partner.example"], t0.AddDate(0, 0, -1), true); err != nil {
		t.Fatal(err)
	}
	g, err := w.sim.Seed(sim.SeedData{Groups: []sim.SeedGroup{{DisplayName: "Keep", Members: []string{ids["grouped@partner.example"]}}}})
	if err != nil {
		t.Fatal(err)
	}
	members, err := w.eng.Dir.Members(context.Background(), g.Groups[0].ID)
	if err != nil || len(members) != 1 {
		t.Fatalf("members of the excluded group: %v, %v", members, err)
	}
	exclude := map[string]bool{"listed@partner.example": true, strings.ToLower(members[0].ID): true}
	stale, handy := ids["stale@partner.example"], ids["handy@partner.example"]

	// Day 0: stale and handy are told; nothing is disabled.
	run, plan := w.sweep(t, exclude)
	want := map[string]foyer.SweepAction{"stale@partner.example": foyer.SweepNoticeDisable, "handy@partner.example": foyer.SweepNoticeDisable,
		"company@partner.example": foyer.SweepNoticeDisable}
	if got := actions(plan); !equalActions(got, want) || plan.Excluded != 2 {
		t.Fatalf("day 0: plan %v (excluded %d), want %v and 2 excluded", got, plan.Excluded, want)
	}
	if r := w.results(t, run); r["stale@partner.example"] != "notice_disable notified" {
		t.Fatalf("day 0: results %v", r)
	}
	waitUntil(t, func() bool {
		return len(w.post.to("stale@partner.example")) == 1 && len(w.post.to("boss@"+domainOf(t, w.sim))) == 1
	})
	w.noChange(t, stale, 0, 0)

	// Day 3: the notice period runs: nothing to do.
	w.days(3)
	if run, _ := w.sweep(t, exclude); run != nil {
		t.Fatalf("day 3: a sweep was recorded: %+v", run.Summary)
	}
	w.noChange(t, stale, 0, 0)

	// Day 7: disabled, once each.
	w.days(4)
	run, _ = w.sweep(t, exclude)
	if r := w.results(t, run); r["stale@partner.example"] != "disable disabled" || r["handy@partner.example"] != "disable disabled" {
		t.Fatalf("day 7: results %v", r)
	}
	w.noChange(t, stale, 1, 0)
	w.noChange(t, handy, 1, 0)

	// Someone enables handy again by hand: the next sweep holds it.
	if err := w.sim.SetAccountEnabled(handy, true); err != nil {
		t.Fatal(err)
	}
	w.days(1)
	_, plan = w.sweep(t, exclude)
	if got := actions(plan); got["handy@partner.example"] != foyer.SweepHold || got["stale@partner.example"] != "" {
		t.Fatalf("day 8: plan %v, want handy held and stale waiting", got)
	}

	// Day 31: the delete's notice (due 30 days after the disable, 7 after
	// the notice); handy is still held.
	w.days(23)
	run, plan = w.sweep(t, exclude)
	if got := actions(plan); got["stale@partner.example"] != foyer.SweepNoticeDelete || got["handy@partner.example"] != foyer.SweepHold {
		t.Fatalf("day 31: plan %v", got)
	}
	waitUntil(t, func() bool { return len(w.post.to("stale@partner.example")) == 2 })

	// Day 36: past neither the grace (day 37) nor the notice (day 38): left.
	w.days(5)
	_, plan = w.sweep(t, exclude)
	if got := actions(plan); got["stale@partner.example"] != "" {
		t.Fatalf("day 36: plan %v", got)
	}
	w.noChange(t, stale, 1, 0)

	// Day 38: deleted, once.
	w.days(2)
	run, _ = w.sweep(t, exclude)
	if r := w.results(t, run); r["stale@partner.example"] != "delete deleted" {
		t.Fatalf("day 38: results %v", r)
	}
	w.noChange(t, stale, 1, 1)
	w.noChange(t, handy, 1, 0)
	for _, m := range []string{"fresh@partner.example", "listed@partner.example", "grouped@partner.example"} {
		w.noChange(t, ids[m], 0, 0)
	}

	// Day 69: handy's hold is over: it is a stale guest again, told first.
	w.days(31)
	_, plan = w.sweep(t, exclude)
	if got := actions(plan); got["handy@partner.example"] != foyer.SweepNoticeDisable {
		t.Fatalf("day 69: plan %v", got)
	}
	w.noChange(t, handy, 1, 0)
}

func (w *sweepWorld) noChange(t *testing.T, id string, disables, deletes int) {
	t.Helper()
	if d, x := w.counts(id); d != disables || x != deletes {
		t.Fatalf("user %s: %d disables and %d deletes, want %d and %d", id, d, x, disables, deletes)
	}
}

func equalActions(a, b map[string]foyer.SweepAction) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// domainOf is the sim's initial domain, which an empty tenant has too.
func domainOf(t *testing.T, _ *sim.Server) string {
	t.Helper()
	return "contoso.onmicrosoft.com"
}

// TestSweepCapHoldsUntilReleased: a sweep beyond the cap is recorded and
// held before any change; releasing it lets it go, but a guest that signed
// in while it waited is not disabled; the finished sweep is reported.
func TestSweepCapHoldsUntilReleased(t *testing.T) {
	t.Parallel()
	rules := foyer.SweepRules{NoSignInDays: 90, Cap: foyer.SweepCap{Max: 1}}
	w := newSweepWorld(t, rules)
	w.active(t)
	old := w.sim.Now().AddDate(0, 0, -200)
	ids := seedSweepGuests(t, w.sim, staleGuest("a@partner.example", old), staleGuest("b@partner.example", old), staleGuest("c@partner.example", old))
	for _, id := range ids {
		if err := w.sim.SignIn(id, old, true); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	rcv := newReceiver(t)
	w.eng.Notifiers, w.eng.ReportWait = []notify.Notifier{rcv.notifier(t)}, 10*time.Second
	run, plan := w.sweep(t, nil)
	if !plan.CapExceeded || run == nil || run.State() != foyer.RunPlanned || !run.Saved {
		t.Fatalf("capped sweep: exceeded %v, run %+v", plan.CapExceeded, run)
	}
	for _, id := range ids {
		w.noChange(t, id, 0, 0)
	}
	open, err := w.eng.OpenSweep(ctx, sweepTenant)
	if err != nil || open == nil || open.ID != run.ID {
		t.Fatalf("open sweep = %v, %v; want the held run %s", open, err, run.ID)
	}
	if _, err := w.eng.ApplyRun(ctx, run.ID, engine.RunOptions{}); foyer.ErrorCode(err) != foyer.ECONFLICT {
		t.Fatalf("a held sweep applied without release: %v", err)
	}
	// c signs in while the sweep waits: released, it is not disabled.
	w.days(2)
	if err := w.sim.SignIn(ids["c@partner.example"], w.sim.Now(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.eng.ReleaseSweep(ctx, run.ID, "cli:admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.eng.ReleaseSweep(ctx, run.ID, "cli:admin"); foyer.ErrorCode(err) != foyer.ECONFLICT {
		t.Fatalf("released twice: %v", err)
	}
	if run, err = w.eng.ApplyRun(ctx, run.ID, engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	w.noChange(t, ids["a@partner.example"], 1, 0)
	w.noChange(t, ids["b@partner.example"], 1, 0)
	w.noChange(t, ids["c@partner.example"], 0, 0)
	if r := w.results(t, run); r["c@partner.example"] != "disable unchanged" {
		t.Fatalf("results %v", r)
	}
	waitUntil(t, func() bool { return rcv.count(reportID(run)) == 1 }) // reported like any run
	var released bool
	err = w.store.InTx(ctx, func(tx store.Tx) error {
		return tx.AuditLog(ctx, store.AuditFilter{RunID: run.ID}, func(e store.AuditEntry) error {
			released = released || (e.Op == "release sweep" && e.Actor == "cli:admin")
			return nil
		})
	})
	if err != nil || !released {
		t.Fatalf("release in the audit log: %v, %v", released, err)
	}
}

// TestSweepRefusesMissingSignIns: with no guest's sign-in reported, the
// sweep refuses before recording anything.
func TestSweepRefusesMissingSignIns(t *testing.T) {
	t.Parallel()
	rules := foyer.SweepRules{NoSignInDays: 90}
	w := newSweepWorld(t, rules)
	old := w.sim.Now().AddDate(0, 0, -200)
	seedSweepGuests(t, w.sim, staleGuest("a@partner.example", old), staleGuest("b@partner.example", old))
	ctx := context.Background()
	guests, err := w.eng.Dir.GuestActivity(ctx, w.since())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = w.eng.PlanSweep(ctx, sweepTenant, rules, guests, nil)
	var missing *foyer.ErrSignInUnreported
	if !errors.As(err, &missing) {
		t.Fatalf("err = %v, want ErrSignInUnreported", err)
	}
	if open, err := w.eng.OpenSweep(ctx, sweepTenant); err != nil || open != nil {
		t.Fatalf("a refused sweep left a run: %v, %v", open, err)
	}
}

// TestSweepResumeSendsNothingTwice: a disable whose intent is in the
// ledger and whose write reached the tenant (the process died before the
// outcome) is recorded as done by the resumed sweep, not sent again; a
// delete refused by the ledger's dates is never sent, whatever the plan
// said.
func TestSweepResumeSendsNothingTwice(t *testing.T) {
	t.Parallel()
	rules := foyer.SweepRules{NoSignInDays: 90, DeleteAfterDays: 30}
	w := newSweepWorld(t, rules)
	w.active(t)
	old := w.sim.Now().AddDate(0, 0, -200)
	ids := seedSweepGuests(t, w.sim, staleGuest("a@partner.example", old), staleGuest("b@partner.example", old))
	for _, id := range ids {
		if err := w.sim.SignIn(id, old, true); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	guests, err := w.eng.Dir.GuestActivity(ctx, w.since())
	if err != nil {
		t.Fatal(err)
	}
	plan, h, err := w.eng.PlanSweep(ctx, sweepTenant, rules, guests, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := w.eng.RecordSweep(ctx, sweepTenant, plan, h, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.eng.Approve(ctx, run.ID, "test"); err != nil {
		t.Fatal(err)
	}
	a := ids["a@partner.example"]
	// What a process killed between the write and its outcome leaves.
	err = w.store.InTx(ctx, func(tx store.Tx) error {
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditIntent, RunID: run.ID, Op: "sweep disable", Target: a})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.sim.SetAccountEnabled(a, false); err != nil {
		t.Fatal(err)
	}
	if run, err = w.eng.ApplyRun(ctx, run.ID, engine.RunOptions{Resumed: true}); err != nil {
		t.Fatal(err)
	}
	if r := w.results(t, run); r["a@partner.example"] != "disable disabled" || r["b@partner.example"] != "disable disabled" {
		t.Fatalf("results %v", r)
	}
	w.noChange(t, a, 0, 0) // its disable went out before the kill, not through the stats' Graph call
	w.noChange(t, ids["b@partner.example"], 1, 0)
	hist, err := w.eng.SweepHistory(ctx, sweepTenant)
	if err != nil || hist[strings.ToLower(a)].DisabledAt.IsZero() {
		t.Fatalf("a's disable is not in the ledger's history: %+v, %v", hist[strings.ToLower(a)], err)
	}

	// A delete row recorded early (a stale plan) is refused by the job.
	w.days(10)
	del := &foyer.SweepPlan{Guests: 2, CapLimit: -1, Actions: []foyer.SweepDecision{{Guest: foyer.GuestActivity{ID: a, Mail: "a@partner.example"},
		Action: foyer.SweepDelete, Reason: "a plan that went wrong"}}}
	run, err = w.eng.RecordSweep(ctx, sweepTenant, del, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.eng.Approve(ctx, run.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if run, err = w.eng.ApplyRun(ctx, run.ID, engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := w.results(t, run); r["a@partner.example"] != "delete unchanged" {
		t.Fatalf("an early delete: %v", r)
	}
	left, err := engine.SweepLeft(ctx, w.store, run.ID)
	if err != nil || !strings.Contains(left[strings.ToLower(a)], "fewer than 30 days ago") {
		t.Fatalf("why the delete was left: %q, %v", left[strings.ToLower(a)], err)
	}
	w.noChange(t, a, 0, 0)
}

// TestSweepWithoutRulesGivesRowsBack: an engine without the lifecycle
// rules (foyer serve holding the lease after a sweep died) changes
// nothing and leaves the rows to the next sweep, which does them.
func TestSweepWithoutRulesGivesRowsBack(t *testing.T) {
	t.Parallel()
	rules := foyer.SweepRules{NoSignInDays: 90}
	w := newSweepWorld(t, rules)
	w.active(t)
	old := w.sim.Now().AddDate(0, 0, -200)
	ids := seedSweepGuests(t, w.sim, staleGuest("a@partner.example", old))
	for _, id := range ids {
		if err := w.sim.SignIn(id, old, true); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	guests, err := w.eng.Dir.GuestActivity(ctx, w.since())
	if err != nil {
		t.Fatal(err)
	}
	plan, h, err := w.eng.PlanSweep(ctx, sweepTenant, rules, guests, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := w.eng.RecordSweep(ctx, sweepTenant, plan, h, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.eng.Approve(ctx, run.ID, "test"); err != nil {
		t.Fatal(err)
	}
	w.eng.Sweep = nil
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := w.eng.ApplyRun(short, run.ID, engine.RunOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ApplyRun without rules: %v, want the deadline", err)
	}
	w.noChange(t, ids["a@partner.example"], 0, 0)
	if r := w.results(t, run); r["a@partner.example"] != "disable " {
		t.Fatalf("results without rules: %v", r)
	}
	// The next process, with the rules, takes the lease and does the row.
	if err := w.eng.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	next := &engine.Engine{Store: w.store, Dir: w.eng.Dir, Clock: w.eng.Clock, NewID: w.eng.NewID, Owner: engine.NewOwner("next"),
		Workers: 4, Sweep: &rules, ReportWait: time.Millisecond}
	if err := next.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = next.Stop(context.Background()) })
	if run, err = next.ApplyRun(ctx, run.ID, engine.RunOptions{Resumed: true}); err != nil {
		t.Fatal(err)
	}
	w.noChange(t, ids["a@partner.example"], 1, 0)
}

// TestSweepNotApprovedInTheUI: the approver UI's four-eyes approval
// refuses a sweep; a held sweep is released with foyer sweep release.
func TestSweepNotApprovedInTheUI(t *testing.T) {
	t.Parallel()
	rules := foyer.SweepRules{NoSignInDays: 90, Cap: foyer.SweepCap{Max: 1}}
	w := newSweepWorld(t, rules)
	w.active(t)
	old := w.sim.Now().AddDate(0, 0, -200)
	ids := seedSweepGuests(t, w.sim, staleGuest("a@partner.example", old), staleGuest("b@partner.example", old))
	for _, id := range ids {
		if err := w.sim.SignIn(id, old, true); err != nil {
			t.Fatal(err)
		}
	}
	run, _ := w.sweep(t, nil)
	w.eng.Profiles = map[string]*foyer.Profile{sweepTenant: {Name: sweepTenant}} // a profile named like the tenant
	if _, err := w.eng.ApproveRunAs(context.Background(), run.ID, foyer.Principal{UPN: "other@contoso.example"}); foyer.ErrorCode(err) != foyer.ECONFLICT {
		t.Fatalf("ApproveRunAs of a sweep: %v, want ECONFLICT", err)
	}
	if r, err := w.eng.Run(context.Background(), run.ID); err != nil || r.State() != foyer.RunPlanned {
		t.Fatalf("the held sweep is %v (%v), want planned", r.State(), err)
	}
}
