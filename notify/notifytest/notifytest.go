// Package notifytest is the conformance suite every HTTP notifier passes:
// Run starts a local HTTP server per promise, hands its URL to the
// notifier under test, and checks what arrives and what comes back.
//
// The promises: the payload carries the title, the counts, the failures
// (the first ones, with how many more), the details link and the report's
// stable id (the same on every retry, for receivers to drop repeats); a huge failure
// list is cut, not refused; 4xx is never retried; 5xx and 429 are retried
// within the context; a Retry-After past the deadline ends at once; a
// cancelled context ends delivery; redirects are not followed; and no error
// carries a secret of the URL.
//
// Only tests import it.
package notifytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
)

// The secret parts of the URL Run hands the factory: the last path segment
// (where Slack and legacy Teams keep their token) and the sig query
// parameter (where Workflows keep theirs). No error may contain them.
const (
	SecretToken = "tok3nS3cretXyzzy"
	SecretSig   = "s1gS3cretPlugh"
)

// Seen is what a decoder found in one payload.
type Seen struct {
	Text       string   // every text a person would read, joined
	RunID      string   // the run id the payload names
	ReportID   string   // the report's stable id (notify.Report.ID) the payload carries
	DetailsURL string   // the link to the details
	Failures   []string // the addresses of the failures listed, in order
	More       int      // how many failures the payload says it left out
}

// Retry is the retry policy a notifier under test should use: the default
// attempts and backoff, with waits that return at once (or with the
// context's error), so that the suite never sleeps.
func Retry() notify.Retry {
	return notify.Retry{Wait: NoWait}
}

// NoWait returns at once: ctx's error, or nil.
func NoWait(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// Run runs the suite. newNotifier builds the notifier under test for url
// (with Retry() as its retry policy); decode reads one request body, failing
// t if the payload breaks the service's own rules (sizes, required fields).
func Run(t *testing.T, newNotifier func(t *testing.T, url string) notify.Notifier, decode func(t *testing.T, body []byte) Seen) {
	s := suite{newNotifier: newNotifier, decode: decode}
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"Delivers", s.delivers},
		{"NoFailures", s.noFailures},
		{"ManyFailuresAreCut", s.manyFailures},
		{"ClientErrorIsNotRetried", s.clientError},
		{"ServerErrorIsRetried", s.serverError},
		{"TooManyRequestsIsRetried", s.tooManyRequests},
		{"GivesUpAfterAttempts", s.givesUp},
		{"RetryAfterPastDeadline", s.retryAfterPastDeadline},
		{"Cancelled", s.cancelled},
		{"Unreachable", s.unreachable},
		{"RedirectNotFollowed", s.redirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}

type suite struct {
	newNotifier func(t *testing.T, url string) notify.Notifier
	decode      func(t *testing.T, body []byte) Seen
}

// reply is one scripted answer.
type reply struct {
	status int
	header map[string]string
	body   string
	block  bool // hold the request until the client gives up
}

var ok = reply{status: 200, body: "ok"}

// server answers from a script; the last reply repeats.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	script []reply
	bodies [][]byte
	got    chan struct{} // a value per request
	done   chan struct{}
}

func newServer(t *testing.T, script ...reply) *server {
	s := &server{script: script, got: make(chan struct{}, 100), done: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		close(s.done)
		s.Close()
	})
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := len(s.bodies)
	s.bodies = append(s.bodies, body)
	rep := s.script[min(i, len(s.script)-1)]
	bad := ""
	switch {
	case r.Method != http.MethodPost:
		bad = "method " + r.Method
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		bad = "content type " + r.Header.Get("Content-Type")
	}
	s.mu.Unlock()
	s.got <- struct{}{}
	if bad != "" {
		http.Error(w, "suite: want a JSON POST, got "+bad, http.StatusTeapot)
		return
	}
	if rep.block {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (s *server) requests() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

func (s *server) hookURL() string {
	return s.URL + "/services/T0SUITE/B0SUITE/" + SecretToken + "?sig=" + SecretSig
}

// Report returns the report the suite sends: a finished apply with
// failures failed rows among 120.
func Report(failures int) notify.Report {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := notify.Report{
		RunID: "run-0042", Kind: foyer.RunApply, Profile: "partners", Tenant: "contoso",
		Source: "guests.csv", StartedAt: start, FinishedAt: start.Add(2*time.Minute + 13*time.Second),
		DetailsURL: "https://foyer.example/runs/run-0042",
		Summary: foyer.Summary{Rows: 120,
			Actions: map[foyer.Action]int{foyer.ActionInvite: 100, foyer.ActionExists: 15, foyer.ActionSkip: 2, foyer.ActionDuplicate: 1, foyer.ActionInvalid: 2},
			Results: map[foyer.Result]int{}},
	}
	ok := 120 - 5 - failures
	r.Summary.Results[foyer.ResultInvited] = ok * 9 / 10
	r.Summary.Results[foyer.ResultGranted] = ok - ok*9/10
	r.Summary.Results[foyer.ResultSkipped] = 5
	r.Summary.Results[foyer.ResultFailed] = failures
	for i := range failures {
		r.Failures = append(r.Failures, notify.Failure{Line: i + 2, Email: fmt.Sprintf("guest%03d@partner.example", i),
			Reason: fmt.Sprintf("forbidden: the app may not add members to group %d", i)})
	}
	return r
}

func (s suite) notify(t *testing.T, srv *server, ctx context.Context, r notify.Report) error {
	t.Helper()
	n := s.newNotifier(t, srv.hookURL())
	if n.Name() == "" || strings.Contains(n.Name(), SecretToken) {
		t.Errorf("Name() = %q", n.Name())
	}
	return n.Notify(ctx, r)
}

func (s suite) delivers(t *testing.T) {
	srv := newServer(t, ok)
	r := Report(3)
	if err := s.notify(t, srv, t.Context(), r); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	bodies := srv.requests()
	if len(bodies) != 1 {
		t.Fatalf("%d requests, want 1", len(bodies))
	}
	seen := s.decode(t, bodies[0])
	checkSeen(t, seen, r)
	if len(seen.Failures) != 3 || seen.More != 0 {
		t.Errorf("payload lists %d failures and %d more, want 3 and 0", len(seen.Failures), seen.More)
	}
	for _, f := range r.Failures {
		if !strings.Contains(seen.Text, f.Reason) {
			t.Errorf("payload text lacks the reason %q", f.Reason)
		}
	}
}

func checkSeen(t *testing.T, seen Seen, r notify.Report) {
	t.Helper()
	if seen.RunID != r.RunID {
		t.Errorf("payload names run %q, want %q", seen.RunID, r.RunID)
	}
	if seen.ReportID != r.ID() {
		t.Errorf("payload carries the report id %q, want %q", seen.ReportID, r.ID())
	}
	if seen.DetailsURL != r.DetailsURL {
		t.Errorf("payload links %q, want %q", seen.DetailsURL, r.DetailsURL)
	}
	for _, want := range []string{"apply", r.Tenant, r.Profile} {
		if !strings.Contains(seen.Text, want) {
			t.Errorf("payload text lacks %q:\n%s", want, seen.Text)
		}
	}
	for _, c := range append(r.ActionCounts(), r.ResultCounts()...) {
		if !strings.Contains(seen.Text, c.Name) || !strings.Contains(seen.Text, strconv.Itoa(c.N)) {
			t.Errorf("payload text lacks the count %s %d:\n%s", c.Name, c.N, seen.Text)
		}
	}
	for i, email := range seen.Failures {
		if i >= len(r.Failures) || email != r.Failures[i].Email {
			t.Errorf("failure %d listed as %q, want the report's failures in order", i, email)
			break
		}
	}
}

func (s suite) noFailures(t *testing.T) {
	srv := newServer(t, ok)
	r := Report(0)
	if err := s.notify(t, srv, t.Context(), r); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	seen := s.decode(t, srv.requests()[0])
	checkSeen(t, seen, r)
	if len(seen.Failures) != 0 || seen.More != 0 {
		t.Errorf("payload lists %d failures and %d more, want none", len(seen.Failures), seen.More)
	}
}

func (s suite) manyFailures(t *testing.T) {
	srv := newServer(t, ok)
	r := Report(100)
	for i := range 400 {
		// Long addresses and reasons, past what any chat service shows.
		r.Failures = append(r.Failures, notify.Failure{Line: 200 + i,
			Email:  fmt.Sprintf("%s%03d@%s.example", strings.Repeat("x", 60), i, strings.Repeat("d", 60)),
			Reason: strings.Repeat("the directory refused this row for a long reason; ", 40)})
	}
	r.Summary.Results[foyer.ResultFailed] = len(r.Failures)
	if err := s.notify(t, srv, t.Context(), r); err != nil {
		t.Fatalf("Notify with %d failures: %v", len(r.Failures), err)
	}
	seen := s.decode(t, srv.requests()[0])
	checkSeen(t, seen, r)
	if len(seen.Failures) == 0 {
		t.Errorf("payload lists no failure")
	}
	if got := len(seen.Failures) + seen.More; got != len(r.Failures) {
		t.Errorf("payload lists %d failures and %d more = %d, want %d", len(seen.Failures), seen.More, got, len(r.Failures))
	}
}

func (s suite) clientError(t *testing.T) {
	srv := newServer(t, reply{status: 400, body: "invalid_payload"})
	err := s.notify(t, srv, t.Context(), Report(1))
	e := checkErr(t, err)
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d requests after a 400, want 1 (4xx is never retried)", n)
	}
	if e != nil && (e.Status != 400 || e.Temporary) {
		t.Errorf("error status %d temporary %v, want 400 and false", e.Status, e.Temporary)
	}
}

func (s suite) serverError(t *testing.T) {
	srv := newServer(t, reply{status: 500, body: "rollup_error"}, ok)
	r := Report(1)
	if err := s.notify(t, srv, t.Context(), r); err != nil {
		t.Fatalf("Notify after one 500: %v", err)
	}
	bodies := srv.requests()
	if n := len(bodies); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	for i, b := range bodies {
		if id := s.decode(t, b).ReportID; id != r.ID() {
			t.Errorf("attempt %d carries the report id %q, want %q", i+1, id, r.ID())
		}
	}
}

func (s suite) tooManyRequests(t *testing.T) {
	srv := newServer(t, reply{status: 429, header: map[string]string{"Retry-After": "1"}, body: "rate_limited"}, ok)
	if err := s.notify(t, srv, t.Context(), Report(1)); err != nil {
		t.Fatalf("Notify after one 429: %v", err)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func (s suite) givesUp(t *testing.T) {
	srv := newServer(t, reply{status: 503, body: "unavailable"})
	err := s.notify(t, srv, t.Context(), Report(1))
	e := checkErr(t, err)
	if n := len(srv.requests()); n < 2 || n > 10 {
		t.Errorf("%d requests against a service that always answers 503, want a few retries and then an error", n)
	}
	if e != nil && (!e.Temporary || e.Status != 503) {
		t.Errorf("error status %d temporary %v, want 503 and true", e.Status, e.Temporary)
	}
}

func (s suite) retryAfterPastDeadline(t *testing.T) {
	srv := newServer(t, reply{status: 429, header: map[string]string{"Retry-After": "7200"}}, ok)
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()
	err := s.notify(t, srv, ctx, Report(1))
	checkErr(t, err)
	if !errors.Is(err, notify.ErrWaitTooLong) {
		t.Errorf("err = %v, want notify.ErrWaitTooLong in its chain", err)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d requests, want 1: a wait past the deadline is not worth starting", n)
	}
}

func (s suite) cancelled(t *testing.T) {
	srv := newServer(t, reply{block: true})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	n := s.newNotifier(t, srv.hookURL())
	go func() { errc <- n.Notify(ctx, Report(1)) }()
	<-srv.got
	cancel()
	err := <-errc
	checkErr(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled in its chain", err)
	}
}

func (s suite) unreachable(t *testing.T) {
	srv := newServer(t, ok)
	url := srv.hookURL()
	srv.Close()
	n := s.newNotifier(t, url)
	err := n.Notify(t.Context(), Report(1))
	e := checkErr(t, err)
	if e != nil && (e.Status != 0 || !e.Temporary) {
		t.Errorf("error status %d temporary %v, want 0 and true", e.Status, e.Temporary)
	}
}

func (s suite) redirect(t *testing.T) {
	other := newServer(t, ok)
	srv := newServer(t, reply{status: 302, header: map[string]string{"Location": other.URL + "/elsewhere"}})
	err := s.notify(t, srv, t.Context(), Report(1))
	checkErr(t, err)
	if n := len(other.requests()); n != 0 {
		t.Errorf("the redirect was followed (%d requests to its target)", n)
	}
}

// checkErr fails t unless err is a *notify.Error without any secret.
func checkErr(t *testing.T, err error) *notify.Error {
	t.Helper()
	if err == nil {
		t.Fatal("Notify returned nil, want an error")
	}
	for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(text, SecretToken) || strings.Contains(text, SecretSig) {
			t.Errorf("the error shows a secret of the URL: %s", text)
		}
	}
	var e *notify.Error
	if !errors.As(err, &e) {
		t.Errorf("err = %T %v, want a *notify.Error in its chain", err, err)
		return nil
	}
	if e.Notifier == "" || e.Attempts < 1 {
		t.Errorf("error names notifier %q after %d attempts", e.Notifier, e.Attempts)
	}
	return e
}
