package email_test

import (
	"net/mail"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/notify/email"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
)

// TestDisplayNamesRoundTrip sends real mail to the test server and reads
// the To header back with net/mail: whatever a name holds, the header is one
// valid address whose name is the name as given, but for white space:
// control characters (CR and LF above all) become spaces and runs of spaces
// one space.
func TestDisplayNamesRoundTrip(t *testing.T) {
	t.Parallel()
	long := strings.Repeat(`Anne "the boss" Lee \ `, 11) + "end" // 245 characters of ASCII specials
	cjk := strings.Repeat("山田 太郎 ", 42) + "終"                    // 253 characters, 3 bytes each
	spaced := strings.Repeat("Ann  Lee   ", 23)                  // runs of spaces where lines fold
	mixed := strings.Repeat("Zoë \"Z\" Ünal, PhD; ", 13)         // non-ASCII and specials, long
	tests := []struct{ name, want string }{
		{`Anne "the boss" Lee`, ""},
		{`C:\Users\anne`, ""},
		{`back\"slash`, ""},
		{`Lee, Anne`, ""},
		{`Lee; Anne`, ""},
		{`Anne <boss@contoso.example> Lee`, ""},
		{`anne@partner.example`, ""},
		{`Anne (the boss) Lee`, ""},
		{`Zoë Ünal`, ""},
		{`Zoë "Z" O'Brien, PhD`, ""},
		{`山田 太郎`, ""},
		{`김민준`, ""},
		{`=?utf-8?q?=41nne?=`, ""},
		{"Ann\r\nBcc: evil@attacker.example", "Ann Bcc: evil@attacker.example"},
		{"\x00Ann\u2028Lee\x7f", "Ann Lee"},
		{"Ann\xffLee", "Ann\uFFFDLee"},
		{"Zoë\u3000Ünal\u00a0Lee", ""}, // white space that is not a space stays
		{"Ann\tLee", "Ann Lee"},
		{long, ""},
		{cjk, strings.TrimSpace(cjk)},
		{spaced, strings.Join(strings.Fields(spaced), " ")},
		{mixed, strings.TrimSpace(mixed)},
	}
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSender(t, srv, nil)
	for _, tt := range tests {
		want := tt.want
		if want == "" {
			want = tt.name
		}
		if _, err := s.Send(t.Context(), email.Message{To: "anne@partner.example", ToName: tt.name, Subject: "s", Text: "t"}); err != nil {
			t.Errorf("name %q: %v", tt.name, err)
			continue
		}
		m := srv.Messages()[len(srv.Messages())-1]
		p, err := m.Parse()
		if err != nil {
			t.Fatalf("name %q: %v", tt.name, err)
		}
		if got := len(p.Header["To"]); got != 1 {
			t.Errorf("name %q: %d To headers", tt.name, got)
		}
		to, err := mail.ParseAddress(p.Header.Get("To"))
		if err != nil {
			t.Errorf("name %q: To %q does not parse: %v", tt.name, p.Header.Get("To"), err)
			continue
		}
		if to.Name != want || to.Address != "anne@partner.example" {
			t.Errorf("name %q: To %q reads back as name %q address %q, want name %q", tt.name, p.Header.Get("To"), to.Name, to.Address, want)
		}
		for _, line := range strings.Split(string(m.Data), "\r\n") {
			if len(line) > 998 {
				t.Errorf("name %q: a line of %d bytes", tt.name, len(line))
			}
		}
	}
}
