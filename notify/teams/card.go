package teams

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/foyer-dev/foyer/notify"
)

// Card limits. Teams refuses a message over about 28 KB ("Request Entity
// too large"; MicrosoftDocs/msteams-docs
// msteams-platform/webhooks-and-connectors/how-to/add-incoming-webhook.md);
// foyer keeps its cards under MaxBytes to leave room for Teams' own
// wrapping, which some users measured at a 21 KB ceiling.
const (
	MaxBytes    = 20000
	CardVersion = "1.4" // rendered by Teams desktop, web and mobile
	maxReason   = 300
)

// Message is the JSON a Teams Workflows webhook (and a legacy incoming
// webhook) takes: one attachment holding an Adaptive Card
// (msteams-platform/webhooks-and-connectors/how-to/connectors-using.md).
type Message struct {
	Type        string       `json:"type"` // "message"
	Attachments []Attachment `json:"attachments"`
}

// Attachment carries the card.
type Attachment struct {
	ContentType string  `json:"contentType"` // application/vnd.microsoft.card.adaptive
	ContentURL  *string `json:"contentUrl"`  // always null
	Content     Card    `json:"content"`
}

// Card is an Adaptive Card (adaptivecards.io/explorer/AdaptiveCard.html).
type Card struct {
	Schema   string    `json:"$schema"`
	Type     string    `json:"type"` // "AdaptiveCard"
	Version  string    `json:"version"`
	MSTeams  *MSTeams  `json:"msteams,omitempty"`
	Body     []Element `json:"body"`
	Actions  []Action  `json:"actions,omitempty"`
	Speak    string    `json:"speak,omitempty"`
	Fallback string    `json:"fallbackText,omitempty"`
}

// MSTeams holds Teams' own card properties.
type MSTeams struct {
	Width string `json:"width,omitempty"` // "Full" uses the whole message width
}

// Element is a TextBlock or a FactSet.
type Element struct {
	Type string `json:"type"`
	// ID names the element (Adaptive Cards' "id"): the footer carries the
	// report's stable id (notify.Report.ID), for flows that read the card.
	ID       string `json:"id,omitempty"`
	Text     string `json:"text,omitempty"`
	Wrap     bool   `json:"wrap,omitempty"`
	Size     string `json:"size,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Spacing  string `json:"spacing,omitempty"`
	Facts    []Fact `json:"facts,omitempty"`
}

// Fact is a title and value in a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Action is an Action.OpenUrl, the one action foyer's cards carry.
type Action struct {
	Type  string `json:"type"` // "Action.OpenUrl"
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Escape makes s show as written in a TextBlock or a fact: Adaptive Cards
// read a subset of Markdown there, so every character that can start a
// link, emphasis or code gets a backslash (CommonMark backslash escapes,
// which Teams honours), and control characters become spaces.
func Escape(s string) string {
	s = notify.OneLine(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]()<>~#|!{}", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	out := b.String()
	// A leading - or + would start a list, and so would "1." or "1)":
	// escape the marker.
	if out != "" && (out[0] == '-' || out[0] == '+') {
		return "\\" + out
	}
	if i := listNumber(out); i > 0 {
		return out[:i] + "\\" + out[i:]
	}
	return out
}

// listNumber returns the position of the . or ) after leading digits, or 0.
func listNumber(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')') {
		return i
	}
	return 0
}

// Build renders r as a card message listing at most maxFailures failures
// and no more than keep the message under MaxBytes.
func Build(r notify.Report, maxFailures int) Message {
	shown, more := r.Shown(maxFailures)
	for {
		m := build(r, shown, more)
		if len(shown) == 0 || size(m) <= MaxBytes {
			return m
		}
		cut := max(1, len(shown)/4)
		shown, more = shown[:len(shown)-cut], more+cut
	}
}

func size(m Message) int {
	b, err := json.Marshal(m)
	if err != nil {
		return 0
	}
	return len(b)
}

func build(r notify.Report, shown []notify.Failure, more int) Message {
	color := "Good"
	if r.Failed() > 0 {
		color = "Attention"
	}
	body := []Element{{Type: "TextBlock", Text: Escape(r.Title()), Wrap: true, Size: "Large", Weight: "Bolder", Color: color}}
	var facts []Fact
	for _, f := range r.Facts() {
		if f.Label != "Run" {
			facts = append(facts, Fact{f.Label, Escape(f.Value)})
		}
	}
	facts = append(facts,
		Fact{"Planned", Escape(notify.FormatCounts(r.ActionCounts()))},
		Fact{"Result", Escape(notify.FormatCounts(r.ResultCounts()))})
	body = append(body, Element{Type: "FactSet", Facts: facts})
	if len(shown) > 0 || more > 0 {
		body = append(body, Element{Type: "TextBlock", Text: "Failures", Weight: "Bolder", Wrap: true, Spacing: "Medium"})
		for _, f := range shown {
			body = append(body, Element{Type: "TextBlock", Text: Escape(notify.FailureLine(f, maxReason)), Wrap: true, Spacing: "Small"})
		}
		if more > 0 {
			body = append(body, Element{Type: "TextBlock", Text: notify.MoreLine(more), Wrap: true, IsSubtle: true, Spacing: "Small"})
		}
	}
	foot := "Run " + Escape(r.RunID)
	if !r.FinishedAt.IsZero() {
		foot += " · finished " + r.FinishedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	// Workflows take no idempotency key: a card sent again after a lost
	// answer is posted twice. The id lets a flow or a reader of the
	// channel tell the two apart.
	body = append(body, Element{Type: "TextBlock", ID: r.ID(), Text: foot, Wrap: true, IsSubtle: true, Size: "Small", Spacing: "Medium"})
	card := Card{
		Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: CardVersion,
		MSTeams: &MSTeams{Width: "Full"}, Body: body, Fallback: notify.Truncate(notify.OneLine(r.Title()), 300),
	}
	if u := notify.SafeLink(r.DetailsURL); u != "" {
		card.Actions = []Action{{Type: "Action.OpenUrl", Title: "Open the details", URL: u}}
	}
	return Message{Type: "message", Attachments: []Attachment{{ContentType: ContentType, Content: card}}}
}

// ContentType is the attachment type of an Adaptive Card.
const ContentType = "application/vnd.microsoft.card.adaptive"

// Check reports every way m breaks what Teams requires of a card message:
// type message, one Adaptive Card attachment, a version, TextBlocks with
// text, FactSets with titled facts, OpenUrl actions with a URL, and the size
// limit.
func (m Message) Check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if m.Type != "message" {
		bad("type is %q, want message", m.Type)
	}
	if len(m.Attachments) != 1 {
		bad("%d attachments, want 1", len(m.Attachments))
	}
	if n := size(m); n > MaxBytes {
		bad("the message is %d bytes, over %d", n, MaxBytes)
	}
	for _, a := range m.Attachments {
		if a.ContentType != ContentType {
			bad("attachment content type %q", a.ContentType)
		}
		c := a.Content
		if c.Type != "AdaptiveCard" {
			bad("card type %q, want AdaptiveCard", c.Type)
		}
		if v, err := strconv.ParseFloat(c.Version, 64); err != nil || v < 1 || v > 1.5 {
			bad("card version %q, want 1.0 to 1.5", c.Version)
		}
		if len(c.Body) == 0 {
			bad("the card has no body")
		}
		ids := map[string]bool{}
		for i, e := range c.Body {
			checkElement(bad, "body["+strconv.Itoa(i)+"]", e)
			if e.ID != "" && ids[e.ID] {
				bad("body[%d]: id %q is not unique", i, e.ID)
			}
			ids[e.ID] = true
		}
		for i, act := range c.Actions {
			if act.Type != "Action.OpenUrl" || act.Title == "" || notify.SafeLink(act.URL) == "" {
				bad("actions[%d]: want an Action.OpenUrl with a title and an http(s) url, got %+v", i, act)
			}
		}
	}
	return errors.Join(errs...)
}

func checkElement(bad func(string, ...any), where string, e Element) {
	switch e.Type {
	case "TextBlock":
		if strings.TrimSpace(e.Text) == "" {
			bad("%s: a TextBlock without text", where)
		}
	case "FactSet":
		if len(e.Facts) == 0 {
			bad("%s: a FactSet without facts", where)
		}
		for j, f := range e.Facts {
			if f.Title == "" || f.Value == "" {
				bad("%s.facts[%d]: a fact needs a title and a value", where, j)
			}
		}
	default:
		bad("%s: element type %q is not one foyer sends", where, e.Type)
	}
}
