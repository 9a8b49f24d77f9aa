package source

import (
	"errors"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
)

// TestMapHeaderLanguages reads the headers that German, French, Spanish,
// Portuguese, Dutch and Italian exports write (Outlook's contact export,
// CRM and HR systems), with and without their accents.
func TestMapHeaderLanguages(t *testing.T) {
	t.Parallel()
	E, D, G, S, C := FieldEmail, FieldDisplayName, FieldGivenName, FieldSurname, FieldCompany
	tests := []struct {
		lang   string
		names  []string
		fields []Field
	}{
		{"de", []string{"Vorname", "Nachname", "E-Mail-Adresse", "Firma"}, []Field{G, S, E, C}},
		{"de", []string{"Anzeigename", "E-Mail", "Unternehmen"}, []Field{D, E, C}},
		// German and Dutch write the surname as plain "Name" beside the
		// first name.
		{"de", []string{"Vorname", "Name", "Mailadresse"}, []Field{G, S, E}},
		{"nl", []string{"Voornaam", "Naam", "E-mailadres", "Bedrijf"}, []Field{G, S, E, C}},
		{"nl", []string{"Naam", "E-mailadres", "Organisatie"}, []Field{D, E, C}},
		{"fr", []string{"Prénom", "Nom", "Courriel", "Société"}, []Field{G, S, E, C}},
		{"fr", []string{"Prenom", "Nom de famille", "Adresse e-mail", "Entreprise"}, []Field{G, S, E, C}},
		{"fr", []string{"Nom", "Adresse électronique"}, []Field{D, E}},
		{"fr", []string{"Nom d'affichage", "Adresse de messagerie"}, []Field{D, E}},
		// Spanish, Portuguese and Italian write the first name as plain
		// "Nombre"/"Nome" beside the surname.
		{"es", []string{"Nombre", "Apellidos", "Correo electrónico", "Empresa"}, []Field{G, S, E, C}},
		{"es", []string{"Nombre completo", "Dirección de correo electrónico", "Compañía"}, []Field{D, E, C}},
		{"es", []string{"Nombre", "Correo"}, []Field{D, E}},
		{"pt", []string{"Nome", "Sobrenome", "Endereço de e-mail", "Empresa"}, []Field{G, S, E, C}},
		{"pt", []string{"Primeiro nome", "Apelido", "Correio eletrónico", "Organização"}, []Field{G, S, E, C}},
		{"it", []string{"Nome", "Cognome", "Indirizzo e-mail", "Azienda"}, []Field{G, S, E, C}},
		{"it", []string{"Nome visualizzato", "Posta elettronica", "Società"}, []Field{D, E, C}},
		{"en", []string{"First name", "Name", "Email"}, []Field{G, S, E}},
		{"en", []string{"Name", "Email"}, []Field{D, E}},
	}
	for _, tt := range tests {
		l, cols, msg := mapHeader(tt.names, 0)
		if msg != "" {
			t.Errorf("%s %q: %s", tt.lang, tt.names, msg)
			continue
		}
		for i, c := range cols {
			if c.Field != tt.fields[i] {
				t.Errorf("%s %q: column %d (%q) is %q, want %q", tt.lang, tt.names, i+1, c.Name, c.Field, tt.fields[i])
			}
			if c.Field != "" && l[fieldIndex(c.Field)] != i+1 {
				t.Errorf("%s %q: layout %v disagrees with column %d", tt.lang, tt.names, l, i+1)
			}
		}
	}
}

func TestHeaderKeyFoldsAccents(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Prénom": "prenom", "Société": "societe", "E-Mail-Adresse": "emailadresse",
		"Correo electrónico": "correoelectronico", "Vollständiger Name": "vollstandigername", "Email [inviteeEmail]": "inviteeemail"} {
		if got := headerKey(in); got != want {
			t.Errorf("headerKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReadEmailColumn chooses the column that holds the addresses, by name
// or number, which settles files whose header foyer cannot read alone.
func TestReadEmailColumn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		column string
		rows   []want
		header int
		cols   []Field
	}{
		{name: "by name, beside another email column", in: "Email,Work Email,Name\nana@gmail.com,ana.lima@fabrikam.example,Ana Lima\n", column: "work email",
			rows: []want{{2, "", "ana.lima@fabrikam.example", "Ana Lima", ""}}, header: 1, cols: []Field{"", FieldEmail, FieldDisplayName}},
		{name: "two equally good email columns", in: "email,e-mail\nana.lima@fabrikam.example,bram@northwind.example\n", column: "e-mail",
			rows: []want{{2, "", "bram@northwind.example", "", ""}}, header: 1, cols: []Field{"", FieldEmail}},
		{name: "by name the header does not know", in: "Kontakt;Wer\nana.lima@fabrikam.example;Ana Lima\n", column: "Kontakt",
			rows: []want{{2, "", "ana.lima@fabrikam.example", "", ""}}, header: 1, cols: []Field{FieldEmail, ""}},
		{name: "by number", in: "who,where\nAna Lima,ana.lima@fabrikam.example\n", column: "2",
			rows: []want{{2, "", "ana.lima@fabrikam.example", "", ""}}, header: 1, cols: []Field{"", FieldEmail}},
		{name: "by number, no header", in: "Ana Lima,ana.lima@fabrikam.example\nBram de Vries,bram@northwind.example\n", column: "2",
			rows: []want{{1, "", "ana.lima@fabrikam.example", "Ana Lima", ""}, {2, "", "bram@northwind.example", "Bram de Vries", ""}}, header: 0, cols: []Field{FieldDisplayName, FieldEmail}},
		{name: "by number, no header, third column", in: "Ana,Lima,ana.lima@fabrikam.example\n", column: "3",
			rows: []want{{1, "", "ana.lima@fabrikam.example", "", ""}}, header: 0, cols: []Field{"", "", FieldEmail}},
		{name: "portal template", in: "version:v1.0\nEmail address to invite [inviteeEmail] Required,Backup [mail]\nana.lima@fabrikam.example,bram@northwind.example\n", column: "backup [mail]",
			rows: []want{{3, "", "bram@northwind.example", "", ""}}, header: 2, cols: []Field{"", FieldEmail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOptions()
			o.EmailColumn = tt.column
			rows, st, err := readAll(t, []byte(tt.in), o)
			if err != nil {
				t.Fatal(err)
			}
			checkWant(t, rows, tt.rows)
			if st.HeaderLine != tt.header {
				t.Errorf("header line %d, want %d", st.HeaderLine, tt.header)
			}
			if len(st.Columns) != len(tt.cols) {
				t.Fatalf("columns %+v, want fields %q", st.Columns, tt.cols)
			}
			for i, c := range st.Columns {
				if c.Field != tt.cols[i] {
					t.Errorf("column %d %+v, want field %q", i+1, c, tt.cols[i])
				}
			}
		})
	}
}

func TestReadEmailColumnErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		column string
		want   string
	}{
		{"no such name", "name,mail\nAna,ana@x.example\n", "Email", `no column is named "Email"; columns found on line 1: "name", "mail"`},
		{"two columns with that name", "mail,Mail\n", "mail", `columns 1 and 2 are both named "mail": give the column's number instead`},
		{"number past the header", "name,mail\n", "3", `there is no column 3: line 1 has 2 columns ("name", "mail")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOptions()
			o.EmailColumn = tt.column
			_, _, err := readAll(t, []byte(tt.in), o)
			var fe *FileError
			if !errors.As(err, &fe) || fe.Option != OptionEmailColumn || foyer.ErrorCode(err) != foyer.EINVALID || !strings.Contains(foyer.ErrorMessage(err), tt.want) {
				t.Fatalf("error %v, want a FileError for EmailColumn with %q", err, tt.want)
			}
		})
	}
}

// TestFileErrorOption checks that the problems an option settles say which.
func TestFileErrorOption(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		option string
	}{
		{"name,company\nAna,Fabrikam\n", OptionEmailColumn},
		{"email,e-mail\n", OptionEmailColumn},
		{"email,name\nana@fabrikam.example,J\xfcrgen\n", OptionEncoding},
		{"", ""},
	}
	for _, tt := range tests {
		_, _, err := readAll(t, []byte(tt.in), testOptions())
		var fe *FileError
		switch {
		case !errors.As(err, &fe):
			t.Errorf("%q: %v is not a FileError", tt.in, err)
		case fe.Option != tt.option:
			t.Errorf("%q: option %q, want %q", tt.in, fe.Option, tt.option)
		}
	}
}

func TestReadWindows1252(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.Encoding = "windows-1252"
	rows, st, err := readAll(t, []byte("E-Mail-Adresse;Vorname;Nachname\r\nj\xfcrgen@fabrikam.example;J\xfcrgen;M\xfcller\r\njuergen@fabrikam.example;J\xfcrgen;M\xfcller\r\n"), o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Encoding != "windows-1252" {
		t.Errorf("encoding %q", st.Encoding)
	}
	checkWant(t, rows, []want{
		{2, foyer.ActionInvalid, "jürgen@fabrikam.example", "Jürgen Müller", "non-ASCII character 'ü' before @"},
		{3, "", "juergen@fabrikam.example", "Jürgen Müller", ""},
	})
}

func TestOptionsCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		o    Options
		want string // "" for none
	}{
		{Options{}, ""},
		{Options{Encoding: "windows-1252", EmailColumn: "E-Mail", Delimiter: ';'}, ""},
		{Options{Encoding: "Latin1", EmailColumn: "3"}, ""},
		{Options{Encoding: "klingon"}, `unknown encoding "klingon"`},
		{Options{Delimiter: '|'}, "delimiter '|' is not supported"},
		{Options{EmailColumn: "0"}, "column numbers start at 1"},
		{Options{EmailColumn: "  "}, "empty"},
		{Options{Encoding: "klingon", EmailColumn: "-1"}, `unknown encoding "klingon" (use e.g. utf-8, utf-16le, windows-1252, iso-8859-15); email column -1: column numbers start at 1`},
	}
	for _, tt := range tests {
		err := tt.o.Check()
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(foyer.ErrorMessage(err), tt.want) {
			t.Errorf("%+v.Check() = %v, want %q", tt.o, err, tt.want)
		}
	}
}
