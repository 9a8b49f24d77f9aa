package engine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/web/hooks"
)

// memSources serves sources from memory, as files read whole. A spec
// ending in "/" lists the specs under it, each in a version named by its
// bytes' digest.
type memSources map[string][]byte

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (m memSources) Open(_ context.Context, spec string, maxBytes int64) (*engine.Spooled, error) {
	b, ok := m[spec]
	if !ok {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "open %s: no such file", spec)
	}
	if int64(len(b)) > maxBytes {
		return nil, foyer.Errorf(foyer.EINVALID, "%s is larger than the limit of %d bytes", spec, maxBytes)
	}
	return &engine.Spooled{Name: spec, Digest: digestOf(b),
		Reader: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, Remove: func() {}}, nil
}

func (m memSources) List(_ context.Context, spec string) ([]engine.SourceItem, error) {
	var items []engine.SourceItem
	for k, b := range m {
		if strings.HasPrefix(k, spec) {
			items = append(items, engine.SourceItem{Spec: k, Version: digestOf(b)[:12], Size: int64(len(b))})
		}
	}
	return items, nil
}

const triggerCSV = "email,name\nana@fabrikam.example,Ana\nbo@fabrikam.example,Bo\ncy@fabrikam.example,Cy\n"

// newTriggered starts an engine in service mode with the triggers.
func newTriggered(t *testing.T, ledger func(*testing.T) store.Store, src engine.Sources, triggers ...engine.Trigger) *world {
	t.Helper()
	w := newWorldOn(t, ledger, sim.Options{})
	e := w.eng
	e.Service, e.RunPoll, e.Sources, e.Triggers = true, 50*time.Millisecond, src, map[string]engine.Trigger{}
	for _, tr := range triggers {
		e.Triggers[tr.Name] = tr
	}
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Stop(ctx); err != nil {
			t.Errorf("stop the engine: %v", err)
		}
	})
	return w
}

// waitFor polls cond until it holds, for at most 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %s", what)
		}
		<-tick.C
	}
}

// runsBy lists the runs a trigger recorded.
func runsBy(t *testing.T, w *world, by string) []*foyer.Run {
	t.Helper()
	var runs []*foyer.Run
	err := w.store.InTx(context.Background(), func(tx store.Tx) error {
		return tx.ListRuns(context.Background(), 100, func(r *foyer.Run) error {
			if r.RecordedBy == by {
				runs = append(runs, r)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// finished says whether the trigger's n runs all finished.
func finished(t *testing.T, w *world, by string, n int) func() bool {
	return func() bool {
		runs := runsBy(t, w, by)
		if len(runs) != n {
			return false
		}
		for _, r := range runs {
			if r.State() != foyer.RunFinished {
				return false
			}
		}
		return true
	}
}

func checkInvitedOnce(t *testing.T, w *world, want int) {
	t.Helper()
	got := w.sim.Stats().InvitationsByEmail
	if len(got) != want {
		t.Errorf("%d addresses invited, want %d: %v", len(got), want, got)
	}
	for addr, n := range got {
		if n != 1 {
			t.Errorf("%s invited %d times", addr, n)
		}
	}
}

func TestTriggerDeliveryOnce(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newTriggered(t, ledger, memSources{"in.csv": []byte(triggerCSV)},
				engine.Trigger{Name: "drop", Profile: "partners", Source: "in.csv"})
			first, started, err := w.eng.StartTrigger(ctx, "drop", "d-1")
			if err != nil || !started {
				t.Fatalf("first delivery: %v, %v", started, err)
			}
			again, started, err := w.eng.StartTrigger(ctx, "drop", "d-1")
			if err != nil || started || again != first {
				t.Fatalf("the same delivery again: job %d, started %v, %v; want not started, job %d", again, started, err, first)
			}
			waitFor(t, "the trigger's run finishes", finished(t, w, "trigger:drop", 1))
			// Once done, the same delivery still starts nothing.
			if _, started, err := w.eng.StartTrigger(ctx, "drop", "d-1"); err != nil || started {
				t.Fatalf("the same delivery after its run: started %v, %v", started, err)
			}
			checkInvitedOnce(t, w, 3)
			if _, _, err := w.eng.StartTrigger(ctx, "nope", "d-1"); foyer.ErrorCode(err) != foyer.ENOTFOUND {
				t.Errorf("unknown trigger: %v, want ENOTFOUND", err)
			}
		})
	}
}

func TestTriggerSourceFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, source, want string
	}{
		{"missing", "gone.csv", "no such file"},
		{"not a CSV", "photo.png", "CSV"},
	}
	src := memSources{"photo.png": append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newTriggered(t, ledgers["sqlite"], src, engine.Trigger{Name: "drop", Profile: "partners", Source: tc.source})
			if _, _, err := w.eng.StartTrigger(ctx, "drop", "d-1"); err != nil {
				t.Fatal(err)
			}
			var detail string
			waitFor(t, "the trigger's failure is in the audit log", func() bool {
				err := w.store.InTx(ctx, func(tx store.Tx) error {
					return tx.AuditLog(ctx, store.AuditFilter{}, func(a store.AuditEntry) error {
						if a.Op == "trigger failed" && a.Actor == "trigger:drop" {
							detail = a.Detail
						}
						return nil
					})
				})
				if err != nil {
					t.Fatal(err)
				}
				return detail != ""
			})
			if !strings.Contains(detail, tc.want) {
				t.Errorf("the audit log says %q, want it to say %q", detail, tc.want)
			}
			if runs := runsBy(t, w, "trigger:drop"); len(runs) != 0 {
				t.Errorf("%d runs recorded, want none", len(runs))
			}
		})
	}
}

// onceSoon fires once: at the first whole second after River first asks
// (its scheduler starts a moment after the engine).
type onceSoon struct {
	mu sync.Mutex
	at time.Time
}

func (o *onceSoon) Next(after time.Time) time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.at.IsZero() {
		o.at = after.UTC().Truncate(time.Second).Add(time.Second)
	}
	if after.Before(o.at) {
		return o.at
	}
	return o.at.Add(100 * 365 * 24 * time.Hour)
}

func (o *onceSoon) time() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.at
}

func TestTriggerScheduleFiresOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &onceSoon{}
	w := newTriggered(t, ledgers["sqlite"], memSources{"in.csv": []byte(triggerCSV)},
		engine.Trigger{Name: "nightly", Profile: "partners", Source: "in.csv", Schedule: s})
	waitFor(t, "the scheduled run finishes", finished(t, w, "trigger:nightly", 1))
	at := s.time()
	if runs := runsBy(t, w, "trigger:nightly"); runs[0].StartedAt.Before(at) {
		t.Errorf("the run started %s, before its firing at %s", runs[0].StartedAt, at)
	}
	// A new leader enqueueing the same firing again (a restart during it)
	// starts nothing: the firing is named for its time.
	if _, started, err := w.eng.StartTrigger(ctx, "nightly", "schedule:"+at.Format(time.RFC3339)); err != nil || started {
		t.Fatalf("the same firing again: started %v, %v; want not started", started, err)
	}
	checkInvitedOnce(t, w, 3)
}

func TestLastFiring(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	s, err := cron.ParseStandard("CRON_TZ=Europe/Paris 30 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	fire := time.Date(2026, 3, 10, 2, 30, 0, 0, paris)
	tests := []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{"at its time", fire, fire},
		{"late by a second", fire.Add(time.Second), fire},
		{"asked early", fire.Add(-time.Second), fire},
		{"long after: the next", fire.Add(2 * time.Hour), fire.AddDate(0, 0, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := engine.LastFiring(s, tc.now, time.Minute); !got.Equal(tc.want) {
				t.Errorf("LastFiring(%s) = %s, want %s", tc.now, got, tc.want)
			}
		})
	}
}

// TestTriggerWebhook: a signed delivery to the webhook starts the
// trigger's run, which invites the CSV's people once; the same delivery
// again, a stale one or a forged one starts nothing.
func TestTriggerWebhook(t *testing.T) {
	t.Parallel()
	w := newTriggered(t, ledgers["sqlite"], memSources{"in.csv": []byte(triggerCSV)},
		engine.Trigger{Name: "drop", Profile: "partners", Source: "in.csv"})
	secret := []byte("0123456789abcdef0123456789abcdef")
	h, err := hooks.New(hooks.Options{Starter: w.eng, Secrets: map[string][]byte{"drop": secret}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, rt := range h.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	post := func(at time.Time, delivery string, key []byte) int {
		ts := strconv.FormatInt(at.Unix(), 10)
		r := httptest.NewRequest("POST", "/hooks/run/drop", strings.NewReader("{}"))
		r.Header.Set(hooks.HeaderTimestamp, ts)
		r.Header.Set(hooks.HeaderDelivery, delivery)
		r.Header.Set(hooks.HeaderSignature, "sha256="+hex.EncodeToString(hooks.Sign(key, ts, delivery, []byte("{}"))))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		return rec.Code
	}
	now := time.Now()
	if got := post(now.Add(-10*time.Minute), "d-0", secret); got != http.StatusUnauthorized {
		t.Errorf("stale delivery: %d, want 401", got)
	}
	if got := post(now, "d-0", []byte("not the secret, but long enough")); got != http.StatusUnauthorized {
		t.Errorf("forged delivery: %d, want 401", got)
	}
	if got := post(now, "d-1", secret); got != http.StatusAccepted {
		t.Fatalf("good delivery: %d, want 202", got)
	}
	if got := post(now, "d-1", secret); got != http.StatusOK {
		t.Errorf("the same delivery again: %d, want 200 (nothing new started)", got)
	}
	waitFor(t, "the webhook's run finishes", finished(t, w, "trigger:drop", 1))
	checkInvitedOnce(t, w, 3)
}
