// Package migrations reads a ledger backend's numbered SQL files. Every
// backend has the same numbers: NNNN_name.sql in its own migrations/.
package migrations

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Read reads dir/NNNN_name.sql from fsys, checking that the numbers run 1,
// 2, 3... without gaps.
func Read(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for i, name := range names { // fs.Glob sorts
		base := strings.TrimSuffix(path.Base(name), ".sql")
		num, label, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 || label == "" {
			return nil, fmt.Errorf("migration file %s is not named NNNN_name.sql", name)
		}
		if v != i+1 {
			return nil, fmt.Errorf("migration file %s: expected number %04d", name, i+1)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: label, SQL: string(b)})
	}
	return ms, nil
}
