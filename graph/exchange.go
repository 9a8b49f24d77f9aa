package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/foyer-dev/foyer/directory"
)

// Mail contacts go through Exchange Online's admin API InvokeCommand, the
// REST surface ExchangeOnlineManagement v3 itself uses (graph reference §12:
// Graph's orgContact is read-only). Unofficial: Microsoft may change it.

// systemMailbox anchors app-only admin calls (graph reference §12).
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

// contactName is the contact's Name (unique in Exchange, at most 64
// characters; New-MailContact.md): the address, cut if longer.
func contactName(addr string) string {
	if len(addr) > 64 {
		return addr[:64]
	}
	return addr
}

func (c *Client) grantMailContact(ctx context.Context, to directory.Grantee) error {
	if to.Email == "" {
		return &directory.Error{Op: "create mail contact", Kind: directory.ErrInvalid, Message: "the grantee has no address"}
	}
	display := to.DisplayName
	if display == "" {
		display = string(to.Email)
	}
	op := "create mail contact " + string(to.Email)
	err := c.invoke(ctx, op, "New-MailContact", map[string]any{
		"Name": contactName(string(to.Email)), "DisplayName": display, "ExternalEmailAddress": string(to.Email),
	}, kindWrite, nil)
	e := errOf(err)
	if e == nil || e.Status != http.StatusBadRequest || !strings.Contains(strings.ToLower(e.Message), "already") {
		return err
	}
	// "The name … is already being used" or "The proxy address … is
	// already being used": done if a contact holds the address; otherwise
	// another recipient (a guest user, a mailbox) has it, which is a
	// conflict, not a grant held.
	contacts, lerr := c.mailContacts(ctx, string(to.Email))
	if lerr == nil && contacts[to.Email.Key()] {
		return nil
	}
	e.Kind = directory.ErrExists
	return e
}

func (c *Client) revokeMailContact(ctx context.Context, from directory.Grantee) error {
	if from.Email == "" {
		return &directory.Error{Op: "remove mail contact", Kind: directory.ErrInvalid, Message: "the grantee has no address"}
	}
	err := c.invoke(ctx, "remove mail contact "+string(from.Email), "Remove-MailContact", map[string]any{
		"Identity": string(from.Email), "Confirm": false,
	}, kindWrite, nil)
	if isContactNotFound(err) {
		return nil
	}
	return err
}

// isContactNotFound recognises Exchange's "The operation couldn't be
// performed because object '…' couldn't be found on '…'."
func isContactNotFound(err error) bool {
	e := errOf(err)
	return e != nil && (e.Status == http.StatusNotFound || e.Status == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(e.Message), "couldn't be found"))
}

// mailContacts returns the external addresses of every mail contact (or of
// the one named identity), lowercased.
func (c *Client) mailContacts(ctx context.Context, identity string) (map[string]bool, error) {
	out := map[string]bool{}
	params := map[string]any{"ResultSize": "Unlimited"}
	if identity != "" {
		params = map[string]any{"Identity": identity}
	}
	err := c.invoke(ctx, "list mail contacts", "Get-MailContact", params, kindRead,
		func(body []byte) error {
			var page struct {
				Value []struct {
					ExternalEmailAddress string `json:"ExternalEmailAddress"`
				} `json:"value"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			for _, v := range page.Value {
				a := v.ExternalEmailAddress
				if len(a) > 5 && strings.EqualFold(a[:5], "smtp:") {
					a = a[5:]
				}
				if a != "" {
					out[strings.ToLower(a)] = true
				}
			}
			return nil
		})
	if identity != "" && notHeld(err) || isContactNotFound(err) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list mail contacts: %w", err)
	}
	return out, nil
}
