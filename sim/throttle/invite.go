package throttle

import (
	"fmt"
	"sync"
	"time"
)

// The answer Microsoft gives when it has blocked a directory's invitations
// for suspicious activity: 403 with error code "Forbidden" and this message.
//
// Source: Microsoft Q&A, "What is the recommended rate limit for bulk B2B
// guest invitations via Microsoft Graph API (New-MgInvitation) to avoid
// suspicious activity blocks?" (learn.microsoft.com/answers/a/12731593,
// 2026-04-16), quoting the Graph answer to POST /invitations: "Invitations
// are blocked for this directory due to suspicious activity. Please contact
// Microsoft support for help." Status: 403 (Forbidden), ErrorCode: Forbidden.
// Microsoft's support wiki (B2B TSG "Invitations are blocked for this
// directory due to suspicious activity") gives the same text ending "to
// help", and the audit log's resultReason "Invitations from this directory
// are blocked".
const (
	InviteBlockedStatus  = 403
	InviteBlockedCode    = "Forbidden"
	InviteBlockedMessage = "Invitations are blocked for this directory due to suspicious activity. Please contact Microsoft support for help."
)

// InviteBlockedError is the InviteCap's refusal. The sim answers it with
// InviteBlockedStatus, InviteBlockedCode and InviteBlockedMessage, and no
// Retry-After (Microsoft sends none: the real block is lifted by support).
type InviteBlockedError struct {
	TenantID string
	// Until is when the sim's block lifts: when the oldest invitation of the
	// last minute leaves the window.
	Until time.Time
}

func (e *InviteBlockedError) Error() string {
	return fmt.Sprintf("invitations blocked for tenant %s until %s (sim invite cap)", e.TenantID, e.Until.UTC().Format(time.RFC3339Nano))
}

// InviteCap is the sim's stand-in for Microsoft's abuse detection on
// invitations: at most N invitations in any minute per tenant; beyond that,
// POST /invitations gets the 403 above.
//
// Microsoft publishes no per-minute threshold. Its anomaly detection blocks
// a directory's invitations after bursts (a Q&A report: about 11 invites at
// two a minute), and per-day caps apply to new or unpaid tenants (10 to 200
// a day, per Microsoft's support wiki). The real block does not lift by
// itself: only Microsoft support removes it. The sim's does: it refuses only
// the invitations over the cap, and admits again as soon as the oldest
// invitation of the last minute is a minute old. Refused invitations do not
// count. Not modelled: per-day caps, tenant age and paid status, the other
// heuristics (disposable domains, failed attempts, risky inviters).
//
// The zero limit, the default, means no cap. InviteCap is safe for
// concurrent use.
type InviteCap struct {
	now func() time.Time

	mu     sync.Mutex
	limit  int
	last   int64
	tenant map[string]*log
}

// NewInviteCap returns a cap of perMinute invitations per tenant (0 = no
// cap), reading the time from now (time.Now when nil).
func NewInviteCap(perMinute int, now func() time.Time) (*InviteCap, error) {
	if now == nil {
		now = time.Now
	}
	c := &InviteCap{now: now, tenant: map[string]*log{}}
	if err := c.SetLimit(perMinute); err != nil {
		return nil, err
	}
	return c, nil
}

// SetLimit changes the cap at run time; 0 removes it.
func (c *InviteCap) SetLimit(perMinute int) error {
	if perMinute < 0 || perMinute > MaxLimitN {
		return fmt.Errorf("invite cap %d: want 0 (none) to %d invitations per minute", perMinute, MaxLimitN)
	}
	c.mu.Lock()
	c.limit = perMinute
	c.mu.Unlock()
	return nil
}

// Limit returns the cap in force, 0 for none.
func (c *InviteCap) Limit() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limit
}

// Reset forgets the invitations counted so far.
func (c *InviteCap) Reset() {
	c.mu.Lock()
	c.tenant = map[string]*log{}
	c.mu.Unlock()
}

// Admit counts one invitation for the tenant, or refuses it with an
// *InviteBlockedError when the tenant already had the cap's worth in the
// last minute. Call it for each POST /invitations that passed throttling.
func (c *InviteCap) Admit(tenantID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limit == 0 {
		return nil
	}
	now := c.now().UnixNano()
	if now < c.last {
		now = c.last
	}
	c.last = now
	l := c.tenant[tenantID]
	if l == nil {
		l = &log{}
		c.tenant[tenantID] = l
	}
	per := int64(time.Minute)
	l.evict(now - per)
	if w := l.wait(now, 1, int64(c.limit), per); w > 0 {
		return &InviteBlockedError{TenantID: tenantID, Until: time.Unix(0, now+w)}
	}
	l.add(now, 1)
	return nil
}
