package graph

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// logPolicy logs each try at debug level: method, path, the OData query
// options that help debugging, status, duration and Graph's request-id.
// It never logs headers (Authorization), bodies (which may carry addresses
// and, for the token endpoint, secrets; token requests do not pass here
// anyway) or query values it does not know (a SAS signature).
type logPolicy struct{ log *slog.Logger }

// loggedQuery are the query options whose values are logged.
var loggedQuery = map[string]bool{"$select": true, "$top": true, "$count": true, "api-version": true}

func (lp *logPolicy) Do(req *policy.Request) (*http.Response, error) {
	ctx := req.Raw().Context()
	if !lp.log.Enabled(ctx, slog.LevelDebug) {
		return req.Next()
	}
	start := time.Now()
	resp, err := req.Next()
	attrs := []slog.Attr{
		slog.String("method", req.Raw().Method),
		slog.String("url", redactURL(req.Raw().URL)),
		slog.Duration("took", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", scrub(err).Error()))
	} else {
		attrs = append(attrs, slog.Int("status", resp.StatusCode), slog.String("request_id", resp.Header.Get("request-id")))
		if v := resp.Header.Get("x-ms-throttle-limit-percentage"); v != "" {
			attrs = append(attrs, slog.String("throttle_limit_percentage", v))
		}
		if v := resp.Header.Get("Retry-After"); v != "" {
			attrs = append(attrs, slog.String("retry_after", v))
		}
	}
	lp.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelDebug, "graph request", attrs...)
	return resp, err
}

// redactURL keeps scheme, host, path and the query options in loggedQuery;
// other query values become REDACTED.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		for k := range q {
			if !loggedQuery[k] {
				q[k] = []string{"REDACTED"}
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}
