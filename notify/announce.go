package notify

import "context"

// Announcement is a notice about a request posted to a channel people
// share (Slack, Teams): a request awaits approval, was approved, was not,
// its guest was invited. Unlike a Notice, which goes to each person, it
// is read by everyone in the channel, so it never carries a requester's
// own link (/r/{token}), only the approvers' page of the request, which
// asks for sign-in.
type Announcement struct {
	// ID is the same on every attempt to post the same announcement, so
	// that a reader (or a flow) can drop a repeat: an incoming webhook
	// takes no idempotency key. Letters, digits, dots and hyphens.
	ID       string `json:"id"`
	Headline string `json:"headline"`
	// Facts are shown as labelled values (requester, company, stage...).
	Facts []Fact `json:"facts,omitempty"`
	// Text is a further plain-text paragraph; may be empty.
	Text string `json:"text,omitempty"`
	// Link is an absolute http(s) URL that opens the request; a link of
	// another kind is not shown.
	Link     string `json:"link,omitempty"`
	LinkText string `json:"link_text,omitempty"`
	// Footer is a short line at the end (e.g. "Request 0f3a...").
	Footer string `json:"footer,omitempty"`
}

// Announcer posts announcements to a channel. notify/slack and
// notify/teams implement it beside Notifier; the engine posts a request's
// steps through every configured notifier that does.
type Announcer interface {
	// Name is the notifier's name ("slack", "teams"), never a secret.
	Name() string
	// Announce posts a, retrying within ctx only what its service
	// documents as retryable, and returns a *Error without any secret.
	Announce(ctx context.Context, a Announcement) error
}
