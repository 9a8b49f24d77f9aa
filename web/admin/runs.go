package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// errEnough stops a store's callback once a page is full.
var errEnough = errors.New("page full")

func pathEscape(s string) string { return url.PathEscape(s) }

// listRuns reads up to limit runs, newest first, and whether there are more.
func (h *Handler) listRuns(r *http.Request, limit int) ([]*foyer.Run, bool, error) {
	var runs []*foyer.Run
	err := h.o.Store.InTx(r.Context(), func(tx store.Tx) error {
		runs = runs[:0]
		return tx.ListRuns(r.Context(), limit+1, func(run *foyer.Run) error {
			runs = append(runs, run)
			return nil
		})
	})
	if err != nil {
		return nil, false, err
	}
	if len(runs) > limit {
		return runs[:limit], true, nil
	}
	return runs, false, nil
}

type runsData struct {
	Runs []*foyer.Run
	More bool
}

// runs answers GET /admin/runs: the newest runs and their state.
func (h *Handler) runs(w http.ResponseWriter, r *http.Request) {
	runs, more, err := h.listRuns(r, 2*pageSize)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "runs", "Runs", runsData{Runs: runs, More: more})
}

type runData struct {
	Run     *foyer.Run
	State   foyer.RunState
	Rows    []foyer.Row
	Next    int // after= of the next page; 0 on the last
	Problem string
}

// run answers GET /admin/runs/{id}: the run and a page of its rows.
func (h *Handler) run(w http.ResponseWriter, r *http.Request) {
	h.showRun(w, r, http.StatusOK, "")
}

func (h *Handler) showRun(w http.ResponseWriter, r *http.Request, status int, problem string) {
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	var d runData
	err := h.o.Store.InTx(r.Context(), func(tx store.Tx) error {
		d = runData{Problem: problem}
		run, err := tx.Run(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		d.Run, d.State = run, run.State()
		err = tx.RunRows(r.Context(), run.ID, max(after, 0), func(row foyer.Row) error {
			if len(d.Rows) == pageSize {
				d.Next = d.Rows[pageSize-1].Line
				return errEnough
			}
			d.Rows = append(d.Rows, row)
			return nil
		})
		if errors.Is(err, errEnough) {
			err = nil
		}
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, status, "run", "Run "+d.Run.ID, d)
}

// approveRun answers POST /admin/runs/{id}/approve; the engine applies
// the four-eyes rule.
func (h *Handler) approveRun(w http.ResponseWriter, r *http.Request) {
	h.runAction(w, r, "approve", func(ctx context.Context, id string, who foyer.Principal) error {
		_, err := h.o.Intake.ApproveRunAs(ctx, id, who)
		return err
	})
}

// discardRun answers POST /admin/runs/{id}/discard.
func (h *Handler) discardRun(w http.ResponseWriter, r *http.Request) {
	h.runAction(w, r, "discard", h.o.Intake.DiscardRunAs)
}

func (h *Handler) runAction(w http.ResponseWriter, r *http.Request, what string, do func(context.Context, string, foyer.Principal) error) {
	who, ok := h.who(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := do(r.Context(), id, who); err != nil {
		if statusOf(err) >= 500 {
			h.log.Error("admin: "+what+" run", "run", id, "err", err)
		}
		h.showRun(w, r, statusOf(err), foyer.ErrorMessage(err))
		return
	}
	h.log.Info("admin: "+what+" run", "run", id, "by", who.ID)
	http.Redirect(w, r, "/admin/runs/"+pathEscape(id), http.StatusSeeOther)
}
