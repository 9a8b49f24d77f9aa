package foyer

import (
	"errors"
	"fmt"
)

// Error codes that callers branch on. They are stable strings so that they can
// be written to the ledger, JSON output and logs.
const (
	EINVALID     = "invalid"     // the input is wrong; retrying the same input fails again
	ENOTFOUND    = "not_found"   // the thing named does not exist
	ECONFLICT    = "conflict"    // the change contradicts the current state
	EFORBIDDEN   = "forbidden"   // the caller lacks a permission
	ETHROTTLED   = "throttled"   // the service asked us to slow down
	EUNAVAILABLE = "unavailable" // a service could not be reached or failed; trying again later may work
	EINTERNAL    = "internal"    // anything else; the log has the detail
)

// Coder is an error that carries one of foyer's codes and whose text is
// safe to show a person: no secret, no token, no library's dump. Every
// error type of foyer's packages is a Coder (*Error is one); errors of
// libraries are not, and are never shown as they are.
type Coder interface {
	error
	ErrorCode() string
}

// Error is an error with a machine code and a message that is safe to show a
// user: it never carries a secret or a token.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns e.Code.
func (e *Error) ErrorCode() string { return e.Code }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first Coder in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var c Coder
	switch {
	case err == nil:
		return ""
	case errors.As(err, &c):
		return c.ErrorCode()
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns what may be shown a person of err: the message of
// the first *Error in its chain, or else the text of its first Coder, or
// else a generic text, so that a library's details (which may hold a
// secret) stay in the log. It is the one function that turns an error into
// text for people who are not the operator: the ledger's row errors, the
// reports, the web pages.
func ErrorMessage(err error) string {
	var (
		e *Error
		c Coder
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	case errors.As(err, &c):
		return c.Error()
	default:
		return "internal error (the log has the detail)"
	}
}
