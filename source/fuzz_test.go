package source

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
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
