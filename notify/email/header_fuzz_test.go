package email

import (
	"bytes"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
)

// FuzzHeaders proves that no display name or subject can add or change a
// header: whatever they hold, the message has exactly the headers foyer
// writes, one To address and the subject on one line.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{"Ann", "Eve\r\nBcc: x@evil.example", "a\nb", "=?utf-8?q?=0D=0ABcc:_x?=", "\"quoted\" <x@y>", "Zoë, PhD", "\u2028x", strings.Repeat("é", 90)} {
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
			return // refused: nothing is sent
		}
		var buf bytes.Buffer
		if _, err := msg.WriteTo(&buf); err != nil {
			t.Fatalf("write: %v", err)
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
		if to, err := m.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "bob@partner.example" {
			t.Errorf("To = %v (%v) for name %q", to, err, name)
		}
		if len(m.Header["Subject"]) != 1 {
			t.Errorf("%d Subject headers", len(m.Header["Subject"]))
		}
	})
}
