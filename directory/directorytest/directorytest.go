// Package directorytest is the conformance suite every directory.Directory
// passes: Run(t, newHarness) runs it split by promise (find, invite, grants,
// mail contacts, revoke, errors, concurrency, capacity, members, activity, lifecycle,
// redemption) with a fresh tenant
// per subtest.
//
// Package graph runs it against the sim (always) and against a real tenant
// when FOYER_TEST_TENANT is set. Tests import it; nothing else should.
package directorytest

import (
	"context"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// Harness is one fresh tenant and a Directory on it.
type Harness struct {
	// Directory is the implementation under test.
	Directory directory.Directory
	// Tenant seeds and inspects the tenant behind Directory; nil for a real
	// tenant, where the subtests that need it skip.
	Tenant Tenant
	// Fixtures names what the tenant holds for the grant subtests.
	Fixtures Fixtures
	// Limited, if set, returns a Directory on the same tenant signed in as
	// an app that may only read users (User.Read.All), for the permission
	// errors; nil skips those subtests.
	Limited func(t *testing.T) directory.Directory
	// Timeout bounds each subtest's calls; default 2 minutes.
	Timeout time.Duration
}

// Tenant is the side door to the tenant behind a Directory.
type Tenant interface {
	// AddUser creates a user directly (not by invitation) and returns its
	// object id.
	AddUser(ctx context.Context, u User) (string, error)
	// Invitations returns how many invitations each address (lowercased)
	// received so far.
	Invitations(ctx context.Context) (map[string]int, error)
	// AddMailContact makes an Exchange mail contact for an address, as an
	// Exchange admin would outside foyer.
	AddMailContact(ctx context.Context, name string, email foyer.Address) error
	// AddGroup creates a security group with the given members (object
	// ids of users or groups), as an admin would outside foyer, and
	// returns its object id.
	AddGroup(ctx context.Context, name string, members []string) (string, error)
	// Settle makes everything written so far visible everywhere: Entra is
	// eventually consistent, and a new guest or contact shows in list
	// queries only once replicated. The sim advances its clock past its
	// replication delay.
	Settle(ctx context.Context) error
}

// User is a user to seed.
type User struct {
	DisplayName       string
	Mail              string
	OtherMails        []string
	ProxyAddresses    []string // e.g. "SMTP:a@b.example"
	UserPrincipalName string   // empty: the tenant makes one
	Guest             bool     // userType Guest (PendingAcceptance) or Member
	CompanyName       string
}

// Fixtures names what the tenant holds for the grant subtests. An empty
// field skips the subtests that need it.
type Fixtures struct {
	Domain        string // a verified domain of the tenant
	Group         string // display name of a group guests may join
	App, AppRole  string // a service principal's display name and one of its app roles' values
	License       string // skuPartNumber of a SKU with free seats
	UsageLocation string // ISO 3166 code to set before a license, e.g. US
	NoSeats       string // skuPartNumber of a SKU without free seats (it still resolves)
	DirectoryRole string // display name of a directory role, e.g. Guest Inviter
	AzureScope    string // an ARM scope, e.g. /subscriptions/{id}/resourceGroups/{name}
	AzureRole     string // a role name at that scope, e.g. Reader
	MailContacts  bool   // the tenant has Exchange Online (mail contacts, guests' mail users)
}

// Run runs the suite. newHarness is called once per subtest and must
// return a fresh tenant (the sim: a new server; a real tenant: the same
// tenant with unique addresses, which the suite uses anyway).
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("find", func(t *testing.T) { t.Parallel(); runFind(t, newHarness) })
	t.Run("invite", func(t *testing.T) { t.Parallel(); runInvite(t, newHarness) })
	t.Run("grants", func(t *testing.T) { t.Parallel(); runGrants(t, newHarness) })
	t.Run("mail contacts", func(t *testing.T) { t.Parallel(); runContacts(t, newHarness) })
	t.Run("errors", func(t *testing.T) { t.Parallel(); runErrors(t, newHarness) })
	t.Run("concurrency", func(t *testing.T) { t.Parallel(); runConcurrency(t, newHarness) })
	t.Run("capacity", func(t *testing.T) { t.Parallel(); runCapacity(t, newHarness) })
	t.Run("members", func(t *testing.T) { t.Parallel(); runMembers(t, newHarness) })
	t.Run("activity", func(t *testing.T) { t.Parallel(); runActivity(t, newHarness) })
	t.Run("lifecycle", func(t *testing.T) { t.Parallel(); runLifecycle(t, newHarness) })
	t.Run("redemption", func(t *testing.T) { t.Parallel(); runRedemption(t, newHarness) })
}

// setup returns a fresh harness and a context bounded by its timeout.
func setup(t *testing.T, newHarness func(t *testing.T) Harness) (Harness, context.Context) {
	t.Helper()
	h := newHarness(t)
	d := h.Timeout
	if d == 0 {
		d = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return h, ctx
}

func needTenant(t *testing.T, h Harness) Tenant {
	t.Helper()
	if h.Tenant == nil {
		t.Skip("this harness cannot seed or inspect its tenant")
	}
	return h.Tenant
}

// eventually checks what only holds once the tenant has replicated: with a
// side door it settles the tenant and checks once; on a real tenant it
// checks every two seconds until ctx ends.
func eventually(ctx context.Context, t *testing.T, h Harness, what string, check func() (bool, error)) {
	t.Helper()
	if h.Tenant != nil {
		if err := h.Tenant.Settle(ctx); err != nil {
			t.Fatalf("settle the tenant: %v", err)
		}
	}
	for {
		ok, err := check()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if h.Tenant != nil {
			t.Fatalf("%s: not so after the tenant settled", what)
		}
		timer := time.NewTimer(2 * time.Second)
		select {
		case <-ctx.Done():
			timer.Stop()
			t.Fatalf("%s: not so before the deadline", what)
		case <-timer.C:
		}
	}
}

func needFixture(t *testing.T, v, name string) {
	t.Helper()
	if v == "" {
		t.Skipf("the harness names no %s", name)
	}
}
