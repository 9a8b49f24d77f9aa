package webhook_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/notifytest"
	"github.com/foyer-dev/foyer/notify/webhook"
)

const secret = "0123456789abcdef0123456789abcdef"

var now = time.Date(2026, 3, 2, 9, 5, 0, 0, time.UTC)

func clock() foyer.Clock { return foyer.ClockFunc(func() time.Time { return now }) }

func TestConformance(t *testing.T) {
	notifytest.Run(t, func(t *testing.T, url string) notify.Notifier {
		n, err := webhook.New(url, secret, webhook.Options{Retry: notifytest.Retry(), Clock: clock()})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}, decode)
}

// decode reads an event strictly: unknown fields, a wrong type or version
// fail t.
func decode(t *testing.T, body []byte) notifytest.Seen {
	t.Helper()
	var e webhook.Event
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("decode the event: %v\n%s", err, body)
	}
	if e.Type != webhook.EventRunFinished || e.Version != 1 || e.ID != e.Run.ID {
		t.Errorf("event type %q version %d id %q", e.Type, e.Version, e.ID)
	}
	if e.FailuresTotal != len(e.Failures)+e.FailuresOmitted {
		t.Errorf("failures_total %d != %d listed + %d omitted", e.FailuresTotal, len(e.Failures), e.FailuresOmitted)
	}
	var text strings.Builder
	fmt.Fprintln(&text, e.Title, e.Run.Kind, e.Run.Tenant, e.Run.Profile, e.Run.Source)
	for k, v := range e.Summary.Actions {
		fmt.Fprintln(&text, k, v)
	}
	for k, v := range e.Summary.Results {
		fmt.Fprintln(&text, k, v)
	}
	seen := notifytest.Seen{RunID: e.Run.ID, DetailsURL: e.Run.DetailsURL, More: e.FailuresOmitted}
	for _, f := range e.Failures {
		fmt.Fprintln(&text, f.Line, f.Email, f.Reason)
		seen.Failures = append(seen.Failures, f.Email)
	}
	seen.Text = text.String()
	return seen
}

func TestEventSchema(t *testing.T) {
	t.Parallel()
	r := notifytest.Report(3)
	r.Source = "https://acct.blob.core.windows.net/in/guests.csv?sig=SAS"
	b, err := json.Marshal(webhook.NewEvent(r, 2))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := `{"failures":[{"email":"guest000@partner.example","line":2,"reason":"forbidden: the app may not add members to group 0"},{"email":"guest001@partner.example","line":3,"reason":"forbidden: the app may not add members to group 1"}],"failures_omitted":1,"failures_total":3,"id":"run-0042","run":{"details_url":"https://foyer.example/runs/run-0042","duration_seconds":133,"finished_at":"2026-03-02T09:02:13Z","id":"run-0042","kind":"apply","outcome":"failed","profile":"partners","source":"https://acct.blob.core.windows.net/in/guests.csv","started_at":"2026-03-02T09:00:00Z","tenant":"contoso"},"summary":{"actions":{"duplicate":1,"exists":15,"invalid":2,"invite":100,"skip":2},"results":{"failed":3,"granted":12,"invited":100,"skipped":5},"rows":120},"title":"foyer apply on contoso: 3 of 120 rows failed","type":"foyer.run.finished","version":1}`
	norm, _ := json.Marshal(got)
	if string(norm) != want {
		t.Errorf("event =\n%s\nwant\n%s", norm, want)
	}
}

// TestSignedDelivery checks a delivery end to end: the receiver verifies
// the signature with Verify and sees the idempotency key and attempt on
// each try.
func TestSignedDelivery(t *testing.T) {
	t.Parallel()
	type seen struct{ sig, key, attempt, event string }
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Header.Get(webhook.HeaderSignature), r.Header.Get(webhook.HeaderIdempotency), r.Header.Get(webhook.HeaderAttempt), r.Header.Get(webhook.HeaderEvent)})
		first := len(got) == 1
		mu.Unlock()
		if err := webhook.Verify([]byte(secret), r.Header.Get(webhook.HeaderSignature), body, now.Add(time.Minute), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	n, err := webhook.New(srv.URL+"/hooks/foyer", secret, webhook.Options{Retry: notifytest.Retry(), Clock: clock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(t.Context(), notifytest.Report(2)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want 2", len(got))
	}
	for i, g := range got {
		if g.key != "run-0042" || g.attempt != fmt.Sprint(i+1) || g.event != "foyer.run.finished" || !strings.HasPrefix(g.sig, "t=1772442300,v1=") {
			t.Errorf("delivery %d headers = %+v", i+1, g)
		}
	}
}

func TestWrongSecretIsRefusedByReceiver(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify([]byte("another-secret-of-32-bytes......"), r.Header.Get(webhook.HeaderSignature), body, now, 0); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	n, _ := webhook.New(srv.URL, secret, webhook.Options{Retry: notifytest.Retry(), Clock: clock()})
	err := n.Notify(t.Context(), notifytest.Report(0))
	var e *notify.Error
	if !errors.As(err, &e) || e.Status != 401 || e.Attempts != 1 {
		t.Fatalf("err = %v, want one 401", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the secret: %v", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"foyer.run.finished"}`)
	good := webhook.Sign([]byte(secret), now, body)
	rotated := good + ",v1=" + strings.Repeat("00", 32)
	tests := []struct {
		name   string
		header string
		body   []byte
		at     time.Time
		want   error
	}{
		{"good", good, body, now, nil},
		{"good within tolerance", good, body, now.Add(4 * time.Minute), nil},
		{"two v1, one matches", "t=1772442300,v1=" + strings.Repeat("ab", 32) + "," + strings.TrimPrefix(good, "t=1772442300,"), body, now, nil},
		{"rotated", rotated, body, now, nil},
		{"missing", "", body, now, webhook.ErrNoSignature},
		{"garbage", "sha256=abc", body, now, webhook.ErrBadHeader},
		{"no v1", "t=1772442300", body, now, webhook.ErrBadHeader},
		{"short v1", "t=1772442300,v1=abcd", body, now, webhook.ErrBadHeader},
		{"stale", good, body, now.Add(6 * time.Minute), webhook.ErrStaleTimestamp},
		{"future", good, body, now.Add(-6 * time.Minute), webhook.ErrStaleTimestamp},
		{"tampered body", good, []byte(`{"type":"foyer.run.finished "}`), now, webhook.ErrBadSignature},
		{"other timestamp", strings.Replace(good, "t=1772442300", "t=1772442301", 1), body, now, webhook.ErrBadSignature},
	}
	for _, tt := range tests {
		err := webhook.Verify([]byte(secret), tt.header, tt.body, tt.at, 0)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	if _, err := webhook.New("https://receiver.example/hook", "short", webhook.Options{}); err == nil || strings.Contains(err.Error(), "short\"") {
		t.Errorf("a short secret: %v", err)
	}
	if _, err := webhook.New("http://receiver.example/SECRETPATH", secret, webhook.Options{}); err == nil || strings.Contains(err.Error(), "SECRETPATH") {
		t.Errorf("plain http: %v", err)
	}
}

func FuzzParseSignature(f *testing.F) {
	f.Add("t=1772442300,v1=" + strings.Repeat("ab", 32))
	f.Add("t=1,v1=00,v0=zz")
	f.Add(",,,=")
	f.Fuzz(func(t *testing.T, h string) {
		s, err := webhook.ParseSignature(h)
		if err != nil {
			return
		}
		if s.Timestamp <= 0 || len(s.V1) == 0 {
			t.Errorf("ParseSignature(%q) = %+v without error", h, s)
		}
		for _, v := range s.V1 {
			if len(v) != 32 {
				t.Errorf("v1 of %d bytes", len(v))
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 16<<10)
	h := webhook.Sign([]byte(secret), now, body)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := webhook.Verify([]byte(secret), h, body, now, 0); err != nil {
			b.Fatal(err)
		}
	}
}
