package engine_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/notifytest"
	"github.com/foyer-dev/foyer/notify/webhook"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
)

// receiver is a webhook endpoint that can be down, and counts the reports
// it accepted by their id.
type receiver struct {
	mu       sync.Mutex
	down     bool
	accepted map[string]int // report id → deliveries answered 2xx
	srv      *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{accepted: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.down {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		var ev struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &ev)
		r.accepted[ev.ID]++
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

func (r *receiver) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted[id]
}

func (r *receiver) notifier(t *testing.T) notify.Notifier {
	n, err := webhook.New(r.srv.URL+"/hook", "a-webhook-secret-of-32-bytes-long", webhook.Options{Retry: notifytest.Retry()})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func reportID(run *foyer.Run) string {
	return notify.NewReport(*run, "", nil, "").ID()
}

// TestReportIsAJobOwedUntilDelivered: a finished run's report is a job.
// With the receiver down, the report stays owed (and says so); the next
// process that works jobs sends it, once, beside its own.
func TestReportIsAJobOwedUntilDelivered(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorldOn(t, ledger, sim.Options{})
			rcv := newReceiver(t)
			rcv.setDown(true)
			w.eng.Notifiers, w.eng.ReportWait = []notify.Notifier{rcv.notifier(t)}, 10*time.Second
			var notices []string
			var mu sync.Mutex
			sink := func(ev engine.Event) {
				if ev.Kind == engine.EventNotice {
					mu.Lock()
					notices = append(notices, ev.Message)
					mu.Unlock()
				}
			}
			ctx := context.Background()
			if err := w.eng.Start(ctx); err != nil {
				t.Fatal(err)
			}
			first, err := w.eng.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "a.csv", Digest: "a",
				Plan: planOf(w.plan(t, people(3, "first"))), Events: sink})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.eng.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			ds, err := w.eng.Deliveries(ctx, first.ID)
			if err != nil || len(ds) != 1 || ds[0].Sent || ds[0].Attempts == 0 || !strings.Contains(ds[0].LastError, "503") {
				t.Fatalf("deliveries of the first run with the receiver down: %+v, %v; want webhook owed after a 503", ds, err)
			}
			if len(notices) == 0 || !strings.Contains(notices[len(notices)-1], "report still owed to webhook") {
				t.Errorf("notices %q: want the owed report said", notices)
			}

			// The receiver is back; another process applies another file.
			rcv.setDown(false)
			next := &engine.Engine{Store: w.store, Dir: w.dir, Profiles: w.eng.Profiles, NewID: w.eng.NewID,
				Owner: engine.Owner{Host: "test", PID: 2, Nonce: "next"}, Workers: 4,
				Notifiers: []notify.Notifier{rcv.notifier(t)}, ReportWait: 30 * time.Second}
			if err := next.Start(ctx); err != nil {
				t.Fatal(err)
			}
			second, err := next.Apply(ctx, engine.ApplyInput{Profile: "partners", Source: "b.csv", Digest: "b",
				Plan: planOf(w.plan(t, people(2, "second")))})
			if err != nil {
				t.Fatal(err)
			}
			if err := next.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			for _, r := range []*foyer.Run{first, second} {
				if n := rcv.count(reportID(r)); n != 1 {
					t.Errorf("the report of run %s was accepted %d times, want once", r.ID, n)
				}
				ds, err := next.Deliveries(ctx, r.ID)
				if err != nil || len(ds) != 1 || !ds[0].Sent {
					t.Errorf("deliveries of run %s: %+v, %v; want sent", r.ID, ds, err)
				}
			}
			// No report job is left live.
			err = w.store.InTx(ctx, func(tx store.Tx) error {
				n, err := tx.LiveJobs(ctx, "report")
				if n != 0 {
					t.Errorf("%d report jobs live after every report was sent", n)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRevokeIsAResumableRun: a revoke interrupted half way and run again
// resumes the same run and removes every grant once.
func TestRevokeIsAResumableRun(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorldOn(t, ledger, sim.Options{})
			rows := w.plan(t, people(30, "revoked"))
			applied := w.apply(t, people(30, "revoked"), "d")
			if applied.Summary.Results[foyer.ResultInvited] != 30 {
				t.Fatalf("apply: %v", applied.Summary.Results)
			}
			var emails []foyer.Address
			for _, r := range rows {
				emails = append(emails, r.Email)
			}
			deletes := func() int64 {
				var n int64
				for route, c := range w.sim.Stats().Routes {
					if strings.HasPrefix(route, "DELETE ") {
						n += c
					}
				}
				return n
			}
			ctx, cancel := context.WithCancel(context.Background())
			w.eng.Owner = engine.Owner{Host: "test", PID: 1, Nonce: "first"}
			if err := w.eng.Start(ctx); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := w.eng.Revoke(ctx, "partners", emails, nil)
				done <- err
			}()
			waitUntil(t, func() bool { return deletes() >= 10 || len(done) > 0 })
			cancel()
			<-done
			_ = w.eng.Stop(context.Background())
			t.Logf("interrupted after %d removals", deletes())

			w.eng.Owner = engine.Owner{Host: "test", PID: 1, Nonce: "second"}
			ctx = context.Background()
			if err := w.eng.Start(ctx); err != nil {
				t.Fatal(err)
			}
			run, err := w.eng.Revoke(ctx, "partners", emails, nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = w.eng.Stop(ctx)
			if run.Kind != foyer.RunRevoke || run.Summary.Results[foyer.ResultRevoked] != 30 {
				t.Errorf("the resumed revoke: kind %s, results %v; want all 30 revoked", run.Kind, run.Summary.Results)
			}
			if n := deletes(); n != 30 {
				t.Errorf("%d removals reached the tenant, want 30: one per grant", n)
			}
			for _, g := range w.sim.Snapshot().Groups {
				if g.DisplayName == "DemoApp" && len(g.Members) > 0 {
					for _, m := range g.Members {
						for _, r := range runRows(t, w.store, applied.ID) {
							if strings.EqualFold(m, r.UserID) {
								t.Errorf("%s is still in DemoApp", r.Email)
							}
						}
					}
				}
			}
		})
	}
}
