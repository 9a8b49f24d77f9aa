package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
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
	if e.Type != webhook.EventRunFinished || e.Version != 1 || e.ID != "apply_finished_"+e.Run.ID {
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
	seen := notifytest.Seen{RunID: e.Run.ID, ReportID: e.ID, DetailsURL: e.Run.DetailsURL, More: e.FailuresOmitted}
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
	want := `{"failures":[{"email":"guest000@partner.example","line":2,"reason":"forbidden: the app may not add members to group 0"},{"email":"guest001@partner.example","line":3,"reason":"forbidden: the app may not add members to group 1"}],"failures_omitted":1,"failures_total":3,"id":"apply_finished_run-0042","run":{"details_url":"https://foyer.example/runs/run-0042","duration_seconds":133,"finished_at":"2026-03-02T09:02:13Z","id":"run-0042","kind":"apply","outcome":"failed","profile":"partners","source":"https://acct.blob.core.windows.net/in/guests.csv","started_at":"2026-03-02T09:00:00Z","tenant":"contoso"},"summary":{"actions":{"duplicate":1,"exists":15,"invalid":2,"invite":100,"skip":2},"results":{"failed":3,"granted":12,"invited":100,"skipped":5},"rows":120},"title":"foyer apply on contoso: 3 of 120 rows failed","type":"foyer.run.finished","version":1}`
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
		if g.key != "apply_finished_run-0042" || g.attempt != fmt.Sprint(i+1) || g.event != "foyer.run.finished" || !strings.HasPrefix(g.sig, "t=1772442300,v1=") {
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

// delivery is one request as a receiver got it.
type delivery struct {
	header http.Header
	body   []byte
}

// deliveries posts report (1 = first attempt answered 503, so it is sent
// twice) to a server that keeps every request.
func deliveries(t *testing.T, r notify.Report) []delivery {
	t.Helper()
	var mu sync.Mutex
	var got []delivery
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		mu.Lock()
		got = append(got, delivery{req.Header.Clone(), body})
		first := len(got) == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	n, err := webhook.New(srv.URL, secret, webhook.Options{Retry: notifytest.Retry(), Clock: clock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want 2", len(got))
	}
	return got
}

// standardVerify is a receiver written from the Standard Webhooks spec
// alone, as a receiver in another language would be: HMAC-SHA256 of
// "webhook-id.webhook-timestamp.body", base64, compared with each "v1,…"
// of webhook-signature.
func standardVerify(key []byte, h http.Header, body []byte) (string, bool) {
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return id, id != ""
		}
	}
	return "", false
}

// TestReceiversDedupeOnASignedID checks that the id a receiver drops
// repeats by is signed: the same on every retry of a report, in the body
// and in webhook-id, verified by a Standard Webhooks receiver and by
// VerifyRequest; and that a delivery whose id was changed without signing
// it again is refused by both.
func TestReceiversDedupeOnASignedID(t *testing.T) {
	t.Parallel()
	r := notifytest.Report(2)
	got := deliveries(t, r)
	for i, d := range got {
		var ev webhook.Event
		if err := json.Unmarshal(d.body, &ev); err != nil {
			t.Fatal(err)
		}
		id, ok := standardVerify([]byte(secret), d.header, d.body)
		if !ok || id != r.ID() || ev.ID != r.ID() || d.header.Get(webhook.HeaderIdempotency) != r.ID() {
			t.Errorf("attempt %d: standard receiver %v id %q, body id %q, Idempotency-Key %q; want %q everywhere",
				i+1, ok, id, ev.ID, d.header.Get(webhook.HeaderIdempotency), r.ID())
		}
		id, err := webhook.VerifyRequest([]byte(secret), d.header, d.body, now.Add(time.Minute), 0)
		if err != nil || id != r.ID() {
			t.Errorf("attempt %d: VerifyRequest = %q, %v", i+1, id, err)
		}
	}

	d := got[1]
	with := func(change func(h http.Header)) http.Header {
		h := d.header.Clone()
		change(h)
		return h
	}
	var ev webhook.Event
	if err := json.Unmarshal(d.body, &ev); err != nil {
		t.Fatal(err)
	}
	otherBody := bytes.Replace(d.body, []byte(`"id":"`+ev.ID+`"`), []byte(`"id":"apply_finished_run-0043"`), 1)
	if bytes.Equal(otherBody, d.body) {
		t.Fatal("the body has no id to change")
	}
	tampered := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"webhook-id changed", with(func(h http.Header) { h.Set("webhook-id", "apply_finished_run-0043") }), d.body, webhook.ErrBadSignature},
		{"both id headers changed", with(func(h http.Header) {
			h.Set("webhook-id", "apply_finished_run-0043")
			h.Set(webhook.HeaderIdempotency, "apply_finished_run-0043")
		}), d.body, webhook.ErrBadSignature},
		{"Idempotency-Key changed", with(func(h http.Header) { h.Set(webhook.HeaderIdempotency, "apply_finished_run-0043") }), d.body, webhook.ErrIDMismatch},
		{"body id changed", d.header, otherBody, webhook.ErrBadSignature},
		{"body id and webhook-id changed", with(func(h http.Header) { h.Set("webhook-id", "apply_finished_run-0043") }), otherBody, webhook.ErrBadSignature},
		{"timestamp changed", with(func(h http.Header) { h.Set("webhook-timestamp", "1772442301") }), d.body, webhook.ErrBadSignature},
	}
	for _, tt := range tampered {
		if tt.want != webhook.ErrIDMismatch { // the standard scheme does not sign Idempotency-Key
			if _, ok := standardVerify([]byte(secret), tt.header, tt.body); ok {
				t.Errorf("%s: the standard receiver accepts it", tt.name)
			}
		}
		if id, err := webhook.VerifyRequest([]byte(secret), tt.header, tt.body, now, 0); !errors.Is(err, tt.want) {
			t.Errorf("%s: VerifyRequest = %q, %v; want %v", tt.name, id, err, tt.want)
		}
	}
}

func TestVerifyRequest(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"foyer.run.finished","id":"apply_finished_r1"}`)
	headers := func(id string, at time.Time, sig string) http.Header {
		h := http.Header{}
		h.Set(webhook.HeaderWebhookID, id)
		h.Set(webhook.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
		h.Set(webhook.HeaderWebhookSignature, sig)
		return h
	}
	good := webhook.SignStandard([]byte(secret), "apply_finished_r1", now, body)
	other := webhook.SignStandard([]byte("an-older-secret-of-32-bytes....."), "apply_finished_r1", now, body)
	tests := []struct {
		name string
		h    http.Header
		body []byte
		at   time.Time
		want error
	}{
		{"good", headers("apply_finished_r1", now, good), body, now, nil},
		{"rotated: two secrets", headers("apply_finished_r1", now, other+" "+good), body, now.Add(4 * time.Minute), nil},
		{"an asymmetric signature beside", headers("apply_finished_r1", now, "v1a,AAAA "+good), body, now, nil},
		{"no signature", headers("apply_finished_r1", now, ""), body, now, webhook.ErrNoSignature},
		{"no id", headers("", now, good), body, now, webhook.ErrBadHeader},
		{"id with a dot", headers("apply.r1", now, good), body, now, webhook.ErrBadHeader},
		{"timestamp not a number", func() http.Header {
			h := headers("apply_finished_r1", now, good)
			h.Set(webhook.HeaderWebhookTimestamp, "1772442300.5")
			return h
		}(), body, now, webhook.ErrBadHeader},
		{"no v1", headers("apply_finished_r1", now, "v2,abc"), body, now, webhook.ErrBadHeader},
		{"stale", headers("apply_finished_r1", now, good), body, now.Add(6 * time.Minute), webhook.ErrStaleTimestamp},
		{"wrong secret", headers("apply_finished_r1", now, other), body, now, webhook.ErrBadSignature},
		{"not base64", headers("apply_finished_r1", now, "v1,@@@"), body, now, webhook.ErrBadSignature},
		{"body without id", headers("apply_finished_r1", now, webhook.SignStandard([]byte(secret), "apply_finished_r1", now, []byte(`{}`))), []byte(`{}`), now, webhook.ErrIDMismatch},
		{"body id differs", headers("apply_finished_r2", now, webhook.SignStandard([]byte(secret), "apply_finished_r2", now, body)), body, now, webhook.ErrIDMismatch},
	}
	for _, tt := range tests {
		id, err := webhook.VerifyRequest([]byte(secret), tt.h, tt.body, tt.at, 0)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) || (err == nil && id != "apply_finished_r1") {
			t.Errorf("%s: VerifyRequest = %q, %v; want %v", tt.name, id, err, tt.want)
		}
	}
}

// FuzzVerifyRequest checks that VerifyRequest accepts a delivery only when
// its webhook-signature holds the v1 signature of its id, timestamp and
// body, and returns that id.
func FuzzVerifyRequest(f *testing.F) {
	body := `{"id":"apply_finished_r1"}`
	f.Add("apply_finished_r1", "1772442300", webhook.SignStandard([]byte(secret), "apply_finished_r1", now, []byte(body)), body, "")
	f.Add("apply_finished_r1", "1772442300", "v1,AAAA v1a,BBBB", body, "apply_finished_r1")
	f.Add("a.b", "01772442300", "v1,", `{"id":"a.b"}`, "x")
	f.Fuzz(func(t *testing.T, id, ts, sig, body, key string) {
		h := http.Header{}
		h.Set(webhook.HeaderWebhookID, id)
		h.Set(webhook.HeaderWebhookTimestamp, ts)
		h.Set(webhook.HeaderWebhookSignature, sig)
		if key != "" {
			h.Set(webhook.HeaderIdempotency, key)
		}
		got, err := webhook.VerifyRequest([]byte(secret), h, []byte(body), now, 0)
		if err != nil {
			return
		}
		sec, _ := strconv.ParseInt(ts, 10, 64)
		want := webhook.SignStandard([]byte(secret), id, time.Unix(sec, 0), []byte(body))
		if got != h.Get(webhook.HeaderWebhookID) || !slices.Contains(strings.Fields(sig), want) {
			t.Errorf("VerifyRequest accepted id %q ts %q sig %q body %q as %q", id, ts, sig, body, got)
		}
	})
}
