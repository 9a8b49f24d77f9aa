package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/foyer-dev/foyer/notify"
)

var _ notify.Announcer = (*Notifier)(nil)

// Announce posts an announcement about a request.
func (n *Notifier) Announce(ctx context.Context, a notify.Announcement) error {
	msg := BuildAnnouncement(a)
	if err := msg.Check(); err != nil {
		return &notify.Error{Notifier: "slack", Target: n.poster.Target, Err: fmt.Errorf("build the message: %w", err)}
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return &notify.Error{Notifier: "slack", Target: n.poster.Target, Err: fmt.Errorf("encode the message: %w", err)}
	}
	return n.poster.Post(ctx, body)
}

// BuildAnnouncement renders an announcement as a Slack message: the
// headline, the facts as fields, the text, a link to the request and a
// context line whose block_id is the announcement's id. Every value is
// escaped, so that a requester's name or justification cannot add a link
// or a mention.
func BuildAnnouncement(a notify.Announcement) Message {
	headline := notify.OneLine(a.Headline)
	if headline == "" {
		headline = "foyer"
	}
	m := Message{Text: notify.Truncate(Escape(headline), MaxFallbackText)}
	m.Blocks = append(m.Blocks, Block{Type: "header", Text: &Text{Type: "plain_text", Text: notify.Truncate(headline, MaxHeaderText)}})
	var fields []*Text
	for _, f := range a.Facts {
		if notify.OneLine(f.Label) == "" || notify.OneLine(f.Value) == "" || len(fields) == MaxFields {
			continue
		}
		fields = append(fields, mrkdwn(field(notify.Truncate(notify.OneLine(f.Label), 100), notify.Truncate(notify.OneLine(f.Value), MaxFieldText/5-30))))
	}
	if len(fields) > 0 {
		m.Blocks = append(m.Blocks, Block{Type: "section", Fields: fields})
	}
	// The text is cut before it is escaped, so that an entity is never cut
	// in half; escaping may make it up to five times longer.
	if text := paragraph(notify.Truncate(a.Text, MaxSectionText/5)); text != "" {
		m.Blocks = append(m.Blocks, Block{Type: "section", Text: mrkdwn(notify.Truncate(text, MaxSectionText))})
	}
	if link := linkOf(a.Link); link != "" {
		label := Escape(a.LinkText)
		if label == "" {
			label = "Open the request"
		}
		label = strings.ReplaceAll(label, "|", "/")
		m.Blocks = append(m.Blocks, Block{Type: "section", Text: mrkdwn(notify.Truncate("<"+link+"|"+label+">", MaxSectionText))})
	}
	foot := Escape(a.Footer)
	if foot == "" {
		foot = "foyer"
	}
	ctx := Block{Type: "context", Elements: []*Text{mrkdwn(notify.Truncate(foot, MaxSectionText))}}
	if a.ID != "" && len(a.ID) <= MaxBlockID {
		ctx.BlockID = a.ID
	}
	m.Blocks = append(m.Blocks, ctx)
	return m
}

// paragraph escapes each line of s and keeps the line breaks.
func paragraph(s string) string {
	var lines []string
	for line := range strings.Lines(s) {
		if l := Escape(line); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}
