package email

import (
	"bytes"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
)

// FuzzHeaders proves that no display name or subject can add or change a
// header: whatever they hold, the message has exactly the headers foyer
// writes, one To address and the subject on one line. A name the message
// takes reads back from the To header exactly as displayName made it, and
// no line is longer than RFC 5322 allows.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{"Ann", "Eve\r\nBcc: x@evil.example", "a\nb", "=?utf-8?q?=0D=0ABcc:_x?=", "\"quoted\" <x@y>", "Zoë, PhD", "\u2028x", strings.Repeat("é", 90),
		`Anne "the boss" Lee`, `C:\Users\anne`, `back\"slash`, "Lee; Anne <a@b.example>", "山田 太郎", "Zoë\u3000Ünal",
		strings.Repeat(`Ann  "Lee" \ `, 20), strings.Repeat("山田 太郎 ", 42), strings.Repeat("x", 256), "\xff\xfe", "(comment) name"} {
		f.Add(s, s)
	}
	s, err := New(Options{Host: "127.0.0.1", From: "a@contoso.example", TLS: TLSNone,
		NewID: func() string { return "id" }, Clock: foyer.ClockFunc(func() time.Time { return time.Unix(1e9, 0) })})
	if err != nil {
		f.Fatal(err)
	}
	want := []string{"Auto-Submitted", "Content-Transfer-Encoding", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To", "User-Agent", "X-Mailer"}
	f.Fuzz(func(t *testing.T, name, subject string) {
		msg, _, err := s.build(Message{To: "bob@partner.example", ToName: name, Subject: subject, Text: "t"})
		if err != nil {
			if subj := notify.OneLine(subject); utf8.RuneCountInString(displayName(name)) <= maxName && subj != "" && len(subj) <= maxSubject {
				t.Fatalf("a name of at most %d characters and a good subject were refused: %v", maxName, err)
			}
			return // refused: nothing is sent
		}
		var buf bytes.Buffer
		if _, err := msg.WriteTo(&buf); err != nil {
			t.Fatalf("write: %v", err)
		}
		for _, line := range strings.Split(buf.String(), "\r\n") {
			if len(line) > 998 {
				t.Fatalf("a line of %d bytes", len(line))
			}
		}
		m, err := mail.ReadMessage(&buf)
		if err != nil {
			t.Fatalf("the message does not parse: %v", err)
		}
		var keys []string
		for k := range m.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("headers %v, want %v", keys, want)
		}
		to, err := m.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != "bob@partner.example" {
			t.Fatalf("To = %v (%v) for name %q", to, err, name)
		}
		if want := displayName(name); to[0].Name != want {
			t.Errorf("the name %q reads back as %q from %q, want %q", name, to[0].Name, m.Header.Get("To"), want)
		}
		if len(m.Header["Subject"]) != 1 {
			t.Errorf("%d Subject headers", len(m.Header["Subject"]))
		}
	})
}
