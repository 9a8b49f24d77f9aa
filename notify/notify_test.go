package notify_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/foyer-dev/foyer/notify"
)

type fakeNotifier struct {
	name  string
	err   error
	calls atomic.Int32
}

func (f *fakeNotifier) Name() string { return f.name }
func (f *fakeNotifier) Notify(ctx context.Context, r notify.Report) error {
	f.calls.Add(1)
	return f.err
}

func TestNotifyAll(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	a, b, c := &fakeNotifier{name: "a"}, &fakeNotifier{name: "b", err: boom}, &fakeNotifier{name: "c"}
	errs := notify.NotifyAll(t.Context(), []notify.Notifier{a, b, c}, notify.Report{})
	if len(errs) != 3 || errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], boom) {
		t.Fatalf("errs = %v", errs)
	}
	if !strings.Contains(errs[1].Error(), "notify b") {
		t.Errorf("error does not name the notifier: %v", errs[1])
	}
	for _, n := range []*fakeNotifier{a, b, c} {
		if n.calls.Load() != 1 {
			t.Errorf("%s called %d times", n.name, n.calls.Load())
		}
	}
	err := notify.Multi{a, b, c}.Notify(t.Context(), notify.Report{})
	if !errors.Is(err, boom) || a.calls.Load() != 2 || c.calls.Load() != 2 {
		t.Errorf("Multi: err %v, calls %d %d", err, a.calls.Load(), c.calls.Load())
	}
	if err := (notify.Multi{a, c}).Notify(t.Context(), notify.Report{}); err != nil {
		t.Errorf("Multi without failures = %v", err)
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	e := &notify.Error{Notifier: "slack", Target: "https://hooks.slack.com/services/T1/B1/***", Status: 404, Code: "channel_not_found", Attempts: 1}
	if got := e.Error(); got != "slack https://hooks.slack.com/services/T1/B1/***: HTTP 404 channel_not_found" {
		t.Errorf("Error() = %q", got)
	}
	e = &notify.Error{Notifier: "teams", Status: 503, Attempts: 3, Temporary: true, Err: notify.ErrWaitTooLong}
	if got := e.Error(); got != "teams: HTTP 503 the service asked to wait longer than allowed (after 3 attempts)" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(e, notify.ErrWaitTooLong) {
		t.Error("Error does not unwrap")
	}
}

func TestRetryDefaults(t *testing.T) {
	t.Parallel()
	r := notify.Retry{}.WithDefaults()
	if r.Attempts != 3 || r.Backoff(1).Seconds() != 1 || r.Backoff(2).Seconds() != 2 || r.Backoff(10).Seconds() != 30 {
		t.Errorf("defaults: %+v", r)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := notify.Sleep(ctx, 1<<40); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context = %v", err)
	}
}
