package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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
	Held    *heldSweep // a sweep the cap holds; nil otherwise
}

// heldSweep is what the page of a sweep held by the cap shows: why it is
// held (the "sweep held by cap" entry, with the counts and the cap of the
// plan), what it would do, and the cap serve carries now.
type heldSweep struct {
	Why    string
	HeldAt time.Time
	HeldBy string
	// Disable, Delete and Notices count the plan's rows by action.
	Disable, Delete, Notices int
	// Rules says whether this foyer serve carries the tenant's lifecycle
	// rules: without them Release is refused, and foyer sweep release is
	// the way.
	Rules bool
	Cap   string // the rules' cap, in words
}

// capText says a sweep cap in words.
func capText(c foyer.SweepCap) string {
	var parts []string
	if c.Max > 0 {
		parts = append(parts, fmt.Sprintf("at most %d guests", c.Max))
	}
	if c.MaxShare > 0 {
		parts = append(parts, fmt.Sprintf("at most %s%% of the guests", strconv.FormatFloat(c.MaxShare*100, 'f', -1, 64)))
	}
	if len(parts) == 0 {
		return "no cap"
	}
	return strings.Join(parts, " and ") + " disabled or deleted by one sweep"
}

// heldOf reads what the page shows of a sweep the cap holds, in tx.
func (h *Handler) heldOf(ctx context.Context, tx store.Tx, run *foyer.Run) (*heldSweep, error) {
	if run.Kind != foyer.RunSweep || !run.Saved || run.State() != foyer.RunPlanned {
		return nil, nil
	}
	held := &heldSweep{Disable: run.Summary.Actions[foyer.ActionDisable], Delete: run.Summary.Actions[foyer.ActionDelete],
		Notices: run.Summary.Actions[foyer.ActionNoticeDisable] + run.Summary.Actions[foyer.ActionNoticeDelete]}
	err := tx.AuditLog(ctx, store.AuditFilter{RunID: run.ID, Op: opSweepHeld}, func(e store.AuditEntry) error {
		held.Why, held.HeldAt, held.HeldBy = e.Detail, e.At, e.Actor
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rules, ok := h.o.Intake.SweepRules(run.Profile); ok {
		held.Rules, held.Cap = true, capText(rules.Cap)
	}
	return held, nil
}

// opSweepHeld is the audit operation of a sweep held by the cap
// (engine/sweep.go).
const opSweepHeld = "sweep held by cap"

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
		if d.Held, err = h.heldOf(r.Context(), tx, run); err != nil {
			return err
		}
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

// releaseSweep answers POST /admin/runs/{id}/release: a sweep the cap
// held goes, in the signed-in admin's name (audited by the engine), and
// serve works it as a run job.
func (h *Handler) releaseSweep(w http.ResponseWriter, r *http.Request) {
	h.runAction(w, r, "release sweep", func(ctx context.Context, id string, who foyer.Principal) error {
		_, err := h.o.Intake.ReleaseSweepAs(ctx, id, who)
		return err
	})
}

// discardRun answers POST /admin/runs/{id}/discard (a held sweep too).
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
