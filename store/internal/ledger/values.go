package ledger

import (
	"strconv"
	"time"
)

// scanner is a Row or Rows: what a scan function reads from.
type scanner interface{ Scan(dest ...any) error }

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// readTime reads a nullable time in UTC; NULL is the zero time.
func readTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// list is a list argument: nil is stored as an empty list.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// readList reads a list; empty reads back as nil.
func readList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// params are the arguments of a statement built piece by piece: add
// appends one and returns its parameter ($1, $2, ...).
type params []any

func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}
