package email

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
)

// Message is one email: an invitation rendered from templates, or any text
// foyer sends.
type Message struct {
	To       foyer.Address
	ToName   string // shown beside the address; control characters are removed
	Cc       []foyer.Address
	ReplyTo  foyer.Address // "" for none
	Subject  string        // control characters are removed
	Text     string        // the text/plain part; required
	HTML     string        // the text/html part; "" for a text-only email
	Language string        // Content-Language, e.g. en-US; "" for none
	// ID is the left part of the Message-ID ("" for one from Options.NewID).
	// A message sent again after a crash with the same ID is one message
	// to the many mail systems that drop duplicates by Message-ID.
	ID string
}

// Header values longer than this are refused: they are a sign of a wrong
// field. A display name may be as long as Entra lets a user's displayName
// be, 256 characters, so that any guest foyer can invite can also be sent
// its email (the header is folded and encoded, so its lines stay short).
const (
	maxSubject = 400
	maxName    = 256 // characters
)

// clean returns m checked and made safe for headers. Names and the subject
// lose every control character (CR and LF above all), which become spaces,
// so that no value can end a header line and add one of its own:
// "Eve\r\nBcc: x@evil.example" becomes the name "Eve Bcc: x@evil.example"
// (see displayName).
// Addresses must pass foyer.ParseAddress. Every problem is reported.
func (m Message) clean() (Message, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	addr := func(field string, a foyer.Address) foyer.Address {
		p, err := foyer.ParseAddress(string(a))
		if err != nil {
			bad("%s: %s", field, foyer.ErrorMessage(err))
		}
		return p
	}
	m.To = addr("To", m.To)
	for i, c := range m.Cc {
		m.Cc[i] = addr("Cc", c)
	}
	if m.ReplyTo != "" {
		m.ReplyTo = addr("Reply-To", m.ReplyTo)
	}
	m.ToName = displayName(m.ToName)
	m.Subject = notify.OneLine(m.Subject)
	m.Language = notify.OneLine(m.Language)
	switch {
	case m.Subject == "":
		bad("the subject is empty")
	case len(m.Subject) > maxSubject:
		bad("the subject has %d bytes, over %d", len(m.Subject), maxSubject)
	}
	if n := utf8.RuneCountInString(m.ToName); n > maxName {
		bad("the recipient's name has %d characters, over %d", n, maxName)
	}
	if strings.TrimSpace(m.Text) == "" {
		bad("the text part is empty")
	}
	if m.Language != "" && !isLanguageTag(m.Language) {
		bad("language %q is not a language tag like en-US", m.Language)
	}
	if len(errs) > 0 {
		return m, &Error{Op: "build", Kind: ErrInvalid, Err: errors.Join(errs...)}
	}
	return m, nil
}

// displayName returns s as a header carries it: control characters (CR and
// LF above all) become spaces, so that no name can end a header line;
// invalid UTF-8 becomes U+FFFD; runs of spaces become one space and the ends
// are trimmed. That last rule is what lets every name read back exactly: a
// long To header is folded at a space, and readers unfold by joining the
// lines with one space (net/textproto trims each line), so a run of spaces
// where a line folds would come back shorter.
func displayName(s string) string {
	s = notify.OneLine(strings.ToValidUTF8(s, "\uFFFD"))
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isLanguageTag accepts the shape of a BCP 47 tag: letters, digits and
// hyphens, starting with 2 to 8 letters.
func isLanguageTag(s string) bool {
	if len(s) > 35 {
		return false
	}
	for i, part := range strings.Split(s, "-") {
		if part == "" || len(part) > 8 {
			return false
		}
		for _, r := range part {
			letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			if !letter && (i == 0 || !(r >= '0' && r <= '9')) {
				return false
			}
		}
		if i == 0 && len(part) < 2 {
			return false
		}
	}
	return true
}
