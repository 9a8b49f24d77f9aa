package engine_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
)

// pausable is a ledger that can be made to hang, as a process stopped by
// SIGSTOP does: its transactions wait until it is resumed. River's own
// queries go on, as they would not in a stopped process; the engine's
// fence is what must hold.
type pausable struct {
	store.Store
	mu     sync.Mutex
	paused chan struct{} // closed when resumed; nil when running
}

func (p *pausable) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused == nil {
		p.paused = make(chan struct{})
	}
}

func (p *pausable) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused != nil {
		close(p.paused)
		p.paused = nil
	}
}

func (p *pausable) InTx(ctx context.Context, fn func(store.Tx) error) error {
	p.mu.Lock()
	wait := p.paused
	p.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return p.Store.InTx(ctx, fn)
}

// watchedDir counts the invitations it got an answer for once watch is
// set: those of a replica after it was resumed.
type watchedDir struct {
	*graph.Client
	watch atomic.Bool
	sent  atomic.Int64
}

func (d *watchedDir) Invite(ctx context.Context, inv directory.Invitation) (directory.Invited, error) {
	watched := d.watch.Load()
	res, err := d.Client.Invite(ctx, inv)
	if err == nil && watched {
		d.sent.Add(1)
	}
	return res, err
}

// replicaOf is another foyer serve replica of w: its own Graph client on
// w's tenant, its own owner, the same ledger (through a pausable
// wrapper) and the same triggers.
func replicaOf(t *testing.T, w *world, name string, pacing graph.Pacing) (*engine.Engine, *pausable, *watchedDir) {
	t.Helper()
	ls := &pausable{Store: w.store}
	dir := &watchedDir{Client: newDirectory(t, w.sim, pacing)}
	b := w.eng
	e := engine.Engine{Store: ls, Dir: dir, Owner: engine.NewOwner(name), Profiles: b.Profiles, NewID: b.NewID,
		Workers: b.Workers, UnknownOutcomeGrace: b.UnknownOutcomeGrace}
	e.Service, e.Replicas, e.RunPoll = true, true, 50*time.Millisecond
	e.Log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})).With("replica", name)
	return &e, ls, dir
}

// TestReplicasShareARun: three replicas on one PostgreSQL ledger work one
// run together; one of them is stopped (its ledger hangs) while it holds
// invitations, a live one takes its jobs over once its lease lapses, and
// the stopped one, resumed, sends nothing it held and stops with
// ErrLeaseLost. Everyone is invited once. An apply is refused while
// replicas run, and a replica while an apply runs.
func TestReplicasShareARun(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a lease to lapse (15 s)")
	}
	t.Parallel()
	const rows = 60
	ctx := context.Background()
	w := newWorldOn(t, openPostgres, sim.Options{})
	src := memSources{"in.csv": people(rows, "shared")}
	// Ten invitations a second per replica: the run lasts a few seconds.
	pacing := graph.Pacing{InvitesPerMinute: 600, RetryDelay: 20 * time.Millisecond, GroupWindow: 50 * time.Millisecond}
	var reps []*engine.Engine
	var ledgers []*pausable
	var dirs []*watchedDir
	for _, name := range []string{"r1", "r2", "r3"} {
		e, ls, dir := replicaOf(t, w, name, pacing)
		dirs = append(dirs, dir)
		e.Sources, e.Triggers = src, map[string]engine.Trigger{"drop": {Name: "drop", Profile: "partners", Source: "in.csv"}}
		if err := e.Start(ctx); err != nil {
			t.Fatalf("start replica %s: %v", name, err)
		}
		reps, ledgers = append(reps, e), append(ledgers, ls)
	}
	stopped := map[int]bool{}
	t.Cleanup(func() {
		for i, e := range reps {
			ledgers[i].resume()
			if !stopped[i] {
				_ = e.Stop(ctx)
			}
		}
	})

	// An apply beside the replicas is refused before it does anything.
	cli := &engine.Engine{Store: w.store, Dir: w.dir, Profiles: w.eng.Profiles, NewID: w.eng.NewID, Owner: engine.NewOwner("cli")}
	if err := cli.Start(ctx); foyer.ErrorCode(err) != foyer.ECONFLICT {
		t.Errorf("an apply beside replicas: %v, want a conflict", err)
		_ = cli.Stop(ctx)
	}

	if _, started, err := reps[0].StartTrigger(ctx, "drop", "d-1"); err != nil || !started {
		t.Fatalf("start the run: %v %v", started, err)
	}
	waitFor(t, "a third of the people are invited", func() bool { return invitations(w.sim) >= rows/3 })
	// r2 stops as SIGSTOP stops a process, with jobs in hand.
	ledgers[1].pause()
	waitFor(t, "a live replica ends r2's lapsed lease", func() bool {
		var l store.Lease
		err := w.store.InTx(ctx, func(tx store.Tx) (err error) {
			l, err = tx.GetLease(ctx, "replica:"+reps[1].Owner.String())
			return err
		})
		return err == nil && l.Owner == ""
	})
	if err := reps[1].Err(); err != nil {
		t.Errorf("r2 knew it lost its lease before it was resumed: %v", err)
	}
	dirs[1].watch.Store(true)
	ledgers[1].resume()
	select {
	case <-reps[1].Done():
	case <-time.After(30 * time.Second):
		t.Fatal("r2, resumed after the takeover, did not stop")
	}
	if err := reps[1].Err(); !errors.Is(err, engine.ErrLeaseLost) {
		t.Errorf("r2 after it was resumed: %v, want ErrLeaseLost", err)
	}
	_ = reps[1].Stop(ctx)
	stopped[1] = true
	waitFor(t, "the run finishes without r2", finished(t, w, "trigger:drop", 1))
	if n := dirs[1].sent.Load(); n != 0 {
		t.Errorf("r2, resumed after the takeover, sent %d invitations", n)
	}
	checkInvitedOnce(t, w, rows)

	// With the replicas stopped, an apply may work; a replica may not
	// start beside it.
	for i, e := range reps {
		if !stopped[i] {
			if err := e.Stop(ctx); err != nil {
				t.Errorf("stop replica %d: %v", i+1, err)
			}
			stopped[i] = true
		}
	}
	if err := cli.Start(ctx); err != nil {
		t.Fatalf("an apply once the replicas stopped: %v", err)
	}
	late, _, _ := replicaOf(t, w, "r4", pacing)
	if err := late.Start(ctx); foyer.ErrorCode(err) != foyer.ECONFLICT {
		t.Errorf("a replica beside an apply: %v, want a conflict", err)
		_ = late.Stop(ctx)
	}
	if err := cli.Stop(ctx); err != nil {
		t.Error(err)
	}
}

// shiftedClock is the system clock moved to another time, running at the
// same pace: River's timers and the engine both read it.
type shiftedClock struct{ by time.Duration }

func (c shiftedClock) Now() time.Time { return time.Now().Add(c.by) }

func (c shiftedClock) NowOrNil() *time.Time {
	now := c.Now()
	return &now
}

// TestScheduleOnceAcrossReplicas: with the clock injected two seconds
// six seconds before a schedule's time, three replicas on one PostgreSQL ledger fire
// it at its time, once; a replica restarted during the firing (a new
// client, maybe a new leader) does not fire it again.
func TestScheduleOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorldOn(t, openPostgres, sim.Options{})
	sched, err := cron.ParseStandard("CRON_TZ=UTC 30 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	fire := time.Date(2030, 1, 1, 2, 30, 0, 0, time.UTC)
	clock := shiftedClock{by: time.Until(fire.Add(-6 * time.Second))}
	src := memSources{"in.csv": []byte(triggerCSV)}
	start := func(name string) *engine.Engine {
		e, _, _ := replicaOf(t, w, name, graph.Pacing{})
		e.Clock = clock
		e.SetRiverClock(clock)
		e.Sources = src
		e.Triggers = map[string]engine.Trigger{"nightly": {Name: "nightly", Profile: "partners", Source: "in.csv", Schedule: sched}}
		if err := e.Start(ctx); err != nil {
			t.Fatalf("start replica %s: %v", name, err)
		}
		return e
	}
	reps := []*engine.Engine{start("s1"), start("s2"), start("s3")}
	defer func() {
		for _, e := range reps {
			_ = e.Stop(ctx)
		}
	}()
	waitFor(t, "the schedule fires and its run starts", func() bool { return len(runsBy(t, w, "trigger:nightly")) > 0 })
	if now := clock.Now(); now.Before(fire) {
		t.Errorf("the schedule fired at %s, before its time %s", now, fire)
	}
	// A replica restarts during the firing.
	if err := reps[0].Stop(ctx); err != nil {
		t.Fatal(err)
	}
	reps[0] = start("s1-again")
	waitFor(t, "the scheduled run finishes", finished(t, w, "trigger:nightly", 1))
	// Give every replica's scheduler time to fire again if it would.
	time.Sleep(3 * time.Second)
	if runs := runsBy(t, w, "trigger:nightly"); len(runs) != 1 {
		t.Errorf("%d runs of the schedule, want 1", len(runs))
	}
	// The firing's id is its time: enqueued again by any replica, it
	// starts nothing.
	if _, started, err := reps[1].StartTrigger(ctx, "nightly", "schedule:"+fire.Format(time.RFC3339)); err != nil || started {
		t.Errorf("the same firing again: started %v, %v; want not started", started, err)
	}
	checkInvitedOnce(t, w, 3)
}

// logBuffer collects a replica's log.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestReplicaDrainsOnStop: a replica told to stop with jobs under way
// lets them run until its drain deadline, cancels the rest and gives its
// lease back at once, so that the other replica finishes the run without
// waiting for the lease to lapse (no takeover). Everyone is invited once.
func TestReplicaDrainsOnStop(t *testing.T) {
	t.Parallel()
	const rows = 40
	ctx := context.Background()
	w := newWorldOn(t, openPostgres, sim.Options{})
	src := memSources{"in.csv": people(rows, "drain")}
	pacing := graph.Pacing{InvitesPerMinute: 300, RetryDelay: 20 * time.Millisecond, GroupWindow: 50 * time.Millisecond}
	var reps []*engine.Engine
	logs := &logBuffer{}
	for _, name := range []string{"d1", "d2"} {
		e, _, _ := replicaOf(t, w, name, pacing)
		e.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})).With("replica", name)
		e.Sources, e.Triggers = src, map[string]engine.Trigger{"drop": {Name: "drop", Profile: "partners", Source: "in.csv"}}
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		reps = append(reps, e)
	}
	defer reps[1].Stop(ctx)
	if _, started, err := reps[0].StartTrigger(ctx, "drop", "d-1"); err != nil || !started {
		t.Fatalf("start the run: %v %v", started, err)
	}
	waitFor(t, "a few people are invited", func() bool { return invitations(w.sim) >= 5 })
	drain, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err := reps[0].Stop(drain)
	cancel()
	if err != nil {
		t.Errorf("stop d1: %v", err)
	}
	var l store.Lease
	err = w.store.InTx(ctx, func(tx store.Tx) (err error) {
		l, err = tx.GetLease(ctx, "replica:"+reps[0].Owner.String())
		return err
	})
	if err != nil || l.Owner != "" {
		t.Errorf("d1's lease after it stopped: %+v, %v; want released", l, err)
	}
	waitFor(t, "d2 finishes the run", finished(t, w, "trigger:drop", 1))
	checkInvitedOnce(t, w, rows)
	if strings.Contains(logs.String(), "took over") {
		t.Errorf("d2 had to take over from d1, which should have given its jobs back:\n%s", logs.String())
	}
}
