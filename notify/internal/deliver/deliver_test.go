package deliver_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/internal/deliver"
	"github.com/foyer-dev/foyer/notify/notifytest"
)

// plain is the smallest notifier on a Poster: it posts the report as JSON.
// Running the suite on it checks the Poster's retry rules and the suite
// itself.
type plain struct{ p *deliver.Poster }

type plainBody struct {
	ID       string   `json:"id"`
	RunID    string   `json:"run_id"`
	Details  string   `json:"details"`
	Text     string   `json:"text"`
	Failures []string `json:"failures"`
	More     int      `json:"more"`
}

func (n plain) Name() string { return "plain" }
func (n plain) Notify(ctx context.Context, r notify.Report) error {
	shown, more := r.Shown(notify.ShownFailures)
	b := plainBody{ID: r.ID(), RunID: r.RunID, Details: r.DetailsURL, Text: r.Text(), More: more}
	for _, f := range shown {
		b.Failures = append(b.Failures, f.Email)
	}
	body, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return n.p.Post(ctx, body)
}

func TestPosterConformance(t *testing.T) {
	notifytest.Run(t, func(t *testing.T, url string) notify.Notifier {
		return plain{&deliver.Poster{Notifier: "plain", URL: url, Target: notify.RedactURL(url), Retry: notifytest.Retry()}}
	}, func(t *testing.T, body []byte) notifytest.Seen {
		var b plainBody
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("decode: %v", err)
		}
		return notifytest.Seen{Text: b.Text, RunID: b.RunID, ReportID: b.ID, DetailsURL: b.Details, Failures: b.Failures, More: b.More}
	})
}

func TestPosterWaits(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "2.5")
			w.WriteHeader(429)
		case 2:
			w.WriteHeader(502)
		default:
			w.WriteHeader(204)
		}
	}))
	defer srv.Close()
	var waits []time.Duration
	var attempts []int
	p := &deliver.Poster{Notifier: "x", URL: srv.URL, Retry: notify.Retry{
		Attempts: 3,
		Backoff:  func(n int) time.Duration { return time.Duration(n) * time.Minute },
		Wait: func(ctx context.Context, d time.Duration) error {
			waits = append(waits, d)
			return nil
		},
	}, Prepare: func(req *http.Request, attempt int) error {
		attempts = append(attempts, attempt)
		return nil
	}}
	if err := p.Post(t.Context(), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 2 || waits[0] != 2500*time.Millisecond || waits[1] != 2*time.Minute {
		t.Errorf("waits = %v, want [2.5s (Retry-After) 2m (backoff after attempt 2)]", waits)
	}
	if len(attempts) != 3 || attempts[2] != 3 {
		t.Errorf("Prepare saw attempts %v", attempts)
	}
}

func TestPosterMaxWait(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(503)
	}))
	defer srv.Close()
	p := &deliver.Poster{Notifier: "x", URL: srv.URL, Retry: notifytest.Retry()}
	err := p.Post(t.Context(), []byte(`{}`))
	if !errors.Is(err, notify.ErrWaitTooLong) {
		t.Errorf("err = %v, want ErrWaitTooLong (120 s is over the default 60 s)", err)
	}
}

func TestPosterScrubsSecrets(t *testing.T) {
	t.Parallel()
	p := &deliver.Poster{Notifier: "x", URL: "http://127.0.0.1:1/hook/SECRETPATH?sig=SECRETSIG", Target: "http://127.0.0.1:1/***",
		Secrets: []string{"SIGNINGKEY"}, Retry: notify.Retry{Attempts: 1},
		Prepare: func(req *http.Request, attempt int) error {
			return errors.New("cannot sign with SIGNINGKEY for " + req.URL.String())
		}}
	err := p.Post(t.Context(), []byte(`{}`))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, s := range []string{"SECRETPATH", "SECRETSIG", "SIGNINGKEY"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error shows %s: %v", s, err)
		}
	}
}

func TestCode(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		"channel_not_found\n":   "channel_not_found",
		"invalid_payload":       "invalid_payload",
		"":                      "",
		"<html>oops</html>":     "",
		strings.Repeat("a", 65): "",
		"no service":            "",
	} {
		if got := deliver.Code([]byte(body)); got != want {
			t.Errorf("Code(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"5", 5 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"-1", 0, false},
		{"NaN", 0, false},
		{"soon", 0, false},
		{"Mon, 02 Mar 2026 09:00:30 GMT", 30 * time.Second, true},
		{"Mon, 02 Mar 2026 08:00:00 GMT", 0, true},
	}
	for _, tt := range tests {
		got, ok := deliver.ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "1.5", "Mon, 02 Mar 2026 09:00:30 GMT", "1e308", "-0", "Inf"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := deliver.ParseRetryAfter(s, now)
		if d < 0 || (!ok && d != 0) {
			t.Errorf("ParseRetryAfter(%q) = %s, %v", s, d, ok)
		}
	})
}
