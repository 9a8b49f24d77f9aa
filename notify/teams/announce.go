package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/foyer-dev/foyer/notify"
)

var _ notify.Announcer = (*Notifier)(nil)

// Announce posts an announcement about a request as a card.
func (n *Notifier) Announce(ctx context.Context, a notify.Announcement) error {
	msg := BuildAnnouncement(a)
	if err := msg.Check(); err != nil {
		return &notify.Error{Notifier: "teams", Target: n.poster.Target, Err: fmt.Errorf("build the card: %w", err)}
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return &notify.Error{Notifier: "teams", Target: n.poster.Target, Err: fmt.Errorf("encode the card: %w", err)}
	}
	return n.poster.Post(ctx, body)
}

// maxAnnouncementText bounds the text of an announcement's card, far
// under MaxBytes with the rest of the card.
const maxAnnouncementText = 4000

// BuildAnnouncement renders an announcement as an Adaptive Card: the
// headline, the facts as a FactSet, the text, a footer whose element id is
// the announcement's id, and a button that opens the request. Every value
// is escaped, so that a requester's name or justification cannot add a
// link or formatting.
func BuildAnnouncement(a notify.Announcement) Message {
	headline := notify.OneLine(a.Headline)
	if headline == "" {
		headline = "foyer"
	}
	body := []Element{{Type: "TextBlock", Text: Escape(notify.Truncate(headline, 300)), Wrap: true, Size: "Large", Weight: "Bolder"}}
	var facts []Fact
	for _, f := range a.Facts {
		l, v := notify.OneLine(f.Label), notify.OneLine(f.Value)
		if l == "" || v == "" {
			continue
		}
		facts = append(facts, Fact{Escape(notify.Truncate(l, 100)), Escape(notify.Truncate(v, 1000))})
	}
	if len(facts) > 0 {
		body = append(body, Element{Type: "FactSet", Facts: facts})
	}
	var lines []string
	for line := range strings.Lines(notify.Truncate(a.Text, maxAnnouncementText)) {
		if l := Escape(line); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > 0 {
		// A TextBlock keeps a line break written as two newlines
		// (Markdown's paragraph).
		body = append(body, Element{Type: "TextBlock", Text: strings.Join(lines, "\n\n"), Wrap: true, Spacing: "Medium"})
	}
	foot := Escape(notify.OneLine(a.Footer))
	if foot == "" {
		foot = "foyer"
	}
	body = append(body, Element{Type: "TextBlock", ID: a.ID, Text: foot, Wrap: true, IsSubtle: true, Size: "Small", Spacing: "Medium"})
	card := Card{
		Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: CardVersion,
		MSTeams: &MSTeams{Width: "Full"}, Body: body, Fallback: notify.Truncate(headline, 300),
	}
	if u := notify.SafeLink(a.Link); u != "" {
		title := notify.OneLine(a.LinkText)
		if title == "" {
			title = "Open the request"
		}
		card.Actions = []Action{{Type: "Action.OpenUrl", Title: notify.Truncate(title, 100), URL: u}}
	}
	return Message{Type: "message", Attachments: []Attachment{{ContentType: ContentType, Content: card}}}
}
