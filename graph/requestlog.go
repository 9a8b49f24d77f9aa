package graph

import (
	"context"
	"sync"
)

// requestLog collects the request ids the service gave the writes made
// under one context: one grant may take several calls (or share one with
// other callers' grants, as group adds do), and Grant and Revoke return
// every id they got. send adds each write's id with requestLogFrom(ctx).add.
type requestLog struct {
	mu   sync.Mutex
	list []string
}

type requestLogKey struct{}

// withRequestLog returns a context whose directory writes are recorded in
// the returned log.
func withRequestLog(ctx context.Context) (context.Context, *requestLog) {
	l := &requestLog{}
	return context.WithValue(ctx, requestLogKey{}, l), l
}

// requestLogFrom returns the log of ctx, or nil (whose add does nothing).
func requestLogFrom(ctx context.Context) *requestLog {
	l, _ := ctx.Value(requestLogKey{}).(*requestLog)
	return l
}

// add records request ids. It is safe on a nil log and for concurrent use.
func (l *requestLog) add(ids ...string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if id != "" {
			l.list = append(l.list, id)
		}
	}
}

// ids returns the recorded ids in the order they were added.
func (l *requestLog) ids() []string {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.list...)
}
