package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/notify/email"
)

// smtpMailer sends foyer's own invitation emails through the configured
// SMTP server, with each profile's templates.
type smtpMailer struct {
	sender    *email.Sender
	templates *email.Templates
	profile   *config.Profile
}

var _ engine.Mailer = (*smtpMailer)(nil)

// newMailer builds the mailer for a profile whose sender is foyer, and
// checks that the SMTP server answers and accepts the credentials, so that
// a wrong server is reported before anything is written.
func newMailer(ctx context.Context, c *config.Config, profile string, env *Env, log *slog.Logger) (*smtpMailer, error) {
	s := c.SMTP
	if s == nil {
		return nil, fmt.Errorf("profile %s sends its own invitation emails, but the configuration has no smtp section", profile)
	}
	sender, err := smtpSender(ctx, c, env, log)
	if err != nil {
		return nil, err
	}
	p := c.Profiles[profile]
	t := email.DefaultTemplates()
	if p.Email != nil && p.Email.TemplateDir != "" {
		if t, err = email.LoadTemplates(os.DirFS(c.Path(p.Email.TemplateDir))); err != nil {
			return nil, fmt.Errorf("profile %s: email templates in %s: %w", profile, c.Path(p.Email.TemplateDir), err)
		}
	}
	return &smtpMailer{sender: sender, templates: t, profile: p}, nil
}

// standInRedeemURL stands for the redeem URL when Check runs before the
// invitation: an https URL on the host Graph's redeem URLs use.
const standInRedeemURL = "https://login.microsoftonline.com/redeem?rd=https%3a%2f%2finvitations.microsoft.com&ticket=check"

// message renders im with the profile's templates.
func (m *smtpMailer) message(im engine.InvitationMail) (email.Message, error) {
	inv := email.Invitation{To: im.To, ToName: im.ToName, InviterMessage: im.Message, RedeemURL: im.RedeemURL, Language: im.Language}
	if im.CC != "" {
		inv.Cc = []foyer.Address{foyer.Address(im.CC)}
	}
	if e := m.profile.Email; e != nil {
		inv.AppName, inv.Organization = e.AppName, e.Organization
	}
	msg, err := m.templates.Render(inv)
	if err != nil {
		return email.Message{}, err
	}
	msg.ID = im.ID
	return msg, nil
}

// invalid turns an error of building im's email into the EINVALID
// *foyer.Error the engine fails the row with.
func invalid(im engine.InvitationMail, err error) error {
	return foyer.Errorf(foyer.EINVALID, "the invitation email to %s cannot be built: %v", im.To, err)
}

// Check renders and builds im's email in memory, as SendInvitation would;
// see engine.Mailer.
func (m *smtpMailer) Check(im engine.InvitationMail) error {
	if im.RedeemURL == "" {
		im.RedeemURL = standInRedeemURL
	}
	msg, err := m.message(im)
	if err == nil {
		_, err = m.sender.Build(msg)
	}
	if err != nil {
		return invalid(im, err)
	}
	return nil
}

func (m *smtpMailer) SendInvitation(ctx context.Context, im engine.InvitationMail) (string, error) {
	msg, err := m.message(im)
	if err != nil {
		// Templates that fail on this row, or a value no header can
		// carry: the same email fails again, so the row fails now.
		return "", invalid(im, err)
	}
	id, err := m.sender.Send(ctx, msg)
	var ee *email.Error
	if errors.As(err, &ee) && !ee.Temporary {
		// A 5xx refusal, a message the server will never take, or
		// credentials it no longer accepts: the same email fails again,
		// so the row fails now instead of after every retry. (4xx replies
		// and network failures are Temporary and retried.)
		return "", foyer.Errorf(foyer.EINVALID, "%v", err)
	}
	return id, err
}

// smtpSender builds the sender of the smtp: section and checks that the
// server answers and takes the credentials, so that a wrong server is
// reported before anything is written.
func smtpSender(ctx context.Context, c *config.Config, env *Env, log *slog.Logger) (*email.Sender, error) {
	s := c.SMTP
	password, err := secretValue(c, env, "smtp password", s.PasswordEnv, s.PasswordFile)
	if err != nil {
		return nil, err
	}
	sender, err := email.New(email.Options{Host: s.Host, Port: s.Port, From: foyer.Address(s.From), Username: s.Username,
		Password: password, TLS: s.TLS, CAFile: c.Path(s.CAFile), Clock: env.Clock, Log: log.With("component", "smtp")})
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	if err := sender.Check(ctx); err != nil {
		return nil, fmt.Errorf("smtp server %s:%d: %w", s.Host, s.Port, err)
	}
	return sender, nil
}
