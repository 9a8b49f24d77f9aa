package engine

import (
	"context"
	"fmt"

	"github.com/foyer-dev/foyer"
)

// Runs decided in the approver UI: a recorded CSV run that a profile wants
// a second admin to approve (four eyes), and revoking a request's access.

// ApproveRunAs approves a recorded run in the name of who, who must not be
// the one who recorded it and, when the profile names run approvers
// (Policy.RunApprovers), must be one of them. EFORBIDDEN otherwise. In
// service mode the run's job is inserted with the approval.
func (e *Engine) ApproveRunAs(ctx context.Context, runID string, who foyer.Principal) (*foyer.Run, error) {
	run, err := e.Run(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("approve run %s: %w", runID, err)
	}
	if run.Kind == foyer.RunSweep {
		return run, foyer.Errorf(foyer.ECONFLICT, "run %s is a sweep: it is released (Release on its page, or foyer sweep release), not approved", run.ID)
	}
	if err := e.mayDecideRun(run, who, "approve"); err != nil {
		return run, err
	}
	return e.Approve(ctx, runID, who.String())
}

// DiscardRunAs records, in the name of who, that a recorded run will not
// be applied. The one who recorded it may discard it; anyone else must be
// one of the profile's run approvers, when it names them.
func (e *Engine) DiscardRunAs(ctx context.Context, runID string, who foyer.Principal) error {
	run, err := e.Run(ctx, runID)
	if err != nil {
		return fmt.Errorf("discard run %s: %w", runID, err)
	}
	if run.Kind == foyer.RunSweep {
		// A sweep's profile is its tenant: no run approvers to ask.
		return e.DiscardSweep(ctx, runID, who.String())
	}
	if !recordedBy(run, who) {
		if err := e.mayDecideRun(run, who, "discard"); err != nil {
			return err
		}
	}
	if s := run.State(); s != foyer.RunPlanned && s != foyer.RunDiscarded {
		return foyer.Errorf(foyer.ECONFLICT, "run %s is %s: only a plan awaiting approval is discarded", run.ID, s)
	}
	return e.Discard(ctx, runID, who.String())
}

func recordedBy(run *foyer.Run, who foyer.Principal) bool {
	return run.RecordedBy != "" && (who.Is(run.RecordedBy) || run.RecordedBy == who.String())
}

// mayDecideRun applies the four-eyes rule.
func (e *Engine) mayDecideRun(run *foyer.Run, who foyer.Principal, verb string) error {
	if verb == "approve" && recordedBy(run, who) {
		return foyer.Errorf(foyer.EFORBIDDEN, "%s recorded run %s: another admin must approve it", who, run.ID)
	}
	p, ok := e.Profiles[run.Profile]
	if !ok {
		return foyer.Errorf(foyer.EINVALID, "run %s is of profile %q, which is not loaded", run.ID, run.Profile)
	}
	if ra := p.Approval.RunApprovers; !ra.Empty() && !ra.Matches(who, "") {
		return foyer.Errorf(foyer.EFORBIDDEN, "%s is not one of the admins who %s runs of profile %s", who, verb, p.Name)
	}
	return nil
}

// RevokeRequest takes back, in the name of who, what a request's profile
// granted its person through foyer: a revoke run of one row, recorded and
// approved at once; in service mode its job works it, and the request
// becomes revoked when it is done. It returns the request as it is now.
// ECONFLICT for a request that has no access to take back.
func (e *Engine) RevokeRequest(ctx context.Context, requestID string, who foyer.Principal) (*foyer.Request, error) {
	v, err := e.View(ctx, requestID)
	if err != nil {
		return nil, err
	}
	req := v.Request
	switch req.State {
	case foyer.StateInvited, foyer.StateActive, foyer.StateFailed, foyer.StateExpired:
	default:
		return req, foyer.Errorf(foyer.ECONFLICT, "request %s is %s: there is no access to revoke", req.ID, req.State)
	}
	if req.State == foyer.StateFailed && req.UserID == "" {
		return req, foyer.Errorf(foyer.ECONFLICT, "request %s failed before anyone was invited: there is no access to revoke", req.ID)
	}
	if _, _, err := e.recordRevoke(ctx, req.Profile, []foyer.Address{req.Email}, who.String()); err != nil {
		return req, fmt.Errorf("revoke request %s: %w", req.ID, err)
	}
	return req, nil
}
