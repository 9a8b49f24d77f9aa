// Package webhook posts run reports to any HTTPS endpoint as versioned JSON
// (schema "foyer.run.finished" version 1, see Event), signed with
// HMAC-SHA256 twice: the body in the Foyer-Signature header, and the
// delivery's id, timestamp and body the Standard Webhooks way (webhook-id,
// webhook-timestamp, webhook-signature). The id is the report's
// (notify.Report.ID), the same on every retry and also in the body's "id":
// receivers drop repeats by it, never by an unsigned header.
// VerifyRequest is what a receiver written in Go calls to check a delivery
// and get its id; docs/notify.md says how to check it in any language.
//
// Only cmd/foyer/cli, this package's tests and receivers import it.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/internal/deliver"
)

// The event this package sends, and its schema version. A change that
// removes or renames a field gets a new version; new fields may appear in
// any version, so receivers must ignore fields they do not know.
const (
	EventRunFinished = "foyer.run.finished"
	SchemaVersion    = 1
)

// Headers of a delivery.
const (
	HeaderSignature = "Foyer-Signature" // t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
	HeaderEvent     = "Foyer-Event"     // the event type
	// HeaderIdempotency is the report's id, as in webhook-id and the body's
	// "id". It is not signed: a receiver that reads it must check it
	// against a signed one (VerifyRequest does).
	HeaderIdempotency = "Idempotency-Key"
	HeaderAttempt     = "Foyer-Attempt" // 1 for the first try, 2 for the first retry, …
	// The Standard Webhooks headers: the report's id, the unix seconds of
	// the attempt, and "v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">"
	// (SignStandard).
	HeaderWebhookID        = "Webhook-Id"
	HeaderWebhookTimestamp = "Webhook-Timestamp"
	HeaderWebhookSignature = "Webhook-Signature"
)

// MinSecretLen is the shortest signing secret New accepts, in bytes.
const MinSecretLen = 16

// Event is the JSON body of a delivery.
type Event struct {
	Type    string `json:"type"`    // EventRunFinished
	Version int    `json:"version"` // SchemaVersion
	// ID is the report's id (notify.Report.ID): the same on every retry of
	// the report and in the webhook-id header, and different for any
	// other report. It is signed with the body: drop repeats by it.
	ID      string  `json:"id"`
	Title   string  `json:"title"` // the line a person reads first
	Run     Run     `json:"run"`
	Summary Summary `json:"summary"`
	// Failures lists the failed rows in input order, at most
	// Options.MaxFailures of them; FailuresOmitted says how many more
	// there are.
	Failures        []Failure `json:"failures"`
	FailuresTotal   int       `json:"failures_total"`
	FailuresOmitted int       `json:"failures_omitted"`
}

// Run describes the run.
type Run struct {
	ID              string     `json:"id"`
	Kind            string     `json:"kind"` // apply or revoke
	Profile         string     `json:"profile,omitempty"`
	Tenant          string     `json:"tenant,omitempty"`
	Source          string     `json:"source,omitempty"` // without any query string
	StartedAt       *time.Time `json:"started_at,omitempty"`
	FinishedAt      *time.Time `json:"finished_at,omitempty"`
	DurationSeconds float64    `json:"duration_seconds"`
	Outcome         string     `json:"outcome"` // ok, or failed when a row failed
	DetailsURL      string     `json:"details_url,omitempty"`
}

// Summary counts rows by planned action and by result; zero counts are
// left out.
type Summary struct {
	Rows    int            `json:"rows"`
	Actions map[string]int `json:"actions"`
	Results map[string]int `json:"results"`
}

// Failure is one failed row.
type Failure struct {
	Line   int    `json:"line"`
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

// NewEvent renders r as an Event listing at most maxFailures failures.
func NewEvent(r notify.Report, maxFailures int) Event {
	e := Event{
		Type: EventRunFinished, Version: SchemaVersion, ID: r.ID(), Title: r.Title(),
		Run: Run{ID: r.RunID, Kind: string(r.Kind), Profile: r.Profile, Tenant: r.Tenant, Source: notify.SafeSource(r.Source),
			DurationSeconds: r.Duration().Seconds(), Outcome: r.Outcome(), DetailsURL: notify.SafeLink(r.DetailsURL)},
		Summary:  Summary{Rows: r.Summary.Rows, Actions: map[string]int{}, Results: map[string]int{}},
		Failures: []Failure{},
	}
	if !r.StartedAt.IsZero() {
		t := r.StartedAt.UTC()
		e.Run.StartedAt = &t
	}
	if !r.FinishedAt.IsZero() {
		t := r.FinishedAt.UTC()
		e.Run.FinishedAt = &t
	}
	for _, c := range r.ActionCounts() {
		e.Summary.Actions[c.Name] = c.N
	}
	for _, c := range r.ResultCounts() {
		e.Summary.Results[c.Name] = c.N
	}
	shown, more := r.Shown(maxFailures)
	for _, f := range shown {
		e.Failures = append(e.Failures, Failure{Line: f.Line, Email: f.Email, Reason: f.Reason})
	}
	e.FailuresOmitted = more
	e.FailuresTotal = len(shown) + more
	return e
}

// Options tune a Notifier. The zero value is ready to use.
type Options struct {
	Client *http.Client // nil for a client with a 30 s timeout
	Retry  notify.Retry // the zero value is notify's default policy
	Log    *slog.Logger // nil for none; it never sees the URL or the secret
	Clock  foyer.Clock  // the signature's timestamp; nil for the system clock
	// MaxFailures is how many failures an event lists, at most; 0 means
	// notify.KeptFailures, which is also the most a Report keeps.
	MaxFailures int
}

// Notifier posts events to one endpoint.
type Notifier struct {
	poster      deliver.Poster
	secret      []byte
	clock       foyer.Clock
	maxFailures int
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier that posts to endpoint and signs with secret
// (at least MinSecretLen bytes; share it with the receiver). Both are
// secrets: errors and logs show notify.RedactURL(endpoint) and never the
// secret.
func New(endpoint, secret string, opts Options) (*Notifier, error) {
	if _, err := notify.CheckWebhookURL(endpoint); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("webhook: the signing secret has %d bytes; it needs at least %d (e.g. openssl rand -hex 32)", len(secret), MinSecretLen)
	}
	n := &Notifier{secret: []byte(secret), clock: opts.Clock, maxFailures: opts.MaxFailures}
	if n.clock == nil {
		n.clock = foyer.SystemClock{}
	}
	if n.maxFailures <= 0 {
		n.maxFailures = notify.KeptFailures
	}
	n.poster = deliver.Poster{
		Notifier: "webhook", URL: strings.TrimSpace(endpoint), Target: notify.RedactURL(endpoint),
		Client: opts.Client, Retry: opts.Retry, Log: opts.Log, Clock: opts.Clock, Secrets: []string{secret},
	}
	return n, nil
}

// Name returns "webhook".
func (n *Notifier) Name() string { return "webhook" }

// Target returns the endpoint with its path and query masked.
func (n *Notifier) Target() string { return n.poster.Target }

// Notify posts the report as an Event. Every attempt carries fresh
// signatures over the same body and the same id (in the body, webhook-id
// and Idempotency-Key), so a receiver can drop repeats by a signed value.
func (n *Notifier) Notify(ctx context.Context, r notify.Report) error {
	ev := NewEvent(r, n.maxFailures)
	body, err := json.Marshal(ev)
	if err != nil {
		return &notify.Error{Notifier: "webhook", Target: n.poster.Target, Err: fmt.Errorf("encode the event: %w", err)}
	}
	p := n.poster
	p.Prepare = func(req *http.Request, attempt int) error {
		now := n.clock.Now()
		req.Header.Set(HeaderEvent, EventRunFinished)
		req.Header.Set(HeaderIdempotency, ev.ID)
		req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
		req.Header.Set(HeaderSignature, Sign(n.secret, now, body))
		req.Header.Set(HeaderWebhookID, ev.ID)
		req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(HeaderWebhookSignature, SignStandard(n.secret, ev.ID, now, body))
		return nil
	}
	return p.Post(ctx, body)
}
