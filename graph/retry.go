package graph

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/foyer-dev/foyer/directory"
)

type policyRequest = policy.Request

// retryPolicy retries what is safe to retry:
//   - 429 always (a throttled request was not carried out), after the pacer's
//     pause for Retry-After;
//   - 408, 5xx and dropped connections only for requests marked idempotent
//     (GET, PUT, DELETE, PATCH, and POSTs whose repetition the caller handles);
//     a non-idempotent POST such as an invitation comes back to its caller,
//     which looks the person up before trying again.
//
// A name that does not resolve and a certificate not trusted are never
// retried; a connection refused (nothing listens, or the route is missing)
// only unreachableRetries times.
//
// Backoff doubles from Pacing.RetryDelay with equal jitter, honouring a
// Retry-After on 5xx too, up to MaxRetryDelay; MaxRetries bounds the tries.
type retryPolicy struct{ c *Client }

// unreachableRetries bounds retries after a connection refused: a server
// restarting is back within a second or two (about 1.75 s of backoff at
// the default RetryDelay); one that is stopped, or a firewall, is not, and
// waiting minutes for it only hides the cause.
const unreachableRetries = 3

func (rp *retryPolicy) Do(req *policy.Request) (*http.Response, error) {
	var m meta
	req.OperationValue(&m)
	cfg := rp.c.o.Pacing
	ctx := req.Raw().Context()
	for try := 0; ; try++ {
		if try > 0 {
			rp.c.pacer.retries.Add(1)
		}
		if err := req.RewindBody(); err != nil {
			return nil, err
		}
		resp, err := req.Clone(ctx).Next()
		if ctx.Err() != nil {
			return resp, err
		}
		retry, wait := rp.decide(m, resp, err, try)
		if !retry || try >= cfg.MaxRetries {
			return resp, err
		}
		if resp != nil && resp.Body != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if err := rp.c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// decide says whether to try again and how long to wait first.
func (rp *retryPolicy) decide(m meta, resp *http.Response, err error, try int) (bool, time.Duration) {
	if err != nil {
		// Sign-in failures and other errors azcore marks final are not
		// retried (azcore's errorinfo.NonRetriable), nor the pacer's
		// refusals (a *directory.Error).
		var final interface{ NonRetriable() }
		var refused *directory.Error
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &final) || errors.As(err, &refused) {
			return false, 0
		}
		switch classifyNet(err) {
		case netNoHost, netCertificate:
			return false, 0 // waiting does not create a name or trust a certificate
		case netUnreachable:
			if try >= unreachableRetries {
				return false, 0
			}
		}
		return !m.noRetry, rp.c.backoff(try)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		// The pacer has paused the scope until Retry-After; acquiring the
		// next try waits for it.
		return true, 0
	case s == http.StatusRequestTimeout, s == http.StatusInternalServerError, s == http.StatusBadGateway,
		s == http.StatusServiceUnavailable, s == http.StatusGatewayTimeout:
		return !m.noRetry, max(rp.c.backoff(try), retryAfter(resp.Header, 0))
	}
	return false, 0
}

// backoff is the jittered exponential delay before retry try+1.
func (c *Client) backoff(try int) time.Duration {
	cfg := c.o.Pacing
	d := cfg.RetryDelay << min(try, 20)
	if d <= 0 || d > cfg.MaxRetryDelay {
		d = cfg.MaxRetryDelay
	}
	c.mu.Lock()
	j := c.o.Rand.Float64()
	c.mu.Unlock()
	return d/2 + time.Duration(j*float64(d/2))
}
