package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// maxRecordBytes bounds one record (all its physical lines). A quoted value
// that is still open after this many bytes is taken to be a stray quote: the
// record is reported and reading resumes on the line after the one where it
// started. It also bounds the memory kept for that resynchronisation.
const maxRecordBytes = 128 << 10

// record is one CSV record as the reader split it.
type record struct {
	line   int      // the physical line where the record starts
	last   int      // the physical line where it ends
	fields []string // its values, valid until the next call to next
	err    string   // why the record could not be read; fields is then empty
	text   string   // the record's first physical line, for invalid rows (err != "")
}

// heldLine is a physical line kept in memory: the lines of the record being
// read (for resynchronisation) or lines waiting to be read again after it.
type heldLine struct {
	num     int
	text    []byte
	last    bool // no line break followed it: the end of the input
	tooLong bool // longer than maxRecordBytes; text is empty
}

var errLineTooLong = errors.New("line too long")

// recordReader splits UTF-8 text into records with the rules of
// encoding/csv with LazyQuotes off (RFC 4180: values may be quoted, a quote
// inside a quoted value is doubled, quoted values may span lines, \r\n is
// read as \n, blank lines are skipped), which FuzzRecords checks against
// encoding/csv itself. It differs in what it does with a malformed record:
// encoding/csv cannot go back, so a stray opening quote swallows the rest of
// the file into one value; this reader reports the record with where the
// quote opened and reads the following lines again as records of their own.
type recordReader struct {
	br    *bufio.Reader
	delim byte
	eol   byte // '\n', or '\r' for files with classic Mac line breaks

	lines  int  // physical lines taken from br
	eof    bool // br is exhausted
	long   []byte
	replay []heldLine // lines to read again, in order, before br

	hold    []heldLine // the lines of the current record, when it spans several
	holdBuf []byte
	holdN   int // bytes held

	buf    []byte // the current record's values, one after another
	ends   []int  // where each value ends in buf
	fields []string
}

func newRecordReader(br *bufio.Reader, delim, eol byte) *recordReader {
	return &recordReader{br: br, delim: delim, eol: eol}
}

// Lines returns the number of physical lines read so far.
func (r *recordReader) Lines() int { return r.lines }

// readLine returns the next physical line without its line break. The slice
// is valid until the next call. io.EOF means there are no more lines.
func (r *recordReader) readLine() (heldLine, error) {
	if len(r.replay) > 0 {
		l := r.replay[0]
		r.replay = r.replay[1:]
		return l, nil
	}
	if r.eof {
		return heldLine{}, io.EOF
	}
	line, err := r.br.ReadSlice(r.eol)
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.br.ReadSlice(r.eol)
			if len(r.long) <= maxRecordBytes {
				r.long = append(r.long, line...)
			}
		}
		line = r.long
	}
	switch {
	case err == io.EOF:
		r.eof = true
		if len(line) == 0 {
			return heldLine{}, io.EOF
		}
	case err != nil:
		return heldLine{}, err
	}
	r.lines++
	l := heldLine{num: r.lines, last: r.eof}
	if n := len(line); n > 0 && line[n-1] == r.eol {
		line = line[:n-1]
	}
	// \r\n reads as \n, and a \r just before the end of the input is dropped,
	// as encoding/csv does.
	if n := len(line); r.eol == '\n' && n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > maxRecordBytes {
		l.tooLong = true
		line = nil
	}
	l.text = line
	return l, nil
}

// keep copies the line into the record's held lines, so that it survives the
// next read and can be read again after a malformed record.
func (r *recordReader) keep(l heldLine) {
	start := len(r.holdBuf)
	r.holdBuf = append(r.holdBuf, l.text...)
	l.text = r.holdBuf[start:len(r.holdBuf):len(r.holdBuf)]
	r.hold = append(r.hold, l)
	r.holdN += len(l.text) + 1
}

// next returns the next record, or io.EOF after the last one. Other errors
// come from the underlying reader.
func (r *recordReader) next() (record, error) {
	var first heldLine
	for {
		l, err := r.readLine()
		if err != nil {
			return record{}, err
		}
		if l.tooLong {
			return record{line: l.num, last: l.num, err: fmt.Sprintf("line %d is longer than %d KiB", l.num, maxRecordBytes>>10)}, nil
		}
		if len(l.text) > 0 {
			first = l
			break
		}
	}
	r.buf, r.ends = r.buf[:0], r.ends[:0]
	r.hold, r.holdBuf, r.holdN = r.hold[:0], r.holdBuf[:0], 0
	rec := record{line: first.num, last: first.num}
	if msg, err := r.parse(first, &rec); err != nil {
		return record{}, err
	} else if msg != "" {
		rec.err = msg
		rec.text = truncate(string(firstText(first, r.hold)), 200)
		r.resync(rec.last)
		return rec, nil
	}
	s := string(r.buf)
	r.fields = r.fields[:0]
	prev := 0
	for _, e := range r.ends {
		r.fields = append(r.fields, s[prev:e])
		prev = e
	}
	rec.fields = r.fields
	return rec, nil
}

func firstText(first heldLine, hold []heldLine) []byte {
	if len(hold) > 0 {
		return hold[0].text
	}
	return first.text
}

// cursor is where parse is: a line of the record and a byte in it.
type cursor struct {
	line heldLine
	i    int
}

// parse reads the values of the record starting with line l into r.buf and
// r.ends. It returns a message when the record is malformed.
func (r *recordReader) parse(l heldLine, rec *record) (string, error) {
	c := cursor{line: l}
	for {
		var (
			done bool
			msg  string
			err  error
		)
		if c.i < len(c.line.text) && c.line.text[c.i] == '"' {
			done, msg, err = r.quoted(&c, rec)
		} else {
			done, msg = r.unquoted(&c)
		}
		switch {
		case err != nil:
			return "", err
		case msg != "":
			// Keep the line where the problem was found, when the record
			// spans several, so that resync can read it again.
			if len(r.hold) > 0 && r.hold[len(r.hold)-1].num != c.line.num {
				r.keep(c.line)
			}
			return msg, nil
		case done:
			return "", nil
		}
	}
}

// unquoted reads a value that does not start with a quote. It reports
// whether it was the record's last.
func (r *recordReader) unquoted(c *cursor) (done bool, msg string) {
	text := c.line.text
	field := text[c.i:]
	j := bytes.IndexByte(field, r.delim)
	if j >= 0 {
		field = field[:j]
	}
	if q := bytes.IndexByte(field, '"'); q >= 0 {
		return false, fmt.Sprintf("line %d, column %d: a quote inside a value that does not start with one (quote the whole value and double the quote: \"say \"\"hi\"\"\")",
			c.line.num, col(text, c.i+q))
	}
	r.buf = append(r.buf, field...)
	r.ends = append(r.ends, len(r.buf))
	if j < 0 {
		return true, ""
	}
	c.i += j + 1
	return false, ""
}

// quoted reads a value that starts with a quote, across lines if it must.
// It reports whether it was the record's last.
func (r *recordReader) quoted(c *cursor, rec *record) (done bool, msg string, err error) {
	qLine, qCol := c.line.num, col(c.line.text, c.i)
	c.i++
	for {
		text := c.line.text
		j := bytes.IndexByte(text[c.i:], '"')
		if j < 0 {
			r.buf = append(r.buf, text[c.i:]...)
			if msg, err := r.nextLine(c, rec, qLine, qCol); msg != "" || err != nil {
				return false, msg, err
			}
			r.buf = append(r.buf, '\n')
			continue
		}
		r.buf = append(r.buf, text[c.i:c.i+j]...)
		c.i += j + 1
		switch {
		case c.i < len(text) && text[c.i] == '"':
			r.buf = append(r.buf, '"')
			c.i++
		case c.i < len(text) && text[c.i] == r.delim:
			r.ends = append(r.ends, len(r.buf))
			c.i++
			return false, "", nil
		case c.i == len(text):
			r.ends = append(r.ends, len(r.buf))
			return true, "", nil
		default:
			ch, _ := utf8.DecodeRune(text[c.i:])
			return false, fmt.Sprintf("line %d, column %d: the quote closing the value opened at line %d, column %d is followed by %q instead of %s or the end of the line (write a quote inside a quoted value as \"\")",
				c.line.num, col(text, c.i-1), qLine, qCol, ch, delimName(rune(r.delim))), nil
		}
	}
}

// nextLine moves c to the next line of a quoted value that goes on past the
// end of its line, keeping the line it leaves for resync. It returns a
// message when there is no next line or the record grows too long.
func (r *recordReader) nextLine(c *cursor, rec *record, qLine, qCol int) (string, error) {
	if c.line.last {
		return fmt.Sprintf("the quoted value opened at line %d, column %d is never closed", qLine, qCol), nil
	}
	if len(r.hold) == 0 || r.hold[len(r.hold)-1].num != c.line.num {
		r.keep(c.line)
	}
	next, err := r.readLine()
	switch {
	case err == io.EOF:
		return fmt.Sprintf("the quoted value opened at line %d, column %d is never closed", qLine, qCol), nil
	case err != nil:
		return "", err
	case next.tooLong || r.holdN+len(next.text)+1 > maxRecordBytes:
		// Read next again on its own: it may be a record.
		next.text = bytes.Clone(next.text)
		r.replay = append([]heldLine{next}, r.replay...)
		return fmt.Sprintf("the quoted value opened at line %d, column %d is not closed within %d KiB", qLine, qCol, maxRecordBytes>>10), nil
	}
	c.line, c.i = next, 0
	rec.last = next.num
	return "", nil
}

// resync arranges for the lines after the first line of a malformed record
// to be read again as records, up to and including the line where the
// problem was found.
func (r *recordReader) resync(last int) {
	if len(r.hold) < 2 {
		// The record was one line, or the problem was found on its first
		// line: reading goes on after it, as encoding/csv does.
		r.hold = r.hold[:0]
		return
	}
	again := make([]heldLine, 0, len(r.hold)-1+len(r.replay))
	for _, l := range r.hold[1:] {
		if l.num > last {
			break
		}
		l.text = bytes.Clone(l.text)
		again = append(again, l)
	}
	r.replay = append(again, r.replay...)
	r.hold = r.hold[:0]
}

// col returns the 1-based column, in characters, of byte offset i in text.
func col(text []byte, i int) int {
	return utf8.RuneCount(text[:i]) + 1
}

func delimName(d rune) string {
	switch d {
	case ',':
		return "a comma"
	case ';':
		return "a semicolon"
	case '\t':
		return "a tab"
	}
	return fmt.Sprintf("%q", d)
}

// truncate shortens s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k] + "…"
		}
		i++
	}
	return s
}
