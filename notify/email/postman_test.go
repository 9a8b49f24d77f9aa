package email_test

import (
	"context"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/email"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
)

func TestPostman(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		n       notify.Notice
		wantIDs []string // Message-IDs, in order; nil: the send fails
	}{
		{"one recipient", notify.Notice{To: []foyer.Address{"zoe@wingtip.example"}, Subject: "Confirm\r\nBcc: evil@attacker.example",
			Text: "Open https://foyer.example/r/x\n", Language: "fr", ID: "foyer.r1.link"},
			[]string{"<foyer.r1.link@contoso.example>"}},
		{"two recipients, one message each", notify.Notice{To: []foyer.Address{"alex@contoso.example", "megan@contoso.example"},
			Subject: "A request awaits", Text: "Decide\n", ID: "foyer.r1.await.1"},
			[]string{"<foyer.r1.await.1.", "<foyer.r1.await.1."}},
		{"no recipient", notify.Notice{Subject: "x", Text: "x", ID: "foyer.r1.x"}, nil},
		{"no text", notify.Notice{To: []foyer.Address{"zoe@wingtip.example"}, Subject: "x", ID: "foyer.r1.y"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, smtptest.Options{})
			p := email.Postman{Sender: newSender(t, srv, nil)}
			err := p.Send(context.Background(), c.n)
			if c.wantIDs == nil {
				if foyer.ErrorCode(err) != foyer.EINVALID || len(srv.Messages()) != 0 {
					t.Fatalf("Send = %v with %d messages; want EINVALID and nothing sent", err, len(srv.Messages()))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ms := srv.Messages()
			if len(ms) != len(c.n.To) {
				t.Fatalf("%d messages, want %d", len(ms), len(c.n.To))
			}
			seen := map[string]bool{}
			for i, m := range ms {
				if len(m.To) != 1 || m.To[0] != string(c.n.To[i]) {
					t.Errorf("message %d went to %v, want only %s", i, m.To, c.n.To[i])
				}
				pm, err := m.Parse()
				if err != nil {
					t.Fatal(err)
				}
				id := pm.Header.Get("Message-Id")
				if len(id) < len(c.wantIDs[i]) || id[:len(c.wantIDs[i])] != c.wantIDs[i] || seen[id] {
					t.Errorf("message %d: Message-ID %q, want one starting %q, distinct", i, id, c.wantIDs[i])
				}
				seen[id] = true
				if pm.Header.Get("Bcc") != "" || strings.ReplaceAll(pm.Text, "\r\n", "\n") != c.n.Text {
					t.Errorf("message %d: Bcc %q, text %q", i, pm.Header.Get("Bcc"), pm.Text)
				}
			}
		})
	}
}
