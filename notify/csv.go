package notify

import (
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/foyer-dev/foyer"
)

// ResultsColumns are the columns of the results CSV, in order.
var ResultsColumns = []string{"line", "email", "action", "reason", "result", "user_id", "grants", "error"}

// ResultsWriter writes the results CSV one row at a time: RFC 4180 quoting,
// CRLF line ends, and every cell made safe to open in a spreadsheet (see
// SafeCell). Call Flush at the end.
type ResultsWriter struct {
	w      *csv.Writer
	header bool
	record []string
}

// NewResultsWriter returns a writer of the results CSV to w. The header
// line is written with the first row, or by Flush if there is none.
func NewResultsWriter(w io.Writer) *ResultsWriter {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &ResultsWriter{w: cw, record: make([]string, len(ResultsColumns))}
}

// Write writes one row.
func (rw *ResultsWriter) Write(row foyer.Row) error {
	if err := rw.writeHeader(); err != nil {
		return err
	}
	email := string(row.Email)
	if email == "" {
		email = row.Raw
	}
	rec := rw.record
	rec[0] = strconv.Itoa(row.Line)
	rec[1] = email
	rec[2] = string(row.Action)
	rec[3] = row.Reason
	rec[4] = string(row.Result)
	rec[5] = row.UserID
	rec[6] = strings.Join(row.Grants, "; ")
	rec[7] = row.Error
	for i, c := range rec {
		rec[i] = SafeCell(c)
	}
	if err := rw.w.Write(rec); err != nil {
		return fmt.Errorf("write results line %d: %w", row.Line, err)
	}
	return nil
}

func (rw *ResultsWriter) writeHeader() error {
	if rw.header {
		return nil
	}
	rw.header = true
	if err := rw.w.Write(ResultsColumns); err != nil {
		return fmt.Errorf("write results header: %w", err)
	}
	return nil
}

// Flush writes what is buffered, and the header if no row was written.
func (rw *ResultsWriter) Flush() error {
	if err := rw.writeHeader(); err != nil {
		return err
	}
	rw.w.Flush()
	if err := rw.w.Error(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// WriteResultsCSV writes the header and every row to w.
func WriteResultsCSV(w io.Writer, rows iter.Seq[foyer.Row]) error {
	rw := NewResultsWriter(w)
	for row := range rows {
		if err := rw.Write(row); err != nil {
			return err
		}
	}
	return rw.Flush()
}

// SafeCell returns s so that a spreadsheet shows it as text and never runs
// it as a formula (CSV injection, OWASP): a cell whose first character, or
// first character after leading white space, is = + - @ tab or CR (or their
// full-width forms) gets a single quote in front. Invalid UTF-8 is replaced
// by U+FFFD so that every cell is valid text. Other cells are unchanged.
func SafeCell(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if s == "" {
		return s
	}
	first, _ := utf8.DecodeRuneInString(s)
	if first == '\t' || first == '\r' {
		return "'" + s
	}
	trimmed := strings.TrimLeftFunc(s, unicode.IsSpace)
	if trimmed == "" {
		return s
	}
	r, _ := utf8.DecodeRuneInString(trimmed)
	if IsFormulaStart(r) {
		return "'" + s
	}
	return s
}

// IsFormulaStart reports whether a cell starting with r may be read as a
// formula by Excel, LibreOffice or Google Sheets.
func IsFormulaStart(r rune) bool {
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '\n',
		'＝', '＋', '－', '＠', // full-width forms, which some spreadsheets fold
		'\u2212': // the minus sign
		return true
	}
	return false
}
