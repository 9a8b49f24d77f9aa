package notify_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
)

func TestSafeCell(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a@b.example", "a@b.example"},
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"\tplain", "'\tplain"},
		{"  =1", "'  =1"},
		{"\n=cmd|' /C calc'!A0", "'\n=cmd|' /C calc'!A0"},
		{"\u00a0=1", "'\u00a0=1"},
		{"＝1", "'＝1"},
		{"   ", "   "},
		{"x=1", "x=1"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
	}
	for _, tt := range tests {
		if got := notify.SafeCell(tt.in); got != tt.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWriteResultsCSV(t *testing.T) {
	t.Parallel()
	rows := []foyer.Row{
		{Line: 2, Email: "ann@partner.example", Action: foyer.ActionInvite, Result: foyer.ResultInvited, UserID: "u-1", Grants: []string{"group Sales", "app_role DemoApp"}},
		{Line: 3, Raw: "=HYPERLINK(\"http://evil\",\"x\")", Action: foyer.ActionInvalid, Reason: "address has no @", Result: foyer.ResultSkipped},
		{Line: 4, Email: "bob@partner.example", Action: foyer.ActionInvite, Result: foyer.ResultFailed, Error: "throttled: \"slow down\",\nretry later"},
	}
	var buf bytes.Buffer
	if err := notify.WriteResultsCSV(&buf, slices.Values(rows)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "line,email,action,reason,result,user_id,grants,error\r\n") {
		t.Errorf("header line wrong: %q", out)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	want := [][]string{
		notify.ResultsColumns,
		{"2", "ann@partner.example", "invite", "", "invited", "u-1", "group Sales; app_role DemoApp", ""},
		{"3", "'=HYPERLINK(\"http://evil\",\"x\")", "invalid", "address has no @", "skipped", "", "", ""},
		{"4", "bob@partner.example", "invite", "", "failed", "", "", "throttled: \"slow down\",\nretry later"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d: %q", len(recs), len(want), recs)
	}
	for i := range want {
		if !slices.Equal(recs[i], want[i]) {
			t.Errorf("record %d = %q, want %q", i, recs[i], want[i])
		}
	}
}

func TestWriteResultsCSVEmpty(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := notify.WriteResultsCSV(&buf, slices.Values([]foyer.Row(nil))); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "line,email,action,reason,result,user_id,grants,error\r\n" {
		t.Errorf("empty results = %q", got)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

var errWrite = &foyer.Error{Code: foyer.EINTERNAL, Message: "disk full"}

func TestWriteResultsCSVWriteError(t *testing.T) {
	t.Parallel()
	err := notify.WriteResultsCSV(failWriter{}, slices.Values([]foyer.Row{{Line: 2}}))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v, want the writer's error", err)
	}
}

// FuzzResultsCSV proves that whatever a row holds, the CSV reads back as
// the same number of cells, and no cell starts (after white space) with a
// formula character unless it starts with the single quote.
func FuzzResultsCSV(f *testing.F) {
	for _, s := range []string{"", "=1+1", " -2", "\t@x", "a\"b,c\nd", "＋1", "\r\n=x", "\xff=", "'=already"} {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, raw, reason, errText string) {
		row := foyer.Row{Line: 7, Raw: raw, Reason: reason, Error: errText, Action: foyer.ActionInvalid, Result: foyer.ResultSkipped, Grants: []string{reason}}
		var buf bytes.Buffer
		if err := notify.WriteResultsCSV(&buf, slices.Values([]foyer.Row{row})); err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(&buf)
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("results CSV does not read back: %v", err)
		}
		if len(recs) != 2 || len(recs[1]) != len(notify.ResultsColumns) {
			t.Fatalf("got %d records %q", len(recs), recs)
		}
		for i, cell := range recs[1] {
			if !utf8.ValidString(cell) {
				t.Errorf("cell %d is not valid UTF-8: %q", i, cell)
			}
			if strings.HasPrefix(cell, "'") {
				continue
			}
			trimmed := strings.TrimLeftFunc(cell, unicode.IsSpace)
			if cell != "" && (cell[0] == '\t' || cell[0] == '\r') {
				t.Errorf("cell %d starts with tab or CR unescaped: %q", i, cell)
			}
			if r, _ := utf8.DecodeRuneInString(trimmed); trimmed != "" && notify.IsFormulaStart(r) {
				t.Errorf("cell %d starts with a formula character unescaped: %q", i, cell)
			}
		}
	})
}

func BenchmarkResultsWriter(b *testing.B) {
	row := foyer.Row{Line: 12, Email: "someone@partner.example", Action: foyer.ActionInvite, Result: foyer.ResultInvited,
		UserID: "3f2a1c4e-0000-4000-8000-000000000000", Grants: []string{"group Sales", "app_role DemoApp"}}
	var buf bytes.Buffer
	rw := notify.NewResultsWriter(&buf)
	b.ReportAllocs()
	for b.Loop() {
		if buf.Len() > 1<<20 {
			buf.Reset()
		}
		if err := rw.Write(row); err != nil {
			b.Fatal(err)
		}
	}
	if err := rw.Flush(); err != nil {
		b.Fatal(err)
	}
}
