package sqlite

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestConnCodec checks that conn stores times and lists as SQLite text and
// reads them back as package ledger expects, and that a stored value it
// cannot read is an error that quotes it.
func TestConnCodec(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := Open(ctx, ":memory:", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Rollback(ctx)
	if _, err := c.Exec(ctx, `CREATE TABLE codec (id INTEGER, at TEXT, maybe TEXT, list TEXT)`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 2, 3, 4, 5, 6, 7_008_009, time.FixedZone("x", 3600))
	if _, err := c.Exec(ctx, `INSERT INTO codec VALUES ($1, $2, $3, $4), ($5, $2, $6, $7)`,
		1, at, at, []string{"a", "b"}, 2, nil, []string(nil)); err != nil {
		t.Fatal(err)
	}
	var text [2]string
	if err := c.QueryRow(ctx, `SELECT at, list FROM codec WHERE id = 1`).Scan(&text[0], &text[1]); err != nil {
		t.Fatal(err)
	}
	if want := [2]string{"2026-02-03T03:05:06.007008Z", `["a","b"]`}; text != want {
		t.Errorf("stored %q, want %q", text, want)
	}
	rows, err := c.Query(ctx, `SELECT at, maybe, list FROM codec ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type read struct {
		at    time.Time
		maybe *time.Time
		list  []string
	}
	var got []read
	for rows.Next() {
		var r read
		if err := rows.Scan(&r.at, &r.maybe, &r.list); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	micro := at.UTC().Truncate(time.Microsecond)
	want := []read{{micro, &micro, []string{"a", "b"}}, {micro, nil, []string{}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read %+v, want %+v", got, want)
	}

	for _, bad := range []struct{ set, want string }{
		{`at = '2026-02-03 03:05:06'`, `read stored time "2026-02-03 03:05:06"`},
		{`list = '{a,b}'`, `read stored list "{a,b}"`},
	} {
		if _, err := c.Exec(ctx, `UPDATE codec SET `+bad.set+` WHERE id = 1`); err != nil {
			t.Fatal(err)
		}
		var r read
		err := c.QueryRow(ctx, `SELECT at, maybe, list FROM codec WHERE id = 1`).Scan(&r.at, &r.maybe, &r.list)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("after SET %s: read error %v, want one containing %s", bad.set, err, bad.want)
		}
		if _, err := c.Exec(ctx, `UPDATE codec SET at = $1, list = $2 WHERE id = 1`, at, []string{"a"}); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzParseTime: a stored time that reads back is one formatTime writes.
func FuzzParseTime(f *testing.F) {
	f.Add("2026-02-03T03:05:06.007008Z")
	f.Add("2026-02-03 03:05:06")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTime(s)
		if err != nil {
			return
		}
		if back := formatTime(got); back != s {
			t.Errorf("parseTime(%q) = %v, written back as %q", s, got, back)
		}
	})
}
