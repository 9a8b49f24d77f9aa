package notifytest

import (
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/notify"
)

// Announcement returns the announcement RunAnnouncer posts: a request that
// awaits approval, with a justification over two lines.
func Announcement() notify.Announcement {
	return notify.Announcement{
		ID:       "foyer.req-0042.await.1",
		Headline: "A request for access to partners awaits approval (stage 1 of 2)",
		Facts: []notify.Fact{
			{Label: "Requester", Value: "Zoé Martin <zoe@wingtip.example>"},
			{Label: "Company", Value: "Wingtip Toys"},
		},
		Text:     "Justification: the Wingtip project\nsecond line",
		Link:     "https://foyer.example/admin/requests/req-0042",
		LinkText: "Open the request",
		Footer:   "Request req-0042",
	}
}

// RunAnnouncer runs the suite every notify.Announcer passes: the post
// carries the headline, the facts, the text, the link and the stable id
// (the same on a retry); a link that is not http(s) is not shown; 4xx is
// not retried; 5xx is. decode reads one request body as for Run: Seen.Text
// every text a person reads, Seen.ReportID the announcement's id,
// Seen.DetailsURL the link.
func RunAnnouncer(t *testing.T, newAnnouncer func(t *testing.T, url string) notify.Announcer, decode func(t *testing.T, body []byte) Seen) {
	a := Announcement()
	t.Run("Delivers", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, ok)
		if err := newAnnouncer(t, srv.hookURL()).Announce(t.Context(), a); err != nil {
			t.Fatalf("Announce: %v", err)
		}
		bodies := srv.requests()
		if len(bodies) != 1 {
			t.Fatalf("%d requests, want 1", len(bodies))
		}
		seen := decode(t, bodies[0])
		for _, want := range []string{a.Headline, "Zoé Martin <zoe@wingtip.example>", "Wingtip Toys", "Company",
			"Justification: the Wingtip project", "second line", a.Footer} {
			if !strings.Contains(seen.Text, want) {
				t.Errorf("the post lacks %q:\n%s", want, seen.Text)
			}
		}
		if seen.ReportID != a.ID || seen.DetailsURL != a.Link {
			t.Errorf("the post carries id %q and link %q, want %q and %q", seen.ReportID, seen.DetailsURL, a.ID, a.Link)
		}
	})
	t.Run("UnsafeLinkIsLeftOut", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, ok)
		b := a
		b.Link = "javascript:alert(1)"
		if err := newAnnouncer(t, srv.hookURL()).Announce(t.Context(), b); err != nil {
			t.Fatalf("Announce: %v", err)
		}
		body := srv.requests()[0]
		if seen := decode(t, body); seen.DetailsURL != "" || strings.Contains(string(body), "javascript:") {
			t.Errorf("a javascript: link was posted: %s", body)
		}
	})
	t.Run("ClientErrorIsNotRetried", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, reply{status: 404, body: "no_service"})
		err := newAnnouncer(t, srv.hookURL()).Announce(t.Context(), a)
		if e := checkErr(t, err); e != nil && e.Temporary {
			t.Errorf("a 404 is reported temporary")
		}
		if n := len(srv.requests()); n != 1 {
			t.Errorf("%d requests after a 404, want 1", n)
		}
	})
	t.Run("ServerErrorIsRetriedWithTheSameID", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, reply{status: 503, body: "unavailable"}, ok)
		if err := newAnnouncer(t, srv.hookURL()).Announce(t.Context(), a); err != nil {
			t.Fatalf("Announce after one 503: %v", err)
		}
		bodies := srv.requests()
		if len(bodies) != 2 {
			t.Fatalf("%d requests, want 2", len(bodies))
		}
		for i, b := range bodies {
			if id := decode(t, b).ReportID; id != a.ID {
				t.Errorf("attempt %d carries id %q, want %q", i+1, id, a.ID)
			}
		}
	})
}
