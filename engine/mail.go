package engine

import (
	"context"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// Mailer sends the invitation emails foyer sends itself, for profiles whose
// sender is foyer: Entra drops the inviter's words when an application
// invites, so those profiles invite without Entra's email and send their
// own, with the redeem URL.
type Mailer interface {
	// Check builds the email SendInvitation would send for m, with the
	// profile's templates, and checks every header (addresses, the
	// recipient's name, subject, Message-ID, language), without any I/O
	// and without sending. It is meant to run before the invitation, so
	// that a row whose email can never be built fails before anyone is
	// invited. m.RedeemURL may be empty (Graph gives the redeem URL only
	// in its answer to the invitation): a stand-in https URL is used; when
	// it is set, it is checked too. It returns nil or a *foyer.Error with
	// code EINVALID saying what is wrong. When Check passes, SendInvitation
	// of the same m with Graph's https redeem URL does not fail for the
	// message itself; the server may still refuse it.
	Check(m InvitationMail) error
	// SendInvitation sends one invitation email and returns its Message-ID.
	// An error that sending the same email again cannot fix (the server
	// refused it) is a *foyer.Error, so the row fails at once; any other
	// error is retried with the row.
	SendInvitation(ctx context.Context, m InvitationMail) (messageID string, err error)
}

// InvitationMail is one invitation email to send.
type InvitationMail struct {
	// ID is the same for every attempt of the same email (request and run),
	// so that an email sent again after a crash keeps its Message-ID.
	ID        string
	Profile   string
	To        foyer.Address
	ToName    string
	RedeemURL string
	Message   string
	Language  string
	CC        string
}

func stepMail(runID string) string { return "mail @" + runID }

// mailOwed says whether steps show an invitation email that foyer tried to
// send and never did.
func mailOwed(steps []store.Step) bool {
	tried := false
	for _, s := range steps {
		if !strings.HasPrefix(s.Name, stepMail("")) {
			continue
		}
		if s.State == store.StepDone {
			return false
		}
		tried = true
	}
	return tried
}

// mail sends foyer's invitation email for an invitation this run made,
// unless the profile's sender is not foyer or the row said not to send.
// The step is recorded before and after: an email whose outcome was lost
// is sent again with the same Message-ID.
//
// A guest this run did not invite is sent the email only when it is owed:
// foyer invited the guest in an earlier run, that run's email never went
// out (the SMTP server refused it, say), no later one did, and the guest has
// not redeemed. Without it the guest has no way in, and applying the same
// file again after fixing the mail server must not leave them waiting.
func (p *provisioning) mail(ctx context.Context) error {
	if p.profile.Sender != foyer.SenderFoyer || sendEmailOff(p.args.SendEmail) {
		return nil
	}
	steps, err := p.steps(ctx)
	if err != nil {
		return err
	}
	if !p.invited && (p.args.Accepted || !mailOwed(steps)) {
		return nil
	}
	if p.e.Mailer == nil {
		return foyer.Errorf(foyer.EINVALID, "profile %s sends its own invitation emails, but no SMTP server is configured", p.profile.Name)
	}
	name := stepMail(p.args.RunID)
	for _, s := range steps {
		if s.Name == name && s.State == store.StepDone {
			return nil
		}
	}
	p.mailed = !p.invited
	if _, err := p.startStep(ctx, name, "send the invitation email"); err != nil {
		return err
	}
	m := p.invitationMail()
	id, err := p.e.Mailer.SendInvitation(ctx, m)
	if err != nil {
		return p.failStep(ctx, name, "send the invitation email", err)
	}
	return p.e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.FinishStep(ctx, store.Step{RequestID: p.req.ID, Name: name, State: store.StepDone, Result: id}); err != nil {
			return err
		}
		// The email is out: the ledger need not keep its redeem URL, which
		// would let whoever reads the ledger redeem the invitation.
		p.req.RedeemURL = ""
		if err := tx.UpdateRequest(ctx, p.req); err != nil {
			return err
		}
		return p.audit(ctx, tx, store.AuditOutcome, "send the invitation email", p.req.Email.String(), "", "", "Message-ID "+id)
	})
}

// mailOwedFor says whether foyer sends this request's invitation email
// itself, so that the invitation's redeem URL must be kept until it is
// sent.
func (p *provisioning) mailOwedFor() bool {
	return p.profile.Sender == foyer.SenderFoyer && !sendEmailOff(p.args.SendEmail)
}

// checkMail makes sure, before anyone is invited, that foyer can send the
// invitation email it owes for this row: a profile that sends its own
// needs a mail server, and an email that cannot be built fails the row
// before the invitation rather than after it.
func (p *provisioning) checkMail() error {
	if !p.mailOwedFor() {
		return nil
	}
	if p.e.Mailer == nil {
		return foyer.Errorf(foyer.EINVALID, "profile %s sends its own invitation emails, but no SMTP server is configured", p.profile.Name)
	}
	m := p.invitationMail()
	// The redeem URL comes with the invitation; until then the message is
	// built with a stand-in.
	m.RedeemURL = p.req.RedeemURL
	return p.e.Mailer.Check(m)
}

func (p *provisioning) invitationMail() InvitationMail {
	inv := p.invitation()
	redeem := p.req.RedeemURL
	if redeem == "" {
		// The invitation's answer was lost and the guest found by a lookup:
		// Graph gives the redeem URL only in the answer. The guest can redeem
		// just in time from a tenant-specific link such as the profile's.
		redeem = inv.RedirectURL
	}
	id := strings.NewReplacer("-", "", "_", "").Replace("foyer." + p.args.RunID + "." + p.req.ID)
	return InvitationMail{ID: id, Profile: p.profile.Name, To: p.req.Email, ToName: p.req.DisplayName,
		RedeemURL: redeem, Message: inv.Message, Language: inv.Language, CC: inv.CC}
}

func sendEmailOff(s string) bool {
	switch strings.ToLower(s) {
	case "false", "no", "0":
		return true
	}
	return false
}
