package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/foyer-dev/foyer"
)

// Options says how to judge the rows of a file.
type Options struct {
	// VerifiedDomains are the tenant's verified domains (GET /domains).
	// Addresses in them or their subdomains are members of the tenant, not
	// guests: their rows are skipped.
	VerifiedDomains []string
	// InternalDomains are further domains configured as the organisation's
	// own (a tenant's extra domains); their rows are skipped too.
	InternalDomains []string
	// Profile is the profile of the run: its allow and deny lists apply to
	// rows that do not name a profile of their own. Nil applies none.
	Profile *foyer.Profile
	// Profiles are the profiles a row may name in a profile column, by
	// name. A row naming another is invalid.
	Profiles map[string]*foyer.Profile
	// Encoding names the file's encoding when it is neither UTF-8 nor
	// UTF-16 (e.g. "windows-1252" for Excel's plain "CSV (Comma
	// delimited)" on Western Windows). Empty recognises UTF-8 and UTF-16.
	Encoding string
	// Delimiter is ',', ';' or '\t'; 0 detects it from the header line.
	Delimiter rune
	// EmailColumn chooses the column that holds the addresses: its name
	// in the header (compared as written, ignoring case, else as header
	// names are matched: see docs/csv.md) or its 1-based number. Empty
	// finds it by the header's names. A number whose column holds an "@"
	// on the first line means the file has no header.
	EmailColumn string
}

// Options fields that settle problems with a whole file; FileError.Option
// names them.
const (
	OptionEncoding    = "Encoding"
	OptionEmailColumn = "EmailColumn"
)

// FileError is a problem with a whole file: Read returns it before any
// row. It unwraps to a *foyer.Error with code EINVALID, whose message says
// what is wrong and how to fix the file.
type FileError struct {
	// Option is the Options field that would settle the problem by naming
	// what foyer could not recognise (OptionEncoding, OptionEmailColumn), or
	// "" when only the file can be fixed.
	Option string
	err    *foyer.Error
}

func (e *FileError) Error() string { return e.err.Error() }
func (e *FileError) Unwrap() error { return e.err }

// fileError returns a *FileError that option may settle.
func fileError(option, format string, args ...any) *FileError {
	return &FileError{Option: option, err: foyer.Errorf(foyer.EINVALID, format, args...)}
}

// Check reports options that can never work (an unknown encoding, an
// unsupported delimiter, a column number below 1) before any file is read:
// one *FileError that names every problem.
func (o Options) Check() error {
	var msgs []string
	option := ""
	add := func(err error) {
		var fe *FileError
		if errors.As(err, &fe) {
			msgs, option = append(msgs, fe.err.Message), fe.Option
		}
	}
	if f := strings.TrimSpace(o.Encoding); f != "" {
		_, err := encodingNamed(f)
		add(err)
	}
	_, _, err := sniff(nil, o.Delimiter)
	add(err)
	if o.EmailColumn != "" {
		_, err := parseColumnChoice(o.EmailColumn)
		add(err)
	}
	switch len(msgs) {
	case 0:
		return nil
	case 1:
		return fileError(option, "%s", msgs[0])
	}
	return fileError("", "%s", strings.Join(msgs, "; "))
}

// Stats says what Read recognised in a file and how many rows got each
// verdict.
type Stats struct {
	Encoding   string   `json:"encoding"`           // "utf-8", "utf-8 with BOM", "utf-16le with BOM", ...
	Delimiter  string   `json:"delimiter"`          // ",", ";" or "\t"
	Template   string   `json:"template,omitempty"` // the portal template's version ("v1.0"), if the file is one
	HeaderLine int      `json:"header_line"`        // 0 when the file has no header
	Columns    []Column `json:"columns"`
	Lines      int      `json:"lines"`      // physical lines read
	Rows       int      `json:"rows"`       // rows passed to fn
	Blank      int      `json:"blank"`      // records with no value at all (a spreadsheet's empty rows), not rows
	Candidates int      `json:"candidates"` // rows without a verdict: the plan decides invite or exists
	Invalid    int      `json:"invalid"`
	Duplicate  int      `json:"duplicate"`
	Skip       int      `json:"skip"`
	Distinct   int      `json:"distinct"` // distinct addresses among rows that were not invalid
}

// count adds a row's verdict to the counts.
func (s *Stats) count(r *foyer.Row) {
	s.Rows++
	switch r.Action {
	case foyer.ActionInvalid:
		s.Invalid++
	case foyer.ActionDuplicate:
		s.Duplicate++
	case foyer.ActionSkip:
		s.Skip++
	default:
		s.Candidates++
	}
}

// Read reads a CSV file from r and calls fn with each of its rows, in order,
// with its verdict. It holds one record at a time and, to find duplicates, a
// few bytes per distinct address (see docs/csv.md), so memory does not grow
// with the rest of the file.
//
// Each record of the file becomes exactly one row, except the header, the
// portal template's version line, an Excel "sep=" line and records with no
// value at all (counted in Stats.Blank). A row's Line is the physical line
// where its record starts; the header's own line counts. A row whose Action
// is empty is a candidate: the plan decides invite or exists. Other rows
// carry foyer.ActionInvalid, ActionDuplicate or ActionSkip and a Reason.
//
// Problems with the whole file (unreadable encoding, no email column, an
// ambiguous header) are returned as a *FileError, which unwraps to a
// *foyer.Error with code EINVALID, before fn is called. An error from fn stops reading and is returned as is; so is
// ctx's error. An error from r is returned wrapped.
func Read(ctx context.Context, r io.Reader, opts Options, fn func(foyer.Row) error) (Stats, error) {
	var st Stats
	f, err := open(r, opts, &st)
	if err != nil {
		return st, err
	}
	j := newJudge(opts, f)
	for n := 0; ; n++ {
		if n&255 == 0 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
		var rec record
		if n == 0 && f.first.line != 0 {
			rec = f.first
		} else if rec, err = f.rr.next(); err == io.EOF {
			break
		}
		if err != nil {
			st.Lines = f.rr.Lines()
			return st, fmt.Errorf("read line %d: %w", f.rr.Lines()+1, err)
		}
		row, ok := j.row(rec)
		if !ok {
			st.Blank++
			continue
		}
		st.count(&row)
		if err := fn(row); err != nil {
			st.Lines = f.rr.Lines()
			st.Distinct = j.seen.len()
			return st, err
		}
	}
	st.Lines = f.rr.Lines()
	st.Distinct = j.seen.len()
	return st, nil
}

// file is a file whose encoding, delimiter and header are known.
type file struct {
	rr       *recordReader
	layout   layout
	width    int    // the header's number of columns; 0 without a header
	template bool   // the portal's bulk-invite template
	first    record // a record already read: the first row of a file without a header
	names    []string
}

// open recognises the file's encoding, delimiter and header.
func open(r io.Reader, opts Options, st *Stats) (*file, error) {
	t, err := decode(r, opts.Encoding)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			return nil, fe
		}
		return nil, fmt.Errorf("read the start of the file: %w", err)
	}
	st.Encoding = t.encoding
	sample, _ := t.br.Peek(bufSize) // decode has peeked as much already
	delim, eol, err := sniff(sample, opts.Delimiter)
	if err != nil {
		return nil, err
	}
	st.Delimiter = string(delim)
	f := &file{rr: newRecordReader(t.br, byte(delim), eol)}
	rec, err := f.headerRecord(st)
	if err != nil {
		return nil, err
	}
	if rec.err != "" {
		return nil, fileError("", "the header cannot be read: %s", rec.err)
	}
	names := append([]string(nil), rec.fields...)
	choice, err := parseColumnChoice(opts.EmailColumn)
	if err != nil {
		return nil, err
	}
	chosen, err := choice.find(names, rec.line)
	if err != nil {
		return nil, err
	}
	if choice.number > 0 && strings.Contains(names[chosen-1], "@") {
		// The chosen column holds an address on the first line: it is a
		// row, and the file has no header.
		return f.headerless(rec, names, chosen, st), nil
	}
	l, cols, msg := mapHeader(names, chosen)
	if msg != "" {
		st.Columns = cols
		return nil, fileError(OptionEmailColumn, "%s", msg)
	}
	if l[iEmail] != 0 {
		st.HeaderLine, st.Columns = rec.line, cols
		f.layout, f.width, f.names = l, len(names), names
		return f, nil
	}
	if f.template {
		st.Columns = cols
		return nil, fileError(OptionEmailColumn, "the file starts like the portal's bulk-invite template (version:%s) but no column holds [inviteeEmail]; columns found: %s", st.Template, describeColumns(names))
	}
	// No header: read the file as addresses when the first value is one.
	if strings.Contains(names[0], "@") {
		return f.headerless(rec, names, 1, st), nil
	}
	st.Columns = cols
	hint := ""
	for i, n := range names {
		if strings.Contains(n, "@") {
			hint = fmt.Sprintf(" (column %d holds an address: is the header line missing? Add one such as \"name,email\")", i+1)
			break
		}
	}
	return nil, fileError(OptionEmailColumn, "no column holds email addresses%s; columns found on line %d: %s; foyer reads a column named email, e-mail, mail, email address, invitedUserEmailAddress or the template's [inviteeEmail] (or their German, French, Spanish, Portuguese, Dutch or Italian names); or choose the column that holds them",
		hint, rec.line, describeColumns(names))
}

// headerless sets f up for a file without a header whose first record,
// rec, is a row: column email holds the address, and the column beside it
// the display name when the address is in column 1 or 2.
func (f *file) headerless(rec record, names []string, email int, st *Stats) *file {
	rec.fields = names
	f.first = rec
	f.layout[iEmail] = email
	switch email {
	case 1:
		f.layout[iDisplayName] = 2
	case 2:
		f.layout[iDisplayName] = 1
	}
	n := max(len(names), f.layout[iDisplayName])
	st.Columns = make([]Column, n)
	for i := range st.Columns {
		st.Columns[i] = Column{Index: i + 1, Name: "(no header)"}
		switch i + 1 {
		case f.layout[iEmail]:
			st.Columns[i].Field = FieldEmail
		case f.layout[iDisplayName]:
			st.Columns[i].Field = FieldDisplayName
		}
	}
	return f
}

// headerRecord reads past an Excel "sep=" line and the portal template's
// version line and returns the first record after them.
func (f *file) headerRecord(st *Stats) (record, error) {
	for {
		rec, err := f.rr.next()
		if err == io.EOF {
			return record{}, fileError("", "the file is empty: there is no header line")
		}
		if err != nil {
			return record{}, fmt.Errorf("read the header: %w", err)
		}
		if rec.err != "" {
			return rec, nil
		}
		if sep := "sep=" + string(rune(f.rr.delim)); strings.EqualFold(cleanValue(strings.Join(rec.fields, string(rune(f.rr.delim)))), sep) {
			continue
		}
		if v, ok := versionLine(rec.fields); ok && !f.template {
			f.template, st.Template = true, v
			continue
		}
		if allEmpty(rec.fields) {
			continue
		}
		return rec, nil
	}
}

// versionLine recognises the portal template's first line, "version:v1.0",
// with or without the empty values a spreadsheet adds.
func versionLine(fields []string) (string, bool) {
	v := cleanValue(fields[0])
	if len(v) < 9 || !strings.EqualFold(v[:8], "version:") || !allEmpty(fields[1:]) {
		return "", false
	}
	return cleanValue(v[8:]), true
}

func allEmpty(fields []string) bool {
	for _, f := range fields {
		if cleanValue(f) != "" {
			return false
		}
	}
	return true
}

// sniff chooses the delimiter and the line break from the start of the
// text: the delimiter is whichever of comma, semicolon and tab appears most
// often outside quotes on the header line (the first line that is not a
// "sep=" or "version:" line), a comma when none does. Excel writes
// semicolons where the decimal separator is a comma, and tabs in its
// "Unicode Text" export.
func sniff(sample []byte, forced rune) (rune, byte, error) {
	eol := byte('\n')
	if bytes.IndexByte(sample, '\n') < 0 && bytes.IndexByte(sample, '\r') >= 0 {
		eol = '\r' // classic Mac line breaks
	}
	switch forced {
	case 0:
	case ',', ';', '\t':
		return forced, eol, nil
	default:
		return 0, 0, fileError("", "delimiter %q is not supported: use a comma, a semicolon or a tab", forced)
	}
	lines := strings.Split(string(sample), string(eol))
	for i, line := range lines {
		l := strings.ToLower(cleanValue(line))
		if i == len(lines)-1 && len(lines) > 1 && len(sample) == bufSize {
			break // possibly cut
		}
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "sep=") && len(l) == 5 {
			if d := rune(l[4]); d == ',' || d == ';' || d == '\t' {
				return d, eol, nil
			}
			continue
		}
		if strings.HasPrefix(l, "version:") {
			continue
		}
		return countDelims(line), eol, nil
	}
	return ',', eol, nil
}

func countDelims(line string) rune {
	var comma, semi, tab int
	quoted := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ',':
			comma++
		case c == ';':
			semi++
		case c == '\t':
			tab++
		}
	}
	switch {
	case semi > comma && semi >= tab:
		return ';'
	case tab > comma && tab > semi:
		return '\t'
	}
	return ','
}
