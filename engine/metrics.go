package engine

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// CallCounts are a directory client's counters since it was made.
type CallCounts struct {
	Requests  int64 // requests sent, each try counted
	Throttled int64 // answers 429
	Retries   int64 // tries after the first
}

// CallCounter gives a directory client's counters (the Graph client's,
// adapted by whoever wires it: the engine does not import graph).
type CallCounter interface {
	CallCounts() CallCounts
}

// Metrics is the engine's Prometheus collector: what the ledger holds
// (runs by state, rows by result, requests by state), read on each scrape
// with Store.Tally; the directory client's calls and 429s; and a histogram
// of how long River jobs ran, by kind and outcome, fed from the job events
// of an engine whose Metrics it is. Register it with the web server's
// registry (web.Metrics.Register).
type Metrics struct {
	store   store.Store
	calls   map[string]CallCounter // by tenant name
	tenants []string               // the tenants whose runs are always reported
	log     *slog.Logger
	timeout time.Duration

	runs, rows, requests, tallyOK            *prometheus.Desc
	graphCalls, graphThrottled, graphRetries *prometheus.Desc
	jobs                                     *prometheus.HistogramVec
}

var _ prometheus.Collector = (*Metrics)(nil)

// MetricsOptions configure NewMetrics.
type MetricsOptions struct {
	Store store.Store // the ledger to count; required
	// Calls is the directory client's counters, of an engine of one
	// tenant (labelled tenant=""); nil: none exported. Tenants give each
	// tenant's counters (Tenant.Calls), labelled with its name.
	Calls   CallCounter
	Tenants map[string]*Tenant
	Log     *slog.Logger
	// Timeout bounds the ledger's counting on a scrape; zero means 5s.
	Timeout time.Duration
}

// NewMetrics returns the engine's collector.
func NewMetrics(o MetricsOptions) *Metrics {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	calls := map[string]CallCounter{}
	if o.Calls != nil {
		calls[""] = o.Calls
	}
	for name, t := range o.Tenants {
		if t != nil && t.Calls != nil {
			calls[name] = t.Calls
		}
	}
	tenants := []string{}
	for name := range o.Tenants {
		tenants = append(tenants, name)
	}
	if len(tenants) == 0 {
		tenants = append(tenants, "")
	}
	tenant := []string{"tenant"}
	return &Metrics{
		store: o.Store, calls: calls, tenants: tenants, log: o.Log, timeout: o.Timeout,
		runs: prometheus.NewDesc("foyer_runs", "Runs in the ledger, by tenant and state.", []string{"tenant", "state"}, nil),
		rows: prometheus.NewDesc("foyer_run_rows", "Rows of runs that have a result, by tenant and result "+
			"(finished runs and runs being applied).", []string{"tenant", "result"}, nil),
		requests: prometheus.NewDesc("foyer_requests", "Requests in the ledger, by state.", []string{"state"}, nil),
		tallyOK: prometheus.NewDesc("foyer_ledger_tally_ok", "1 if the ledger was counted for this scrape, "+
			"0 if counting failed (foyer_runs, foyer_run_rows and foyer_requests are then missing).", nil, nil),
		graphCalls: prometheus.NewDesc("foyer_graph_requests_total", "Requests sent to Microsoft Graph, each try counted, by tenant.", tenant, nil),
		graphThrottled: prometheus.NewDesc("foyer_graph_throttled_total",
			"Answers 429 (too many requests) from Microsoft Graph, inner $batch answers included, by tenant.", tenant, nil),
		graphRetries: prometheus.NewDesc("foyer_graph_retries_total", "Requests to Microsoft Graph tried again, by tenant.", tenant, nil),
		jobs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "foyer_job_duration_seconds",
			Help:    "How long a job's attempt ran, by job kind and outcome (completed, failed, snoozed, cancelled).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"kind", "outcome"}),
	}
}

// Describe sends the descriptions of every metric.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.runs, m.rows, m.requests, m.tallyOK} {
		ch <- d
	}
	if len(m.calls) > 0 {
		ch <- m.graphCalls
		ch <- m.graphThrottled
		ch <- m.graphRetries
	}
	m.jobs.Describe(ch)
}

// Collect counts the ledger, reads the directory client's counters and
// sends them with the job histogram. Collect has no context of its own:
// the ledger's counting is bounded by the Timeout of MetricsOptions.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.collectLedger(ch)
	for tenant, calls := range m.calls {
		c := calls.CallCounts()
		ch <- prometheus.MustNewConstMetric(m.graphCalls, prometheus.CounterValue, float64(c.Requests), tenant)
		ch <- prometheus.MustNewConstMetric(m.graphThrottled, prometheus.CounterValue, float64(c.Throttled), tenant)
		ch <- prometheus.MustNewConstMetric(m.graphRetries, prometheus.CounterValue, float64(c.Retries), tenant)
	}
	m.jobs.Collect(ch)
}

// The states and results every scrape reports, zero or not, so that a
// series does not vanish when its count falls to zero.
var (
	metricRunStates = []foyer.RunState{foyer.RunRecording, foyer.RunPlanned, foyer.RunApplying,
		foyer.RunFinished, foyer.RunDiscarded}
	metricRequestStates = []foyer.State{foyer.StateReceived, foyer.StateVerified, foyer.StatePendingApproval,
		foyer.StateApproved, foyer.StateRejected, foyer.StateProvisioning, foyer.StateInvited, foyer.StateActive,
		foyer.StateExpired, foyer.StateRevoked, foyer.StateRemoved, foyer.StateFailed}
)

func (m *Metrics) collectLedger(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	defer cancel()
	var tl store.Tally
	err := m.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		tl, err = tx.Tally(ctx)
		return err
	})
	if err != nil {
		m.log.Warn("count the ledger for /metrics", "err", err)
		ch <- prometheus.MustNewConstMetric(m.tallyOK, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(m.tallyOK, prometheus.GaugeValue, 1)
	// Every tenant the engine acts on is reported, zeros included, and
	// any other the ledger's runs name (a tenant no longer configured).
	tenants := map[string]store.TenantTally{}
	for _, name := range m.tenants {
		tenants[name] = store.TenantTally{}
	}
	maps.Copy(tenants, tl.Tenants)
	for name, tt := range tenants {
		gauges(ch, m.runs, metricRunStates, tt.Runs, name)
		gauges(ch, m.rows, foyer.Results(), tt.Rows, name)
	}
	gauges(ch, m.requests, metricRequestStates, tl.Requests)
}

// gauges sends one gauge per key: those of known, then any others counted;
// labels come before the key.
func gauges[K ~string](ch chan<- prometheus.Metric, d *prometheus.Desc, known []K, counts map[K]int, labels ...string) {
	seen := map[K]bool{}
	for _, k := range known {
		seen[k] = true
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(counts[k]), slices.Concat(labels, []string{string(k)})...)
	}
	for k, n := range counts {
		if !seen[k] {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(n), slices.Concat(labels, []string{string(k)})...)
		}
	}
}

// jobEventKinds are the events that end a job's attempt.
var jobEventKinds = []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed,
	river.EventKindJobSnoozed, river.EventKindJobCancelled}

// observe records one ended attempt.
func (m *Metrics) observe(ev *river.Event) {
	if ev == nil || ev.Job == nil || ev.JobStats == nil {
		return
	}
	m.jobs.WithLabelValues(ev.Job.Kind, jobOutcome(ev.Kind)).Observe(ev.JobStats.RunDuration.Seconds())
}

func jobOutcome(k river.EventKind) string {
	switch k {
	case river.EventKindJobCompleted:
		return "completed"
	case river.EventKindJobFailed:
		return "failed"
	case river.EventKindJobSnoozed:
		return "snoozed"
	case river.EventKindJobCancelled:
		return "cancelled"
	}
	return string(k)
}

// watch observes job events until ctx ends or the channel closes.
func (m *Metrics) watch(ctx context.Context, events <-chan *river.Event, unsubscribe func()) {
	defer unsubscribe()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			m.observe(ev)
		}
	}
}
