package hooks_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web/hooks"
)

// starter keeps the deliveries it was given, one job per delivery, as the
// engine's unique jobs do.
type starter struct {
	mu   sync.Mutex
	jobs map[string]int64
}

func (s *starter) StartTrigger(_ context.Context, name, delivery string) (int64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name != "nightly" {
		return 0, false, foyer.Errorf(foyer.ENOTFOUND, "no trigger is named %q", name)
	}
	key := name + "/" + delivery
	if id, ok := s.jobs[key]; ok {
		return id, false, nil
	}
	s.jobs[key] = int64(len(s.jobs) + 1)
	return s.jobs[key], true, nil
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestRun(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	st := &starter{jobs: map[string]int64{}}
	h, err := hooks.New(hooks.Options{Starter: st, Secrets: map[string][]byte{"nightly": secret, "other": secret}, Clock: fixedClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, rt := range h.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	body := []byte(`{"reason":"nightly import"}`)
	sign := func(key []byte, ts time.Time, delivery string, b []byte) (string, string) {
		s := strconv.FormatInt(ts.Unix(), 10)
		return s, "sha256=" + hex.EncodeToString(hooks.Sign(key, s, delivery, b))
	}
	tests := []struct {
		name      string
		trigger   string
		at        time.Time
		delivery  string
		key       []byte
		sigFor    string // the delivery the signature covers, if not delivery
		tamper    bool   // the body changed after signing
		want      int
		wantJob   int64
		wantStart bool
	}{
		{name: "good", trigger: "nightly", at: now, delivery: "d-1", key: secret, want: http.StatusAccepted, wantJob: 1, wantStart: true},
		{name: "the same delivery again", trigger: "nightly", at: now.Add(time.Minute), delivery: "d-1", key: secret, want: http.StatusOK, wantJob: 1},
		{name: "another delivery", trigger: "nightly", at: now.Add(-4 * time.Minute), delivery: "d-2", key: secret, want: http.StatusAccepted, wantJob: 2, wantStart: true},
		{name: "stale", trigger: "nightly", at: now.Add(-6 * time.Minute), delivery: "d-3", key: secret, want: http.StatusUnauthorized},
		{name: "from the future", trigger: "nightly", at: now.Add(6 * time.Minute), delivery: "d-3", key: secret, want: http.StatusUnauthorized},
		{name: "wrong key", trigger: "nightly", at: now, delivery: "d-3", key: []byte("fedcba9876543210fedcba9876543210"), want: http.StatusUnauthorized},
		{name: "body changed", trigger: "nightly", at: now, delivery: "d-3", key: secret, tamper: true, want: http.StatusUnauthorized},
		{name: "replayed under another delivery id", trigger: "nightly", at: now, delivery: "d-4", sigFor: "d-1", key: secret, want: http.StatusUnauthorized},
		{name: "no webhook for this trigger", trigger: "weekly", at: now, delivery: "d-3", key: secret, want: http.StatusUnauthorized},
		{name: "no delivery id", trigger: "nightly", at: now, delivery: "", key: secret, want: http.StatusBadRequest},
		{name: "a trigger the engine lacks", trigger: "other", at: now, delivery: "d-3", key: secret, want: http.StatusNotFound},
	}
	for _, tc := range tests { // in order: the deliveries build on each other
		t.Run(tc.name, func(t *testing.T) {
			covered := tc.delivery
			if tc.sigFor != "" {
				covered = tc.sigFor
			}
			ts, sig := sign(tc.key, tc.at, covered, body)
			b := body
			if tc.tamper {
				b = []byte(`{"reason":"something else"}`)
			}
			r := httptest.NewRequest("POST", "/hooks/run/"+tc.trigger, bytes.NewReader(b))
			r.Header.Set(hooks.HeaderTimestamp, ts)
			r.Header.Set(hooks.HeaderSignature, sig)
			if tc.delivery != "" {
				r.Header.Set(hooks.HeaderDelivery, tc.delivery)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d; body %s", w.Code, tc.want, w.Body)
			}
			if tc.want != http.StatusOK && tc.want != http.StatusAccepted {
				return
			}
			var got struct {
				JobID   int64 `json:"job_id"`
				Started bool  `json:"started"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.JobID != tc.wantJob || got.Started != tc.wantStart {
				t.Errorf("answer %s, want job %d started %v", w.Body, tc.wantJob, tc.wantStart)
			}
		})
	}
	if len(st.jobs) != 2 {
		t.Errorf("%d deliveries started runs, want 2: %v", len(st.jobs), st.jobs)
	}
}

func TestNewRefusesShortSecrets(t *testing.T) {
	t.Parallel()
	if _, err := hooks.New(hooks.Options{Starter: &starter{}, Secrets: map[string][]byte{"x": []byte("short")}}); foyer.ErrorCode(err) != foyer.EINVALID {
		t.Errorf("a 5-byte secret: %v, want EINVALID", err)
	}
}
