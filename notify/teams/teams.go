// Package teams posts run reports to a Microsoft Teams channel through a
// Workflows webhook (Power Automate or Logic Apps, "When a Teams webhook
// request is received") as an Adaptive Card: the title, a FactSet of
// counts, the first failures and a button to the details. Legacy Office 365
// connector URLs (webhook.office.com) take the same card.
//
// Only cmd/foyer/cli and this package's tests import it.
package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/internal/deliver"
)

// Options tune a Notifier. The zero value is ready to use.
type Options struct {
	Client *http.Client // nil for a client with a 30 s timeout
	Retry  notify.Retry // the zero value is notify's default policy
	Log    *slog.Logger // nil for none; it never sees the URL
	Clock  foyer.Clock  // reads Retry-After dates; nil for the system clock
	// MaxFailures is how many failures the card lists, at most; 0 means
	// notify.ShownFailures.
	MaxFailures int
}

// Notifier posts to one Teams webhook.
type Notifier struct {
	poster      deliver.Poster
	maxFailures int
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for the webhook at webhookURL. The URL is a
// secret (its sig parameter signs every call): it is kept here and never
// shown; errors show Redact(webhookURL).
func New(webhookURL string, opts Options) (*Notifier, error) {
	if _, err := notify.CheckWebhookURL(webhookURL); err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	n := &Notifier{maxFailures: opts.MaxFailures}
	if n.maxFailures <= 0 {
		n.maxFailures = notify.ShownFailures
	}
	secrets := []string{}
	if u, err := url.Parse(strings.TrimSpace(webhookURL)); err == nil {
		secrets = append(secrets, u.Query()["sig"]...)
	}
	n.poster = deliver.Poster{
		Notifier: "teams", URL: strings.TrimSpace(webhookURL), Target: Redact(webhookURL),
		Client: opts.Client, Retry: opts.Retry, Log: opts.Log, Clock: opts.Clock, Secrets: secrets,
	}
	n.poster.Judge = n.judge
	return n, nil
}

// Name returns "teams".
func (n *Notifier) Name() string { return "teams" }

// Target returns the webhook URL with its secrets masked.
func (n *Notifier) Target() string { return n.poster.Target }

// Notify posts the report as a card.
func (n *Notifier) Notify(ctx context.Context, r notify.Report) error {
	msg := Build(r, n.maxFailures)
	if err := msg.Check(); err != nil {
		return &notify.Error{Notifier: "teams", Target: n.poster.Target, Err: fmt.Errorf("build the card: %w", err)}
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return &notify.Error{Notifier: "teams", Target: n.poster.Target, Err: fmt.Errorf("encode the card: %w", err)}
	}
	return n.poster.Post(ctx, body)
}

// legacyError finds the error a legacy connector reports inside a 200
// answer, e.g. "Microsoft Teams endpoint returned HTTP error 429 with
// ContextId …" (docs/graph-reference.md §11).
var legacyError = regexp.MustCompile(`(?i)returned HTTP error (\d{3})`)

// judge reads Teams' answer. Workflows answer 202 Accepted with no body;
// legacy connectors answer 200 with the body "1", and report throttling
// and oversize as a 200 whose body names the HTTP error, which is read
// here: 429 is retried with backoff, any other is refused. Logic Apps'
// JSON errors ({"error":{"code":…}}) give the code.
func (n *Notifier) judge(a deliver.Answer) deliver.Outcome {
	out := n.poster.Default(a)
	if out.Code == "" {
		out.Code = logicAppsCode(a.Body)
	}
	if !out.OK {
		return out
	}
	if m := legacyError.FindSubmatch(a.Body); m != nil {
		out.OK = false
		out.Code = "http_error_" + string(m[1])
		out.Retry = string(m[1]) == "429" || m[1][0] == '5'
		out.Err = fmt.Errorf("Teams answered %d but reported HTTP error %s", a.Status, m[1])
	}
	return out
}

func logicAppsCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return deliver.Code([]byte(e.Error.Code))
}

// workflowHosts are the hosts of Workflows webhooks, whose path names the
// workflow and whose sig query parameter is the secret.
var workflowHosts = []string{".logic.azure.com", ".logic.azure.us", ".logic.azure.cn", ".powerautomate.com", ".powerplatform.com"}

// Redact returns the webhook URL with its secret masked. For a Workflows
// URL (…logic.azure.com, …api.powerplatform.com) the path and the
// non-secret parameters stay and sig becomes ***; any other URL, a legacy
// webhook.office.com one included (its path is the secret), keeps only
// its scheme and host.
func Redact(webhookURL string) string {
	u, err := url.Parse(strings.TrimSpace(webhookURL))
	if err != nil || u.Host == "" || u.User != nil {
		return notify.RedactURL(webhookURL)
	}
	host := strings.ToLower(u.Hostname())
	workflow := false
	for _, h := range workflowHosts {
		workflow = workflow || strings.HasSuffix(host, h)
	}
	if !workflow {
		return notify.RedactURL(webhookURL)
	}
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "sig") {
			q[k] = []string{"***"}
		}
	}
	u.RawQuery = strings.ReplaceAll(q.Encode(), "%2A%2A%2A", "***")
	return u.String()
}
