package migrations_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/foyer-dev/foyer/store/internal/migrations"
)

func TestRead(t *testing.T) {
	t.Parallel()
	good := fstest.MapFS{"m/0001_ledger.sql": {Data: []byte("CREATE TABLE a (x int);")}, "m/0002_more.sql": {Data: []byte("ALTER TABLE a;")}}
	ms, err := migrations.Read(good, "m")
	if err != nil || len(ms) != 2 || ms[1].Version != 2 || ms[1].Name != "more" || ms[0].SQL == "" {
		t.Fatalf("Read = %+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":      {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"bad name": {"m/1_a.sql": {}},
		"no label": {"m/0001.sql": {}},
	} {
		if _, err := migrations.Read(fsys, "m"); err == nil || !strings.Contains(err.Error(), "migration file") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
