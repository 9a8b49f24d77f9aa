package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

// requestJSON is a request as the API shows it.
type requestJSON struct {
	ID          string        `json:"id"`
	State       foyer.State   `json:"state"`
	Email       string        `json:"email"`
	DisplayName string        `json:"display_name"`
	Profile     string        `json:"profile"`
	Origin      foyer.Origin  `json:"origin"`
	UserID      string        `json:"user_id,omitempty"`
	Details     foyer.Details `json:"details"`
	Approval    *approvalJSON `json:"approval,omitempty"`
	Failure     *failureJSON  `json:"failure,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

// approvalJSON is where a pending request's approval stands.
type approvalJSON struct {
	Stage     int       `json:"stage"`
	Due       time.Time `json:"due"`
	Escalated bool      `json:"escalated"`
}

type failureJSON struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
}

// invitationJSON answers POST /api/v1/invitations.
type invitationJSON struct {
	requestJSON
	// Again: the request existed already (the same person and profile, or
	// the same Idempotency-Key and body).
	Again bool `json:"again"`
}

// viewJSON answers GET /api/v1/requests/{id}.
type viewJSON struct {
	requestJSON
	Verified  bool             `json:"verified"`
	History   []transitionJSON `json:"history"`
	Decisions []decisionJSON   `json:"decisions"`
	// AccessEnds is when the guest's access ends; absent when it does not.
	AccessEnds *time.Time     `json:"access_ends,omitempty"`
	Extension  *extensionJSON `json:"extension,omitempty"` // the latest asked for
}

type transitionJSON struct {
	From foyer.State `json:"from,omitempty"`
	To   foyer.State `json:"to"`
	At   time.Time   `json:"at"`
	Note string      `json:"note,omitempty"`
}

type decisionJSON struct {
	Stage         int       `json:"stage"`
	Approver      string    `json:"approver"`
	Approve       bool      `json:"approve"`
	Justification string    `json:"justification,omitempty"`
	At            time.Time `json:"at"`
}

func requestPath(id string) string { return "/api/v1/requests/" + url.PathEscape(id) }

func requestOf(r *foyer.Request) requestJSON {
	out := requestJSON{ID: r.ID, State: r.State, Email: r.Email.String(), DisplayName: r.DisplayName, Profile: r.Profile,
		Origin: r.Origin, UserID: r.UserID, Details: r.Details, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.State == foyer.StatePendingApproval && r.Stage > 0 {
		out.Approval = &approvalJSON{Stage: r.Stage, Due: r.StageDue, Escalated: r.Escalated}
	}
	if r.Failure != nil {
		out.Failure = &failureJSON{Code: r.Failure.Code, Message: r.Failure.Message, Retryable: r.Failure.Retryable}
	}
	return out
}

func viewOf(v foyer.RequestView) viewJSON {
	out := viewJSON{requestJSON: requestOf(v.Request), Verified: v.Verified,
		History: make([]transitionJSON, 0, len(v.History)), Decisions: make([]decisionJSON, 0, len(v.Decisions))}
	if !v.AccessEnds.IsZero() {
		end := v.AccessEnds.UTC()
		out.AccessEnds = &end
	}
	out.Extension = extensionOf(v.Extension)
	for _, t := range v.History {
		out.History = append(out.History, transitionJSON{From: t.From, To: t.To, At: t.At, Note: t.Note})
	}
	for _, d := range v.Decisions {
		who := d.ApproverName
		if who == "" {
			who = d.Approver
		}
		out.Decisions = append(out.Decisions, decisionJSON{Stage: d.Stage, Approver: who, Approve: d.Approve, Justification: d.Justification, At: d.At})
	}
	return out
}

func (h *Handler) getRequest(w http.ResponseWriter, r *http.Request) {
	v, err := h.intake.View(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, "read a request", err)
		return
	}
	writeJSON(w, http.StatusOK, viewOf(v))
}

func (h *Handler) revokeRequest(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := web.PrincipalFrom(ctx)
	req, err := h.intake.RevokeRequest(ctx, r.PathValue("id"), *p)
	if err != nil {
		h.writeError(w, r, "revoke a request", err)
		return
	}
	h.log.InfoContext(ctx, "api: revoke", "request", req.ID, "by", p.ID)
	w.Header().Set("Location", requestPath(req.ID))
	writeJSON(w, http.StatusAccepted, requestOf(req))
}
