// Package notify reaches people when a run ends: it holds the Report every
// notifier renders, the Notifier interface, NotifyAll to reach several at
// once, the typed *Error every HTTP notifier returns, and the results CSV.
// For foyer serve it also holds the Notice a postman emails to people and
// the Announcement an Announcer (Slack, Teams) posts to a channel.
//
// The notifiers live beside it: notify/slack (incoming webhook),
// notify/teams (Workflows webhook with an Adaptive Card), notify/webhook
// (generic signed JSON), and notify/email (the invitation email over SMTP).
// notify/notifytest is the conformance suite every HTTP notifier passes.
//
// The engine and the web server may import this package; only
// cmd/foyer/cli imports the concrete notifiers. It imports the root package
// and the standard library only.
package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Notifier tells someone that a run finished.
type Notifier interface {
	// Name says which notifier this is ("slack", "teams", "webhook") for
	// logs and errors. It never contains a secret.
	Name() string
	// Notify delivers the report. It retries only what its service
	// documents as retryable, within ctx, and returns an error that names
	// the service without any secret in it.
	Notify(ctx context.Context, r Report) error
}

// NotifyAll delivers r through every notifier at once and returns one error
// per notifier, in the same order: nil where delivery worked. A failing
// notifier never stops the others.
func NotifyAll(ctx context.Context, ns []Notifier, r Report) []error {
	errs := make([]error, len(ns))
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Go(func() {
			if err := n.Notify(ctx, r); err != nil {
				errs[i] = fmt.Errorf("notify %s: %w", n.Name(), err)
			}
		})
	}
	wg.Wait()
	return errs
}

// Multi is a Notifier that delivers through each of its notifiers.
type Multi []Notifier

// Name returns "multi".
func (m Multi) Name() string { return "multi" }

// Notify delivers r through every notifier and joins their errors: the
// result is nil only if all of them worked.
func (m Multi) Notify(ctx context.Context, r Report) error {
	return errors.Join(NotifyAll(ctx, m, r)...)
}
