package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/foyer-dev/foyer"
)

// Error is what an HTTP notifier returns when delivery failed. It names the
// service and the target with its secret parts masked; it never carries a
// webhook URL, a token or a signing secret.
var _ foyer.Coder = (*Error)(nil)

type Error struct {
	Notifier  string // "slack", "teams", "webhook"
	Target    string // the URL with its secret parts replaced by ***
	Status    int    // the last HTTP status, 0 when no answer came
	Code      string // the service's error code, e.g. "channel_not_found"; "" if none
	Attempts  int    // how many requests were made
	Temporary bool   // trying again later may work (throttling, 5xx, network)
	Err       error  // the cause; never contains the URL
}

func (e *Error) Error() string {
	s := e.Notifier
	if e.Target != "" {
		s += " " + e.Target
	}
	s += ":"
	if e.Status != 0 {
		s += " HTTP " + strconv.Itoa(e.Status)
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Err != nil {
		s += " " + e.Err.Error()
	}
	if e.Attempts > 1 {
		s += " (after " + strconv.Itoa(e.Attempts) + " attempts)"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode says what kind of failure this was, in foyer's codes.
func (e *Error) ErrorCode() string {
	switch {
	case e.Status == 429:
		return foyer.ETHROTTLED
	case e.Temporary:
		return foyer.EUNAVAILABLE
	case e.Status == 401 || e.Status == 403:
		return foyer.EFORBIDDEN
	case e.Status == 404:
		return foyer.ENOTFOUND
	}
	return foyer.EINVALID
}

// ErrWaitTooLong is in the chain of an Error when the service asked to wait
// (Retry-After) longer than the context or the retry policy allows.
var ErrWaitTooLong = errors.New("the service asked to wait longer than allowed")

// Retry says how an HTTP notifier tries again. The zero value is the
// default policy: 3 attempts, 1 s then 2 s between them (doubling, at most
// 30 s), Retry-After honoured up to 60 s, and waits on a timer.
type Retry struct {
	// Attempts is the most requests made for one delivery, at least 1.
	Attempts int
	// Backoff returns the wait before attempt n+1 (n ≥ 1) after a 5xx or a
	// network error. A Retry-After header from the service wins over it.
	Backoff func(n int) time.Duration
	// MaxWait is the longest Retry-After honoured; a longer one ends the
	// delivery with ErrWaitTooLong.
	MaxWait time.Duration
	// Wait waits d or until ctx is done. Tests inject one that returns at
	// once.
	Wait func(ctx context.Context, d time.Duration) error
}

// WithDefaults returns r with every zero field set to its default.
func (r Retry) WithDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 3
	}
	if r.Backoff == nil {
		r.Backoff = DefaultBackoff
	}
	if r.MaxWait <= 0 {
		r.MaxWait = time.Minute
	}
	if r.Wait == nil {
		r.Wait = Sleep
	}
	return r
}

// DefaultBackoff doubles from 1 s: 1 s, 2 s, 4 s, … at most 30 s.
func DefaultBackoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 5 {
		return 30 * time.Second
	}
	return min(time.Second<<(n-1), 30*time.Second)
}

// Sleep waits d on a timer, or until ctx is done, and then returns ctx's
// error.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting %s to retry: %w", d, ctx.Err())
	case <-t.C:
		return nil
	}
}
