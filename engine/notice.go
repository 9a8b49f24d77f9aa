package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/store"
)

// Notice is a message to people about a request (see notify.Notice).
type Notice = notify.Notice

// Postman delivers notices: notify/email's Postman sends them over SMTP.
type Postman interface {
	Send(ctx context.Context, n Notice) error
}

// A notice is a job, inserted in the transaction that makes the change it
// tells of, so that it is never lost, and it has one recipient, so that a
// failure to reach one person does not send the others the same notice
// again. Its worker sends it once it is committed; a crash between the
// server's answer and the job's completion sends it again, with the same
// id (an email's Message-ID).
//
// The text travels in the job's arguments. A verification notice's text
// holds the request page's link, so the job table holds that link until
// River removes completed jobs (a day by default): the ledger itself keeps
// only the link's hash.

// NoticeArgs is the job that sends one notice.
type NoticeArgs struct {
	ID       string        `json:"id"`
	To       foyer.Address `json:"to"`
	Subject  string        `json:"subject"`
	Text     string        `json:"text"`
	Language string        `json:"language,omitempty"`
}

// Kind names the job in River.
func (NoticeArgs) Kind() string { return "foyer.notice" }

// InsertOpts puts notices on their own queue, tried for about a day.
func (NoticeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueNotice, MaxAttempts: reportAttempts}
}

const (
	queueNotice = "notice"
	queueIntake = "intake"
)

// noticeWorker sends one notice.
type noticeWorker struct {
	river.WorkerDefaults[NoticeArgs]
	e *Engine
}

func (w *noticeWorker) NextRetry(job *river.Job[NoticeArgs]) time.Time {
	return w.e.Clock.Now().Add(reportBackoff(job.Attempt))
}

func (w *noticeWorker) Work(ctx context.Context, job *river.Job[NoticeArgs]) error {
	e, a := w.e, job.Args
	if err := e.lostLease(); err != nil {
		return err
	}
	if e.Postman == nil {
		return river.JobCancel(fmt.Errorf("notice %s: no postman is configured", a.ID))
	}
	ctx, cancel := context.WithTimeout(ctx, e.attemptTimeout())
	defer cancel()
	defer context.AfterFunc(e.workContext(), cancel)()
	err := e.Postman.Send(ctx, Notice{To: []foyer.Address{a.To}, Subject: a.Subject, Text: a.Text, Language: a.Language, ID: a.ID})
	switch code := foyer.ErrorCode(err); {
	case err == nil:
		e.Log.Info("notice sent", "notice", a.ID, "to_domain", a.To.Domain())
		return nil
	case code == foyer.EINVALID || code == foyer.ECONFLICT:
		// The message is wrong or the server refused it for good: sending
		// it again cannot help.
		e.Log.Error("notice refused; it will not be sent", "notice", a.ID, "to_domain", a.To.Domain(), "err", e.safeMessage(err))
		return river.JobCancel(err)
	default:
		e.Log.Warn("notice not sent; it will be tried again", "notice", a.ID, "attempt", job.Attempt, "err", e.safeMessage(err))
		return err
	}
}

// notify inserts, in tx, one notice job per recipient of n. Without a
// postman nothing is sent (and nothing is owed).
func (e *Engine) notify(ctx context.Context, tx store.Tx, n Notice) error {
	if e.Postman == nil || len(n.To) == 0 {
		return nil
	}
	q, err := e.currentQueue()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, to := range n.To {
		if seen[to.Key()] {
			continue
		}
		seen[to.Key()] = true
		id := n.ID
		if len(n.To) > 1 {
			h := sha256.Sum256([]byte(to.Key()))
			id += "." + hex.EncodeToString(h[:4])
		}
		args := NoticeArgs{ID: id, To: to, Subject: n.Subject, Text: n.Text, Language: n.Language}
		if _, _, err := q.InsertTx(ctx, tx, args, nil); err != nil {
			return fmt.Errorf("enqueue notice %s: %w", n.ID, err)
		}
	}
	return nil
}

// noticeID names a notice about a request: what it tells and a detail
// that tells apart two notices of the same kind (a stage, a link).
func noticeID(requestID, kind, detail string) string {
	id := "foyer." + requestID + "." + kind
	if detail != "" {
		id += "." + detail
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return -1
	}, id)
}

// french reports whether a requester's language is French: the texts
// below exist in English and French.
func french(lang string) bool {
	l := strings.ToLower(lang)
	return l == "fr" || strings.HasPrefix(l, "fr-")
}

func langOf(lang string) string {
	if french(lang) {
		return "fr"
	}
	return "en"
}

// verifyNotice is the link that proves a requester's address.
func (e *Engine) verifyNotice(r *foyer.Request, token string, proved bool) Notice {
	link := e.link("/r/" + token)
	fr := french(r.Details.Language)
	n := Notice{To: []foyer.Address{r.Email}, Language: langOf(r.Details.Language), ID: noticeID(r.ID, "link", tokenHash(token)[:12])}
	ttl := e.linkTTL().Round(time.Minute)
	switch {
	case proved && fr:
		n.Subject = "Votre demande d'accès à " + r.Profile
		n.Text = "Bonjour,\n\nVoici le lien qui montre où en est votre demande d'accès à " + r.Profile + " :\n\n" + link + "\n"
	case proved:
		n.Subject = "Your request for access to " + r.Profile
		n.Text = "Hello,\n\nThis link shows where your request for access to " + r.Profile + " stands:\n\n" + link + "\n"
	case fr:
		n.Subject = "Confirmez votre adresse pour demander l'accès à " + r.Profile
		n.Text = "Bonjour,\n\nQuelqu'un a demandé l'accès à " + r.Profile + " pour cette adresse. Pour confirmer la demande, ouvrez ce lien dans les " +
			minutes(ttl) + " minutes :\n\n" + link + "\n\nLe même lien montre ensuite où en est la demande. " +
			"Si vous n'avez rien demandé, ignorez ce message.\n"
	default:
		n.Subject = "Confirm your address to ask for access to " + r.Profile
		n.Text = "Hello,\n\nSomeone asked for access to " + r.Profile + " for this address. To confirm the request, open this link within " +
			minutes(ttl) + " minutes:\n\n" + link + "\n\nThe same link then shows where the request stands. " +
			"If you did not ask, ignore this message.\n"
	}
	return n
}

func minutes(d time.Duration) string { return fmt.Sprint(int(d / time.Minute)) }

// decisionNotice tells the requester that the request was approved or
// rejected, and why it was rejected.
func decisionNotice(r *foyer.Request, approved bool, reason string) Notice {
	fr := french(r.Details.Language)
	n := Notice{To: []foyer.Address{r.Email}, Language: langOf(r.Details.Language)}
	switch {
	case approved && fr:
		n.ID = noticeID(r.ID, "approved", "")
		n.Subject = "Votre demande d'accès à " + r.Profile + " est approuvée"
		n.Text = "Bonjour,\n\nVotre demande d'accès à " + r.Profile + " est approuvée. Vous recevrez bientôt une invitation.\n"
	case approved:
		n.ID = noticeID(r.ID, "approved", "")
		n.Subject = "Your request for access to " + r.Profile + " was approved"
		n.Text = "Hello,\n\nYour request for access to " + r.Profile + " was approved. You will receive an invitation shortly.\n"
	case fr:
		n.ID = noticeID(r.ID, "rejected", "")
		n.Subject = "Votre demande d'accès à " + r.Profile + " n'est pas approuvée"
		n.Text = "Bonjour,\n\nVotre demande d'accès à " + r.Profile + " n'est pas approuvée.\n\nMotif : " + reason + "\n"
	default:
		n.ID = noticeID(r.ID, "rejected", "")
		n.Subject = "Your request for access to " + r.Profile + " was not approved"
		n.Text = "Hello,\n\nYour request for access to " + r.Profile + " was not approved.\n\nReason: " + reason + "\n"
	}
	return n
}

// invitedNotice tells the requester that their access is ready.
func invitedNotice(r *foyer.Request, runID string) Notice {
	n := Notice{To: []foyer.Address{r.Email}, Language: langOf(r.Details.Language), ID: noticeID(r.ID, "invited", runID)}
	if french(r.Details.Language) {
		n.Subject = "Votre accès à " + r.Profile + " est prêt"
		n.Text = "Bonjour,\n\nVotre accès à " + r.Profile + " est prêt. Si vous n'êtes pas encore invité, " +
			"vous recevrez l'invitation de Microsoft ou de notre organisation : suivez-la pour vous connecter.\n"
		return n
	}
	n.Subject = "Your access to " + r.Profile + " is ready"
	n.Text = "Hello,\n\nYour access to " + r.Profile + " is ready. If you were not a guest already, " +
		"follow the invitation from Microsoft or from our organisation to sign in.\n"
	return n
}

// awaitNotice tells a stage's approvers (its alternates once escalated)
// that a request awaits them, with the link that opens it.
func (e *Engine) awaitNotice(r *foyer.Request, to []foyer.Address) Notice {
	kind := "await"
	if r.Escalated {
		kind = "escalated"
	}
	n := Notice{To: to, Language: "en", ID: noticeID(r.ID, kind, fmt.Sprint(r.Stage))}
	n.Subject = "A request for access to " + r.Profile + " awaits your decision"
	who := string(r.Email)
	if r.DisplayName != "" {
		who = r.DisplayName + " <" + string(r.Email) + ">"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Hello,\n\n%s asks for access to %s.\n", who, r.Profile)
	if r.Details.Company != "" {
		fmt.Fprintf(&b, "Company: %s\n", r.Details.Company)
	}
	if r.Details.Justification != "" {
		fmt.Fprintf(&b, "Justification: %s\n", r.Details.Justification)
	}
	fmt.Fprintf(&b, "\nApproval stage %d", r.Stage)
	if r.Escalated {
		b.WriteString(" (escalated: nobody decided in time)")
	}
	fmt.Fprintf(&b, "; it times out on %s.\n\nDecide here (you will be asked to sign in):\n\n%s\n",
		r.StageDue.UTC().Format("2 January 2006 15:04 MST"), e.link("/admin/requests/"+r.ID))
	n.Text = b.String()
	return n
}

// link is an absolute link on the server's public URL.
func (e *Engine) link(path string) string {
	return strings.TrimRight(e.PublicURL, "/") + path
}

// mailable returns the addresses, among approvers named by UPN (and the
// request's sponsor when the approvers include the sponsor), that mail can
// reach without asking the directory. Groups' members are added by the
// approvers' notice job (notice_approvers.go); approvers named by object
// id or by app role are not reached by email (reach them through Slack or
// Teams).
func mailable(a foyer.Approvers, sponsor string) []foyer.Address {
	var out []foyer.Address
	add := func(ref string) {
		if !strings.Contains(ref, "@") {
			return
		}
		if addr, err := foyer.ParseAddress(ref); err == nil {
			out = append(out, addr)
		}
	}
	for _, u := range a.Users {
		add(u)
	}
	if a.Sponsor {
		add(sponsor)
	}
	return out
}
