package postgres

import (
	"errors"

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
