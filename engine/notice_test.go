package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
	"github.com/foyer-dev/foyer/notify/notifytest"
	"github.com/foyer-dev/foyer/notify/slack"
	"github.com/foyer-dev/foyer/notify/teams"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
)

// channel is a Slack or Teams webhook endpoint that keeps the text of
// every post it accepted.
type channel struct {
	mu      sync.Mutex
	posts   []string
	changed chan struct{}
	srv     *httptest.Server
}

func newChannel(t *testing.T, answer string) *channel {
	c := &channel{changed: make(chan struct{})}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// Kept as JSON without HTML escaping, so that tests look for the
		// text as the service shows it (&lt; stays &lt;, not \u0026lt;).
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		c.mu.Lock()
		c.posts = append(c.posts, b.String())
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		io.WriteString(w, answer)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// wait waits for a post that holds every one of want, and returns it.
func (c *channel) wait(t *testing.T, name string, want ...string) string {
	t.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		c.mu.Lock()
		changed := c.changed
		for _, p := range c.posts {
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(p, w)
			}
			if ok {
				c.mu.Unlock()
				return p
			}
		}
		n := len(c.posts)
		c.mu.Unlock()
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("no %s post holding %q after 30 s; %d posts arrived", name, want, n)
		}
	}
}

func (c *channel) count(want string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, p := range c.posts {
		if strings.Contains(p, want) {
			n++
		}
	}
	return n
}

// mailWith waits for a message to addr whose subject contains subject and
// whose text contains text.
func (w *serveWorld) mailWith(t *testing.T, addr, subject, text string) {
	t.Helper()
	w.mailWhere(t, addr, fmt.Sprintf("about %q with %q", subject, text), func(p *smtptest.Parsed) bool {
		return strings.Contains(p.Subject(), subject) && strings.Contains(p.Text, text)
	})
}

// TestApproversAndChannelsAreTold: a stage named by group emails every
// member of the group, nested groups included (by mail, else by UPN), and
// an approver named twice once; Slack and Teams get a post for each step
// with the approvers' link, never the requester's.
func TestApproversAndChannelsAreTold(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testApproversAndChannels(t, ledger)
		})
	}
}

func testApproversAndChannels(t *testing.T, ledger func(*testing.T) store.Store) {
	ctx := context.Background()
	w := newServe(t, ledger, foyer.Policy{})
	seeded, err := w.sim.Seed(sim.SeedData{
		Users: []sim.SeedUser{
			{DisplayName: "Ann Approver", UserPrincipalName: "ann.approver@contoso.example", Mail: "ann.approver@contoso.example"},
			// No mailbox: reached at the user principal name.
			{DisplayName: "Bob Approver", UserPrincipalName: "bob.approver@contoso.example"},
		},
		Groups: []sim.SeedGroup{{DisplayName: "Nested Approvers", Members: []string{"bob.approver@contoso.example"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	outer, err := w.sim.Seed(sim.SeedData{Groups: []sim.SeedGroup{{DisplayName: "Foyer Approvers",
		Members: []string{"ann.approver@contoso.example", "alex@contoso.example", seeded.Groups[0].ID}}}})
	if err != nil {
		t.Fatal(err)
	}
	group := outer.Groups[0].ID
	w.profile.Approval = foyer.Policy{Stages: []foyer.Stage{{Approvers: foyer.Approvers{Groups: []string{group}, Users: []string{"alex@contoso.example"}}}}}

	sl, tm := newChannel(t, "ok"), newChannel(t, "")
	sn, err := slack.New(sl.srv.URL+"/services/T1/B1/token", slack.Options{Retry: notifytest.Retry()})
	if err != nil {
		t.Fatal(err)
	}
	tn, err := teams.New(tm.srv.URL+"/workflows/x?sig=s", teams.Options{Retry: notifytest.Retry()})
	if err != nil {
		t.Fatal(err)
	}
	w.eng.Notifiers = []notify.Notifier{sn, tn}

	ask := func(addr, name string) (string, string) {
		rc, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: addr, DisplayName: name,
			Details: foyer.Details{Company: "Wingtip", Justification: "the <!channel> project"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.eng.Confirm(ctx, rc.Token); err != nil {
			t.Fatal(err)
		}
		return rc.Request.ID, rc.Token
	}
	id, token := ask("zoe@wingtip.example", "Zoé Martin")
	link := publicURL + "/admin/requests/" + id
	approvers := []string{"ann.approver@contoso.example", "bob.approver@contoso.example", "alex@contoso.example"}
	for _, to := range approvers {
		w.mailWith(t, to, "awaits your decision", link)
	}
	sl.wait(t, "slack", "awaits approval", link, "Zoé Martin", "&lt;!channel&gt;")
	tm.wait(t, "teams", "awaits approval", link, "Zoé Martin")

	if _, err := w.eng.Decide(ctx, id, alex, foyer.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	w.waitState(t, id, foyer.StateInvited)
	for _, c := range []*channel{sl, tm} {
		c.wait(t, "approved", "was approved", "approved by alex@contoso.example at stage 1", link)
		c.wait(t, "invited", "zoe@wingtip.example has access to partners", link)
	}

	denied, _ := ask("yan@wingtip.example", "")
	for _, to := range approvers {
		w.mailWith(t, to, "awaits your decision", publicURL+"/admin/requests/"+denied)
	}
	if _, err := w.eng.Decide(ctx, denied, alex, foyer.Decision{Approve: false, Justification: "unknown to us"}); err != nil {
		t.Fatal(err)
	}
	w.mail(t, "yan@wingtip.example", "not approved")
	sl.wait(t, "rejected", "was not approved", "unknown to us")
	tm.wait(t, "rejected", "was not approved", "unknown to us")

	// Alex, named twice (by address and in the group), got one email per
	// request; nobody got the same email twice; no post holds the
	// requester's own link.
	n := 0
	for _, m := range w.smtp.Messages() {
		p, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range m.To {
			if strings.EqualFold(to, "alex@contoso.example") && strings.Contains(p.Subject(), "awaits your decision") {
				n++
			}
		}
	}
	if n != 2 {
		t.Errorf("alex got %d approval emails for 2 requests, want 2", n)
	}
	w.noDuplicates(t)
	for _, c := range []*channel{sl, tm} {
		if c.count(token) != 0 || c.count("/r/") != 0 {
			t.Errorf("a channel post holds the requester's link")
		}
		if k := c.count("awaits approval"); k != 2 {
			t.Errorf("%d posts say a request awaits approval, want 2", k)
		}
	}

	// An extension's stage is told like a request's: the group's members
	// through a job, those named by address at once, the channels by a
	// post that carries no guest's link.
	w.profile.Expiry, w.profile.ExtensionMax = 30*24*time.Hour, 60*24*time.Hour
	x, err := w.eng.AskExtension(ctx, id, megan, w.eng.Clock.Now().Add(40*24*time.Hour), "the project runs on")
	if err != nil {
		t.Fatal(err)
	}
	if x.State != foyer.ExtensionPending || x.Stage != 1 {
		t.Fatalf("the extension is %s at stage %d, want pending at stage 1", x.State, x.Stage)
	}
	for _, to := range approvers {
		w.mailWith(t, to, "More time for the access of Zoé Martin", link)
	}
	for _, c := range []*channel{sl, tm} {
		c.wait(t, "extension", "More time for the access of zoe@wingtip.example", "the project runs on", link)
	}
	w.noDuplicates(t)
}
