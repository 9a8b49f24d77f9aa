package source

import (
	"strings"
	"testing"
)

func TestMapHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		names  []string
		fields []Field // per column
		err    string
	}{
		{names: []string{"username", "email"}, fields: []Field{FieldDisplayName, FieldEmail}},
		{
			names:  []string{"Email address to invite [inviteeEmail] Required", "Redirection url [inviteRedirectURL] Required", "Send invitation message (true or false) [sendEmail]", "Customized invitation message [customizedMessageBody]", "Name of invitee [inviteeName]", "Notes"},
			fields: []Field{FieldEmail, FieldRedirectURL, FieldSendEmail, FieldMessage, FieldDisplayName, ""},
		},
		{
			names:  []string{"invitedUserEmailAddress", "invitedUserDisplayName", "inviteRedirectUrl", "sendInvitationMessage"},
			fields: []Field{FieldEmail, FieldDisplayName, FieldRedirectURL, FieldSendEmail},
		},
		{
			names:  []string{" E-Mail Address ", "First Name", "LAST_NAME", "Company Name", "Profile", "Full name"},
			fields: []Field{FieldEmail, FieldGivenName, FieldSurname, FieldCompany, FieldProfile, FieldDisplayName},
		},
		// A better name for the same field wins whichever comes first.
		{names: []string{"username", "Display Name", "mail", "Email"}, fields: []Field{"", FieldDisplayName, "", FieldEmail}},
		{names: []string{"name", "full name", "email"}, fields: []Field{FieldDisplayName, "", FieldEmail}},
		{names: []string{"email", "E-mail"}, err: `columns 1 ("email") and 2 ("E-mail") both look like the email address`},
	}
	for _, tt := range tests {
		l, cols, msg := mapHeader(tt.names, 0)
		if msg != "" || tt.err != "" {
			if tt.err == "" || !strings.Contains(msg, tt.err) {
				t.Errorf("mapHeader(%q): %q, want %q", tt.names, msg, tt.err)
			}
			continue
		}
		for i, c := range cols {
			if c.Field != tt.fields[i] {
				t.Errorf("mapHeader(%q): column %d (%q) is %q, want %q", tt.names, i+1, c.Name, c.Field, tt.fields[i])
			}
			if c.Field != "" && l[fieldIndex(c.Field)] != i+1 {
				t.Errorf("mapHeader(%q): layout %v disagrees with column %d", tt.names, l, i+1)
			}
		}
	}
}

func TestSniff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		delim rune
		eol   byte
	}{
		{"email,name\n", ',', '\n'},
		{"email;name;company\r\n", ';', '\n'},
		{"email\tname\n", '\t', '\n'},
		{"\"a,b\";c;d\n", ';', '\n'},
		{"email\n", ',', '\n'},
		{"version:v1.0;;;\nEmail [inviteeEmail];Name [inviteeName]\n", ';', '\n'},
		{"sep=\t\nemail,name\n", '\t', '\n'},
		{"\n\nemail;name\n", ';', '\n'},
		{"email,name\rana@x.example,Ana\r", ',', '\r'},
		{"a,b;c;d\tx\n", ';', '\n'},
	}
	for _, tt := range tests {
		d, eol, err := sniff([]byte(tt.in), 0)
		if err != nil || d != tt.delim || eol != tt.eol {
			t.Errorf("sniff(%q) = %q, %q, %v; want %q, %q", tt.in, d, eol, err, tt.delim, tt.eol)
		}
	}
}
