package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
)

// Extensions on the approver UI: /admin/requests lists the extensions
// the signed-in person may decide, each with the current end and the end
// asked for and its own decision form; a request's page shows when its
// access ends, its latest extension (with the decision form while it is
// pending) and, when more time may be asked for, the form that asks.

// decideExtension answers POST /admin/extensions/{id}/decide. The form's
// "request" field names the request page it came from; without it the
// answer is the list.
func (h *Handler) decideExtension(w http.ResponseWriter, r *http.Request) {
	who, ok := h.who(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, foyer.Errorf(foyer.EINVALID, "the form could not be read"))
		return
	}
	id, from := r.PathValue("id"), strings.TrimSpace(r.PostForm.Get("request"))
	back := func(status int, problem string, d foyer.Decision) {
		if from != "" {
			r.SetPathValue("id", from)
			h.showRequest(w, r, status, problem, d)
			return
		}
		h.showRequests(w, r, status, requestsData{Problem: problem, Justification: d.Justification})
	}
	d, problem := decision(r)
	if problem != "" {
		back(http.StatusBadRequest, strings.Replace(problem, "the request is denied", "more time is denied", 1), d)
		return
	}
	d.Stage = formStage(r, "stage")
	x, err := h.o.Intake.DecideExtension(r.Context(), id, who, d)
	if err != nil {
		if statusOf(err) >= 500 {
			h.log.Error("admin: decide an extension", "extension", id, "err", err)
		}
		back(statusOf(err), foyer.ErrorMessage(err), d)
		return
	}
	h.log.Info("admin: decided an extension", "by", who.ID, "extension", id, "approve", d.Approve)
	if from == "" {
		http.Redirect(w, r, "/admin/requests", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admin/requests/"+pathEscape(x.RequestID), http.StatusSeeOther)
}

// askExtension answers POST /admin/requests/{id}/extensions: the
// signed-in person asks for more time for the request's access, until the
// day the form gives (its start, in UTC).
func (h *Handler) askExtension(w http.ResponseWriter, r *http.Request) {
	who, ok := h.who(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, foyer.Errorf(foyer.EINVALID, "the form could not be read"))
		return
	}
	id := r.PathValue("id")
	justification := strings.TrimSpace(r.PostForm.Get("justification"))
	until, err := time.Parse(time.DateOnly, strings.TrimSpace(r.PostForm.Get("until")))
	switch {
	case err != nil:
		h.showRequest(w, r, http.StatusBadRequest, "Give the new end of access as a day, like 2027-06-30.", foyer.Decision{})
		return
	case len(justification) > maxJustification:
		h.showRequest(w, r, http.StatusBadRequest, "The justification is too long (2,000 characters at most).", foyer.Decision{})
		return
	}
	x, err := h.o.Intake.AskExtension(r.Context(), id, who, until, justification)
	if err != nil {
		if statusOf(err) >= 500 {
			h.log.Error("admin: ask for an extension", "request", id, "err", err)
		}
		h.showRequest(w, r, statusOf(err), foyer.ErrorMessage(err), foyer.Decision{})
		return
	}
	h.log.Info("admin: asked for an extension", "by", who.ID, "request", id, "extension", x.ID, "state", x.State)
	http.Redirect(w, r, "/admin/requests/"+pathEscape(id), http.StatusSeeOther)
}
