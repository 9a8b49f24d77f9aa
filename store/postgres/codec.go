package postgres

import (
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// errCode returns PostgreSQL's SQLSTATE of err, or "".
func errCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// retryable reports whether err is a serialization failure or a deadlock:
// the transaction lost a race and may succeed if run again.
func retryable(err error) bool {
	switch errCode(err) {
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return true
	}
	return false
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// readTime reads a nullable timestamptz in UTC; NULL is the zero time.
func readTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// list stores a list as a text[]: nil as empty.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// readList reads a text[]; empty reads back as nil.
func readList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// changed reports whether an INSERT, UPDATE or DELETE touched a row.
func changed(tag pgconn.CommandTag, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}
