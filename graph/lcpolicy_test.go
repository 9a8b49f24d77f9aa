package graph

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// TestPolicySubjects: a policy's report is read with its subjects, 999 a
// page, each request counted; with a budget its pages do not fit, the read
// stops at the budget (as the sim counts the requests) and says so; a
// policy without a report yet, or with its scope being processed, is left
// unread, not an error; without the permission it is forbidden.
func TestPolicySubjects(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{Empty: true})
	if _, err := s.AddGuests(sim.BulkGuests{Count: 2_500, Domain: "partner.example"}); err != nil {
		t.Fatal(err)
	}
	c := simClient(t, s, s.ClientID(), s.ClientSecret())
	ctx := context.Background()
	add := func(p sim.LifecyclePolicy) directory.LifecyclePolicy {
		t.Helper()
		p.IsEnabled = true
		q, err := s.AddLifecyclePolicy(p)
		if err != nil {
			t.Fatal(err)
		}
		return directory.LifecyclePolicy{ID: q.ID, DisplayName: q.DisplayName, Enabled: true, Version: 1}
	}
	all := add(sim.LifecyclePolicy{DisplayName: "All guests", AllGuests: true})
	none := add(sim.LifecyclePolicy{DisplayName: "New", AllGuests: true, Report: "none"})
	busy := add(sim.LifecyclePolicy{DisplayName: "Busy", AllGuests: true, Report: "processing"})
	const subjects = "GET /v1.0/identityGovernance/lifecycleWorkflows/lifecyclePolicies/{id}/report/subjects"
	const report = "GET /v1.0/identityGovernance/lifecycleWorkflows/lifecyclePolicies/{id}/report"
	sent := func() int64 { st := s.Stats(); return st.Routes[subjects] + st.Routes[report] }

	tests := []struct {
		name     string
		p        directory.LifecyclePolicy
		budget   int
		requests int    // sent, as the sim counts them
		unread   string // fragment; "" for a complete read
		subjects int
	}{
		{"whole", all, 40, 1 + 3, "", 2_500},
		{"budget spent with pages left", all, 3, 3, "more than the sweep's 3 requests", 0},
		{"no budget", all, 1, 0, "budget", 0},
		{"no report yet", none, 40, 1, "no report yet (404", 0},
		{"being processed", busy, 40, 1, "never processed", 0},
		{"an older version", directory.LifecyclePolicy{ID: all.ID, DisplayName: "All guests", Enabled: true, Version: 2}, 40, 1, "version 1, the policy is at version 2", 0},
	}
	for _, tc := range tests {
		before := sent()
		r, err := c.PolicySubjects(ctx, tc.p, tc.budget)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n := int(sent() - before); n != tc.requests || r.Requests != n {
			t.Errorf("%s: %d requests sent, %d counted, want %d", tc.name, n, r.Requests, tc.requests)
		}
		if (tc.unread == "") != (r.Unread == "") || !strings.Contains(r.Unread, tc.unread) {
			t.Errorf("%s: unread %q, want %q", tc.name, r.Unread, tc.unread)
		}
		if len(r.Subjects) != tc.subjects {
			t.Errorf("%s: %d subjects, want %d", tc.name, len(r.Subjects), tc.subjects)
		}
	}
	r, _ := c.PolicySubjects(ctx, all, 40)
	if s0 := r.Subjects[0]; s0.Relationship != directory.RelationshipEffective || s0.UserID != strings.ToLower(s0.UserID) || s0.UserID == "" {
		t.Errorf("first subject %+v", s0)
	}

	app, err := s.AddApp(sim.App{DisplayName: "reader", Permissions: []string{"User.Read.All"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = simClient(t, s, app.ClientID, app.Secret).PolicySubjects(ctx, all, 40)
	var de *directory.Error
	if !errors.Is(err, directory.ErrForbidden) || !errors.As(err, &de) || de.Permission != permLifecyclePolicyRead || de.Fix == "" {
		t.Fatalf("without the permission: %v", err)
	}
}
