package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/sim"
)

// graphCalls adapts the Graph client's counters, as foyer serve does.
type graphCalls struct{ c *graph.Client }

func (g graphCalls) CallCounts() engine.CallCounts {
	s := g.c.Stats()
	return engine.CallCounts{Requests: s.Requests, Throttled: s.Throttled, Retries: s.Retries}
}

// gather returns the value of every sample of the metric family name, by
// its labels ("k=v,k=v"); a histogram's value is its sample count.
func gather(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			got[strings.Join(ls, ",")] = value(m)
		}
	}
	return got
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// TestMetrics: after a run is applied, /metrics counts it finished, its
// rows by result as its summary does, the Graph client's requests as the
// client counts them, and one job attempt per row with work.
func TestMetrics(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sim.Options{})
	m := engine.NewMetrics(engine.MetricsOptions{Store: w.store, Calls: graphCalls{w.dir}})
	w.eng.Metrics = m
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	if problems, err := testutil.CollectAndLint(m); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
	if got := gather(t, reg, "foyer_runs"); len(got) != 5 || got["state=finished,tenant="] != 0 {
		t.Errorf("foyer_runs of an empty ledger = %v, want five states at 0", got)
	}

	ctx := context.Background()
	rows := w.plan(t, guestsCSV(t))
	if err := w.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.eng.Stop(ctx)
	run, err := w.eng.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "test.csv", Digest: "d", Plan: planOf(rows)})
	if err != nil {
		t.Fatal(err)
	}
	work := run.Summary.Actions[foyer.ActionInvite] + run.Summary.Actions[foyer.ActionExists]
	if work == 0 {
		t.Fatalf("summary %+v: the test needs rows with work", run.Summary)
	}
	// The job events reach the histogram after the rows' results: wait.
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for gather(t, reg, "foyer_job_duration_seconds")["kind=foyer.provision,outcome=completed"] < float64(work) {
		if time.Now().After(deadline) {
			t.Fatalf("foyer_job_duration_seconds = %v, want %d completed provision jobs",
				gather(t, reg, "foyer_job_duration_seconds"), work)
		}
		<-tick.C
	}

	if got := gather(t, reg, "foyer_runs"); got["state=finished,tenant="] != 1 || got["state=applying,tenant="] != 0 {
		t.Errorf("foyer_runs = %v, want one finished run", got)
	}
	rowsGot := gather(t, reg, "foyer_run_rows")
	for _, r := range foyer.Results() {
		if rowsGot["result="+string(r)+",tenant="] != float64(run.Summary.Results[r]) {
			t.Errorf("foyer_run_rows{result=%s} = %v, want the summary's %d", r, rowsGot["result="+string(r)+",tenant="], run.Summary.Results[r])
		}
	}
	if got := gather(t, reg, "foyer_ledger_tally_ok"); got[""] != 1 {
		t.Errorf("foyer_ledger_tally_ok = %v, want 1", got)
	}
	stats := w.dir.Stats()
	if got := gather(t, reg, "foyer_graph_requests_total")["tenant="]; got == 0 || got > float64(w.dir.Stats().Requests) {
		t.Errorf("foyer_graph_requests_total = %v, want the client's count (%d)", got, stats.Requests)
	}
	if got := gather(t, reg, "foyer_graph_throttled_total")["tenant="]; got != float64(stats.Throttled) {
		t.Errorf("foyer_graph_throttled_total = %v, want %d", got, stats.Throttled)
	}
}

// fixedCalls are counters a test sets.
type fixedCalls engine.CallCounts

func (f fixedCalls) CallCounts() engine.CallCounts { return engine.CallCounts(f) }

// TestMetricsGraphCounters: each of the directory client's counters is
// exported under its own name.
func TestMetricsGraphCounters(t *testing.T) {
	t.Parallel()
	m := engine.NewMetrics(engine.MetricsOptions{Store: ledgers["sqlite"](t),
		Calls: fixedCalls{Requests: 120, Throttled: 7, Retries: 9}})
	for name, want := range map[string]float64{"foyer_graph_requests_total": 120,
		"foyer_graph_throttled_total": 7, "foyer_graph_retries_total": 9} {
		if got := testutil.ToFloat64(onlyMetric{m, name}); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// Several tenants: each tenant's counters under its name.
	m = engine.NewMetrics(engine.MetricsOptions{Store: ledgers["sqlite"](t), Tenants: map[string]*engine.Tenant{
		"north": {Name: "north", Calls: fixedCalls{Requests: 5, Throttled: 1}},
		"south": {Name: "south", Calls: fixedCalls{Requests: 11}},
		"west":  {Name: "west"}, // no counters: no series
	}})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	got := gather(t, reg, "foyer_graph_requests_total")
	if len(got) != 2 || got["tenant=north"] != 5 || got["tenant=south"] != 11 {
		t.Errorf("foyer_graph_requests_total of two tenants = %v, want north 5 and south 11", got)
	}
	if got := gather(t, reg, "foyer_graph_throttled_total"); got["tenant=north"] != 1 || got["tenant=south"] != 0 {
		t.Errorf("foyer_graph_throttled_total of two tenants = %v, want north 1 and south 0", got)
	}
	// Without a counter, no Graph metrics at all.
	if n := testutil.CollectAndCount(engine.NewMetrics(engine.MetricsOptions{Store: ledgers["sqlite"](t)}),
		"foyer_graph_requests_total"); n != 0 {
		t.Errorf("%d foyer_graph_requests_total without a counter, want none", n)
	}
}

// TestMetricsLedgerDown: when the ledger cannot be counted the scrape
// still answers, with foyer_ledger_tally_ok at 0.
func TestMetricsLedgerDown(t *testing.T) {
	t.Parallel()
	db := ledgers["sqlite"](t)
	m := engine.NewMetrics(engine.MetricsOptions{Store: db, Timeout: time.Second})
	db.Close()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	if got := gather(t, reg, "foyer_ledger_tally_ok"); got[""] != 0 || len(got) != 1 {
		t.Errorf("foyer_ledger_tally_ok = %v, want 0", got)
	}
	if got := gather(t, reg, "foyer_runs"); len(got) != 0 {
		t.Errorf("foyer_runs = %v from a closed ledger, want none", got)
	}
}

// onlyMetric is the one metric of a collector named name.
type onlyMetric struct {
	c    prometheus.Collector
	name string
}

func (o onlyMetric) Describe(ch chan<- *prometheus.Desc) { o.c.Describe(ch) }

func (o onlyMetric) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() { o.c.Collect(all); close(all) }()
	for m := range all {
		if strings.Contains(m.Desc().String(), `"`+o.name+`"`) {
			ch <- m
		}
	}
}
