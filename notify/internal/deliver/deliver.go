// Package deliver posts a JSON body to a webhook with the retry rules every
// foyer notifier shares: 2xx is delivered, 429 and 5xx are retried with
// Retry-After or backoff within the context, other 4xx never are, redirects
// are not followed, and no error or log line carries the URL.
//
// Only the notifiers under notify/ import it.
package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
)

// maxBody is how much of an answer is read.
const maxBody = 64 << 10

// Answer is what the service said.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte // at most 64 KiB
}

// Outcome is how a notifier reads an answer.
type Outcome struct {
	OK       bool
	Retry    bool          // trying again may work
	After    time.Duration // the service's Retry-After, when HasAfter
	HasAfter bool
	Code     string // the service's error code
	Err      error  // what went wrong, if the status alone does not say
}

// Poster posts to one webhook.
type Poster struct {
	Notifier string       // "slack", for errors and logs
	URL      string       // the secret URL
	Target   string       // URL with its secrets masked
	Client   *http.Client // nil for a client with a 30 s timeout
	Retry    notify.Retry
	Clock    foyer.Clock  // reads Retry-After dates; nil for the system clock
	Log      *slog.Logger // nil for none
	// Judge reads an answer; nil for Default.
	Judge func(Answer) Outcome
	// Prepare sets headers on each attempt's request (signatures, ids).
	Prepare func(req *http.Request, attempt int) error
	// Secrets are strings scrubbed from any error text besides the URL.
	Secrets []string
}

// Default reads an answer the way most webhooks mean it: any 2xx is
// delivered; 429, 408 and 5xx may be retried, after Retry-After when the
// service sends one; everything else fails for good.
func (p *Poster) Default(a Answer) Outcome {
	out := Outcome{Code: Code(a.Body)}
	switch {
	case a.Status >= 200 && a.Status < 300:
		out.OK = true
	case a.Status == http.StatusTooManyRequests || a.Status == http.StatusRequestTimeout || a.Status >= 500:
		out.Retry = true
		out.After, out.HasAfter = ParseRetryAfter(a.Header.Get("Retry-After"), p.now())
	}
	return out
}

func (p *Poster) now() time.Time {
	if p.Clock == nil {
		return time.Now()
	}
	return p.Clock.Now()
}

func (p *Poster) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

func (p *Poster) client() *http.Client {
	c := http.Client{Timeout: 30 * time.Second}
	if p.Client != nil {
		c = *p.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// Post sends body, retrying as the outcome of each answer says, and returns
// nil once it was delivered or a *notify.Error.
func (p *Poster) Post(ctx context.Context, body []byte) error {
	retry := p.Retry.WithDefaults()
	judge := p.Judge
	if judge == nil {
		judge = p.Default
	}
	client := p.client()
	fail := func(attempt, status int, out Outcome, err error) error {
		return &notify.Error{Notifier: p.Notifier, Target: p.Target, Status: status, Code: out.Code,
			Attempts: attempt, Temporary: out.Retry, Err: p.scrub(err)}
	}
	for attempt := 1; ; attempt++ {
		a, err := p.once(ctx, client, body, attempt)
		var out Outcome
		switch {
		case ctx.Err() != nil:
			return fail(attempt, a.Status, Outcome{Retry: true}, ctx.Err())
		case err != nil:
			out = Outcome{Retry: true, Err: err}
		default:
			out = judge(a)
		}
		if out.OK {
			p.log().Debug("notification delivered", "notifier", p.Notifier, "target", p.Target, "status", a.Status, "attempts", attempt)
			return nil
		}
		if !out.Retry || attempt >= retry.Attempts {
			return fail(attempt, a.Status, out, out.Err)
		}
		wait := retry.Backoff(attempt)
		if out.HasAfter {
			wait = out.After
		}
		if out.HasAfter && wait > retry.MaxWait {
			return fail(attempt, a.Status, out, fmt.Errorf("%w: Retry-After %s is over the %s allowed", notify.ErrWaitTooLong, wait, retry.MaxWait))
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fail(attempt, a.Status, out, fmt.Errorf("%w: retry in %s is past the deadline (%w)", notify.ErrWaitTooLong, wait, context.DeadlineExceeded))
		}
		p.log().Info("notification not delivered, will retry", "notifier", p.Notifier, "target", p.Target,
			"status", a.Status, "code", out.Code, "attempt", attempt, "wait", wait.String())
		if err := retry.Wait(ctx, wait); err != nil {
			return fail(attempt, a.Status, out, err)
		}
	}
}

// once makes one request. Its error never holds the URL.
func (p *Poster) once(ctx context.Context, client *http.Client, body []byte, attempt int) (Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return Answer{}, errors.New("the webhook URL does not make a request")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "foyer")
	if p.Prepare != nil {
		if err := p.Prepare(req, attempt); err != nil {
			return Answer{}, err
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Answer{}, err
	}
	defer resp.Body.Close()
	// A body cut short still comes with its status, which is what counts.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// scrub returns err with the URL, its path, its query and the extra secrets
// taken out of its text, keeping err in the chain for errors.Is.
func (p *Poster) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	secrets := append([]string{p.URL}, p.Secrets...)
	if u, perr := url.Parse(p.URL); perr == nil {
		secrets = append(secrets, u.EscapedPath(), u.Path, u.RawQuery)
		for _, vs := range u.Query() {
			secrets = append(secrets, vs...)
		}
	}
	for _, s := range secrets {
		if len(s) > 1 {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// Code returns body as an error code when it looks like one (a short word of
// letters, digits, _ . -), as Slack's plain-text answers do, and "" for any
// other body, so that a page echoing the request never reaches an error.
func Code(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return ""
		}
	}
	return s
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). Fractional seconds, which Graph sends, are accepted.
// It reports false for an absent or unreadable value; a date in the past is
// a wait of 0.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs != secs || secs > 1e9 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}
