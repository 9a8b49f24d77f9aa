package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
)

// testOptions is the tenant the fixtures are written for: contoso.example is
// verified, contoso-labs.example is configured as internal, the run's
// profile denies gmail.com, and rows may name the auditors profile, which
// allows it.
func testOptions() Options {
	return Options{
		VerifiedDomains: []string{"contoso.example", "contoso.onmicrosoft.com"},
		InternalDomains: []string{"contoso-labs.example", "matthewdavis111.com"},
		Profile:         &foyer.Profile{Name: "partners", Deny: []string{"gmail.com"}},
		Profiles:        map[string]*foyer.Profile{"auditors": {Name: "auditors"}, "partners": {Name: "partners", Deny: []string{"gmail.com"}}},
	}
}

// readAll reads in and checks what every read must hold: lines increase,
// each row has one of the verdicts source gives and a reason exactly when
// it has one, a candidate has an address that ParseAddress accepts as is,
// and the counts add up.
func readAll(t testing.TB, in []byte, opts Options) ([]foyer.Row, Stats, error) {
	t.Helper()
	var rows []foyer.Row
	st, err := Read(context.Background(), bytes.NewReader(in), opts, func(r foyer.Row) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil && len(rows) > 0 && foyer.ErrorCode(err) == foyer.EINVALID && !strings.Contains(err.Error(), "read line") {
		t.Fatalf("file-level error %v after %d rows", err, len(rows))
	}
	if msg := checkRows(rows, st, err); msg != "" {
		t.Fatal(msg)
	}
	return rows, st, err
}

func checkRows(rows []foyer.Row, st Stats, err error) string {
	prev := 0
	var counts [4]int
	for _, r := range rows {
		if r.Line <= prev {
			return fmt.Sprintf("line %d follows line %d", r.Line, prev)
		}
		prev = r.Line
		switch r.Action {
		case "":
			counts[0]++
			if r.Reason != "" {
				return fmt.Sprintf("line %d: a candidate with a reason %q", r.Line, r.Reason)
			}
			if a, perr := foyer.ParseAddress(string(r.Email)); perr != nil || a != r.Email {
				return fmt.Sprintf("line %d: candidate address %q does not parse as itself: %v", r.Line, r.Email, perr)
			}
		case foyer.ActionInvalid, foyer.ActionDuplicate, foyer.ActionSkip:
			counts[map[foyer.Action]int{foyer.ActionInvalid: 1, foyer.ActionDuplicate: 2, foyer.ActionSkip: 3}[r.Action]]++
			if r.Reason == "" {
				return fmt.Sprintf("line %d: %s without a reason", r.Line, r.Action)
			}
		default:
			return fmt.Sprintf("line %d: action %q is the plan's, not the reader's", r.Line, r.Action)
		}
	}
	if err == nil && (st.Rows != len(rows) || st.Candidates != counts[0] || st.Invalid != counts[1] || st.Duplicate != counts[2] || st.Skip != counts[3]) {
		return fmt.Sprintf("stats %+v do not count rows %v", st, counts)
	}
	return ""
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// want is an expected row: its line, verdict, address (or raw value), the
// display name and a part of the reason.
type want struct {
	line   int
	action foyer.Action
	email  string
	name   string
	reason string
}

func checkWant(t *testing.T, rows []foyer.Row, ws []want) {
	t.Helper()
	if len(rows) != len(ws) {
		for _, r := range rows {
			t.Logf("%d %s %q %q %s", r.Line, r.Action, r.Email, r.DisplayName, r.Reason)
		}
		t.Fatalf("got %d rows, want %d", len(rows), len(ws))
	}
	for i, w := range ws {
		r := rows[i]
		email := string(r.Email)
		if email == "" {
			email = r.Raw
		}
		if r.Line != w.line || r.Action != w.action || email != w.email || r.DisplayName != w.name || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("row %d = {%d %q %q %q %q}, want %+v", i, r.Line, r.Action, email, r.DisplayName, r.Reason, w)
		}
	}
}

func TestReadDialects(t *testing.T) {
	t.Parallel()
	three := []want{
		{2, "", "juergen.mueller@fabrikam.example", "Jürgen Müller", ""},
		{3, "", "zoe.aberg@northwind.example", "Zoë Åberg", ""},
	}
	two := []want{{2, "", "ana.lima@fabrikam.example", "Ana Lima", ""}, {3, "", "bram@northwind.example", "Bram de Vries", ""}}
	tests := []struct {
		file      string
		encoding  string
		delimiter string
		template  string
		header    int
		rows      []want
	}{
		{"seed.csv", "utf-8", ",", "", 1, []want{
			{2, foyer.ActionSkip, "demo.email.matt@gmail.com", "Matt External", "deny list"},
			{3, foyer.ActionSkip, "mark.smith@matthewdavis111.com", "Mark Smtih", "matthewdavis111.com is configured as an internal domain"},
		}},
		{"portal-template.csv", "utf-8", ",", "v1.0", 2, []want{
			{3, foyer.ActionSkip, "example@example.com", "", "the portal template's example row"},
		}},
		{"portal-filled.csv", "utf-8", ",", "v1.0", 2, []want{
			{3, foyer.ActionSkip, "example@example.com", "Example Person", "example row"},
			{4, "", "ana.lima@fabrikam.example", "Ana Lima", ""},
			{5, "", "bram@northwind.example", "Bram de Vries", ""},
			{6, "", "wei.chen@tailspin.example", "Chen, Wei", ""},
		}},
		{"excel-unicode.txt", "utf-16le with BOM", "\t", "", 1, append(three[:2:2], want{4, "", "lukasz@tailspin.example", "Łukasz Nowak", ""})},
		{"excel-semicolon.csv", "utf-8 with BOM", ";", "", 1, []want{
			three[0],
			{3, "", "marie.dupont@contoso-partner.example", "Dupont; Marie", ""},
			{4, "", "zoe.aberg@northwind.example", "Zoë Åberg", ""},
		}},
		{"excel-sep.csv", "utf-8", ";", "", 2, []want{{3, "", "ana.lima@fabrikam.example", "Ana Lima", ""}}},
		{"utf16le-nobom.csv", "utf-16le", ",", "", 1, two},
		{"utf16be-nobom.csv", "utf-16be", ",", "", 1, two},
		{"utf16be-bom.csv", "utf-16be with BOM", ",", "", 1, two},
		{"mac-cr.csv", "utf-8", ",", "", 1, two},
		{"quoted.csv", "utf-8", ",", "", 1, []want{
			{2, "", "ana.lima@fabrikam.example", "Lima, Ana", ""},
			{3, "", "bram@northwind.example", `Bram "BB" de Vries`, ""},
			{6, "", "wei.chen@tailspin.example", "Wei Chen", ""},
		}},
		{"headerless.csv", "utf-8", ",", "", 0, []want{
			{1, "", "ana.lima@fabrikam.example", "", ""},
			{2, "", "bram@northwind.example", "Bram de Vries", ""},
			{4, "", "wei.chen@tailspin.example", "", ""},
		}},
		{"idn.csv", "utf-8", ",", "", 1, []want{
			{2, "", "jose@xn--bcher-kva.example", "José", ""},
			{3, "", "anna@fabrikam.example", "Anna (full-width domain)", ""},
			{4, "", "yuki@xn--r8jz45g.xn--zckzah", "Yuki", ""},
			{5, "", "omar@xn--mgbh0fb.example", "Omar (already ASCII)", ""},
			{6, foyer.ActionInvalid, "bad@xn--a.example", "Bad punycode", `domain "xn--a.example" is not a valid internationalised domain name`},
			{7, foyer.ActionInvalid, "zoë@northwind.example", "Zoë (non-ASCII before @)", "non-ASCII character 'ë' before @"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			rows, st, err := readAll(t, fixture(t, tt.file), testOptions())
			if err != nil {
				t.Fatal(err)
			}
			if st.Encoding != tt.encoding || st.Delimiter != tt.delimiter || st.Template != tt.template || st.HeaderLine != tt.header {
				t.Errorf("stats %+v, want encoding %q delimiter %q template %q header line %d", st, tt.encoding, tt.delimiter, tt.template, tt.header)
			}
			checkWant(t, rows, tt.rows)
		})
	}
}

func TestReadFields(t *testing.T) {
	t.Parallel()
	rows, st, err := readAll(t, fixture(t, "portal-filled.csv"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if st.Blank != 1 || st.Lines != 7 {
		t.Errorf("blank %d lines %d, want 1 and 7", st.Blank, st.Lines)
	}
	r := rows[1]
	if r.RedirectURL != "https://myapps.microsoft.com" || r.SendEmail != "true" || r.Message != "Welcome to the DemoApp pilot" {
		t.Errorf("row %+v", r)
	}
	if r := rows[2]; r.SendEmail != "false" || r.Message != "" {
		t.Errorf("row %+v", r)
	}
	if r := rows[3]; r.Message != "Hi Wei, see you Monday" {
		t.Errorf("row %+v", r)
	}
	rows, _, err = readAll(t, fixture(t, "excel-unicode.txt"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[2]; r.GivenName != "Łukasz" || r.Surname != "Nowak" || r.Company != "Tailspin, Sp. z o.o." {
		t.Errorf("row %+v", r)
	}
	rows, _, err = readAll(t, fixture(t, "quoted.csv"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[1]; r.Message != "Line one\nLine two, with a comma\nLine three" {
		t.Errorf("message %q", r.Message)
	}
}

func TestReadVerdicts(t *testing.T) {
	t.Parallel()
	rows, st, err := readAll(t, fixture(t, "verdicts.csv"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	checkWant(t, rows, []want{
		{2, "", "ana.lima@fabrikam.example", "Ana Lima", ""},
		{3, foyer.ActionDuplicate, "Ana.Lima@fabrikam.example", "Ana again", "duplicate of line 2"},
		{4, foyer.ActionSkip, "it.admin@contoso.example", "IT admin", "contoso.example is a verified domain of the tenant"},
		{5, foyer.ActionSkip, "ops@eu.contoso.example", "Ops", "eu.contoso.example is a subdomain of contoso.example, a verified domain of the tenant"},
		{6, foyer.ActionSkip, "lab@contoso-labs.example", "Lab", "contoso-labs.example is configured as an internal domain of the tenant"},
		{7, foyer.ActionSkip, "someone@gmail.com", "Someone", "domain gmail.com is on profile partners's deny list"},
		{8, foyer.ActionInvalid, "a(b)@fabrikam.example", "Paren", `character '(' is not allowed`},
		{9, foyer.ActionInvalid, "", "No Email", `no email address in column 1 ("email")`},
		{10, "", "olu@fourthcoffee.example", "Olu", ""},
		{11, foyer.ActionInvalid, "kim@wingtip.example", "Kim", `profile "nosuch" is not configured (configured: auditors, partners)`},
		{12, foyer.ActionInvalid, "sam@litware.example", "Sam", `send email is "maybe": write true or false`},
		{13, foyer.ActionInvalid, "lee@litware.example", "Lee", `redirect URL "notaurl" is not an absolute http or https URL`},
		{14, foyer.ActionInvalid, "two@a.example; three@b.example", "Two", "the cell holds 2 addresses"},
		{15, "", "wei.chen@tailspin.example", `Chen, Wei`, ""},
		{16, "", "max@adatum.example", "Max", ""},
		{17, "", "pat@adatum.example", "Pat", ""},
		{18, foyer.ActionInvalid, "x@fabrikam.example,X,,,,extra", "", "6 values but the header has 5 columns: is there a comma inside a value that is not quoted?"},
		{19, "", "gmail.user@gmail.com", "G", ""},
		{20, foyer.ActionInvalid, ".dot@fabrikam.example", "Dot", "may not start with '.'"},
	})
	if rows[8].Profile != "auditors" || rows[14].SendEmail != "true" || rows[14].RedirectURL != "https://myapps.microsoft.com" {
		t.Errorf("profile %q, send email %q, redirect %q", rows[8].Profile, rows[14].SendEmail, rows[14].RedirectURL)
	}
	if st.Distinct != 10 {
		t.Errorf("distinct %d, want 10", st.Distinct)
	}
}

func TestReadBroken(t *testing.T) {
	t.Parallel()
	rows, _, err := readAll(t, fixture(t, "broken.csv"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	checkWant(t, rows, []want{
		{2, "", "ana.lima@fabrikam.example", "Ana Lima", ""},
		{3, foyer.ActionInvalid, `Bram "BB" de Vries,bram@northwind.example`, "", "line 3, column 6: a quote inside a value that does not start with one"},
		{4, foyer.ActionInvalid, `"Wei Chen,wei.chen@tailspin.example`, "", "the quote closing the value opened at line 4, column 1"},
		{5, "", "olu@fourthcoffee.example", "Olu Ade", ""},
		{6, foyer.ActionInvalid, `"Kim Lee"x,kim@wingtip.example`, "", "line 6, column 9: the quote closing the value opened at line 6, column 1 is followed by 'x'"},
		{7, "", "sam@litware.example", "Sam Roe", ""},
	})
}

func TestReadRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		opts func(*Options)
		rows []want
	}{
		{
			name: "a record joined by a stray quote says so",
			in:   "email,name\n\"ana@fabrikam.example,Ana\nbram@northwind.example,Bram\"\n",
			rows: []want{{2, foyer.ActionInvalid, "ana@fabrikam.example,Ana\nbram@northwind.example,Bram", "", "this record spans lines 2–3"}},
		},
		{
			name: "invalid UTF-8 after the sniffed start",
			in:   "email,name\n" + strings.Repeat("x@fabrikam.example,X\n", 4000) + "y@fabrikam.example,M\xfcller\n",
			rows: append(append([]want{{2, "", "x@fabrikam.example", "X", ""}}, func() []want {
				w := make([]want, 3999)
				for i := range w {
					w[i] = want{i + 3, foyer.ActionDuplicate, "x@fabrikam.example", "X", "duplicate of line 2"}
				}
				return w
			}()...), want{4002, foyer.ActionInvalid, "", "", "column 2 is not valid UTF-8"}),
		},
		{
			name: "the profile's allow list",
			in:   "email\nana@fabrikam.example\nbram@northwind.example\n",
			opts: func(o *Options) { o.Profile = &foyer.Profile{Name: "fab", Allow: []string{"fabrikam.example"}} },
			rows: []want{{2, "", "ana@fabrikam.example", "", ""}, {3, foyer.ActionSkip, "bram@northwind.example", "", "domain northwind.example is not on profile fab's allow list"}},
		},
		{
			name: "a row's profile replaces the run's, names matched ignoring case",
			in:   "email,profile\nana@gmail.com,Auditors\nbram@gmail.com,\n",
			rows: []want{{2, "", "ana@gmail.com", "", ""}, {3, foyer.ActionSkip, "bram@gmail.com", "", "deny list"}},
		},
		{
			name: "no profiles configured",
			in:   "email,profile\nana@fabrikam.example,partners\n",
			opts: func(o *Options) { o.Profiles = nil },
			rows: []want{{2, foyer.ActionInvalid, "ana@fabrikam.example", "", `profile "partners" is not configured (no profiles are)`}},
		},
		{
			name: "a display name too long for Entra",
			in:   "email,name\nana@fabrikam.example," + strings.Repeat("é", 257) + "\n",
			rows: []want{{2, foyer.ActionInvalid, "ana@fabrikam.example", strings.Repeat("é", 257), "the display name has 257 characters; Entra takes at most 256"}},
		},
		{
			name: "first and last name make the display name; a name column wins",
			in:   "first name,last name,email,full name\nAna,Lima,ana@fabrikam.example,\nBram,de Vries,bram@northwind.example,Bram dV\n",
			rows: []want{{2, "", "ana@fabrikam.example", "Ana Lima", ""}, {3, "", "bram@northwind.example", "Bram dV", ""}},
		},
		{
			name: "invalid rows do not hide a later valid one",
			in:   "email,redirect url\nana@fabrikam.example,ftp://x\nANA@fabrikam.example,\n",
			rows: []want{{2, foyer.ActionInvalid, "ana@fabrikam.example", "", "redirect URL"}, {3, "", "ANA@fabrikam.example", "", ""}},
		},
		{
			name: "an example.com row is the example only in a template's first row",
			in:   "email\nexample@example.com\n",
			rows: []want{{2, "", "example@example.com", "", ""}},
		},
		{
			name: "a forced delimiter",
			in:   "email;name\nana@fabrikam.example;Ana, Lima\n",
			opts: func(o *Options) { o.Delimiter = ';' },
			rows: []want{{2, "", "ana@fabrikam.example", "Ana, Lima", ""}},
		},
		{
			name: "a forced encoding",
			in:   "email,name\nana@fabrikam.example,J\xfcrgen M\xfcller\n",
			opts: func(o *Options) { o.Encoding = "windows-1252" },
			rows: []want{{2, "", "ana@fabrikam.example", "Jürgen Müller", ""}},
		},
		{
			name: "a header line only",
			in:   "email,name\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOptions()
			if tt.opts != nil {
				tt.opts(&o)
			}
			rows, _, err := readAll(t, []byte(tt.in), o)
			if err != nil {
				t.Fatal(err)
			}
			checkWant(t, rows, tt.rows)
		})
	}
}

func TestReadFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		opts func(*Options)
		want string
	}{
		{"empty", "", nil, "the file is empty: there is no header line"},
		{"blank lines only", "\r\n\r\n", nil, "the file is empty"},
		{"no email column", "name,company\nAna,Fabrikam\n", nil, `no column holds email addresses; columns found on line 1: "name", "company"; foyer reads a column named email`},
		{"no header", "Matt External,demo.email.matt@gmail.com\n", nil, `no column holds email addresses (column 2 holds an address: is the header line missing?`},
		{"two email columns", "email,e-mail\n", nil, `columns 1 ("email") and 2 ("e-mail") both look like the email address`},
		{"a template without inviteeEmail", "version:v1.0\nName [displayName] Required,User name [userPrincipalName] Required\n", nil, `the file starts like the portal's bulk-invite template (version:v1.0) but no column holds [inviteeEmail]; columns found: "Name [displayName] Required", "User name [userPrincipalName] Required"`},
		{"a workbook", "PK\x03\x04\x14\x00\x06\x00", nil, "probably an Excel workbook (.xlsx)"},
		{"an old workbook", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", nil, "Excel 97-2003 workbook"},
		{"UTF-32", "\xff\xfe\x00\x00e\x00\x00\x00", nil, "UTF-32"},
		{"NUL bytes", "email\nana@x.example\x00\n", nil, "NUL byte on line 2"},
		{"Windows-1252 unnamed", "email,name\nana@fabrikam.example,J\xfcrgen\n", nil, `the file is not UTF-8 (byte 0xFC on line 2): save it from Excel as "CSV UTF-8 (Comma delimited)", or name its encoding`},
		{"an unknown encoding", "email\n", func(o *Options) { o.Encoding = "klingon" }, `unknown encoding "klingon"`},
		{"an unknown delimiter", "email\n", func(o *Options) { o.Delimiter = '|' }, `delimiter '|' is not supported`},
		{"a broken header", "\"email\"x\n", nil, "the header cannot be read: line 1, column 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOptions()
			if tt.opts != nil {
				tt.opts(&o)
			}
			rows, _, err := readAll(t, []byte(tt.in), o)
			if len(rows) != 0 {
				t.Errorf("%d rows before a file-level error", len(rows))
			}
			var fe *foyer.Error
			if !errors.As(err, &fe) || fe.Code != foyer.EINVALID || !strings.Contains(fe.Message, tt.want) {
				t.Fatalf("error %v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
}

func TestReadStops(t *testing.T) {
	t.Parallel()
	in := []byte("email\n" + strings.Repeat("ana@fabrikam.example\n", 10000))
	stop := errors.New("stop")
	n := 0
	st, err := Read(context.Background(), bytes.NewReader(in), Options{}, func(foyer.Row) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || st.Rows != 3 {
		t.Errorf("err %v rows %d, want the callback's error after 3 rows", err, st.Rows)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, bytes.NewReader(in), Options{}, func(foyer.Row) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	bad := errors.New("disk on fire")
	_, err = Read(context.Background(), &failingReader{data: in[:150000], err: bad}, Options{}, func(foyer.Row) error { return nil })
	if !errors.Is(err, bad) || !strings.Contains(err.Error(), "read line 7144") {
		t.Errorf("err %v, want the reader's error with the line", err)
	}
	_, err = Read(context.Background(), &failingReader{data: in[:100], err: bad}, Options{}, func(foyer.Row) error { return nil })
	if !errors.Is(err, bad) || !strings.Contains(err.Error(), "read the start of the file") {
		t.Errorf("err %v, want the reader's error", err)
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestSeenCollisions(t *testing.T) {
	t.Parallel()
	s := newSeen()
	// Every key has the same first hash: the check bits tell them apart,
	// and when those agree too only the overflow map does.
	s.h1 = func(string) uint64 { return 42 }
	h2 := s.h2
	s.h2 = func(k string) uint64 {
		if strings.HasPrefix(k, "same") {
			return 7 << 32
		}
		return h2(k)
	}
	steps := []struct {
		key   string
		first int
		dup   bool
	}{
		{"a@x.example", 0, false},
		{"a@x.example", 1, true},
		{"same1@x.example", 0, false}, // first hash agrees, check bits differ
		{"same2@x.example", 0, false}, // both agree with same1: only the exact map tells
		{"same2@x.example", 4, true},
		{"same1@x.example", 3, true},
	}
	for i, st := range steps {
		first, dup := s.add(st.key, i+1)
		if first != st.first || dup != st.dup {
			t.Errorf("step %d add(%q) = %d, %v; want %d, %v", i+1, st.key, first, dup, st.first, st.dup)
		}
	}
	if s.len() != 3 {
		t.Errorf("len %d, want 3", s.len())
	}
}
