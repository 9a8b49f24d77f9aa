package admin

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

const (
	// pageSize is how many items a list shows at a time.
	pageSize = 50
	// maxBulk is the most requests one form decides.
	maxBulk = 100
	// maxJustification bounds what an approver writes.
	maxJustification = 2000
)

// who returns the signed-in principal; web's access check put it there.
func (h *Handler) who(w http.ResponseWriter, r *http.Request) (foyer.Principal, bool) {
	p := web.PrincipalFrom(r.Context())
	if p == nil {
		h.fail(w, r, foyer.Errorf(foyer.EFORBIDDEN, "sign in first"))
		return foyer.Principal{}, false
	}
	return *p, true
}

type homeData struct {
	Pending     int
	PendingMore bool // more than Pending
	RunsWaiting int
	RunsMore    bool
}

// home answers GET /admin: what awaits the signed-in person.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/admin" && r.URL.Path != "/admin/" {
		h.fail(w, r, foyer.Errorf(foyer.ENOTFOUND, "there is no page %s", r.URL.Path))
		return
	}
	who, ok := h.who(w, r)
	if !ok {
		return
	}
	var d homeData
	reqs, err := h.o.Intake.Pending(r.Context(), who, "", maxBulk+1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Pending, d.PendingMore = min(len(reqs), maxBulk), len(reqs) > maxBulk
	if h.o.Admins.Matches(who, "") {
		runs, more, err := h.listRuns(r, maxBulk)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, run := range runs {
			if run.State() == foyer.RunPlanned {
				d.RunsWaiting++
			}
		}
		d.RunsMore = more
	}
	h.render(w, r, http.StatusOK, "home", "Overview", d)
}

type outcome struct {
	ID      string
	Name    string
	OK      bool
	Message string
}

type requestsData struct {
	Requests      []*foyer.Request
	Extensions    []foyer.RequestView // pending extensions the person may decide
	Next          string              // the after= of the next page; "" on the last
	Outcomes      []outcome
	Problem       string // about the form as a whole
	Justification string
}

// requests answers GET /admin/requests: the requests the person may decide.
func (h *Handler) requests(w http.ResponseWriter, r *http.Request) {
	h.showRequests(w, r, http.StatusOK, requestsData{})
}

func (h *Handler) showRequests(w http.ResponseWriter, r *http.Request, status int, d requestsData) {
	who, ok := h.who(w, r)
	if !ok {
		return
	}
	after := r.URL.Query().Get("after")
	reqs, err := h.o.Intake.Pending(r.Context(), who, after, pageSize+1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(reqs) > pageSize {
		reqs = reqs[:pageSize]
		d.Next = reqs[pageSize-1].ID
	}
	d.Requests = reqs
	if after == "" {
		if d.Extensions, err = h.o.Intake.PendingExtensions(r.Context(), who, maxBulk); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.render(w, r, status, "requests", "Requests awaiting your decision", d)
}

// formStage reads the stage the page showed, so that a decision made on a
// page left open while the request moved on (another approver decided,
// the stage timed out) is refused rather than taken for the next stage.
// 0 (absent) leaves the check out.
func formStage(r *http.Request, field string) int {
	n, err := strconv.Atoi(r.PostForm.Get(field))
	if err != nil || n < 0 || n > foyer.MaxStages {
		return 0
	}
	return n
}

// decision reads the form's verdict: approve or deny, and why.
func decision(r *http.Request) (foyer.Decision, string) {
	d := foyer.Decision{Justification: strings.TrimSpace(r.PostForm.Get("justification"))}
	switch r.PostForm.Get("decision") {
	case "approve":
		d.Approve = true
	case "deny":
		if d.Justification == "" {
			return d, "Say why the request is denied: the requester and the audit log read it."
		}
	default:
		return d, "Choose approve or deny."
	}
	if len(d.Justification) > maxJustification {
		return d, "The justification is too long (2,000 characters at most)."
	}
	return d, ""
}

// decideMany answers POST /admin/requests/decide: one verdict for every
// request ticked, each decided on its own; every refusal is shown.
func (h *Handler) decideMany(w http.ResponseWriter, r *http.Request) {
	who, ok := h.who(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, foyer.Errorf(foyer.EINVALID, "the form could not be read"))
		return
	}
	d, problem := decision(r)
	ids := slices.Compact(slices.Sorted(slices.Values(r.PostForm["id"])))
	switch {
	case problem != "":
	case len(ids) == 0:
		problem = "Tick at least one request."
	case len(ids) > maxBulk:
		problem = "Decide at most 100 requests at once."
	}
	if problem != "" {
		h.showRequests(w, r, http.StatusBadRequest, requestsData{Problem: problem, Justification: d.Justification})
		return
	}
	data := requestsData{}
	status := http.StatusOK
	for _, id := range ids {
		o := outcome{ID: id, Name: id}
		dd := d
		dd.RequestID, dd.Approver, dd.ApproverName = id, who.ID, who.String()
		dd.Stage = formStage(r, "stage-"+id)
		req, err := h.o.Intake.Decide(r.Context(), id, who, dd)
		if err != nil {
			o.Message = foyer.ErrorMessage(err)
			status = http.StatusUnprocessableEntity
			if statusOf(err) >= 500 {
				h.log.Error("admin: decide", "request", id, "err", err)
			}
		} else {
			o.OK, o.Name = true, label(req)
			o.Message = "now " + strings.ReplaceAll(string(req.State), "_", " ")
		}
		data.Outcomes = append(data.Outcomes, o)
	}
	h.log.Info("admin: decided requests", "by", who.ID, "approve", d.Approve, "count", len(ids))
	h.showRequests(w, r, status, data)
}

// label names a request's person for people.
func label(r *foyer.Request) string {
	if r.DisplayName != "" {
		return r.DisplayName + " <" + string(r.Email) + ">"
	}
	return string(r.Email)
}

type answer struct{ ID, Value string }

type requestData struct {
	View     foyer.RequestView
	Answers  []answer
	Pending  bool
	Problem  string
	Decision foyer.Decision
}

// request answers GET /admin/requests/{id}: the request, its history and
// decisions, and the form to decide it. Approvers' emails link here.
func (h *Handler) request(w http.ResponseWriter, r *http.Request) {
	h.showRequest(w, r, http.StatusOK, "", foyer.Decision{})
}

func (h *Handler) showRequest(w http.ResponseWriter, r *http.Request, status int, problem string, d foyer.Decision) {
	v, err := h.o.Intake.View(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data := requestData{View: v, Problem: problem, Decision: d, Pending: v.Request.State == foyer.StatePendingApproval}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range v.Request.Details.Answers {
			if !yield(k) {
				return
			}
		}
	}) {
		data.Answers = append(data.Answers, answer{k, v.Request.Details.Answers[k]})
	}
	h.render(w, r, status, "request", "Request of "+label(v.Request), data)
}

// decideOne answers POST /admin/requests/{id}/decide.
func (h *Handler) decideOne(w http.ResponseWriter, r *http.Request) {
	who, ok := h.who(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, foyer.Errorf(foyer.EINVALID, "the form could not be read"))
		return
	}
	id := r.PathValue("id")
	d, problem := decision(r)
	if problem != "" {
		h.showRequest(w, r, http.StatusBadRequest, problem, d)
		return
	}
	d.RequestID, d.Approver, d.ApproverName = id, who.ID, who.String()
	d.Stage = formStage(r, "stage")
	if _, err := h.o.Intake.Decide(r.Context(), id, who, d); err != nil {
		if statusOf(err) >= 500 {
			h.log.Error("admin: decide", "request", id, "err", err)
		}
		h.showRequest(w, r, statusOf(err), foyer.ErrorMessage(err), d)
		return
	}
	h.log.Info("admin: decided a request", "by", who.ID, "request", id, "approve", d.Approve)
	http.Redirect(w, r, "/admin/requests/"+pathEscape(id), http.StatusSeeOther)
}
