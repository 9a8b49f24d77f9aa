package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/foyer-dev/foyer"
)

// Kinds of directory errors. Callers branch with errors.Is(err, directory.ErrX).
var (
	ErrNotFound       = errors.New("not found")
	ErrExists         = errors.New("already exists")
	ErrInternal       = errors.New("address belongs to the organisation") // a verified domain or an existing member
	ErrInvalidAddress = errors.New("address refused")
	ErrForbidden      = errors.New("permission missing")
	ErrThrottled      = errors.New("throttled")
	ErrUnavailable    = errors.New("service unavailable") // 5xx or dropped connections, after retries
	ErrNoSeats        = errors.New("no free license seats")
	ErrInvalid        = errors.New("request refused") // any other 4xx
	// ErrBlocked: Entra's abuse detection has blocked invitations for the
	// tenant ("suspicious activity"). It does not lift by waiting (only
	// Microsoft support lifts it), so it is not retryable: stop inviting.
	ErrBlocked = errors.New("invitations blocked by Entra for suspicious activity")
	// ErrSignIn: the token endpoint refused foyer's credential (a wrong
	// secret, tenant or client id, an expired certificate, ...). Code
	// holds the AADSTS code. Not retryable: the configuration must change.
	ErrSignIn = errors.New("sign-in refused")
	// ErrNetwork: the service could not be reached: its name does not
	// resolve, or nothing answers at its address (connection refused,
	// unreachable). Retried briefly by the client, not by callers.
	ErrNetwork = errors.New("network: cannot reach the service")
	// ErrCertificate: the service's TLS certificate is not trusted here (an
	// unknown authority, a wrong name, expired). Never retried.
	ErrCertificate = errors.New("certificate not trusted")
	// ErrNoPremium: the tenant has no Entra ID P1 or P2 licence, so Graph
	// refuses to report sign-in activity (403
	// Authentication_RequestFromNonPremiumTenantOrB2CTenant). Not
	// retryable: the tenant needs the licence.
	ErrNoPremium = errors.New("tenant has no Entra ID P1: sign-in activity is not reported")
	// ErrResync: a change-tracking (delta) token the service no longer
	// honours: expired (seven days for directory objects), or dropped by
	// the service. The caller reads everything again from no token.
	ErrResync = errors.New("change-tracking token expired: a full read is needed")
)

// Error is a failed directory call: what was being done, its kind, and what
// the service answered. It carries no secret and no token.
var _ foyer.Coder = (*Error)(nil)

type Error struct {
	Op         string        // what was being done, e.g. "invite a@b.example"
	Kind       error         // one of the Err* kinds above
	Status     int           // HTTP status, 0 if none was received
	Code       string        // the service's error code, e.g. Request_ResourceNotFound
	Message    string        // the service's message
	RequestID  string        // Graph's request-id header
	Permission string        // for ErrForbidden: the permission the call needs
	RetryAfter time.Duration // for ErrThrottled: what the service asked
	Fix        string        // what the operator can change, for errors only the configuration mends
	// Unknown says a write's outcome is unknown: its answer was lost, so it
	// may have been carried out. An invitation whose outcome is unknown is
	// not sent again until a look-up has had time to show its guest.
	Unknown bool
	Err     error // the underlying error, if any
}

func (e *Error) Error() string {
	s := e.Op + ": " + e.Kind.Error()
	if e.Permission != "" {
		s += " (needs " + e.Permission + ")"
	}
	if e.Status != 0 {
		s += fmt.Sprintf(": %d %s", e.Status, e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " [request-id " + e.RequestID + "]"
	}
	if e.Err != nil && e.Status == 0 {
		s += ": " + e.Err.Error()
	}
	if e.Fix != "" {
		s += "\n  fix: " + e.Fix
	}
	return s
}

// Is matches the error's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Code maps a directory error to foyer's error codes, for the ledger and for
// users: foyer.ErrorCode, since *Error and *GateError are foyer.Coders.
func Code(err error) string { return foyer.ErrorCode(err) }

// ErrorCode maps the error's kind to one of foyer's codes.
func (e *Error) ErrorCode() string {
	switch e.Kind {
	case ErrNotFound:
		return foyer.ENOTFOUND
	case ErrExists, ErrInternal, ErrNoSeats:
		return foyer.ECONFLICT
	case ErrInvalidAddress, ErrInvalid, ErrResync:
		return foyer.EINVALID
	case ErrForbidden, ErrBlocked, ErrSignIn, ErrNoPremium:
		return foyer.EFORBIDDEN
	case ErrThrottled:
		return foyer.ETHROTTLED
	case ErrUnavailable, ErrNetwork, ErrCertificate:
		return foyer.EUNAVAILABLE
	}
	return foyer.EINTERNAL
}

// OutcomeUnknown reports whether err is a write that may have been carried
// out although it failed: its answer was lost.
func OutcomeUnknown(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Unknown
}

// Retryable reports whether trying the same call later may succeed.
func Retryable(err error) bool {
	return errors.Is(err, ErrThrottled) || errors.Is(err, ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded)
}
