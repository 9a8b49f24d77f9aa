package source

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
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

// bareNames are the words for "name" alone. Alone they are the display
// name; beside a first-name column and no last-name column they are the
// last name, as German and Dutch lists write it (Vorname, Name; Voornaam,
// Naam), and beside a last-name column and no first-name column they are the
// first name, as Spanish, Portuguese and Italian lists write it (Nombre,
// Apellidos; Nome, Sobrenome; Nome, Cognome).
var bareNames = map[string]bool{"name": true, "naam": true, "nom": true, "nombre": true, "nome": true}

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
	// Invitation runbooks' username,email files (docs/csv.md) call the display name "username".
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

	// The same fields as lists in other languages head them: Outlook's
	// contact export in each language (E-Mail-Adresse, Adresse de
	// messagerie, Dirección de correo electrónico, ...), and what people
	// write. Accents are folded by headerKey, so Prénom and Prenom are one
	// name.
	// German
	"emailadresse": {FieldEmail, 1}, "mailadresse": {FieldEmail, 2},
	"anzeigename": {FieldDisplayName, 1}, "vollstandigername": {FieldDisplayName, 2},
	"vorname": {FieldGivenName, 1}, "nachname": {FieldSurname, 1}, "familienname": {FieldSurname, 1},
	"firma": {FieldCompany, 1}, "unternehmen": {FieldCompany, 1}, "firmenname": {FieldCompany, 1},
	// French
	"courriel": {FieldEmail, 1}, "adresseemail": {FieldEmail, 1}, "adressecourriel": {FieldEmail, 1},
	"adressedecourriel": {FieldEmail, 1}, "adresseelectronique": {FieldEmail, 1}, "adressedemessagerie": {FieldEmail, 1},
	"adressemail": {FieldEmail, 2}, "mel": {FieldEmail, 3},
	"nomdaffichage": {FieldDisplayName, 1}, "nomcomplet": {FieldDisplayName, 2}, "nom": {FieldDisplayName, 2},
	"prenom": {FieldGivenName, 1}, "nomdefamille": {FieldSurname, 1},
	"societe": {FieldCompany, 1}, "entreprise": {FieldCompany, 1},
	// Spanish
	"correoelectronico": {FieldEmail, 1}, "direcciondecorreoelectronico": {FieldEmail, 1},
	"direcciondecorreo": {FieldEmail, 1}, "correo": {FieldEmail, 2},
	"nombreparamostrar": {FieldDisplayName, 1}, "nombrecompleto": {FieldDisplayName, 2}, "nombre": {FieldDisplayName, 2},
	"nombredepila": {FieldGivenName, 1}, "apellido": {FieldSurname, 1}, "apellidos": {FieldSurname, 1},
	"empresa": {FieldCompany, 1}, "compania": {FieldCompany, 1}, "organizacion": {FieldCompany, 2},
	// Portuguese
	"enderecodeemail": {FieldEmail, 1}, "correioeletronico": {FieldEmail, 1}, "correioelectronico": {FieldEmail, 1},
	"nomedeexibicao": {FieldDisplayName, 1}, "nomecompleto": {FieldDisplayName, 2}, "nome": {FieldDisplayName, 2},
	"primeironome": {FieldGivenName, 1}, "prenome": {FieldGivenName, 2},
	"sobrenome": {FieldSurname, 1}, "apelido": {FieldSurname, 1}, "ultimonome": {FieldSurname, 2},
	"companhia": {FieldCompany, 2}, "organizacao": {FieldCompany, 2},
	// Dutch
	"emailadres": {FieldEmail, 1}, "mailadres": {FieldEmail, 2},
	"weergavenaam": {FieldDisplayName, 1}, "volledigenaam": {FieldDisplayName, 2}, "naam": {FieldDisplayName, 2},
	"voornaam": {FieldGivenName, 1}, "achternaam": {FieldSurname, 1},
	"bedrijf": {FieldCompany, 1}, "bedrijfsnaam": {FieldCompany, 1}, "organisatie": {FieldCompany, 2},
	// Italian
	"indirizzoemail": {FieldEmail, 1}, "indirizzopostaelettronica": {FieldEmail, 1},
	"indirizzodipostaelettronica": {FieldEmail, 1}, "postaelettronica": {FieldEmail, 1},
	"nomevisualizzato": {FieldDisplayName, 1}, "cognome": {FieldSurname, 1},
	"azienda": {FieldCompany, 1}, "societa": {FieldCompany, 1}, "ditta": {FieldCompany, 2}, "organizzazione": {FieldCompany, 2},
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
// else the header's letters and digits, lowercased and without their
// accents ("E-mail Address" → "emailaddress", "Prénom" → "prenom").
func headerKey(h string) string {
	if open := strings.IndexByte(h, '['); open >= 0 {
		if end := strings.IndexByte(h[open:], ']'); end > 1 {
			h = h[open+1 : open+end]
		}
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(h) {
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

// mapHeader maps the header's names to fields. chosen is the column
// (1-based) chosen to hold the addresses, 0 for none: it is the email
// column whatever its name, and columns whose names say email are ignored.
// mapHeader returns the columns and an error message when the header is
// ambiguous about the email address.
func mapHeader(names []string, chosen int) (layout, []Column, string) {
	var l layout
	cols := make([]Column, len(names))
	rank := [fieldCount]int{}
	if chosen > 0 {
		l[iEmail] = chosen // rank 0: better than any name
	}
	bare := bareNameField(names)
	for i, n := range names {
		n = cleanValue(n)
		cols[i] = Column{Index: i + 1, Name: n}
		if i+1 == chosen {
			cols[i].Field = FieldEmail
			continue
		}
		key := headerKey(n)
		s, ok := synonyms[key]
		if !ok {
			continue
		}
		if bareNames[key] {
			s.field = bare
		}
		f := fieldIndex(s.field)
		switch prev := l[f] - 1; {
		case prev < 0:
		case s.rank < rank[f]:
			cols[prev].Field, cols[prev].Note = "", fmt.Sprintf("ignored: column %d (%q) is read as %s", i+1, n, s.field)
		case s.rank == rank[f] && s.field == FieldEmail:
			return l, cols, fmt.Sprintf("columns %d (%q) and %d (%q) both look like the email address: keep one, or rename the other", prev+1, cols[prev].Name, i+1, n)
		default:
			cols[i].Note = fmt.Sprintf("ignored: column %d (%q) is read as %s", prev+1, cleanValue(names[prev]), s.field)
			continue
		}
		l[f], rank[f] = i+1, s.rank
		cols[i].Field = s.field
	}
	return l, cols, ""
}

// bareNameField says what a bare "name" column holds in this header (see
// bareNames).
func bareNameField(names []string) Field {
	var given, surname bool
	for _, n := range names {
		key := headerKey(cleanValue(n))
		if bareNames[key] {
			continue
		}
		switch synonyms[key].field {
		case FieldGivenName:
			given = true
		case FieldSurname:
			surname = true
		}
	}
	switch {
	case given && !surname:
		return FieldSurname
	case surname && !given:
		return FieldGivenName
	}
	return FieldDisplayName
}

// columnChoice is the column Options.EmailColumn chooses: by number (from
// 1) or by name.
type columnChoice struct {
	number int
	name   string
}

func parseColumnChoice(s string) (columnChoice, error) {
	if s == "" {
		return columnChoice{}, nil
	}
	v := strings.TrimSpace(s)
	if v == "" {
		return columnChoice{}, fileError(OptionEmailColumn, "the email column chosen is empty: give a column's name or number")
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 1 {
			return columnChoice{}, fileError(OptionEmailColumn, "email column %d: column numbers start at 1", n)
		}
		return columnChoice{number: n}, nil
	}
	return columnChoice{name: v}, nil
}

// find returns the column (1-based) the choice names in the first record
// of the file, names, on line; 0 when nothing was chosen. A name is
// compared with each column's name as written, ignoring case, then as
// header names are matched (headerKey).
func (c columnChoice) find(names []string, line int) (int, error) {
	switch {
	case c.number > len(names):
		return 0, fileError(OptionEmailColumn, "there is no column %d: line %d has %d columns (%s)", c.number, line, len(names), describeColumns(names))
	case c.number > 0:
		return c.number, nil
	case c.name == "":
		return 0, nil
	}
	for _, same := range []func(string) bool{
		func(n string) bool { return strings.EqualFold(cleanValue(n), c.name) },
		func(n string) bool { k := headerKey(cleanValue(n)); return k != "" && k == headerKey(c.name) },
	} {
		var found []int
		for i, n := range names {
			if same(n) {
				found = append(found, i+1)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		all := "both"
		if len(found) > 2 {
			all = "all"
		}
		return 0, fileError(OptionEmailColumn, "columns %s are %s named %q: give the column's number instead", joinInts(found), all, c.name)
	}
	return 0, fileError(OptionEmailColumn, "no column is named %q; columns found on line %d: %s", c.name, line, describeColumns(names))
}

// joinInts writes 1 and 2, or 1, 2 and 3.
func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
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
