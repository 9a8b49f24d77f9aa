package source

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

type gotRecord struct {
	line, last int
	fields     []string
	err        string
}

func readRecords(t testing.TB, in string, delim, eol byte) []gotRecord {
	t.Helper()
	rr := newRecordReader(bufio.NewReaderSize(strings.NewReader(in), 16), delim, eol)
	var out []gotRecord
	for {
		rec, err := rr.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		out = append(out, gotRecord{rec.line, rec.last, slices.Clone(rec.fields), rec.err})
	}
}

func TestRecords(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", maxRecordBytes+1)
	tests := []struct {
		name  string
		in    string
		delim byte
		eol   byte
		want  []gotRecord
	}{
		{name: "plain", in: "a,b\nc,d\n", want: []gotRecord{{1, 1, []string{"a", "b"}, ""}, {2, 2, []string{"c", "d"}, ""}}},
		{name: "crlf and no final break", in: "a,b\r\nc,d", want: []gotRecord{{1, 1, []string{"a", "b"}, ""}, {2, 2, []string{"c", "d"}, ""}}},
		{name: "blank lines skipped but counted", in: "a\n\n\r\nb\n", want: []gotRecord{{1, 1, []string{"a"}, ""}, {4, 4, []string{"b"}, ""}}},
		{name: "empty values", in: ",a,\n", want: []gotRecord{{1, 1, []string{"", "a", ""}, ""}}},
		{name: "quoted delimiter and quote", in: `"a,b","c""d",""` + "\n", want: []gotRecord{{1, 1, []string{"a,b", `c"d`, ""}, ""}}},
		{name: "quoted line break", in: "\"a\r\nb\",c\nd\n", want: []gotRecord{{1, 2, []string{"a\nb", "c"}, ""}, {3, 3, []string{"d"}, ""}}},
		{name: "semicolon", in: "a;\"b;c\"\n", delim: ';', want: []gotRecord{{1, 1, []string{"a", "b;c"}, ""}}},
		{name: "tab", in: "a\tb c\n", delim: '\t', want: []gotRecord{{1, 1, []string{"a", "b c"}, ""}}},
		{name: "classic mac", in: "a,b\rc\r", eol: '\r', want: []gotRecord{{1, 1, []string{"a", "b"}, ""}, {2, 2, []string{"c"}, ""}}},
		{
			name: "bare quote: that line only",
			in:   "a\"b,c\nd\n",
			want: []gotRecord{{1, 1, nil, "line 1, column 2: a quote inside a value"}, {2, 2, []string{"d"}, ""}},
		},
		{
			name: "extraneous quote on the first line",
			in:   "\"a\"b,c\nd\n",
			want: []gotRecord{{1, 1, nil, "line 1, column 3: the quote closing the value opened at line 1, column 1 is followed by 'b'"}, {2, 2, []string{"d"}, ""}},
		},
		{
			name: "unclosed quote: the following lines are read again",
			in:   "\"a,b\nc,d\ne\n",
			want: []gotRecord{{1, 3, nil, "the quoted value opened at line 1, column 1 is never closed"}, {2, 2, []string{"c", "d"}, ""}, {3, 3, []string{"e"}, ""}},
		},
		{
			name: "unclosed quote at the end without a line break",
			in:   "x\n\"a,b\nc",
			want: []gotRecord{{1, 1, []string{"x"}, ""}, {2, 3, nil, "never closed"}, {3, 3, []string{"c"}, ""}},
		},
		{
			name: "stray quote closed later by a quote that is not followed by a delimiter",
			in:   "\"a,b\nc,d\n\"e\"f,g\nh\n",
			want: []gotRecord{
				{1, 3, nil, "line 3, column 1: the quote closing the value opened at line 1, column 1"},
				{2, 2, []string{"c", "d"}, ""},
				{3, 3, nil, "line 3, column 3: the quote closing the value opened at line 3, column 1"},
				{4, 4, []string{"h"}, ""},
			},
		},
		{
			name: "line too long",
			in:   "a\n" + long + "\nb\n",
			want: []gotRecord{{1, 1, []string{"a"}, ""}, {2, 2, nil, "line 2 is longer than 128 KiB"}, {3, 3, []string{"b"}, ""}},
		},
		{
			name: "quoted value over the limit: the lines after its start are read again",
			in:   "\"a\n" + strings.Repeat("b,c\n", maxRecordBytes/4+10) + "d\n",
			want: func() []gotRecord {
				w := []gotRecord{{1, maxRecordBytes / 4, nil, "not closed within 128 KiB"}}
				for i := range maxRecordBytes/4 + 10 {
					w = append(w, gotRecord{i + 2, i + 2, []string{"b", "c"}, ""})
				}
				return append(w, gotRecord{maxRecordBytes/4 + 12, maxRecordBytes/4 + 12, []string{"d"}, ""})
			}(),
		},
		{
			name: "a too long line inside a quoted value",
			in:   "\"a\n" + long + "\nb\"\n",
			want: []gotRecord{{1, 1, nil, "not closed within"}, {2, 2, nil, "line 2 is longer"}, {3, 3, nil, "line 3, column 2: a quote inside a value"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			delim, eol := tt.delim, tt.eol
			if delim == 0 {
				delim = ','
			}
			if eol == 0 {
				eol = '\n'
			}
			got := readRecords(t, tt.in, delim, eol)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d records, want %d:\n%v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.line != w.line || g.last != w.last || !slices.Equal(g.fields, w.fields) || !strings.Contains(g.err, w.err) || (w.err == "") != (g.err == "") {
					t.Errorf("record %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// FuzzRecords checks the record reader against encoding/csv with
// LazyQuotes off: on any input encoding/csv reads without an error, both
// give the same records starting on the same lines; on any input, lines
// increase and a malformed record carries a message and no values.
func FuzzRecords(f *testing.F) {
	for _, s := range []string{
		"a,b\nc,d\n", "\"a\nb\",c\r\n", "a\"b\n", "\"a\"\"b\",\"\"\n", "\n\n,\n", "\"a,b\nc\n", "a\r", "\"\r\n\"\r\n", ";;\n\t\"\"",
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, in string, d uint8) {
		delim := []byte{',', ';', '\t'}[d%3]
		got := readRecords(t, in, delim, '\n')
		prev := 0
		for _, g := range got {
			if g.line <= prev || g.last < g.line {
				t.Fatalf("lines go %d then %d–%d", prev, g.line, g.last)
			}
			prev = g.line
			if g.err != "" && g.fields != nil {
				t.Fatalf("malformed record with values: %+v", g)
			}
		}
		cr := csv.NewReader(strings.NewReader(in))
		cr.Comma, cr.FieldsPerRecord = rune(delim), -1
		var want []gotRecord
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				var pe *csv.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("csv: %v", err)
				}
				// Where encoding/csv stops, this reader reports the same
				// record as malformed.
				for _, g := range got {
					if g.line == pe.StartLine {
						if g.err == "" {
							t.Fatalf("encoding/csv: %v; this reader read line %d as %q", err, g.line, g.fields)
						}
						return
					}
				}
				t.Fatalf("encoding/csv: %v; this reader has no record on line %d: %+v", err, pe.StartLine, got)
			}
			line, _ := cr.FieldPos(0)
			want = append(want, gotRecord{line: line, fields: rec})
		}
		if len(got) != len(want) {
			t.Fatalf("got %d records, encoding/csv %d:\n%+v\n%+v", len(got), len(want), got, want)
		}
		for i := range want {
			if got[i].line != want[i].line || !slices.Equal(got[i].fields, want[i].fields) {
				t.Fatalf("record %d: got line %d %q, encoding/csv line %d %q", i, got[i].line, got[i].fields, want[i].line, want[i].fields)
			}
		}
	})
}
