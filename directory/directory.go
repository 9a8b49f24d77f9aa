// Package directory is what foyer needs from Microsoft Entra, shaped by
// foyer's tasks rather than by Graph's URL tree: find people, invite them,
// resolve, read, add and remove the grants a profile bundles.
//
// The Graph implementation lives in package graph; the conformance suite
// every implementation passes lives in directorytest. This package may be
// imported by anything; it imports only the root package.
package directory

import (
	"context"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
)

// Directory is one Entra tenant as foyer uses it. Implementations are safe
// for concurrent use; they pace themselves against the service's throttling
// and retry what is safe to retry, so a returned error is final for that
// call.
type Directory interface {
	// Domains returns the tenant's verified domains, lowercased.
	Domains(ctx context.Context) ([]string, error)

	// Find looks the addresses up the way Microsoft recommends before an
	// invitation (mail, otherMails, proxyAddresses, userPrincipalName,
	// including the #EXT# form; case-insensitively) and returns the people
	// found, keyed by Address.Key. Absent keys were not found. For many
	// addresses it reads all guests once instead of once per address.
	Find(ctx context.Context, emails []foyer.Address) (map[string]Person, error)

	// Lookup finds one person the way the outcome of an invitation is
	// checked: as Find does, and also by a direct read of the user principal
	// name Entra gives a guest it invites, which sees a guest created moments
	// ago that list queries do not show until it replicates. Call it before
	// every invitation.
	Lookup(ctx context.Context, email foyer.Address) (Person, bool, error)

	// Invite invites a person, or re-invites one who exists. It is never
	// sent twice by one call: if its answer is lost (a 5xx, a dropped
	// connection, a timeout), the person is looked up; found, the call
	// returns them as Existing; not found, it fails with an *Error whose
	// Unknown is true, because the invitation may still show once it
	// replicates. Writes pass the Gate of ctx (see WithGate).
	Invite(ctx context.Context, inv Invitation) (Invited, error)

	// Resolve fills a configured grant's ids from its Ref (a display name, a
	// role name, a SKU part number, or an id) and checks that what it names
	// exists and can be granted. A license without free seats resolves:
	// people who hold it already keep it; FreeSeats says how many are free.
	Resolve(ctx context.Context, g foyer.Grant) (foyer.Grant, error)

	// Holders returns who holds a resolved grant now, as a set of lowercased
	// user object ids (for a mail contact: lowercased addresses), reading the
	// directory once per grant rather than once per person.
	Holders(ctx context.Context, g foyer.Grant) (map[string]bool, error)

	// Grant gives a resolved grant to a person. A grant already held is
	// success. Writes that reference a guest invited moments ago wait for
	// replication, bounded by ctx. Writes pass the Gate of ctx. It returns
	// the service's request ids of the writes it made (for the audit log),
	// also when it fails.
	Grant(ctx context.Context, to Grantee, g foyer.Grant) (requestIDs []string, err error)

	// Revoke takes a resolved grant back. A grant not held is success.
	// Writes pass the Gate of ctx. It returns the request ids of its
	// writes, also when it fails.
	Revoke(ctx context.Context, from Grantee, g foyer.Grant) (requestIDs []string, err error)

	// MailContact finds the Exchange mail contact that holds an address,
	// if one does. An invitation for such an address creates a guest
	// without the address as a proxy address, who cannot redeem by direct
	// link or one-time passcode (entra-docs external-id/troubleshoot.md):
	// look before inviting.
	MailContact(ctx context.Context, email foyer.Address) (Contact, bool, error)

	// Guests reads every guest once into an index of the address forms Find
	// matches, for a caller with more addresses than one Find should be
	// asked about (a plan looked up in many chunks). Like Find's scan, it
	// sees guests only.
	Guests(ctx context.Context) (*GuestIndex, error)

	// Quota reads the tenant's directory object quota: how many objects it
	// holds and may hold.
	Quota(ctx context.Context) (Quota, error)

	// FreeSeats reads how many seats of a resolved license grant are free:
	// seats enabled minus seats assigned (zero or less: none).
	FreeSeats(ctx context.Context, g foyer.Grant) (int, error)

	// Members returns the users who are members of a group, given by its
	// object id, directly or through nested groups, each once, with their
	// mail and user principal name (the other Person fields may be empty):
	// who to tell when a group decides. Groups, devices and service
	// principals among the members are not returned. ErrNotFound if there
	// is no such group.
	Members(ctx context.Context, groupID string) ([]Person, error)

	// GuestActivity reads every guest once with what a sweep decides on:
	// redemption state and its change time, accountEnabled and
	// createdDateTime; and, when since is not zero, the signInActivity of
	// every guest whose latest interactive, non-interactive or successful
	// sign-in is at or after since. Every guest then has SignInSince set;
	// a guest with SignIn nil has not signed in since then (earlier, or
	// never). A caller deciding "no sign-in for N days" at now passes a
	// since no later than now minus N days, so that a guest it does not
	// see sign in is stale by the rule or decided by its creation. With
	// since zero no sign-in data is read. A tenant that cannot report
	// sign-in activity fails a read with since set with an *Error of kind
	// ErrNoPremium (no Entra ID P1) or ErrForbidden (AuditLog.Read.All
	// missing).
	GuestActivity(ctx context.Context, since time.Time) ([]foyer.GuestActivity, error)
}

// Reach returns the address that reaches a person by email: the mail
// attribute, else the user principal name when it is an address; false
// when neither is (a guest's #EXT# name reaches nobody).
func (p Person) Reach() (foyer.Address, bool) {
	for _, s := range []string{p.Mail, p.UserPrincipalName} {
		if s == "" || strings.Contains(strings.ToUpper(s), "#EXT#") {
			continue
		}
		if a, err := foyer.ParseAddress(s); err == nil {
			return a, true
		}
	}
	return "", false
}

// Quota is the tenant's directory object quota. Every directory object
// counts: users (guests too), groups, contacts, applications, service
// principals. Entra allows 50,000 by default and 300,000 once the tenant
// has a verified domain; Microsoft support raises it on request (entra-docs
// includes/entra-service-limits-include.md, "Resources").
type Quota struct {
	Used  int
	Total int // 0: the tenant did not say
}

// Free returns how many more objects fit, and false if the total is not
// known.
func (q Quota) Free() (int, bool) { return q.Total - q.Used, q.Total > 0 }

// Person is a user object as foyer sees it.
type Person struct {
	ID                string
	DisplayName       string
	UserPrincipalName string
	Mail              string
	OtherMails        []string
	ProxyAddresses    []string // as Graph returns them, e.g. "SMTP:a@b.example"
	UserType          string   // Guest or Member
	ExternalUserState string   // PendingAcceptance, Accepted, or "" for people never invited
	// ExternalUserStateChangedAt is when ExternalUserState last changed
	// (externalUserStateChangeDateTime); zero when the tenant gives none.
	ExternalUserStateChangedAt time.Time
	AccountEnabled             bool
	CreatedAt                  time.Time
	UsageLocation              string
}

// Guest reports whether the person is a guest (userType Guest).
func (p Person) Guest() bool { return strings.EqualFold(p.UserType, "Guest") }

// Invitation is what to send to POST /invitations.
type Invitation struct {
	Email       foyer.Address
	DisplayName string
	RedirectURL string
	SendEmail   bool   // Entra sends its own email (sendInvitationMessage)
	Message     string // customizedMessageBody
	Language    string // messageLanguage, e.g. en-US
	CC          string // the one ccRecipient Graph allows
	Sponsors    []string
	Reset       bool   // resetRedemption: invite again a guest who redeemed, keeping the object
	UserID      string // required with Reset
}

// Invited is what an invitation produced.
type Invited struct {
	UserID    string // invitedUser.id: the guest's object id
	RedeemURL string // inviteRedeemUrl
	Status    string // as Graph reports it; do not branch on it
	RequestID string // Graph's request-id, for the audit log
	Existing  bool   // the person already existed: Graph returned the same user
}

// Contact is an Exchange mail contact: a person outside the organisation
// in the address book, without an account.
type Contact struct {
	ID          string // Exchange's GUID
	Name        string // unique in Exchange; Remove-MailContact -Identity takes it
	DisplayName string
	Email       string // its external address
}

// Grantee is the person a grant is given to or taken from.
type Grantee struct {
	UserID      string
	Email       foyer.Address
	DisplayName string
}
