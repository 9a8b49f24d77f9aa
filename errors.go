package foyer

import (
	"errors"
	"fmt"
)

// Error codes that callers branch on. They are stable strings so that they can
// be written to the ledger, JSON output and logs.
const (
	EINVALID   = "invalid"   // the input is wrong; retrying the same input fails again
	ENOTFOUND  = "not_found" // the thing named does not exist
	ECONFLICT  = "conflict"  // the change contradicts the current state
	EFORBIDDEN = "forbidden" // the caller lacks a permission
	ETHROTTLED = "throttled" // the service asked us to slow down
	EINTERNAL  = "internal"  // anything else; the log has the detail
)

// Error is an error with a machine code and a message that is safe to show a
// user: it never carries a secret or a token.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the user-safe message of the first *Error in err's
// chain, or a generic text for other errors so that internal details stay in
// the log.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
