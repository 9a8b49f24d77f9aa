package directory

import (
	"context"
	"sync"
)

// RequestLog collects the request ids the service gave the writes made
// under one context, so that the ledger's audit log can name them: Grant
// and Revoke return only an error, and one grant may take several calls
// (or share one with other callers). Implementations add every write's id
// with RequestLogFrom(ctx).Add.
type RequestLog struct {
	mu  sync.Mutex
	ids []string
}

type requestLogKey struct{}

// WithRequestLog returns a context whose directory writes are recorded in
// the returned log.
func WithRequestLog(ctx context.Context) (context.Context, *RequestLog) {
	l := &RequestLog{}
	return context.WithValue(ctx, requestLogKey{}, l), l
}

// RequestLogFrom returns the log of ctx, or nil (whose Add does nothing).
func RequestLogFrom(ctx context.Context) *RequestLog {
	l, _ := ctx.Value(requestLogKey{}).(*RequestLog)
	return l
}

// Add records request ids. It is safe on a nil log and for concurrent use.
func (l *RequestLog) Add(ids ...string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if id != "" {
			l.ids = append(l.ids, id)
		}
	}
}

// IDs returns the recorded ids in the order they were added.
func (l *RequestLog) IDs() []string {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ids...)
}
