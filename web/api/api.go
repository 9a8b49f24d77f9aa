// Package api is foyer's HTTP API under /api/v1: other applications (a
// CRM, a provisioning script) ask for invitations, read where a request
// stands, list guests and revoke access, with the same ledger, approvals
// and jobs as the request page and the CSV runs.
//
// Callers authenticate with an Entra app token for foyer's own app
// registration carrying the API's app role, or with an API key that
// `foyer apikeys create` printed (the ledger keeps its hash). Every answer
// that is not a success is an RFC 9457 problem document. The operations are
// described by the OpenAPI 3.1 document served at /api/v1/openapi.json,
// which a test holds against the handlers.
//
// api imports web, the root package and store's interfaces; cmd/foyer/cli
// wires it to the engine and the ledger.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/web"
)

// Intake is what the API asks of the engine: *engine.Engine implements it.
type Intake interface {
	// Submit asks for a profile for a person (see foyer.Submission).
	Submit(ctx context.Context, s foyer.Submission) (foyer.Receipt, error)
	// View returns a request with its history and decisions; ENOTFOUND if
	// there is none.
	View(ctx context.Context, requestID string) (foyer.RequestView, error)
	// RevokeRequest takes back the access a request gave, in who's name.
	RevokeRequest(ctx context.Context, requestID string, who foyer.Principal) (*foyer.Request, error)
	// AskExtension asks, in who's name, for the access of a request to
	// end at until; the profile's approval policy decides.
	AskExtension(ctx context.Context, requestID string, who foyer.Principal, until time.Time, justification string) (*foyer.Extension, error)
}

// DefaultMaxBody bounds a request body when Options.MaxBody is 0. An
// invitation with its answers is well under 8 KiB.
const DefaultMaxBody = 64 << 10

// Options shape a Handler.
type Options struct {
	Intake Intake
	// Ledger is read for idempotency keys and the guest list.
	Ledger store.Store
	// Auth authenticates callers when the server in front did not (see
	// Authenticator); nil trusts web.PrincipalFrom alone.
	Auth *Authenticator
	// Role is the app role a caller needs: an Entra token must carry it,
	// and API keys are given it. "" means DefaultRole.
	Role    string
	MaxBody int64        // 0: DefaultMaxBody
	Logger  *slog.Logger // nil discards
}

// DefaultRole is the app role of foyer's app registration that lets an
// application use the API.
const DefaultRole = "Foyer.Invitations"

// Handler serves /api/v1.
type Handler struct {
	intake  Intake
	ledger  store.Store
	auth    *Authenticator
	role    string
	maxBody int64
	log     *slog.Logger
}

// New returns the API's handler.
func New(o Options) (*Handler, error) {
	if o.Intake == nil {
		return nil, errors.New("api: no intake")
	}
	if o.Ledger == nil {
		return nil, errors.New("api: no ledger")
	}
	h := &Handler{intake: o.Intake, ledger: o.Ledger, auth: o.Auth, role: o.Role, maxBody: o.MaxBody, log: o.Logger}
	if h.role == "" {
		h.role = DefaultRole
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// Routes returns the API's routes for web.New. Every route but the OpenAPI
// document is web.API, and each also checks the caller itself (guard), so
// that a server assembled without the access check still refuses anyone
// without a credential.
func (h *Handler) Routes() []web.Route {
	api := func(method, pattern string, fn http.HandlerFunc) web.Route {
		return web.Route{Method: method, Pattern: pattern, Access: web.API, Handler: h.guard(fn)}
	}
	return []web.Route{
		api(http.MethodPost, "/api/v1/invitations", h.postInvitation),
		api(http.MethodGet, "/api/v1/requests/{id}", h.getRequest),
		api(http.MethodPost, "/api/v1/requests/{id}/revoke", h.revokeRequest),
		api(http.MethodPost, "/api/v1/requests/{id}/extensions", h.postExtension),
		api(http.MethodGet, "/api/v1/guests", h.listGuests),
		{Method: http.MethodGet, Pattern: "/api/v1/openapi.json", Access: web.Public, Handler: http.HandlerFunc(serveOpenAPI)},
	}
}
