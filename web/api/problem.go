package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

// problem is an RFC 9457 problem document. Type is a URN naming foyer's
// error code ("urn:foyer:problem:invalid"), so that clients branch on it
// rather than on the text.
type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []fieldError `json:"errors,omitempty"`
}

// fieldError says what is wrong with one field of a request body (or a
// query parameter, or a header).
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem types beyond foyer's error codes.
const (
	problemUnauthorized  = "unauthorized"
	problemIdempotency   = "idempotency_key_reused"
	problemTooLarge      = "too_large"
	problemMediaType     = "unsupported_media_type"
	problemMethodRefused = "method_not_allowed"
)

func writeProblem(w http.ResponseWriter, status int, kind, detail string, errs []fieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "urn:foyer:problem:" + kind, Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs})
}

// writeError answers err as a problem: its code gives the status, and
// foyer.ErrorMessage the detail, so a library's text (which may hold a
// secret) stays in the log.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, doing string, err error) {
	code := foyer.ErrorCode(err)
	status := web.Status(code)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	h.log.Log(r.Context(), level, "api: "+doing, "status", status, "err", err)
	writeProblem(w, status, code, foyer.ErrorMessage(err), nil)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
