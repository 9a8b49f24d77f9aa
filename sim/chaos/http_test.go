package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// backend is the handler chaos wraps in these tests: it counts the requests
// it handled (the "write" that a fault after must not undo).
type backend struct{ handled atomic.Int64 }

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.handled.Add(1)
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"id":"00000000-0000-0000-0000-000000000001"}`)
}

// serve starts a server with chaos around a backend; http2 selects TLS
// with HTTP/2, else plain HTTP/1.1.
func serve(t *testing.T, o Options, http2 bool) (*Chaos, *backend, *httptest.Server) {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{}
	s := httptest.NewUnstartedServer(c.Wrap(b, PathPrefix("/_sim/")))
	s.Config.ErrorLog = nil
	if http2 {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return c, b, s
}

func post(t *testing.T, s *httptest.Server, path string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+path, strings.NewReader(`{"invitedUserEmailAddress":"a@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("client-request-id", "c0ffee00-0000-4000-8000-000000000000")
	resp, err := s.Client().Do(req)
	if err == nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

// dropped reports whether err is what a client sees when the server closes
// the connection (or, on HTTP/2, resets the stream) without an answer.
func dropped(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(err.Error(), "stream error") || strings.Contains(err.Error(), "INTERNAL_ERROR")
}

func TestWrapAnswers5xx(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 2, 13, 10, 17, 6, 500, time.UTC)
	for _, after := range []bool{false, true} {
		name := map[bool]string{false: "before", true: "after"}[after]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := Faults{Rate: 1, Mix: Mix{S503: 1}, RetryAfter: 1500 * time.Millisecond}
			if after {
				f.After = 1
			}
			_, b, s := serve(t, Options{Seed: 1, Faults: f, Now: func() time.Time { return now }}, false)
			resp, err := post(t, s, "/v1.0/invitations")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "2" {
				t.Fatalf("status %d, Retry-After %q; want 503 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			var body graphError
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			e := body.Error
			if e.Code != "ServiceUnavailable" || e.Message == "" || e.InnerError.Date != "2026-02-13T10:17:06" ||
				e.InnerError.RequestID == "" || e.InnerError.RequestID != resp.Header.Get("request-id") ||
				e.InnerError.ClientRequestID != "c0ffee00-0000-4000-8000-000000000000" ||
				resp.Header.Get("client-request-id") != e.InnerError.ClientRequestID {
				t.Fatalf("error body %+v, headers %v", body, resp.Header)
			}
			if want := int64(map[bool]int{false: 0, true: 1}[after]); b.handled.Load() != want {
				t.Fatalf("backend handled %d requests, want %d", b.handled.Load(), want)
			}
		})
	}
}

func TestWrapDropsConnection(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name         string
		http2, after bool
	}{
		{"http1 before", false, false},
		{"http1 after", false, true},
		{"http2 before", true, false},
		{"http2 after", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := Faults{Rate: 1, Drop: 1}
			if tt.after {
				f.After = 1
			}
			c, b, s := serve(t, Options{Seed: 2, Faults: f}, tt.http2)
			resp, err := post(t, s, "/v1.0/invitations")
			if err == nil {
				t.Fatalf("got an answer %d, want a dropped connection", resp.StatusCode)
			}
			if !dropped(err) {
				t.Fatalf("error %v is not a dropped connection", err)
			}
			want := int64(0)
			if tt.after {
				want = 1 // the write happened, the answer was lost
			}
			if got := b.handled.Load(); got != want {
				t.Fatalf("backend handled %d, want %d", got, want)
			}
			if s := c.Stats(); s.Drops != 1 || s.After != want {
				t.Fatalf("stats %+v", s)
			}
			// The server keeps serving after a drop.
			if err := c.SetFaults(Faults{}); err != nil {
				t.Fatal(err)
			}
			if resp, err := post(t, s, "/v1.0/invitations"); err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("after the drop: %v", err)
			}
		})
	}
}

func TestWrapExemptPaths(t *testing.T) {
	t.Parallel()
	c, b, s := serve(t, Options{Faults: Faults{Rate: 1}, Latency: Latency{Median: time.Minute}}, false)
	for range 5 {
		resp, err := post(t, s, "/_sim/redeem")
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("exempt path: %v", err)
		}
	}
	if b.handled.Load() != 5 || c.Stats().Requests != 0 {
		t.Fatalf("handled %d, decided %d: exempt requests must skip chaos", b.handled.Load(), c.Stats().Requests)
	}
}

func TestWrapPassesThrough(t *testing.T) {
	t.Parallel()
	var slept []time.Duration
	sleep := func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	c, err := New(Options{Seed: 5, Latency: Latency{Median: 100 * time.Millisecond}, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{}
	h := c.Wrap(b, nil)
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1.0/users", nil))
		if rec.Code != http.StatusCreated {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if len(slept) != 3 || b.handled.Load() != 3 {
		t.Fatalf("slept %v, handled %d", slept, b.handled.Load())
	}
	for _, d := range slept {
		if d <= 0 || d > MaxTailFactor*400*time.Millisecond {
			t.Fatalf("delay %v out of range", d)
		}
	}
}

// TestLatencyHonoursCancellation checks that a request whose client goes
// away stops waiting at once and is not handled.
func TestLatencyHonoursCancellation(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Latency: Latency{Median: time.Minute, P99: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{}
	h := c.Wrap(b, nil)
	ctx, cancel := context.WithCancel(t.Context())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1.0/users", nil)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(rec, req)
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the latency wait did not end when the request was cancelled")
	}
	if b.handled.Load() != 0 {
		t.Fatal("a cancelled request was handled")
	}
	if err := c.Wait(ctx, Action{Delay: time.Hour}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled context = %v", err)
	}
}

func TestNewIDIsUUIDv4(t *testing.T) {
	t.Parallel()
	c, _ := New(Options{Seed: 9})
	id := c.newID()
	if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) || strings.Count(id, "-") != 4 {
		t.Fatalf("id %q is not a version-4 UUID", id)
	}
	if c.newID() == id {
		t.Fatal("two ids are equal")
	}
}
