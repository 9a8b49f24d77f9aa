package source

import (
	"fmt"
	"strings"
	"unicode"
)

// Field is what a column holds, as foyer reads it.
type Field string

// The fields foyer reads from a file. Other columns are ignored (and listed
// in Stats.Columns with an empty Field).
const (
	FieldEmail       Field = "email"
	FieldDisplayName Field = "display_name"
	FieldGivenName   Field = "given_name"
	FieldSurname     Field = "surname"
	FieldCompany     Field = "company"
	FieldRedirectURL Field = "redirect_url"
	FieldMessage     Field = "message"
	FieldSendEmail   Field = "send_email"
	FieldProfile     Field = "profile"
)

// synonym is a header name (normalised by headerKey) and what it means. Rank
// orders names that mean the same field: when two columns map to one field,
// the lower rank wins.
type synonym struct {
	field Field
	rank  int
}

// synonyms maps header names to fields. The portal's bulk-invite template
// names its columns by the invitation property in brackets (inviteeEmail,
// inviteRedirectURL, sendEmail, customizedMessageBody, inviteeName:
// entra-docs external-id/tutorial-bulk-invite.md, "Understand the CSV
// template"); the Graph invitation resource names them invitedUserEmailAddress,
// invitedUserDisplayName, inviteRedirectUrl, sendInvitationMessage
// (microsoft-graph-docs api-reference/v1.0/resources/invitation.md). The
// rest are what people and exports call them.
var synonyms = map[string]synonym{
	"email": {FieldEmail, 1}, "emailaddress": {FieldEmail, 1}, "inviteeemail": {FieldEmail, 1},
	"inviteduseremailaddress": {FieldEmail, 1}, "emailaddresstoinvite": {FieldEmail, 1},
	"mail": {FieldEmail, 2}, "useremail": {FieldEmail, 2}, "useremailaddress": {FieldEmail, 2},
	"guestemail": {FieldEmail, 2}, "externalemail": {FieldEmail, 2}, "invitedemail": {FieldEmail, 2},
	"mailaddress": {FieldEmail, 2}, "emailid": {FieldEmail, 2}, "primarysmtpaddress": {FieldEmail, 3},
	"workemail": {FieldEmail, 3}, "contactemail": {FieldEmail, 3},

	"displayname": {FieldDisplayName, 1}, "inviteename": {FieldDisplayName, 1},
	"inviteduserdisplayname": {FieldDisplayName, 1}, "nameofinvitee": {FieldDisplayName, 1},
	"name": {FieldDisplayName, 2}, "fullname": {FieldDisplayName, 2}, "guestname": {FieldDisplayName, 2},
	"contactname": {FieldDisplayName, 2},
	// The seed's runbook file calls the display name "username".
	"username": {FieldDisplayName, 3},

	"givenname": {FieldGivenName, 1}, "firstname": {FieldGivenName, 1}, "forename": {FieldGivenName, 2},
	"first":   {FieldGivenName, 3},
	"surname": {FieldSurname, 1}, "lastname": {FieldSurname, 1}, "familyname": {FieldSurname, 1},
	"last": {FieldSurname, 3},

	"company": {FieldCompany, 1}, "companyname": {FieldCompany, 1}, "organization": {FieldCompany, 2},
	"organisation": {FieldCompany, 2}, "organizationname": {FieldCompany, 2}, "employer": {FieldCompany, 3},

	"redirecturl": {FieldRedirectURL, 1}, "inviteredirecturl": {FieldRedirectURL, 1},
	"redirectionurl": {FieldRedirectURL, 1}, "redirect": {FieldRedirectURL, 2}, "redirecturi": {FieldRedirectURL, 2},

	"message": {FieldMessage, 1}, "customizedmessagebody": {FieldMessage, 1},
	"customizedinvitationmessage": {FieldMessage, 1}, "invitationmessage": {FieldMessage, 1},
	"custommessage": {FieldMessage, 2},

	"sendemail": {FieldSendEmail, 1}, "sendinvitationmessage": {FieldSendEmail, 1},
	"sendinvitation": {FieldSendEmail, 2}, "sendinvite": {FieldSendEmail, 2},

	"profile": {FieldProfile, 1}, "foyerprofile": {FieldProfile, 1}, "accessprofile": {FieldProfile, 2},
}

// Column is one column of the file's header and what foyer reads from it.
type Column struct {
	Index int    `json:"index"` // 1-based
	Name  string `json:"name"`  // as written in the header
	Field Field  `json:"field"` // "" when foyer ignores the column
	Note  string `json:"note,omitempty"`
}

// headerKey normalises a header for matching: the property name in brackets
// when there is one ("Email address to invite [inviteeEmail] Required"),
// else the header's letters and digits, lowercased ("E-mail Address" →
// "emailaddress").
func headerKey(h string) string {
	if open := strings.IndexByte(h, '['); open >= 0 {
		if end := strings.IndexByte(h[open:], ']'); end > 1 {
			h = h[open+1 : open+end]
		}
	}
	var b strings.Builder
	for _, r := range h {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// layout is where each field is in a record, by the indices below: the
// column's index+1, 0 when absent.
type layout [fieldCount]int

// Indices of fields in a layout, in the order of fieldOrder.
const (
	iEmail = iota
	iDisplayName
	iGivenName
	iSurname
	iCompany
	iRedirectURL
	iMessage
	iSendEmail
	iProfile
	fieldCount
)

var fieldOrder = [fieldCount]Field{FieldEmail, FieldDisplayName, FieldGivenName, FieldSurname, FieldCompany, FieldRedirectURL, FieldMessage, FieldSendEmail, FieldProfile}

func fieldIndex(f Field) int {
	for i, g := range fieldOrder {
		if g == f {
			return i
		}
	}
	panic("source: unknown field " + string(f))
}

// get returns the value of field f in fields, "" when absent.
func (l *layout) get(fields []string, f int) string {
	if i := l[f] - 1; i >= 0 && i < len(fields) {
		return fields[i]
	}
	return ""
}

// mapHeader maps the header's names to fields. It returns the columns and
// an error message when the header is ambiguous about the email address.
func mapHeader(names []string) (layout, []Column, string) {
	var l layout
	cols := make([]Column, len(names))
	rank := [fieldCount]int{}
	for i, n := range names {
		n = cleanValue(n)
		cols[i] = Column{Index: i + 1, Name: n}
		s, ok := synonyms[headerKey(n)]
		if !ok {
			continue
		}
		f := fieldIndex(s.field)
		switch prev := l[f] - 1; {
		case prev < 0:
		case s.rank < rank[f]:
			cols[prev].Field, cols[prev].Note = "", fmt.Sprintf("ignored: column %d (%q) is read as %s", i+1, n, s.field)
		case s.rank == rank[f] && s.field == FieldEmail:
			return l, cols, fmt.Sprintf("columns %d (%q) and %d (%q) both look like the email address: keep one, or rename the other", prev+1, cols[prev].Name, i+1, n)
		default:
			cols[i].Note = fmt.Sprintf("ignored: column %d (%q) is read as %s", prev+1, cols[prev].Name, s.field)
			continue
		}
		l[f], rank[f] = i+1, s.rank
		cols[i].Field = s.field
	}
	return l, cols, ""
}

// describeColumns lists columns for an error message.
func describeColumns(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, 0, len(names))
	for i, n := range names {
		if i == 12 {
			q = append(q, fmt.Sprintf("and %d more", len(names)-i))
			break
		}
		q = append(q, fmt.Sprintf("%q", truncate(cleanValue(n), 60)))
	}
	return strings.Join(q, ", ")
}
