package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/store"
)

// A request's steps (it awaits approval, it was approved, it was not, its
// guest was invited) are also posted to the channels configured for the
// run reports that can take them (Slack and Teams: Notifiers that are
// notify.Announcers). Each post is a job per channel, inserted in the
// transaction that makes the change, like an email notice, so that a
// channel that is down delays its post without losing it or holding up
// the others. A post carries the approvers' link to the request, never the
// requester's own link.

// AnnounceArgs is the job that posts one announcement to one channel.
type AnnounceArgs struct {
	Channel      string              `json:"channel"`
	Announcement notify.Announcement `json:"announcement"`
}

// Kind names the job in River.
func (AnnounceArgs) Kind() string { return "foyer.announce" }

// InsertOpts puts announcements on the notice queue, tried for about a day.
func (AnnounceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueNotice, MaxAttempts: reportAttempts}
}

// announcers are the configured notifiers that take announcements.
func (e *Engine) announcers() []notify.Announcer {
	var out []notify.Announcer
	for _, n := range e.Notifiers {
		if a, ok := n.(notify.Announcer); ok {
			out = append(out, a)
		}
	}
	return out
}

// announce inserts, in tx, one job per channel that takes announcements.
func (e *Engine) announce(ctx context.Context, tx store.Tx, a notify.Announcement) error {
	chans := e.announcers()
	if len(chans) == 0 || !e.Service {
		// Only service mode works these jobs; the CLI's runs are told by
		// their report.
		return nil
	}
	q, err := e.currentQueue()
	if err != nil {
		return err
	}
	for _, c := range chans {
		if _, _, err := q.InsertTx(ctx, tx, AnnounceArgs{Channel: c.Name(), Announcement: a}, nil); err != nil {
			return fmt.Errorf("enqueue announcement %s to %s: %w", a.ID, c.Name(), err)
		}
	}
	return nil
}

// announceWorker posts one announcement.
type announceWorker struct {
	river.WorkerDefaults[AnnounceArgs]
	e *Engine
}

func (w *announceWorker) NextRetry(job *river.Job[AnnounceArgs]) time.Time {
	return w.e.Clock.Now().Add(reportBackoff(job.Attempt))
}

func (w *announceWorker) Work(ctx context.Context, job *river.Job[AnnounceArgs]) error {
	e, a := w.e, job.Args
	if err := e.lostLease(); err != nil {
		return err
	}
	var to notify.Announcer
	for _, c := range e.announcers() {
		if c.Name() == a.Channel {
			to = c
		}
	}
	if to == nil {
		e.Log.Warn("announcement dropped: its channel is no longer configured", "announcement", a.Announcement.ID, "channel", a.Channel)
		return river.JobCancel(fmt.Errorf("announcement %s: channel %s is not configured", a.Announcement.ID, a.Channel))
	}
	ctx, cancel := context.WithTimeout(ctx, e.attemptTimeout())
	defer cancel()
	defer context.AfterFunc(e.workContext(), cancel)()
	err := to.Announce(ctx, a.Announcement)
	var ne *notify.Error
	switch {
	case err == nil:
		e.Log.Info("announcement posted", "announcement", a.Announcement.ID, "channel", a.Channel)
		return nil
	case errors.As(err, &ne) && !ne.Temporary:
		// Refused for good (the webhook is gone, the message is wrong):
		// posting it again cannot help.
		e.Log.Error("announcement refused; it will not be posted", "announcement", a.Announcement.ID, "channel", a.Channel, "err", e.safeMessage(err))
		return river.JobCancel(err)
	default:
		e.Log.Warn("announcement not posted; it will be tried again", "announcement", a.Announcement.ID, "channel", a.Channel,
			"attempt", job.Attempt, "err", e.safeMessage(err))
		return err
	}
}

// requesterFact names who asked, as the approvers' email does.
func requesterFact(r *foyer.Request) notify.Fact {
	who := string(r.Email)
	if r.DisplayName != "" {
		who = r.DisplayName + " <" + string(r.Email) + ">"
	}
	return notify.Fact{Label: "Requester", Value: who}
}

// requestAnnouncement is the part every announcement of a request shares.
func (e *Engine) requestAnnouncement(r *foyer.Request, kind, detail, headline string) notify.Announcement {
	a := notify.Announcement{
		ID: noticeID(r.ID, "channel."+kind, detail), Headline: headline,
		Facts:  []notify.Fact{requesterFact(r), {Label: "Profile", Value: r.Profile}},
		Footer: "Request " + r.ID,
	}
	if r.Details.Company != "" {
		a.Facts = append(a.Facts, notify.Fact{Label: "Company", Value: r.Details.Company})
	}
	if e.PublicURL != "" {
		a.Link, a.LinkText = e.link("/admin/requests/"+r.ID), "Open the request"
	}
	return a
}

// awaitAnnouncement tells a channel that a request awaits a stage's
// approvers (its alternates once escalated).
func (e *Engine) awaitAnnouncement(r *foyer.Request, stages int) notify.Announcement {
	kind, head := "await", fmt.Sprintf("A request for access to %s awaits approval (stage %d of %d)", r.Profile, r.Stage, stages)
	if r.Escalated {
		kind = "escalated"
		head = fmt.Sprintf("A request for access to %s was escalated: nobody decided stage %d of %d in time", r.Profile, r.Stage, stages)
	}
	a := e.requestAnnouncement(r, kind, fmt.Sprint(r.Stage), head)
	a.Facts = append(a.Facts, notify.Fact{Label: "Times out", Value: r.StageDue.UTC().Format("2 January 2006 15:04 MST")})
	if r.Details.Justification != "" {
		a.Text = "Justification: " + r.Details.Justification
	}
	a.LinkText = "Decide (sign-in required)"
	return a
}

// decisionAnnouncement tells a channel that a request was approved, or
// not and why.
func (e *Engine) decisionAnnouncement(r *foyer.Request, approved bool, why string) notify.Announcement {
	if approved {
		a := e.requestAnnouncement(r, "approved", "", "A request for access to "+r.Profile+" was approved")
		a.Facts = append(a.Facts, notify.Fact{Label: "Decision", Value: why})
		return a
	}
	a := e.requestAnnouncement(r, "rejected", "", "A request for access to "+r.Profile+" was not approved")
	a.Facts = append(a.Facts, notify.Fact{Label: "Reason", Value: why})
	return a
}

// invitedAnnouncement tells a channel that a request's guest has access.
func (e *Engine) invitedAnnouncement(r *foyer.Request, runID string) notify.Announcement {
	return e.requestAnnouncement(r, "invited", runID, string(r.Email)+" has access to "+r.Profile)
}
