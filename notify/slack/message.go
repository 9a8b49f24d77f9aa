package slack

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/foyer-dev/foyer/notify"
)

// Block Kit limits (docs.slack.dev/reference/block-kit/blocks): a message
// holds at most 50 blocks; a header's plain text at most 150 characters; a
// section's text at most 3000 and its fields at most 10 of 2000 each; a
// context at most 10 elements; a block_id at most 255 characters, unique in
// the message. Slack cuts a message's top-level text past 40,000
// characters.
const (
	MaxBlocks        = 50
	MaxHeaderText    = 150
	MaxSectionText   = 3000
	MaxFields        = 10
	MaxFieldText     = 2000
	MaxContextItems  = 10
	MaxFallbackText  = 40000
	MaxBlockID       = 255
	maxReason        = 300
	failuresHeadline = "*Failures*"
)

// Message is the JSON an incoming webhook takes.
type Message struct {
	Text   string  `json:"text"` // the notification and fallback text
	Blocks []Block `json:"blocks"`
}

// Block is a Block Kit layout block: header, section, context or divider.
type Block struct {
	Type string `json:"type"`
	// BlockID names the block in the message Slack keeps, for apps that
	// read the channel (conversations.history): the context block carries
	// the report's stable id (notify.Report.ID).
	BlockID  string  `json:"block_id,omitempty"`
	Text     *Text   `json:"text,omitempty"`
	Fields   []*Text `json:"fields,omitempty"`
	Elements []*Text `json:"elements,omitempty"`
}

// Text is a Block Kit text object. Verbatim stops Slack from turning bare
// URLs, channel names and mentions into links.
type Text struct {
	Type     string `json:"type"` // plain_text or mrkdwn
	Text     string `json:"text"`
	Emoji    bool   `json:"emoji,omitempty"`
	Verbatim bool   `json:"verbatim,omitempty"`
}

func mrkdwn(s string) *Text { return &Text{Type: "mrkdwn", Text: s, Verbatim: true} }

// Escape makes s safe inside mrkdwn: & < > become entities, as Slack asks
// (docs.slack.dev/messaging/formatting-message-text#escaping), so that no
// value can open a link (<https://…|…>) or a mention (<!channel>, <@U…>);
// control characters become spaces.
func Escape(s string) string {
	s = notify.OneLine(s)
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Build renders r as a Slack message listing at most maxFailures failures
// and no more than fit in one section.
func Build(r notify.Report, maxFailures int) Message {
	title := notify.Truncate(r.Title(), MaxHeaderText)
	m := Message{Text: notify.Truncate(Escape(r.Title()), MaxFallbackText)}
	m.Blocks = append(m.Blocks, Block{Type: "header", Text: &Text{Type: "plain_text", Text: title, Emoji: true}})

	var facts []*Text
	for _, f := range r.Facts() {
		if f.Label == "Run" {
			continue // in the context line
		}
		facts = append(facts, mrkdwn(field(f.Label, f.Value)))
	}
	facts = append(facts,
		mrkdwn(field("Planned", notify.FormatCounts(r.ActionCounts()))),
		mrkdwn(field("Result", notify.FormatCounts(r.ResultCounts()))))
	m.Blocks = append(m.Blocks, Block{Type: "section", Fields: facts[:min(len(facts), MaxFields)]})

	if text := failuresText(r, maxFailures); text != "" {
		m.Blocks = append(m.Blocks, Block{Type: "divider"}, Block{Type: "section", Text: mrkdwn(text)})
	}
	if link := linkOf(r.DetailsURL); link != "" {
		m.Blocks = append(m.Blocks, Block{Type: "section", Text: mrkdwn("<" + link + "|Open the details>")})
	}
	ctx := "Run " + Escape(r.RunID)
	if !r.FinishedAt.IsZero() {
		ctx += " · finished " + r.FinishedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	context := Block{Type: "context", Elements: []*Text{mrkdwn(notify.Truncate(ctx, MaxSectionText))}}
	if id := r.ID(); len(id) <= MaxBlockID {
		// Incoming webhooks have no idempotency key: Slack shows a
		// message sent again after a lost answer twice. The id lets an
		// app that reads the channel tell the two apart.
		context.BlockID = id
	}
	m.Blocks = append(m.Blocks, context)
	return m
}

func field(label, value string) string {
	return notify.Truncate("*"+label+"*\n"+Escape(value), MaxFieldText)
}

// failuresText lists the first failures, as many as fit in one section,
// and how many more there are.
func failuresText(r notify.Report, maxFailures int) string {
	shown, more := r.Shown(maxFailures)
	if len(shown) == 0 && more == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(failuresHeadline)
	// Room for the longest "and N more" line.
	budget := MaxSectionText - len("\n_and 9999999999 more_")
	for i, f := range shown {
		line := "\n• " + Escape(notify.FailureLine(f, maxReason))
		if utf8.RuneCountInString(b.String())+utf8.RuneCountInString(line) > budget {
			more += len(shown) - i
			break
		}
		b.WriteString(line)
	}
	if more > 0 {
		b.WriteString("\n_" + notify.MoreLine(more) + "_")
	}
	return b.String()
}

// linkOf returns the details URL in the form Slack's <url|text> takes: an
// http(s) URL with & < > escaped and | encoded.
func linkOf(u string) string {
	u = notify.SafeLink(u)
	if u == "" {
		return ""
	}
	return strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C").Replace(u)
}

// Check reports every way m breaks Block Kit's limits, so that a message
// Slack would refuse with invalid_blocks is caught before it is sent.
func (m Message) Check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(m.Text) == "" {
		bad("the fallback text is empty")
	}
	if n := utf8.RuneCountInString(m.Text); n > MaxFallbackText {
		bad("the fallback text has %d characters, over %d", n, MaxFallbackText)
	}
	if len(m.Blocks) > MaxBlocks {
		bad("%d blocks, over %d", len(m.Blocks), MaxBlocks)
	}
	ids := map[string]bool{}
	for i, b := range m.Blocks {
		where := "block " + strconv.Itoa(i+1) + " (" + b.Type + ")"
		switch {
		case b.BlockID == "":
		case len(b.BlockID) > MaxBlockID:
			bad("%s: block_id has %d characters, over %d", where, len(b.BlockID), MaxBlockID)
		case ids[b.BlockID]:
			bad("%s: block_id %q is not unique", where, b.BlockID)
		}
		ids[b.BlockID] = true
		switch b.Type {
		case "header":
			checkText(bad, where, b.Text, "plain_text", MaxHeaderText)
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				bad("%s has neither text nor fields", where)
			}
			if b.Text != nil {
				checkText(bad, where, b.Text, "", MaxSectionText)
			}
			if len(b.Fields) > MaxFields {
				bad("%s has %d fields, over %d", where, len(b.Fields), MaxFields)
			}
			for _, f := range b.Fields {
				checkText(bad, where+" field", f, "", MaxFieldText)
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > MaxContextItems {
				bad("%s has %d elements, want 1 to %d", where, len(b.Elements), MaxContextItems)
			}
			for _, e := range b.Elements {
				checkText(bad, where+" element", e, "", MaxSectionText)
			}
		case "divider":
		default:
			bad("%s: unknown block type", where)
		}
	}
	return errors.Join(errs...)
}

func checkText(bad func(string, ...any), where string, t *Text, wantType string, max int) {
	switch {
	case t == nil:
		bad("%s has no text", where)
	case wantType != "" && t.Type != wantType:
		bad("%s text is %s, want %s", where, t.Type, wantType)
	case t.Type != "plain_text" && t.Type != "mrkdwn":
		bad("%s text has type %q", where, t.Type)
	case strings.TrimSpace(t.Text) == "":
		bad("%s text is empty", where)
	case utf8.RuneCountInString(t.Text) > max:
		bad("%s text has %d characters, over %d", where, utf8.RuneCountInString(t.Text), max)
	}
}
