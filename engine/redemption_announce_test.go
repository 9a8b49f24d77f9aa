package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/notifytest"
	"github.com/foyer-dev/foyer/notify/slack"
	"github.com/foyer-dev/foyer/notify/teams"
	"github.com/foyer-dev/foyer/store"
)

// TestRedemptionAnnounced: when a guest redeems, Slack and Teams are told
// once (a second sync posts nothing again), so that an application that
// asked through the API, which has no address, hears of it; a person who
// asked on another's behalf, known by address, is emailed besides the
// sponsor.
func TestRedemptionAnnounced(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { t.Parallel(); testRedemptionAnnounced(t, backend) })
	}
}

func testRedemptionAnnounced(t *testing.T, backend string) {
	ctx := context.Background()
	sl, tm := newChannel(t, "ok"), newChannel(t, "")
	w, _ := newRedemptionWorld(t, backend, foyer.Reminders{}, func(w *world) {
		sn, err := slack.New(sl.srv.URL+"/services/T1/B1/token", slack.Options{Retry: notifytest.Retry()})
		if err != nil {
			t.Fatal(err)
		}
		tn, err := teams.New(tm.srv.URL+"/workflows/x?sig=s", teams.Options{Retry: notifytest.Retry()})
		if err != nil {
			t.Fatal(err)
		}
		w.eng.Notifiers = []notify.Notifier{sn, tn}
	})
	// An application asks for Ada; Lou's request names, as who asked, a
	// person known by address (not Lou's sponsor).
	rc, err := w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "ada@tailwind.example", DisplayName: "Ada",
		By: &foyer.Principal{ID: "apikey:hr", App: true}})
	if err != nil {
		t.Fatal(err)
	}
	ada := w.waitState(t, rc.Request.ID, foyer.StateInvited).Request
	rc, err = w.eng.Submit(ctx, foyer.Submission{Profile: "partners", Email: "lou@tailwind.example", DisplayName: "Lou", By: &adele})
	if err != nil {
		t.Fatal(err)
	}
	lou := w.waitState(t, rc.Request.ID, foyer.StateInvited).Request
	err = w.store.InTx(ctx, func(tx store.Tx) error {
		r, err := tx.Request(ctx, lou.ID)
		if err != nil {
			return err
		}
		r.Details.RequestedBy = "rita@contoso.example"
		return tx.UpdateRequest(ctx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"kim@tailwind.example", "ada@tailwind.example", "lou@tailwind.example"} {
		if err := w.sim.Redeem(a); err != nil {
			t.Fatal(err)
		}
	}
	if sum, err := w.eng.SyncRedemptions(ctx); err != nil || sum.Accepted != 3 {
		t.Fatalf("sync: %+v, %v; want 3 accepted", sum, err)
	}
	for _, c := range []*channel{sl, tm} {
		c.wait(t, "accepted", "ada@tailwind.example accepted the invitation to partners", "apikey:hr", publicURL+"/admin/requests/"+ada.ID)
		c.wait(t, "accepted", "kim@tailwind.example accepted the invitation to partners")
		c.wait(t, "accepted", "lou@tailwind.example accepted the invitation to partners", "rita@contoso.example")
	}
	w.mailWith(t, "rita@contoso.example", "Lou <lou@tailwind.example> accepted the invitation", "because you asked for this access")
	w.mailWith(t, string(adele.Email), "Lou <lou@tailwind.example> accepted the invitation", "because you sponsor this guest")
	w.mail(t, string(adele.Email), "Kim <kim@tailwind.example> accepted")

	// A second sync finds nothing to do and posts nothing again.
	if sum, err := w.eng.SyncRedemptions(ctx); err != nil || sum.Accepted != 0 {
		t.Fatalf("second sync: %+v, %v", sum, err)
	}
	time.Sleep(500 * time.Millisecond)
	for _, c := range []*channel{sl, tm} {
		if n := c.count("accepted the invitation"); n != 3 {
			t.Errorf("%d posts of acceptances, want 3 (one per guest)", n)
		}
	}
	for _, m := range w.smtp.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, "rita@contoso.example") {
				if p, err := m.Parse(); err != nil || !strings.Contains(p.Subject(), "Lou") {
					t.Errorf("rita was told of another request: %v %v", p.Subject(), err)
				}
			}
		}
	}
	w.noDuplicates(t)
}
