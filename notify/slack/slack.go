// Package slack posts run reports to a Slack incoming webhook: a message
// with a plain fallback text and Block Kit blocks (title, facts, counts,
// the first failures, a details link), every value escaped so that an
// address or a reason cannot add a link or a mention.
//
// Only cmd/foyer/cli and this package's tests import it.
package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/internal/deliver"
)

// Error codes Slack answers an incoming webhook with, as plain text
// (api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks;
// docs/graph-reference.md §11). They arrive in notify.Error.Code.
const (
	CodeInvalidPayload    = "invalid_payload"     // 400: the JSON is malformed
	CodeUserNotFound      = "user_not_found"      // 400
	CodeInvalidBlocks     = "invalid_blocks"      // 400: a block breaks Block Kit's rules
	CodeActionProhibited  = "action_prohibited"   // 403: an admin restricted posting
	CodeChannelNotFound   = "channel_not_found"   // 404: the channel is gone
	CodeChannelIsArchived = "channel_is_archived" // 410
	CodeNoService         = "no_service"          // 404: the webhook was removed or disabled
	CodeRollupError       = "rollup_error"        // 500: Slack had a problem; retried
)

// Options tune a Notifier. The zero value is ready to use.
type Options struct {
	Client *http.Client // nil for a client with a 30 s timeout
	Retry  notify.Retry // the zero value is notify's default policy
	Log    *slog.Logger // nil for none; it never sees the URL
	Clock  foyer.Clock  // reads Retry-After dates; nil for the system clock
	// MaxFailures is how many failures the message lists, at most;
	// 0 means notify.ShownFailures.
	MaxFailures int
}

// Notifier posts to one incoming webhook.
type Notifier struct {
	poster      deliver.Poster
	maxFailures int
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for the incoming webhook at webhookURL
// (https://hooks.slack.com/services/T…/B…/…). The URL is a secret: it is
// kept here and never shown; errors show Redact(webhookURL).
func New(webhookURL string, opts Options) (*Notifier, error) {
	if _, err := notify.CheckWebhookURL(webhookURL); err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	n := &Notifier{maxFailures: opts.MaxFailures}
	if n.maxFailures <= 0 {
		n.maxFailures = notify.ShownFailures
	}
	n.poster = deliver.Poster{
		Notifier: "slack", URL: strings.TrimSpace(webhookURL), Target: Redact(webhookURL),
		Client: opts.Client, Retry: opts.Retry, Log: opts.Log, Clock: opts.Clock,
	}
	n.poster.Judge = n.judge
	return n, nil
}

// Name returns "slack".
func (n *Notifier) Name() string { return "slack" }

// Target returns the webhook URL with its token masked.
func (n *Notifier) Target() string { return n.poster.Target }

// Notify posts the report.
func (n *Notifier) Notify(ctx context.Context, r notify.Report) error {
	msg := Build(r, n.maxFailures)
	if err := msg.Check(); err != nil {
		return &notify.Error{Notifier: "slack", Target: n.poster.Target, Err: fmt.Errorf("build the message: %w", err)}
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return &notify.Error{Notifier: "slack", Target: n.poster.Target, Err: fmt.Errorf("encode the message: %w", err)}
	}
	return n.poster.Post(ctx, body)
}

// judge reads Slack's answer: 200 with the body "ok" is delivered; any
// other body is an error code. 429 (about one message a second per
// webhook, api.slack.com/docs/rate-limits) and 5xx are retried; other 4xx
// are not.
func (n *Notifier) judge(a deliver.Answer) deliver.Outcome {
	out := n.poster.Default(a)
	if a.Status == http.StatusOK && strings.TrimSpace(string(a.Body)) != "ok" {
		out.OK = false
		if out.Code == "" {
			out.Code = "unexpected_answer"
		}
	}
	return out
}

// Redact returns the webhook URL with its token, the last path segment,
// replaced: https://hooks.slack.com/services/T0123/B0456/***. The team and
// webhook ids stay, so that an admin can tell webhooks apart; they grant
// nothing. A URL of another shape keeps only its scheme and host.
func Redact(webhookURL string) string {
	u, err := url.Parse(strings.TrimSpace(webhookURL))
	if err != nil || u.Host == "" {
		return notify.RedactURL(webhookURL)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) == 4 && (parts[0] == "services" || parts[0] == "triggers") && isID(parts[1]) && isID(parts[2]) {
		return u.Scheme + "://" + u.Host + "/" + parts[0] + "/" + parts[1] + "/" + parts[2] + "/***"
	}
	return notify.RedactURL(webhookURL)
}

// isID reports whether s looks like a Slack id: capital letters and digits.
func isID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
