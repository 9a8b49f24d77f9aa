package engine

import (
	"context"
	"fmt"

	"github.com/foyer-dev/foyer"
)

// refuseContactConflict fails the row of a person not yet invited whose
// address an Exchange mail contact holds, before any invitation, when the
// profile gives address_book (its directory can read Exchange then). An
// invitation for that address would create a guest without it as a proxy
// address, who cannot redeem by direct link or one-time passcode (entra-docs
// external-id/troubleshoot.md, redemption-experience.md); Microsoft's fix
// is to delete the contact before inviting. The guest itself, shown in the
// address book, replaces the contact.
func (p *provisioning) refuseContactConflict(ctx context.Context) error {
	if p.req.UserID != "" || !p.showsInAddressBook() {
		return nil
	}
	c, found, err := p.tenant.Dir.MailContact(ctx, p.req.Email)
	if err != nil {
		return fmt.Errorf("look for a mail contact holding %s before inviting: %w", p.req.Email, err)
	}
	if !found {
		return nil
	}
	return foyer.Errorf(foyer.ECONFLICT, "the mail contact %q holds %s: an invitation would create a guest without this address, "+
		"who cannot redeem by direct link or one-time passcode; not invited. Remove the contact "+
		"(Remove-MailContact -Identity %q) or change its address, then apply again: the guest itself will be in the address book",
		c.Name, p.req.Email, c.Name)
}

func (p *provisioning) showsInAddressBook() bool {
	for _, g := range p.profile.Grants {
		if g.Kind == foyer.GrantAddressBook {
			return true
		}
	}
	return false
}
