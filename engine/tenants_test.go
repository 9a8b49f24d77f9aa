package engine_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/source"
	"github.com/foyer-dev/foyer/store"
)

// reports records the reports an engine sends.
type reports struct {
	mu  sync.Mutex
	got map[string]notify.Report // by run
}

func (r *reports) Name() string { return "test" }

func (r *reports) Notify(_ context.Context, rep notify.Report) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[string]notify.Report{}
	}
	r.got[rep.RunID] = rep
	return nil
}

func (r *reports) of(runID string) (notify.Report, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep, ok := r.got[runID]
	return rep, ok
}

// twoTenants is one engine over two emulated tenants, "north" and
// "south", with a profile each.
type twoTenants struct {
	sims     map[string]*sim.Server
	dirs     map[string]*graph.Client
	store    store.Store
	eng      *engine.Engine
	profiles map[string]*foyer.Profile // by tenant
	reports  *reports
}

func newTwoTenants(t *testing.T, ledger func(*testing.T) store.Store, north, south sim.Options) *twoTenants {
	t.Helper()
	ctx := context.Background()
	pacing := graph.Pacing{RetryDelay: 20 * time.Millisecond, GroupWindow: 50 * time.Millisecond}
	w := &twoTenants{sims: map[string]*sim.Server{}, dirs: map[string]*graph.Client{}, store: ledger(t),
		profiles: map[string]*foyer.Profile{}, reports: &reports{}}
	tenants := map[string]*engine.Tenant{}
	profiles := map[string]*foyer.Profile{}
	for name, o := range map[string]sim.Options{"north": north, "south": south} {
		s := simtest.Start(t, o)
		dir := newDirectory(t, s, pacing)
		w.sims[name], w.dirs[name] = s, dir
		tenants[name] = &engine.Tenant{Name: name, ID: s.TenantID(), Dir: dir}
		p := &foyer.Profile{Name: name + "-partners", Tenant: name, RedirectURL: "https://myapps.microsoft.com",
			Sender: foyer.SenderMicrosoft}
		var err error
		if p.Grants, err = engine.ResolveGrants(ctx, dir, []foyer.Grant{{Kind: foyer.GrantGroup, Ref: "DemoApp"}}, nil); err != nil {
			t.Fatal(err)
		}
		profiles[p.Name], w.profiles[name] = p, p
	}
	if w.sims["north"].TenantID() == w.sims["south"].TenantID() {
		t.Fatalf("both emulated tenants have id %s: give them different seeds", w.sims["north"].TenantID())
	}
	var n atomic.Int64
	w.eng = &engine.Engine{Store: w.store, Tenants: tenants, Profiles: profiles,
		NewID: func() string { return "id-" + itoa(n.Add(1)) }, Owner: engine.NewOwner("test"), Workers: 1,
		UnknownOutcomeGrace: time.Second, Notifiers: []notify.Notifier{w.reports}, ReportWait: 10 * time.Second}
	return w
}

// plan plans csv for the tenant's profile, against that tenant.
func (w *twoTenants) plan(t *testing.T, tenant string, csv []byte) []foyer.Row {
	t.Helper()
	ctx := context.Background()
	dir, p := w.dirs[tenant], w.profiles[tenant]
	verified, err := dir.Domains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pl := &engine.Planner{Dir: dir, Profile: p}
	held, err := pl.Holdings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rows []foyer.Row
	err = pl.Plan(ctx, func(yield func(foyer.Row) error) error {
		_, err := source.Read(ctx, bytes.NewReader(csv), source.Options{VerifiedDomains: verified, Profile: p}, yield)
		return err
	}, held, func(r foyer.Row) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func (w *twoTenants) apply(t *testing.T, tenant string, csv []byte, digest string) *foyer.Run {
	t.Helper()
	run, err := w.eng.Apply(context.Background(), engine.ApplyInput{Profile: w.profiles[tenant].Name, Source: digest + ".csv",
		Digest: digest, Plan: planOf(w.plan(t, tenant, csv))})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// invitations is how many invitations each tenant received.
func (w *twoTenants) invitations() map[string]int64 {
	return map[string]int64{
		"north": w.sims["north"].Stats().Routes["POST /v1.0/invitations"],
		"south": w.sims["south"].Stats().Routes["POST /v1.0/invitations"],
	}
}

// TestTenantsRunsGoToTheirOwn: one engine acts on two tenants; each run
// goes to its profile's tenant (each tenant's own counters say so), is
// recorded with it, and its report names it. When Entra blocks the
// invitations of one tenant for suspicious activity, that tenant's
// invitations stop, in this run and the next, while the other tenant's
// runs go on; clearing the block lets the blocked tenant invite again.
func TestTenantsRunsGoToTheirOwn(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testTenantsRunsGoToTheirOwn(t, newTwoTenants(t, ledger, sim.Options{Seed: 1, InvitesPerMinute: 2}, sim.Options{Seed: 2}))
		})
	}
}

func testTenantsRunsGoToTheirOwn(t *testing.T, w *twoTenants) {
	ctx := context.Background()
	if err := w.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.eng.Stop(ctx)

	// North takes two invitations a minute; the third is refused as
	// suspicious activity, and north is blocked.
	north := w.apply(t, "north", people(5, "n1"), "n1")
	if got := north.Summary.Results; got[foyer.ResultInvited] != 2 || got[foyer.ResultFailed] != 3 {
		t.Fatalf("north's run: %v; want 2 invited and 3 failed on the block", got)
	}
	if got := w.invitations(); got["north"] != 3 || got["south"] != 0 {
		t.Fatalf("invitations after north's run: %v; want north 3 (2 and the refused one), south 0", got)
	}
	// South is not blocked: all of its run is invited, into south.
	south := w.apply(t, "south", people(4, "s1"), "s1")
	if got := south.Summary.Results; got[foyer.ResultInvited] != 4 {
		t.Fatalf("south's run while north is blocked: %v; want all 4 invited", got)
	}
	if got := w.invitations(); got["north"] != 3 || got["south"] != 4 {
		t.Fatalf("invitations after south's run: %v; want north 3, south 4", got)
	}
	for _, guest := range w.sims["south"].Stats().InvitationsByEmail {
		if guest != 1 {
			t.Errorf("south: someone was invited %d times", guest)
		}
	}
	// The ledger records each run's tenant; the reports name it.
	for tenant, run := range map[string]*foyer.Run{"north": north, "south": south} {
		got, err := w.eng.Run(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Tenant != tenant {
			t.Errorf("run %s of %s's profile is recorded with tenant %q", run.ID, tenant, got.Tenant)
		}
		rep, ok := w.reports.of(run.ID)
		if !ok {
			t.Errorf("no report of %s's run %s", tenant, run.ID)
		} else if rep.Tenant != tenant {
			t.Errorf("the report of %s's run names tenant %q", tenant, rep.Tenant)
		}
	}
	// The block is north's only.
	if b, err := w.eng.BlockOf(ctx, "north"); err != nil || b == nil || b.Tenant != w.sims["north"].TenantID() {
		t.Fatalf("north's block: %+v, %v; want one under north's tenant id", b, err)
	}
	if b, err := w.eng.BlockOf(ctx, "south"); err != nil || b != nil {
		t.Fatalf("south's block: %+v, %v; want none", b, err)
	}
	// A minute later north's cap would take invitations again, but foyer
	// remembers the block: north's next run sends nothing, south's goes on.
	w.sims["north"].Advance(2 * time.Minute)
	north2 := w.apply(t, "north", people(3, "n2"), "n2")
	if got := north2.Summary.Results; got[foyer.ResultFailed] != 3 {
		t.Errorf("north's run while blocked: %v; want its 3 rows failed", got)
	}
	for _, r := range runRows(t, w.store, north2.ID) {
		if !strings.Contains(r.Error, "into tenant north (") || !strings.Contains(r.Error, "foyer tenants unblock north") {
			t.Errorf("north line %d failed with %q; want the way out named", r.Line, r.Error)
		}
	}
	south2 := w.apply(t, "south", people(2, "s2"), "s2")
	if got := south2.Summary.Results; got[foyer.ResultInvited] != 2 {
		t.Errorf("south's second run: %v; want both invited", got)
	}
	if got := w.invitations(); got["north"] != 3 || got["south"] != 6 {
		t.Fatalf("invitations while north is blocked: %v; want north 3, south 6", got)
	}
	// Clearing north's block lets north invite again.
	if _, err := w.eng.ClearBlock(ctx, "test"); err == nil {
		t.Errorf("ClearBlock without a tenant, with two tenants: no error")
	}
	// The block is cleared as foyer tenants unblock does, from another
	// process: the running engine sees it cleared at north's next
	// invitation, and its north client invites again.
	unblock := &engine.Engine{Store: w.store, Tenant: w.sims["north"].TenantID()}
	cleared, err := unblock.ClearBlock(ctx, "test")
	if err != nil || !cleared {
		t.Fatalf("ClearBlock of north = %v, %v", cleared, err)
	}
	north3 := w.apply(t, "north", people(2, "n3"), "n3")
	if got := north3.Summary.Results; got[foyer.ResultInvited] != 2 {
		t.Errorf("north's run after the block was cleared: %v; want both invited", got)
		for _, r := range runRows(t, w.store, north3.ID) {
			t.Logf("line %d: %s %s", r.Line, r.Result, r.Error)
		}
	}
	if got := w.invitations(); got["north"] != 5 || got["south"] != 6 {
		t.Errorf("invitations at the end: %v; want north 5, south 6", got)
	}
	// /metrics counts each tenant's runs and rows under its name.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(engine.NewMetrics(engine.MetricsOptions{Store: w.store, Tenants: w.eng.Tenants}))
	runs := gather(t, reg, "foyer_runs")
	if runs["state=finished,tenant=north"] != 3 || runs["state=finished,tenant=south"] != 2 {
		t.Errorf("foyer_runs = %v; want north 3 finished, south 2", runs)
	}
	rows := gather(t, reg, "foyer_run_rows")
	if rows["result=invited,tenant=north"] != 4 || rows["result=failed,tenant=north"] != 6 || rows["result=invited,tenant=south"] != 6 {
		t.Errorf("foyer_run_rows = %v; want north 4 invited and 6 failed, south 6 invited", rows)
	}
}

// TestTenantOf: a profile's tenant is the one it names; an engine of one
// tenant acts on it whatever a profile names; with several, a profile
// that names none, or one not served, is refused.
func TestTenantOf(t *testing.T) {
	t.Parallel()
	var dir directory.Directory
	two := map[string]*engine.Tenant{"north": {Name: "north", Dir: dir}, "south": {Name: "south", Dir: dir}}
	profiles := map[string]*foyer.Profile{
		"n": {Name: "n", Tenant: "north"}, "s": {Name: "s", Tenant: "south"},
		"none": {Name: "none"}, "west": {Name: "west", Tenant: "west"},
	}
	for _, tt := range []struct {
		name    string
		eng     *engine.Engine
		profile string
		want    string // "" with wantErr
		wantErr bool
	}{
		{"two, north", &engine.Engine{Tenants: two, Profiles: profiles}, "n", "north", false},
		{"two, south", &engine.Engine{Tenants: two, Profiles: profiles}, "s", "south", false},
		{"two, none named", &engine.Engine{Tenants: two, Profiles: profiles}, "none", "", true},
		{"two, not served", &engine.Engine{Tenants: two, Profiles: profiles}, "west", "", true},
		{"two, unknown profile", &engine.Engine{Tenants: two, Profiles: profiles}, "nobody", "", true},
		{"one of Tenants, none named", &engine.Engine{Tenants: engine.OneTenant(&engine.Tenant{Name: "north"}), Profiles: profiles}, "none", "north", false},
		{"one of Tenants, another named", &engine.Engine{Tenants: engine.OneTenant(&engine.Tenant{Name: "north"}), Profiles: profiles}, "s", "", true},
		{"single-tenant fields, none named", &engine.Engine{TenantName: "contoso", Profiles: profiles}, "none", "contoso", false},
		{"single-tenant fields, another named", &engine.Engine{TenantName: "contoso", Profiles: profiles}, "west", "", true},
		{"single-tenant fields without a name", &engine.Engine{Profiles: profiles}, "west", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.eng.TenantOf(tt.profile)
			switch {
			case tt.wantErr && err == nil:
				t.Errorf("TenantOf(%s) = %s; want an error", tt.profile, got.Name)
			case tt.wantErr && foyer.ErrorCode(err) != foyer.EINVALID:
				t.Errorf("TenantOf(%s): %v; want an invalid error", tt.profile, err)
			case !tt.wantErr && err != nil:
				t.Errorf("TenantOf(%s): %v", tt.profile, err)
			case !tt.wantErr && got.Name != tt.want:
				t.Errorf("TenantOf(%s) = %s, want %s", tt.profile, got.Name, tt.want)
			}
		})
	}
}

// TestTenantsIntake: a request is checked against its profile's tenant:
// an address in one tenant's internal domains is refused for that
// tenant's profile as the organisation's own, and taken for the other's.
func TestTenantsIntake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newTwoTenants(t, ledgers["sqlite"], sim.Options{Seed: 1}, sim.Options{Seed: 2})
	w.eng.Tenants["north"].InternalDomains = []string{"north-labs.example"}
	w.eng.Service = true
	if err := w.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.eng.Stop(ctx)
	_, err := w.eng.Submit(ctx, foyer.Submission{Profile: "north-partners", Email: "kim@north-labs.example", By: &adele})
	if foyer.ErrorCode(err) != foyer.EFORBIDDEN || !strings.Contains(err.Error(), "organisation itself") {
		t.Errorf("north's profile, an address of north's own: %v; want it refused as the organisation's", err)
	}
	rc, err := w.eng.Submit(ctx, foyer.Submission{Profile: "south-partners", Email: "kim@north-labs.example", By: &adele})
	if err != nil {
		t.Fatalf("south's profile, an address of north's own: %v; want it taken", err)
	}
	if rc.Request.Profile != "south-partners" {
		t.Errorf("receipt %+v: want a request of south-partners", rc)
	}
}
