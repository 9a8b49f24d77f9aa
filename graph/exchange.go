package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// Mail contacts and guests' mail users go through Exchange Online's admin
// API InvokeCommand, the REST surface ExchangeOnlineManagement v3 itself
// uses (Graph's orgContact is read-only, and Graph's showInAddressList is
// not to be used; see below). Unofficial: Microsoft may change it.

// systemMailbox anchors app-only admin calls (docs/graph-reference.md §12).
const systemMailbox = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"

// invoke runs one cmdlet and returns the answer's body.
func (c *Client) invoke(ctx context.Context, op, cmdlet string, params map[string]any, kind reqKind, f func(body []byte) error) error {
	anchor, err := c.initialDomain(ctx)
	if err != nil {
		return err
	}
	k := call{svc: svcExchange, method: http.MethodPost, path: "/adminapi/beta/" + seg(c.o.TenantID) + "/InvokeCommand",
		body:   map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": params}},
		header: map[string]string{"X-ResponseFormat": "json", "X-AnchorMailbox": "UPN:" + systemMailbox + "@" + anchor},
		op:     op, perm: permExchangeManage, kind: kind}
	if f == nil {
		_, err := c.send(ctx, k)
		return err
	}
	// Get- cmdlets page with @odata.nextLink, followed as POSTs of the same body.
	for {
		r, err := c.send(ctx, k)
		if err != nil {
			return err
		}
		if err := f(r.body); err != nil {
			return &directory.Error{Op: op, Kind: directory.ErrUnavailable, RequestID: r.requestID, Message: "unreadable answer", Err: err}
		}
		var next struct {
			NextLink string `json:"@odata.nextLink"`
		}
		_ = json.Unmarshal(r.body, &next)
		if next.NextLink == "" {
			return nil
		}
		if k.path, k.rawQuery, err = c.sameHost(svcExchange, next.NextLink); err != nil {
			return &directory.Error{Op: op, Kind: directory.ErrUnavailable, Message: err.Error()}
		}
	}
}

// exoRecipient is what Get-MailContact and Get-MailUser answer about a
// recipient, as far as foyer reads it.
type exoRecipient struct {
	Guid                          string   `json:"Guid"`
	Name                          string   `json:"Name"`
	DisplayName                   string   `json:"DisplayName"`
	ExternalEmailAddress          string   `json:"ExternalEmailAddress"`
	EmailAddresses                []string `json:"EmailAddresses"`
	HiddenFromAddressListsEnabled bool     `json:"HiddenFromAddressListsEnabled"`
	ExternalDirectoryObjectID     string   `json:"ExternalDirectoryObjectId"`
}

// holds reports whether the recipient has the address, as its external
// address or one of its SMTP addresses.
func (r exoRecipient) holds(addr string) bool {
	if strings.EqualFold(smtpless(r.ExternalEmailAddress), addr) {
		return true
	}
	for _, a := range r.EmailAddresses {
		if len(a) > 5 && strings.EqualFold(a[:5], "smtp:") && strings.EqualFold(a[5:], addr) {
			return true
		}
	}
	return false
}

func smtpless(a string) string {
	if len(a) > 5 && strings.EqualFold(a[:5], "smtp:") {
		return a[5:]
	}
	return a
}

// recipients runs a Get- cmdlet and returns every recipient of every page.
func (c *Client) recipients(ctx context.Context, op, cmdlet string, params map[string]any) ([]exoRecipient, error) {
	var out []exoRecipient
	err := c.invoke(ctx, op, cmdlet, params, kindRead, func(body []byte) error {
		var page struct {
			Value []exoRecipient `json:"value"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return err
		}
		out = append(out, page.Value...)
		return nil
	})
	return out, err
}

// MailContact finds the mail contact that holds an address: Get-MailContact
// -Identity with the address, which Exchange resolves among names, aliases,
// display names and addresses, so each answer is checked for the address.
func (c *Client) MailContact(ctx context.Context, email foyer.Address) (directory.Contact, bool, error) {
	rs, err := c.recipients(ctx, "look for a mail contact holding "+email.String(), "Get-MailContact", map[string]any{"Identity": email.String()})
	if isExoNotFound(err) {
		return directory.Contact{}, false, nil
	}
	if err != nil {
		return directory.Contact{}, false, err
	}
	for _, r := range rs {
		if r.holds(email.String()) {
			return directory.Contact{ID: r.Guid, Name: r.Name, DisplayName: r.DisplayName, Email: smtpless(r.ExternalEmailAddress)}, true, nil
		}
	}
	return directory.Contact{}, false, nil
}

// grantMailContact refuses: foyer made a mail contact before the invitation
// once, which is what breaks redemption (docs/graph.md, "Address book").
func (c *Client) grantMailContact(to directory.Grantee) error {
	return &directory.Error{Op: "create mail contact " + string(to.Email), Kind: directory.ErrInvalid,
		Message: "foyer no longer makes mail contacts: a contact that holds a guest's address keeps Entra from giving the guest that address, and the guest cannot redeem by direct link",
		Fix:     "grant address_book, which shows the guest itself in the address book"}
}

func (c *Client) revokeMailContact(ctx context.Context, from directory.Grantee) error {
	if from.Email == "" {
		return &directory.Error{Op: "remove mail contact", Kind: directory.ErrInvalid, Message: "the grantee has no address"}
	}
	err := c.invoke(ctx, "remove mail contact "+string(from.Email), "Remove-MailContact", map[string]any{
		"Identity": string(from.Email), "Confirm": false,
	}, kindWrite, nil)
	if isExoNotFound(err) {
		return nil
	}
	return err
}

// isExoNotFound recognises Exchange's "The operation couldn't be performed
// because object '…' couldn't be found on '…'."
func isExoNotFound(err error) bool {
	e := errOf(err)
	return e != nil && (e.Status == http.StatusNotFound || e.Status == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(e.Message), "couldn't be found"))
}

// mailContacts returns the external addresses of every mail contact,
// lowercased.
func (c *Client) mailContacts(ctx context.Context) (map[string]bool, error) {
	rs, err := c.recipients(ctx, "list mail contacts", "Get-MailContact", map[string]any{"ResultSize": "Unlimited"})
	if err != nil {
		return nil, fmt.Errorf("list mail contacts: %w", err)
	}
	out := map[string]bool{}
	for _, r := range rs {
		if a := smtpless(r.ExternalEmailAddress); a != "" {
			out[strings.ToLower(a)] = true
		}
	}
	return out, nil
}

// --- address book: the guest's own mail user, un-hidden ---
//
// "By default, guests aren't visible in the Exchange Global Address List"
// (microsoft-365-docs solutions/per-group-guest-access.md). Entra documents
// that Exchange's "hide from address lists" setting, if it differs from
// Graph's showInAddressList, decides, and that for a guest it is set with
// Set-MailUser -HiddenFromAddressListsEnabled (entra-docs
// multi-tenant-organization-known-issues.md); Graph says not to use
// showInAddressList (its known issue: it may not show Exchange's state).
// So foyer reads and sets Exchange's flag. A guest's mail user appears in
// Exchange some time after the invitation.

// guestMailUser finds the guest's mail user by its address (an identity
// Set-MailUser documents) and checks that it is this guest's.
func (c *Client) guestMailUser(ctx context.Context, op string, to directory.Grantee) (exoRecipient, bool, error) {
	rs, err := c.recipients(ctx, op, "Get-MailUser", map[string]any{"Identity": to.Email.String()})
	if isExoNotFound(err) {
		return exoRecipient{}, false, nil
	}
	if err != nil {
		return exoRecipient{}, false, err
	}
	for _, r := range rs {
		if strings.EqualFold(r.ExternalDirectoryObjectID, to.UserID) {
			return r, true, nil
		}
	}
	if len(rs) > 0 {
		return exoRecipient{}, false, &directory.Error{Op: op, Kind: directory.ErrInvalid,
			Message: fmt.Sprintf("Exchange's mail user with the address %s is object %s, not this guest", to.Email, rs[0].ExternalDirectoryObjectID)}
	}
	return exoRecipient{}, false, nil
}

// errNoMailUser says Exchange does not show the guest's mail user (yet).
var errNoMailUser = errors.New("Exchange has no mail user for the guest yet (it appears some minutes after the invitation)")

func (c *Client) grantAddressBook(ctx context.Context, to directory.Grantee) error {
	op := fmt.Sprintf("show %s (%s) in the address book", to.UserID, to.Email)
	if to.Email == "" {
		return &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: "the grantee has no address"}
	}
	var mu exoRecipient
	looked := false
	err := c.replicated(ctx, func() error {
		r, ok, err := c.guestMailUser(ctx, op, to)
		if err != nil || ok {
			mu = r
			return err
		}
		if !looked {
			// Not replicated yet, or a mail contact holds the address and
			// the guest never got it: then waiting cannot help.
			looked = true
			if err := c.contactConflict(ctx, op, to); err != nil {
				return err
			}
		}
		// Retryable: the row's job tries again later, by when Exchange's
		// copy of the directory has the guest.
		return &directory.Error{Op: op, Kind: directory.ErrUnavailable, Message: errNoMailUser.Error(), Err: errNoMailUser}
	}, func(err error) bool { return errors.Is(err, errNoMailUser) })
	if err != nil || !mu.HiddenFromAddressListsEnabled {
		return err
	}
	return c.invoke(ctx, op, "Set-MailUser", map[string]any{"Identity": mu.Guid, "HiddenFromAddressListsEnabled": false}, kindWrite, nil)
}

// contactConflict returns an error if a mail contact holds the guest's
// address: the guest was created without it (the conflict foyer no longer
// makes), has no mail user with it, and cannot redeem by direct link.
func (c *Client) contactConflict(ctx context.Context, op string, to directory.Grantee) error {
	ct, found, err := c.MailContact(ctx, to.Email)
	if err != nil || !found {
		return err
	}
	return &directory.Error{Op: op, Kind: directory.ErrExists,
		Message: fmt.Sprintf("the mail contact %q holds %s, so this guest was created without the address: it is not in the address book under it and cannot redeem by direct link", ct.Name, to.Email),
		Fix:     fmt.Sprintf("remove the contact (Remove-MailContact -Identity %q); if the guest has not redeemed, delete it and apply again to invite it anew", ct.Name)}
}

func (c *Client) revokeAddressBook(ctx context.Context, from directory.Grantee) error {
	op := fmt.Sprintf("hide %s (%s) from the address book", from.UserID, from.Email)
	if from.Email == "" {
		return &directory.Error{Op: op, Kind: directory.ErrInvalid, Message: "the grantee has no address"}
	}
	mu, ok, err := c.guestMailUser(ctx, op, from)
	if err != nil || !ok || mu.HiddenFromAddressListsEnabled {
		return err // no mail user (the guest is gone): nothing shown
	}
	return c.invoke(ctx, op, "Set-MailUser", map[string]any{"Identity": mu.Guid, "HiddenFromAddressListsEnabled": true}, kindWrite, nil)
}

// addressBookHolders returns the object ids of the mail users shown in the
// address book.
func (c *Client) addressBookHolders(ctx context.Context) (map[string]bool, error) {
	rs, err := c.recipients(ctx, "list the mail users shown in the address book", "Get-MailUser", map[string]any{"ResultSize": "Unlimited"})
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, r := range rs {
		if !r.HiddenFromAddressListsEnabled && r.ExternalDirectoryObjectID != "" {
			out[strings.ToLower(r.ExternalDirectoryObjectID)] = true
		}
	}
	return out, nil
}
