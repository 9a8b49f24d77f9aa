package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// Intake: requests from the request page and the API. A submission
// becomes a request (received); an anonymous requester proves the
// address with the link sent by email (verified); the profile's policy
// then approves it at once, sends it to its approval stages, or rejects it
// (approval.go). An approved request is provisioned as a run of one row.

const (
	defaultLinkTTL   = 30 * time.Minute
	defaultStatusTTL = 90 * 24 * time.Hour
	domainsTTL       = 5 * time.Minute
	maxJustification = 2000
	maxCompany       = 256
	defaultAnswerLen = 500
)

// now is the engine's time as the ledger stores times (UTC, to the
// microsecond), so that what a caller is answered equals what it reads back.
func (e *Engine) now() time.Time {
	if e.Clock == nil {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return e.Clock.Now().UTC().Truncate(time.Microsecond)
}

func (e *Engine) linkTTL() time.Duration {
	if e.LinkTTL <= 0 {
		return defaultLinkTTL
	}
	return e.LinkTTL
}

func (e *Engine) statusTTL() time.Duration {
	if e.StatusTTL <= 0 {
		return defaultStatusTTL
	}
	return e.StatusTTL
}

func (e *Engine) newToken() string {
	if e.NewToken != nil {
		return e.NewToken()
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is what the ledger keeps of a link: the hex SHA-256 of it.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Submit takes a request for a profile for a person: from the request page
// (By nil: the person must prove the address, with the link in the
// receipt's Token sent to it by email), from a signed-in employee (who
// becomes the sponsor) or from an application (the API). Errors are
// *foyer.Error whose messages are meant for the person who asked: EINVALID
// for a bad address or field, EFORBIDDEN for an internal address, a denied
// domain or a profile closed to the public, ECONFLICT for a person who
// already holds the profile, whose earlier request was refused, or an
// idempotency key used with another body. An open request for the same
// person and profile is answered with Again (and, for the request page, a
// fresh link sent again).
//
// The receipt's Token is the link's secret: the web must not show it to an
// anonymous submitter (who proves the address by receiving it).
func (e *Engine) Submit(ctx context.Context, s foyer.Submission) (foyer.Receipt, error) {
	p, ok := e.Profiles[s.Profile]
	if !ok {
		return foyer.Receipt{}, foyer.Errorf(foyer.ENOTFOUND, "there is no profile %q", s.Profile)
	}
	if s.By == nil && !p.Public {
		return foyer.Receipt{}, foyer.Errorf(foyer.EFORBIDDEN, "access to %s is given only on an employee's request", p.Name)
	}
	if s.By == nil && e.Postman == nil {
		return foyer.Receipt{}, foyer.Errorf(foyer.EUNAVAILABLE, "the request page cannot send email now; try again later")
	}
	addr, err := foyer.ParseAddress(s.Email)
	if err != nil {
		return foyer.Receipt{}, err
	}
	d, err := checkDetails(p, s)
	if err != nil {
		return foyer.Receipt{}, err
	}
	t, err := e.TenantOf(p.Name)
	if err != nil {
		e.Log.Error("a request names a profile whose tenant is not served", "profile", p.Name, "err", err)
		return foyer.Receipt{}, foyer.Errorf(foyer.EUNAVAILABLE, "requests for %s cannot be taken now; try again later", p.Name)
	}
	internal, err := e.internal(ctx, t, addr)
	if err != nil {
		return foyer.Receipt{}, err
	}
	if internal {
		return foyer.Receipt{}, foyer.Errorf(foyer.EFORBIDDEN, "%s is an address of the organisation itself: employees do not need guest access", addr)
	}
	if ok, reason := p.DomainVerdict(addr); !ok {
		return foyer.Receipt{}, foyer.Errorf(foyer.EFORBIDDEN, "requests from %s are not accepted (%s)", addr.Domain(), reason)
	}
	sub := submission{e: e, p: p, s: s, addr: addr, details: d}
	for try := 0; ; try++ {
		rc, err := sub.commit(ctx)
		// Two submissions for the same person at once: the second one's
		// request or key collides with the first one's; read it again.
		if foyer.ErrorCode(err) == foyer.ECONFLICT && errors.Is(err, errRace) && try < 2 {
			continue
		}
		return rc, err
	}
}

// errRace marks a conflict with a concurrent submission.
var errRace = errors.New("a concurrent submission")

// submission is one Submit's work.
type submission struct {
	e       *Engine
	p       *foyer.Profile
	s       foyer.Submission
	addr    foyer.Address
	details foyer.Details
}

func (sub *submission) origin() foyer.Origin {
	switch {
	case sub.s.Origin != "":
		return sub.s.Origin
	case sub.s.By != nil && isApp(*sub.s.By):
		return foyer.OriginAPI
	default:
		return foyer.OriginPortal
	}
}

// isApp reports whether a principal is an application (a token or an API
// key) rather than a person.
func isApp(p foyer.Principal) bool { return p.App || strings.HasPrefix(p.ID, "apikey:") }

// commit records the submission in one transaction: the request (or the
// open one found), the idempotency key, the link and its notice, and the
// routing of a request that needs no proof.
func (sub *submission) commit(ctx context.Context) (foyer.Receipt, error) {
	e, s := sub.e, sub.s
	q, err := e.currentQueue()
	if err != nil {
		return foyer.Receipt{}, foyer.Errorf(foyer.EUNAVAILABLE, "requests cannot be taken now; try again later")
	}
	var rc foyer.Receipt
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		rc = foyer.Receipt{}
		keyed := s.By != nil && s.IdempotencyKey != ""
		if keyed {
			k, err := tx.IdempotencyKeyOf(ctx, s.By.ID, s.IdempotencyKey)
			switch foyer.ErrorCode(err) {
			case "":
				if k.BodyHash != s.BodyHash {
					return foyer.Errorf(foyer.ECONFLICT, "the idempotency key %q was used with another request body", s.IdempotencyKey)
				}
				req, err := tx.Request(ctx, k.RequestID)
				if err != nil {
					return err
				}
				rc.Request, rc.Again = req, true
				return nil
			case foyer.ENOTFOUND:
			default:
				return err
			}
		}
		req, err := tx.FindRequest(ctx, sub.p.Name, sub.addr)
		switch foyer.ErrorCode(err) {
		case "":
			if err := sub.again(ctx, tx, req); err != nil {
				return err
			}
			rc.Request, rc.Again = req, true
			if s.By == nil {
				if rc.Token, err = sub.link(ctx, tx, req); err != nil {
					return err
				}
			}
		case foyer.ENOTFOUND:
			if err := sub.held(ctx, tx); err != nil {
				return err
			}
			if rc.Request, rc.Token, err = sub.create(ctx, tx, q); err != nil {
				return err
			}
		default:
			return err
		}
		if keyed {
			err := tx.PutIdempotencyKey(ctx, store.IdempotencyKey{Client: s.By.ID, Key: s.IdempotencyKey, BodyHash: s.BodyHash,
				RequestID: rc.Request.ID, CreatedAt: tx.Now()})
			if foyer.ErrorCode(err) == foyer.ECONFLICT {
				return fmt.Errorf("record the idempotency key: %w: %w", errRace, err)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return foyer.Receipt{}, fmt.Errorf("submit a request for %s: %w", sub.addr, err)
	}
	return rc, nil
}

// again decides what an existing request for the same person and profile
// means: an open one is answered again; one that was refused, or a person
// who holds the profile, is a conflict.
func (sub *submission) again(ctx context.Context, tx store.Tx, req *foyer.Request) error {
	switch req.State {
	case foyer.StateReceived, foyer.StateVerified, foyer.StatePendingApproval, foyer.StateApproved, foyer.StateProvisioning:
		return nil
	case foyer.StateInvited, foyer.StateActive:
		return foyer.Errorf(foyer.ECONFLICT, "%s already has access to %s", sub.addr, sub.p.Name)
	case foyer.StateRejected:
		return foyer.Errorf(foyer.ECONFLICT, "an earlier request for %s to %s was refused; ask your contact in the organisation", sub.addr, sub.p.Name)
	default:
		return foyer.Errorf(foyer.ECONFLICT, "the access of %s to %s is %s; ask an administrator to restore it", sub.addr, sub.p.Name, req.State)
	}
}

// held refuses a person who holds every grant of the profile through foyer
// already (a guest invited another way, without a request of this
// profile).
func (sub *submission) held(ctx context.Context, tx store.Tx) error {
	if len(sub.p.Grants) == 0 {
		return nil
	}
	g, err := tx.GuestByEmail(ctx, sub.addr)
	if foyer.ErrorCode(err) == foyer.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	hs, err := tx.HeldGrants(ctx, g.UserID)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, h := range hs {
		have[h.Key] = true
	}
	for _, gr := range sub.p.Grants {
		if !have[gr.Key()] {
			return nil
		}
	}
	return foyer.Errorf(foyer.ECONFLICT, "%s already has access to %s", sub.addr, sub.p.Name)
}

// create records a new request. An anonymous one waits for the proof of
// its address (a link is made and sent); one made by a signed-in person or
// an application is routed at once.
func (sub *submission) create(ctx context.Context, tx store.Tx, q store.Queue) (*foyer.Request, string, error) {
	e, s := sub.e, sub.s
	req := &foyer.Request{ID: e.NewID(), Origin: sub.origin(), Email: sub.addr, DisplayName: strings.TrimSpace(s.DisplayName),
		Profile: sub.p.Name, State: foyer.StateReceived, Details: sub.details, CreatedAt: tx.Now()}
	if s.By != nil {
		req.Details.RequestedBy = s.By.ID
		if !isApp(*s.By) {
			sponsor := s.By.UPN
			if sponsor == "" {
				sponsor = s.By.ID
			}
			req.Details.Sponsor = sponsor
		}
	}
	err := tx.CreateRequest(ctx, req)
	if foyer.ErrorCode(err) == foyer.ECONFLICT {
		return nil, "", fmt.Errorf("create the request: %w: %w", errRace, err)
	}
	if err != nil {
		return nil, "", err
	}
	by := "the request page"
	if s.By != nil {
		by = s.By.String()
	}
	if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: by, RequestID: req.ID, Op: "submit request",
		Target: string(req.Email), Detail: fmt.Sprintf("profile %s from %s", req.Profile, req.Origin)}); err != nil {
		return nil, "", err
	}
	if s.By == nil {
		token, err := sub.link(ctx, tx, req)
		return req, token, err
	}
	return req, "", e.route(ctx, tx, q, req, by)
}

// link makes a new link for the requester and sends it: to prove the
// address while the request waits for it, else to show where it stands.
func (sub *submission) link(ctx context.Context, tx store.Tx, req *foyer.Request) (string, error) {
	e := sub.e
	token := e.newToken()
	now := e.now()
	t := store.Token{Hash: tokenHash(token), RequestID: req.ID, CreatedAt: now, VerifyBy: now.Add(e.linkTTL()),
		ExpiresAt: now.Add(e.statusTTL())}
	proved := req.State != foyer.StateReceived
	if proved {
		t.VerifiedAt = now
	}
	if err := tx.PutToken(ctx, t); err != nil {
		return "", fmt.Errorf("record the link: %w", err)
	}
	if !proved && req.Details.Language == "" && sub.details.Language != "" {
		req.Details.Language = sub.details.Language
	}
	// The request's time says when its latest link was sent (View uses it
	// to tell a link that expired).
	if err := tx.UpdateRequest(ctx, req); err != nil {
		return "", err
	}
	return token, e.notify(ctx, tx, e.verifyNotice(req, token, proved))
}

// internal reports whether an address is the organisation's own: in one
// of the verified domains of the profile's tenant or its configured
// internal ones, as the plan of a CSV decides.
func (e *Engine) internal(ctx context.Context, t *Tenant, a foyer.Address) (bool, error) {
	if a.InDomains(t.InternalDomains) {
		return true, nil
	}
	e.mu.Lock()
	v, ok := e.verified[t.Name]
	e.mu.Unlock()
	if !ok || e.now().Sub(v.at) > domainsTTL || e.now().Before(v.at) {
		ds, err := t.Dir.Domains(ctx)
		if err != nil {
			e.Log.Error("read the tenant's verified domains", "tenant", t.Name, "err", err)
			return false, foyer.Errorf(foyer.EUNAVAILABLE, "requests cannot be checked now; try again later")
		}
		v = verifiedDomains{domains: ds, at: e.now()}
		e.mu.Lock()
		if e.verified == nil {
			e.verified = map[string]verifiedDomains{}
		}
		e.verified[t.Name] = v
		e.mu.Unlock()
	}
	return a.InDomains(v.domains), nil
}

// checkDetails checks what the person wrote: lengths, the profile's own
// questions (known, required, among the choices) and the language. It
// returns the details as stored.
func checkDetails(p *foyer.Profile, s foyer.Submission) (foyer.Details, error) {
	d := s.Details
	d.Company, d.Justification, d.Sponsor = strings.TrimSpace(d.Company), strings.TrimSpace(d.Justification), strings.TrimSpace(d.Sponsor)
	d.RequestedBy = "" // set from the principal, never from the form
	var problems []string
	if n := utf8.RuneCountInString(strings.TrimSpace(s.DisplayName)); n > 256 {
		problems = append(problems, fmt.Sprintf("the name has %d characters, over 256", n))
	}
	if n := utf8.RuneCountInString(d.Company); n > maxCompany {
		problems = append(problems, fmt.Sprintf("the company has %d characters, over %d", n, maxCompany))
	}
	if n := utf8.RuneCountInString(d.Justification); n > maxJustification {
		problems = append(problems, fmt.Sprintf("the justification has %d characters, over %d", n, maxJustification))
	}
	if d.Sponsor != "" && (len(d.Sponsor) > 256 || strings.ContainsAny(d.Sponsor, " \t\r\n<>\"")) {
		problems = append(problems, "the sponsor is not a user principal name or an object id")
	}
	answers := map[string]string{}
	for _, q := range p.Questions {
		v := strings.TrimSpace(d.Answers[q.ID])
		max := q.MaxLen
		if max <= 0 {
			max = defaultAnswerLen
		}
		switch {
		case v == "" && q.Required:
			problems = append(problems, fmt.Sprintf("%q needs an answer", q.Label))
		case v == "":
		case len(q.Choices) > 0 && !slices.Contains(q.Choices, v):
			problems = append(problems, fmt.Sprintf("%q: choose one of the answers offered", q.Label))
		case utf8.RuneCountInString(v) > max:
			problems = append(problems, fmt.Sprintf("%q: the answer is longer than %d characters", q.Label, max))
		default:
			answers[q.ID] = v
		}
	}
	for id := range d.Answers {
		if !slices.ContainsFunc(p.Questions, func(q foyer.Question) bool { return q.ID == id }) {
			problems = append(problems, fmt.Sprintf("profile %s asks no question %q", p.Name, id))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return d, foyer.Errorf(foyer.EINVALID, "%s", strings.Join(problems, "; "))
	}
	d.Answers = nil
	if len(answers) > 0 {
		d.Answers = answers
	}
	d.Language = strings.TrimSpace(d.Language)
	if !languageTag(d.Language) {
		d.Language = ""
	}
	return d, nil
}

// languageTag accepts the shape of a short BCP 47 tag (fr, en-GB).
func languageTag(s string) bool {
	if s == "" || len(s) > 35 {
		return false
	}
	for i, part := range strings.Split(s, "-") {
		if part == "" || len(part) > 8 || (i == 0 && len(part) < 2) {
			return false
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// Confirm proves a requester's address with the link's token, once: the
// request goes from received to verified and on to its approval (or is
// approved or rejected at once). Opening the link again changes nothing.
// ENOTFOUND for a token nobody was sent; EINVALID, saying the link
// expired, when it was opened too late.
func (e *Engine) Confirm(ctx context.Context, token string) (foyer.RequestView, error) {
	hash := tokenHash(token)
	q, err := e.currentQueue()
	if err != nil {
		return foyer.RequestView{}, foyer.Errorf(foyer.EUNAVAILABLE, "requests cannot be confirmed now; try again later")
	}
	now := e.now()
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		t, err := tx.Token(ctx, hash)
		if err != nil {
			return err
		}
		if !t.VerifiedAt.IsZero() {
			return nil
		}
		if now.After(t.VerifyBy) {
			return errLinkExpired
		}
		if _, err := tx.MarkTokenVerified(ctx, hash); err != nil {
			return err
		}
		req, err := tx.Request(ctx, t.RequestID)
		if err != nil {
			return err
		}
		if req.State != foyer.StateReceived {
			return nil // proved through another link already
		}
		if err := tx.MoveRequest(ctx, req, foyer.StateVerified, "address proved"); err != nil {
			return err
		}
		return e.route(ctx, tx, q, req, string(req.Email))
	})
	switch {
	case foyer.ErrorCode(err) == foyer.ENOTFOUND:
		return foyer.RequestView{}, foyer.Errorf(foyer.ENOTFOUND, "this link is not known: copy it whole from the email")
	case err != nil:
		return foyer.RequestView{}, fmt.Errorf("confirm a request: %w", err)
	}
	return e.Status(ctx, token)
}

var errLinkExpired = foyer.Errorf(foyer.EINVALID, "this link expired: ask again on the request page, and open the new link within its time")

// Status shows where a request stands, by its link's token, changing
// nothing. ENOTFOUND for a token nobody was sent; EINVALID once the link's
// time to show the request is over.
func (e *Engine) Status(ctx context.Context, token string) (foyer.RequestView, error) {
	var t store.Token
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		t, err = tx.Token(ctx, tokenHash(token))
		return err
	})
	switch {
	case foyer.ErrorCode(err) == foyer.ENOTFOUND:
		return foyer.RequestView{}, foyer.Errorf(foyer.ENOTFOUND, "this link is not known: copy it whole from the email")
	case err != nil:
		return foyer.RequestView{}, fmt.Errorf("read a request's link: %w", err)
	case e.now().After(t.ExpiresAt):
		return foyer.RequestView{}, foyer.Errorf(foyer.EINVALID, "this link is too old to show the request")
	}
	v, err := e.View(ctx, t.RequestID)
	if err != nil {
		return v, err
	}
	v.Expired = t.VerifiedAt.IsZero() && e.now().After(t.VerifyBy) && v.Request.State == foyer.StateReceived
	v.Verified = v.Verified || !t.VerifiedAt.IsZero()
	return v, nil
}

// View shows a request by id, with its history and its decisions.
// ENOTFOUND if there is none.
func (e *Engine) View(ctx context.Context, requestID string) (foyer.RequestView, error) {
	var v foyer.RequestView
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		req, err := tx.Request(ctx, requestID)
		if err != nil {
			return err
		}
		v = foyer.RequestView{Request: req}
		if v.History, err = tx.History(ctx, requestID); err != nil {
			return err
		}
		if v.Decisions, err = tx.Decisions(ctx, requestID); err != nil {
			return err
		}
		return e.extensionView(ctx, tx, &v)
	})
	if err != nil {
		return v, fmt.Errorf("read request %s: %w", requestID, err)
	}
	r := v.Request
	v.Verified = r.Origin != foyer.OriginPortal || r.Details.RequestedBy != "" || r.State != foyer.StateReceived
	// The request's time is when its latest link was sent.
	v.Expired = !v.Verified && e.now().After(r.UpdatedAt.Add(e.linkTTL()))
	return v, nil
}
