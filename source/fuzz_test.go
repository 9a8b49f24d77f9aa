package source

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzRead reads any bytes: Read never panics; it returns a file-level
// error before any row or none at all; rows keep the invariants checkRows
// checks; and when encoding/csv reads the same UTF-8 text without an error,
// every record after the header is exactly one row or one blank record.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("email\n\"a@b.example\nc@d.example"))
	f.Fuzz(func(t *testing.T, in []byte) {
		rows, st, err := readAll(t, in, testOptions())
		if err != nil {
			return
		}
		if st.Encoding != "utf-8" || bytes.IndexByte(in, '\n') < 0 && bytes.IndexByte(in, '\r') >= 0 {
			return
		}
		cr := csv.NewReader(bytes.NewReader(in))
		cr.Comma, cr.FieldsPerRecord = []rune(st.Delimiter)[0], -1
		records := 0
		lines := map[int]bool{}
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return // malformed: this reader resynchronises where encoding/csv stops
			}
			line, _ := cr.FieldPos(0)
			if line <= st.HeaderLine || (records == 0 && st.HeaderLine == 0 && isPreamble(rec)) {
				continue
			}
			records++
			lines[line] = true
		}
		if len(rows)+st.Blank != records {
			t.Fatalf("%d rows and %d blank records for %d records after the header", len(rows), st.Blank, records)
		}
		for _, r := range rows {
			if !lines[r.Line] {
				t.Fatalf("row on line %d, where encoding/csv starts no record", r.Line)
			}
		}
	})
}

// isPreamble reports the records a headerless file may start with that are
// neither rows nor blank records: a "sep=" line, an empty record.
func isPreamble(rec []string) bool {
	if _, ok := versionLine(rec); ok || allEmpty(rec) {
		return true
	}
	return len(rec) <= 2 && len(rec[0]) == 4 && (rec[0] == "sep=" || rec[0] == "SEP=")
}

// FuzzReadOptions reads any bytes with a chosen encoding and email column:
// Read never panics; rows keep checkRows's invariants; a problem with the
// whole file is a *FileError before any row; and a file that is read has
// exactly one email column, the one chosen when a column was.
func FuzzReadOptions(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	for i, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, []string{"", "windows-1252", "utf-16le", "latin1"}[i%4], []string{"", "2", "Email", "E-Mail-Adresse"}[i%4])
	}
	f.Add([]byte("Vorname;Name;E-Mail-Adresse\nJ\xfcrgen;M\xfcller;juergen@fabrikam.example\n"), "windows-1252", "")
	f.Add([]byte("a,b\nAna,ana@x.example\n"), "", "2")
	f.Add([]byte("Ana,ana@x.example\n"), "", "2")
	f.Add([]byte("mail,Mail\n"), "", "mail")
	f.Fuzz(func(t *testing.T, in []byte, encoding, column string) {
		o := testOptions()
		o.Encoding, o.EmailColumn = encoding, column
		checkErr := o.Check()
		rows, st, err := readAll(t, in, o)
		if checkErr != nil {
			if err == nil {
				t.Fatalf("Check refused the options (%v) but Read read the file", checkErr)
			}
			return
		}
		if err != nil {
			var fe *FileError
			if len(rows) == 0 && !errors.As(err, &fe) && !strings.HasPrefix(err.Error(), "read line") {
				t.Fatalf("a file-level error that is not a FileError: %v", err)
			}
			return
		}
		email := 0
		for _, c := range st.Columns {
			if c.Field == FieldEmail {
				email++
				if n, perr := strconv.Atoi(strings.TrimSpace(column)); perr == nil && c.Index != n {
					t.Fatalf("column %d is the email column, but column %d was chosen", c.Index, n)
				}
			}
		}
		if email != 1 {
			t.Fatalf("%d email columns in %+v", email, st.Columns)
		}
	})
}
