package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/foyer-dev/foyer/directory"
)

// JSON batching (microsoft-graph-docs-contrib concepts/json-batching.md,
// docs/graph-reference.md §5): up to 20 requests per POST /$batch, relative URLs
// without the version, answers in any order keyed by id, the outer status
// 200 even when inner requests failed, and each inner request throttled on
// its own (inner 429 with its own Retry-After).
const batchMax = 20

type batchItem struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
}

type batchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// batch sends items (any number; split by 20) and returns each answer by
// id. Items must be safe to repeat: reads, or writes whose repetition the
// caller treats as done (a member already added). Inner 429s and 5xx are
// retried alone, after the longest Retry-After, up to MaxRetries; whatever
// still failed is returned as its answer for the caller to judge.
func (c *Client) batch(ctx context.Context, op, perm string, kind reqKind, items []batchItem) (map[string]*response, error) {
	out := make(map[string]*response, len(items))
	pending := items
	for try := 0; len(pending) > 0; try++ {
		var again []batchItem
		wait := time.Duration(0)
		for start := 0; start < len(pending); start += batchMax {
			chunk := pending[start:min(start+batchMax, len(pending))]
			answers, err := c.batchOnce(ctx, op, perm, kind, chunk)
			if err != nil {
				return nil, err
			}
			byID := make(map[string]batchItem, len(chunk))
			for _, it := range chunk {
				byID[it.ID] = it
			}
			for _, a := range answers {
				it, ok := byID[a.ID]
				if !ok {
					continue
				}
				h := http.Header{}
				for k, v := range a.Headers {
					h.Set(k, v)
				}
				r := &response{status: a.Status, header: h, body: a.Body, requestID: h.Get("request-id")}
				out[a.ID] = r
				if retryableInner(a.Status) && try < c.o.Pacing.MaxRetries {
					if a.Status == http.StatusTooManyRequests {
						c.pacer.observeInner(kind, a.Status, h)
						wait = max(wait, retryAfter(h, 2*time.Second))
					} else {
						wait = max(wait, c.backoff(try))
					}
					again = append(again, it)
				}
			}
			for id := range byID {
				if _, ok := out[id]; !ok {
					return nil, &directory.Error{Op: op, Kind: directory.ErrUnavailable, Message: "the $batch answer lacks request " + id}
				}
			}
		}
		pending = again
		if len(pending) > 0 {
			c.pacer.retries.Add(int64(len(pending)))
			if err := c.sleep(ctx, wait); err != nil {
				return nil, &directory.Error{Op: op, Kind: directory.ErrUnavailable, Err: err}
			}
		}
	}
	return out, nil
}

func retryableInner(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusRequestTimeout, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (c *Client) batchOnce(ctx context.Context, op, perm string, kind reqKind, chunk []batchItem) ([]batchAnswer, error) {
	writes := 0
	for _, it := range chunk {
		if it.Method != http.MethodGet {
			writes++
		}
	}
	var res struct {
		Responses []batchAnswer `json:"responses"`
	}
	_, err := c.getJSON(ctx, call{
		method: http.MethodPost, path: "/v1.0/$batch", body: map[string]any{"requests": chunk},
		op: op, perm: perm, kind: kind, writes: writes,
	}, &res)
	if err != nil {
		return nil, err
	}
	return res.Responses, nil
}

// answerError maps a failed inner answer to a typed error.
func answerError(op, perm string, r *response) error {
	if r.status/100 == 2 {
		return nil
	}
	return serviceError(op, perm, r)
}

// observeInner lets the pacer see an inner $batch answer.
func (p *pacer) observeInner(k reqKind, status int, h http.Header) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observe(k, status, h)
	p.wake()
}

func itemID(i int) string { return strconv.Itoa(i + 1) }
