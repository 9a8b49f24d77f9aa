package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/foyer-dev/foyer/directory"
)

// groupAdder coalesces concurrent adds to the same group: the first add
// opens a batch that waits GroupWindow for others (or until it holds 20),
// then one PATCH /groups/{id} with members@odata.bind adds them all
// (group-post-members.md / group-update.md: at most 20 per request, all or
// nothing). If that fails (one is already a member, or one is not
// replicated yet), each member is added on its own with POST
// /groups/{id}/members/$ref, 20 per $batch, where "already exist" is
// success and a 404 for a member goes back to the caller to wait for
// replication.
type groupAdder struct {
	c       *Client
	mu      sync.Mutex
	pending map[string]*groupBatch
}

type groupBatch struct {
	group   string
	members map[string][]waiter // user id → waiters
	order   []string
	full    chan struct{}
}

// waiter is one caller of add: where its result goes, and the request log
// of its context, which gets the shared request's ids.
type waiter struct {
	done chan error
	log  *requestLog
	gate directory.Gate
}

func newGroupAdder(c *Client) *groupAdder {
	return &groupAdder{c: c, pending: map[string]*groupBatch{}}
}

// add adds user to group, sharing a request with concurrent adds.
func (ga *groupAdder) add(ctx context.Context, group, userID string) error {
	done := make(chan error, 1)
	ga.mu.Lock()
	b := ga.pending[group]
	if b == nil {
		b = &groupBatch{group: group, members: map[string][]waiter{}, full: make(chan struct{})}
		ga.pending[group] = b
		go ga.flushAfter(b)
	}
	if _, ok := b.members[userID]; !ok {
		b.order = append(b.order, userID)
	}
	b.members[userID] = append(b.members[userID], waiter{done: done, log: requestLogFrom(ctx), gate: directory.GateFrom(ctx)})
	if len(b.order) == batchMax {
		delete(ga.pending, group)
		close(b.full)
	}
	ga.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (ga *groupAdder) flushAfter(b *groupBatch) {
	select {
	case <-b.full:
	case <-ga.c.o.After(ga.c.o.Pacing.GroupWindow):
		ga.mu.Lock()
		if ga.pending[b.group] == b {
			delete(ga.pending, b.group)
		}
		ga.mu.Unlock()
	}
	// The batch serves several callers, so no one caller's context bounds
	// it; the pipeline's retries and MaxRetryDelay do.
	ctx, cancel := context.WithTimeout(context.Background(), ga.c.o.Pacing.ReplicationWait)
	defer cancel()
	ctx, log := withRequestLog(ctx)
	// The shared request goes out only if every caller's gate admits it.
	var gates directory.Gates
	for _, id := range b.order {
		for _, w := range b.members[id] {
			gates = append(gates, w.gate)
		}
	}
	ctx = directory.WithGate(ctx, gates)
	results := ga.c.addMembers(ctx, b.group, b.order)
	ids := log.ids()
	for _, id := range b.order {
		for _, w := range b.members[id] {
			w.log.add(ids...)
			w.done <- results[id]
		}
	}
}

// addMembers adds up to 20 members to a group and returns each one's
// outcome (nil for added or already a member).
func (c *Client) addMembers(ctx context.Context, group string, ids []string) map[string]error {
	out := make(map[string]error, len(ids))
	op := fmt.Sprintf("add %d members to group %s", len(ids), group)
	binds := make([]string, len(ids))
	for i, id := range ids {
		binds[i] = c.directoryObjectURL(id)
	}
	_, err := c.send(ctx, call{method: http.MethodPatch, path: "/v1.0/groups/" + seg(group),
		body: map[string]any{"members@odata.bind": binds}, op: op, perm: permGroupMember, kind: kindWrite})
	if err == nil {
		for _, id := range ids {
			out[id] = nil
		}
		return out
	}
	if e := errOf(err); e == nil || (e.Status != http.StatusBadRequest && e.Status != http.StatusNotFound) {
		for _, id := range ids {
			out[id] = err
		}
		return out
	}
	if len(ids) == 1 {
		if isDuplicate(err) {
			err = nil
		}
		out[ids[0]] = err
		return out
	}
	// One of them spoiled the all-or-nothing PATCH: add each on its own.
	items := make([]batchItem, len(ids))
	for i, id := range ids {
		items[i] = batchItem{ID: itemID(i), Method: http.MethodPost, URL: "/groups/" + seg(group) + "/members/$ref",
			Headers: map[string]string{"Content-Type": "application/json"},
			Body:    map[string]string{"@odata.id": c.directoryObjectURL(id)}}
	}
	answers, err := c.batch(ctx, op, permGroupMember, kindWrite, items)
	if err != nil {
		for _, id := range ids {
			out[id] = err
		}
		return out
	}
	for i, id := range ids {
		err := answerError(fmt.Sprintf("add %s to group %s", id, group), permGroupMember, answers[itemID(i)])
		if isDuplicate(err) {
			err = nil
		}
		out[id] = err
	}
	return out
}

// directoryObjectURL is the @odata.id of a directory object, on the
// cloud's Graph host (group-post-members.md).
func (c *Client) directoryObjectURL(id string) string {
	return c.ep.graph.base + "/v1.0/directoryObjects/" + seg(id)
}

// grantGroup adds the grantee to the group, waiting for replication when
// the member is not visible yet.
func (c *Client) grantGroup(ctx context.Context, to directory.Grantee, g groupRef) error {
	return c.replicated(ctx, func() error {
		return c.groups.add(ctx, g.id, to.UserID)
	}, func(err error) bool { return notReplicated(err, to.UserID) })
}

type groupRef struct{ id string }

// revokeGroup removes a member: DELETE /groups/{id}/members/{uid}/$ref. A
// member who is not there (404, or 400 "do not exist") is success.
func (c *Client) revokeGroup(ctx context.Context, from directory.Grantee, group string) error {
	_, err := c.send(ctx, call{method: http.MethodDelete,
		path: "/v1.0/groups/" + seg(group) + "/members/" + seg(from.UserID) + "/$ref",
		op:   fmt.Sprintf("remove %s from group %s", from.UserID, group), perm: permGroupMember, kind: kindWrite})
	if notHeld(err) {
		return nil
	}
	return err
}

// notHeld reports an answer to a removal that means "already not there":
// 404, or 400 "One or more removed object references do not exist"
// (docs/graph-reference.md §3).
func notHeld(err error) bool {
	e := errOf(err)
	if e == nil {
		return false
	}
	return e.Status == http.StatusNotFound ||
		e.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "do not exist")
}

// notReplicated reports an answer meaning the new object is not visible to
// this write yet: 404 Request_ResourceNotFound naming it, or the 400s
// Graph gives for a reference to an object it cannot see yet: "… does not
// exist …", "Not a valid reference update." (appRoleAssignedTo right after
// the principal was created, microsoftgraph/msgraph-bicep-types#193), ARM's
// PrincipalNotFound.
func notReplicated(err error, id string) bool {
	e := errOf(err)
	if e == nil {
		return false
	}
	m := strings.ToLower(e.Message)
	switch e.Status {
	case http.StatusNotFound:
		return id == "" || strings.Contains(m, strings.ToLower(id)) || !strings.Contains(m, "'")
	case http.StatusBadRequest:
		return strings.Contains(m, "does not exist") || strings.Contains(m, "not a valid reference update") ||
			strings.EqualFold(e.Code, "PrincipalNotFound")
	}
	return false
}

// replicated runs write until it succeeds, fails for another reason than
// replication, or Pacing.ReplicationWait (or ctx) runs out, backing off
// between tries (terraform-provider-azuread's consistency helpers do the
// same on the same signals).
func (c *Client) replicated(ctx context.Context, write func() error, waiting func(error) bool) error {
	deadline := c.o.Clock.Now().Add(c.o.Pacing.ReplicationWait)
	for try := 0; ; try++ {
		err := write()
		if err == nil || !waiting(err) {
			return err
		}
		d := min(time.Duration(500*(try+1))*time.Millisecond, 5*time.Second)
		if c.o.Clock.Now().Add(d).After(deadline) {
			if e := errOf(err); e != nil {
				e.Message += fmt.Sprintf(" (still not visible after %s of waiting for replication)", c.o.Pacing.ReplicationWait)
			}
			return err
		}
		if err := c.sleep(ctx, d); err != nil {
			return err
		}
	}
}
