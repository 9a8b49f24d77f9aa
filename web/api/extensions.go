package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

// extensionJSON is an extension as the API shows it.
type extensionJSON struct {
	ID            string               `json:"id"`
	RequestID     string               `json:"request_id"`
	State         foyer.ExtensionState `json:"state"`
	Until         time.Time            `json:"until"`
	Justification string               `json:"justification,omitempty"`
	AskedBy       string               `json:"asked_by"`
	Approval      *approvalJSON        `json:"approval,omitempty"`
	DecidedBy     string               `json:"decided_by,omitempty"`
	Note          string               `json:"note,omitempty"`
	CreatedAt     time.Time            `json:"created_at"`
	UpdatedAt     time.Time            `json:"updated_at"`
}

func extensionOf(x *foyer.Extension) *extensionJSON {
	if x == nil {
		return nil
	}
	out := &extensionJSON{ID: x.ID, RequestID: x.RequestID, State: x.State, Until: x.Until, Justification: x.Justification,
		AskedBy: x.AskedBy, DecidedBy: x.DecidedBy, Note: x.Note, CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt}
	if x.State == foyer.ExtensionPending && x.Stage > 0 {
		out.Approval = &approvalJSON{Stage: x.Stage, Due: x.StageDue, Escalated: x.Escalated}
	}
	return out
}

// extensionBody is POST /api/v1/requests/{id}/extensions's body.
type extensionBody struct {
	Until         string `json:"until"`
	Justification string `json:"justification"`
}

// parseUntil reads an end of access: an RFC 3339 time, or a day
// (2027-06-30), which means its start in UTC, as expires_on does.
func parseUntil(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("want an RFC 3339 time (2027-06-30T17:00:00Z) or a day (2027-06-30)")
}

// postExtension is POST /api/v1/requests/{id}/extensions: the caller asks
// for more time for the request's access, which the profile's approval
// policy decides.
func (h *Handler) postExtension(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := web.PrincipalFrom(ctx)
	until, justification, bad := h.decodeExtension(w, r)
	if bad != nil {
		writeProblem(w, bad.status, bad.kind, bad.detail, bad.errs)
		return
	}
	x, err := h.intake.AskExtension(ctx, r.PathValue("id"), *p, until, justification)
	if err != nil {
		h.writeError(w, r, "ask for an extension", err)
		return
	}
	h.log.InfoContext(ctx, "api: extension", "request", x.RequestID, "extension", x.ID, "state", x.State, "by", p.ID)
	w.Header().Set("Location", requestPath(x.RequestID))
	writeJSON(w, http.StatusCreated, extensionOf(x))
}

// decodeExtension reads and checks an extension's body, naming every bad
// field at once.
func (h *Handler) decodeExtension(w http.ResponseWriter, r *http.Request) (time.Time, string, *badBody) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return time.Time{}, "", &badBody{http.StatusUnsupportedMediaType, problemMediaType, "send the body as application/json", nil}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return time.Time{}, "", &badBody{http.StatusRequestEntityTooLarge, problemTooLarge, fmt.Sprintf("the body is larger than %d bytes", h.maxBody), nil}
		}
		return time.Time{}, "", &badBody{http.StatusBadRequest, foyer.EINVALID, "the body could not be read", nil}
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return time.Time{}, "", &badBody{http.StatusBadRequest, foyer.EINVALID, "the body is not a JSON object", nil}
	}
	if _, err := dec.Token(); err != io.EOF {
		return time.Time{}, "", &badBody{http.StatusBadRequest, foyer.EINVALID, "the body has more after its JSON object", nil}
	}
	var (
		b     extensionBody
		errs  []fieldError
		until time.Time
	)
	targets := map[string]*string{"until": &b.Until, "justification": &b.Justification}
	for _, name := range sortedKeys(fields) {
		target, ok := targets[name]
		if !ok {
			errs = append(errs, fieldError{name, "unknown field"})
			continue
		}
		if err := json.Unmarshal(fields[name], target); err != nil {
			errs = append(errs, fieldError{name, "want a string"})
			delete(targets, name)
		}
	}
	if _, ok := fields["until"]; !ok {
		errs = append(errs, fieldError{"until", "is required"})
	} else if targets["until"] != nil {
		if until, err = parseUntil(b.Until); err != nil {
			errs = append(errs, fieldError{"until", err.Error()})
		}
	}
	if n := utf8.RuneCountInString(b.Justification); n > maxJustification {
		errs = append(errs, fieldError{"justification", fmt.Sprintf("must be %d characters or fewer", maxJustification)})
	}
	if len(errs) > 0 {
		return time.Time{}, "", &badBody{http.StatusBadRequest, foyer.EINVALID, "the extension has bad fields", errs}
	}
	return until, strings.TrimSpace(b.Justification), nil
}
