package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/foyer-dev/foyer/directory"
)

// Client is a directory.Directory backed by Microsoft Graph (plus ARM and
// Exchange Online for Azure roles, the address book and mail contacts). It
// is safe for concurrent use; all its calls share one pacer.
type Client struct {
	o     Options
	ep    endpoints
	pacer *pacer
	log   *slog.Logger
	cred  azcore.TokenCredential // its errors are *tokenError

	graph, arm, exchange runtime.Pipeline
	hasARM, hasExchange  bool

	groups *groupAdder

	mu       sync.Mutex
	domains  []domain  // cached verified domains
	domainAt time.Time // when they were read
	sponsors map[string]string
}

var _ directory.Directory = (*Client)(nil)

// New builds a client from o: it resolves the cloud, builds the credential
// (unless o.TokenCredential is given) and the request pipelines. It makes no
// network call; the first request signs in.
func New(ctx context.Context, o Options) (*Client, error) {
	o.fillDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	ep, err := resolveCloud(o.Cloud, o.Endpoints)
	if err != nil {
		return nil, err
	}
	hc, err := o.httpClient()
	if err != nil {
		return nil, err
	}
	cred := o.TokenCredential
	if cred == nil {
		if cred, err = NewCredential(o); err != nil {
			return nil, err
		}
	}
	c := &Client{o: o, ep: ep, log: o.Logger, sponsors: map[string]string{}, cred: tokenCredential{cred}}
	c.pacer = newPacer(o.Pacing, o.Pacing.governed(o.cloudName()), o.Clock.Now, o.After, o.Logger)
	c.graph = c.pipeline(c.cred, ep.graph, hc)
	if ep.arm.base != "" {
		c.arm, c.hasARM = c.pipeline(c.cred, ep.arm, hc), true
	}
	if ep.exchange.base != "" {
		c.exchange, c.hasExchange = c.pipeline(c.cred, ep.exchange, hc), true
	}
	c.groups = newGroupAdder(c)
	return c, nil
}

// Stats counts what the client sent and what the service said back.
func (c *Client) Stats() Stats { return c.pacer.stats() }

// ResumeInvitations lets the client invite again after Entra blocked its
// tenant's invitations, once an operator says Microsoft support lifted the
// block (foyer tenants unblock). A governed client starts slowly again.
func (c *Client) ResumeInvitations() { c.pacer.unblock() }

// pipeline builds the azcore pipeline for one service: retry (per call),
// then per try pacing, the bearer token for the service's scope, and
// logging. azcore's own retry is off: ours knows which requests are safe to
// repeat.
func (c *Client) pipeline(cred azcore.TokenCredential, s service, hc *http.Client) runtime.Pipeline {
	return runtime.NewPipeline("foyer/graph", "v1", runtime.PipelineOptions{
		PerCall: []policy.Policy{&retryPolicy{c: c}},
		PerRetry: []policy.Policy{
			&pacePolicy{p: c.pacer},
			runtime.NewBearerTokenPolicy(cred, []string{s.scope}, nil),
			&logPolicy{log: c.log},
			gatePolicy{},
		},
	}, &policy.ClientOptions{
		Transport: hc,
		Retry:     policy.RetryOptions{MaxRetries: -1},
		Telemetry: policy.TelemetryOptions{ApplicationID: "foyer"},
	})
}

// kind of request, for pacing.
type reqKind int

const (
	kindRead reqKind = iota
	kindWrite
	kindInvite // a write that also takes an invitation token
)

// call describes one request. op and perm go into errors.
type call struct {
	svc      svcName
	method   string
	path     string      // below the service base: "/v1.0/users/..." for Graph
	query    [][2]string // in order; values are escaped here
	rawQuery string      // an already encoded query (a next link's), instead of query
	body     any
	header   map[string]string
	op       string // what was being done, for errors
	perm     string // least privileged application permission the call needs
	kind     reqKind
	writes   int  // write units ($batch of writes); default 1 for a write
	noRetry  bool // do not retry 5xx or dropped connections (non-idempotent)
}

type svcName int

const (
	svcGraph svcName = iota
	svcARM
	svcExchange
)

// meta travels with the request through the policies.
type meta struct {
	kind    reqKind
	writes  int
	noRetry bool
}

// response is a service answer with the body read.
type response struct {
	status    int
	header    http.Header
	body      []byte
	requestID string
}

// send makes the call. A non-2xx answer is returned as a *directory.Error
// (with the response, for callers that look closer); a transport failure
// after retries as a *directory.Error of kind ErrUnavailable.
func (c *Client) send(ctx context.Context, k call) (*response, error) {
	pl, base, err := c.service(k)
	if err != nil {
		return nil, err
	}
	ctx, _ = withNetTrace(ctx) // a token fetched for this call records its transport errors here
	req, err := c.request(ctx, k, base)
	if err != nil {
		return nil, err
	}
	raw, err := pl.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, k.op, err)
	}
	body, err := runtime.Payload(raw)
	if err != nil {
		return nil, &directory.Error{Op: k.op, Kind: directory.ErrUnavailable, Err: err}
	}
	r := &response{status: raw.StatusCode, header: raw.Header, body: body, requestID: raw.Header.Get("request-id")}
	if k.kind != kindRead {
		requestLogFrom(ctx).add(r.requestID)
	}
	if r.status/100 != 2 {
		e := serviceError(k.op, k.perm, r)
		if e.Kind == directory.ErrBlocked {
			c.pacer.block()
		}
		return r, e
	}
	return r, nil
}

// service picks the pipeline and base URL of the call's service.
func (c *Client) service(k call) (runtime.Pipeline, string, error) {
	switch k.svc {
	case svcARM:
		if !c.hasARM {
			return runtime.Pipeline{}, "", &directory.Error{Op: k.op, Kind: directory.ErrInvalid, Message: "no Azure Resource Manager endpoint is configured"}
		}
		return c.arm, c.ep.arm.base, nil
	case svcExchange:
		if !c.hasExchange {
			return runtime.Pipeline{}, "", &directory.Error{Op: k.op, Kind: directory.ErrInvalid, Message: "no Exchange Online endpoint is configured"}
		}
		return c.exchange, c.ep.exchange.base, nil
	}
	return c.graph, c.ep.graph.base, nil
}

// request builds the azcore request for k: URL, headers, JSON body and the
// meta the policies read.
func (c *Client) request(ctx context.Context, k call, base string) (*policy.Request, error) {
	u := base + k.path
	if len(k.query) > 0 {
		u += "?" + encodeQuery(k.query)
	} else if k.rawQuery != "" {
		u += "?" + k.rawQuery
	}
	req, err := runtime.NewRequest(ctx, k.method, u)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", k.op, err)
	}
	m := meta{kind: k.kind, writes: k.writes, noRetry: k.noRetry}
	if m.writes == 0 && k.kind != kindRead {
		m.writes = 1
	}
	req.SetOperationValue(m)
	h := req.Raw().Header
	h.Set("Accept", "application/json")
	h.Set("client-request-id", c.o.NewID())
	for name, v := range k.header {
		h.Set(name, v)
	}
	if k.body != nil {
		b, err := json.Marshal(k.body)
		if err != nil {
			return nil, fmt.Errorf("%s: encode body: %w", k.op, err)
		}
		if err := req.SetBody(streaming.NopCloser(bytes.NewReader(b)), "application/json"); err != nil {
			return nil, fmt.Errorf("%s: set body: %w", k.op, err)
		}
	}
	return req, nil
}

// transportError types an error that came without an answer: a refusal
// from the pacer (passed on), a failure to get a token (signInError), a
// host that cannot be reached or whose certificate is not trusted, or else
// a dropped connection (ErrUnavailable).
func (c *Client) transportError(ctx context.Context, op string, err error) error {
	var ge *directory.GateError
	if errors.As(err, &ge) {
		return ge // not sent: the caller's gate refused it
	}
	if ctx.Err() != nil {
		return &directory.Error{Op: op, Kind: directory.ErrUnavailable, Err: ctx.Err()}
	}
	var de *directory.Error
	if errors.As(err, &de) {
		de.Op = op
		return de
	}
	var te *tokenError
	if errors.As(err, &te) {
		return c.signInError(ctx, op, te.err)
	}
	if e := c.o.netError(op, scrub(err)); e != nil {
		return e
	}
	return &directory.Error{Op: op, Kind: directory.ErrUnavailable, Err: scrub(err)}
}

// getJSON sends a read and decodes the answer into v.
func (c *Client) getJSON(ctx context.Context, k call, v any) (*response, error) {
	if k.method == "" {
		k.method = http.MethodGet
	}
	r, err := c.send(ctx, k)
	if err != nil {
		return r, err
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			return r, &directory.Error{Op: k.op, Kind: directory.ErrUnavailable, Status: r.status, RequestID: r.requestID,
				Message: "unreadable answer", Err: err}
		}
	}
	return r, nil
}

// encodeQuery joins query parameters, keeping OData's $ names readable and
// escaping every value (spaces as %20: '+' would be read as a plus sign by
// some servers and as a space by others).
func encodeQuery(q [][2]string) string {
	var b strings.Builder
	for i, kv := range q {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[0])
		b.WriteByte('=')
		b.WriteString(escapeQueryValue(kv[1]))
	}
	return b.String()
}

func escapeQueryValue(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// seg escapes one path segment (a UPN's '#' becomes %23).
func seg(s string) string { return url.PathEscape(s) }

// sleep waits d or until ctx ends.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.o.After(d):
		return nil
	}
}
