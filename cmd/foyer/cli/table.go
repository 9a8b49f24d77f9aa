package cli

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// table writes the rows of a plan or a run: line, action, email, detail.
// On a terminal it fits the terminal's width: the email and detail columns
// share what the line and action columns leave, and what does not fit is
// cut with "…" (--wide cuts nothing). Off a terminal nothing is cut.
type table struct {
	w      io.Writer
	email  int // the email column's width in cells
	detail int // the detail column's width; 0: nothing is cut
	header bool
}

// newTable returns a table for a terminal of width columns, or for no
// terminal (width 0).
func newTable(w io.Writer, columns int) *table {
	if columns <= 0 {
		return &table{w: w, email: 34}
	}
	// 7 (line, up to 9,999,999) + 2 + 9 (action) + 2 + email + 2 + detail,
	// and a column to spare: a terminal may wrap a line that fills its last
	// column.
	avail := columns - 23
	email := min(max(avail*45/100, 16), 40)
	return &table{w: w, email: email, detail: max(avail-email, 12)}
}

func (t *table) row(line, action, email, detail string) {
	if !t.header {
		t.write("line", "action", "email", "detail")
		t.header = true
	}
	t.write(line, action, email, detail)
}

func (t *table) write(line, action, email, detail string) {
	email, detail = printable(email), printable(detail)
	if t.detail > 0 {
		email, detail = clipCells(email, t.email), clipCells(detail, t.detail)
	}
	s := fmt.Sprintf("%7s  %-9s  %s  %s", line, action, padCells(email, t.email), detail)
	fmt.Fprintln(t.w, strings.TrimRight(s, " "))
}

// printable replaces what a terminal would act on rather than show
// (control characters, escape sequences, bidirectional overrides) in text
// that came from a file: a cell must not be able to move the cursor,
// recolour the screen or reorder what follows it.
func printable(s string) string {
	ok := true
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			return '?'
		}
		return r
	}, s)
}

// cells is how many terminal columns r takes: two for East Asian wide and
// full-width characters, none for combining marks and format characters.
func cells(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

func cellsOf(s string) int {
	n := 0
	for _, r := range s {
		n += cells(r)
	}
	return n
}

// clipCells cuts s to at most n columns, ending with "…" when it cut.
func clipCells(s string, n int) string {
	if cellsOf(s) <= n {
		return s
	}
	used := 0
	for i, r := range s {
		if used+cells(r) > n-1 {
			return s[:i] + "…"
		}
		used += cells(r)
	}
	return s
}

// padCells pads s with spaces to n columns.
func padCells(s string, n int) string {
	if c := cellsOf(s); c < n {
		return s + strings.Repeat(" ", n-c)
	}
	return s
}
