package email

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/foyer-dev/foyer/notify"
)

// Postman delivers notices as plain-text emails through a Sender, one
// message per recipient so that no recipient sees another's address.
type Postman struct {
	Sender *Sender
}

// Send delivers n to each of its recipients. Each message's Message-ID is
// made from n.ID (and, for more than one recipient, the recipient), so a
// notice sent again keeps its Message-ID. Errors are *Error; the first one
// stops the delivery.
func (p Postman) Send(ctx context.Context, n notify.Notice) error {
	if len(n.To) == 0 {
		return &Error{Op: "build", Kind: ErrInvalid, Err: fmt.Errorf("the notice %q has no recipient", n.ID)}
	}
	for _, to := range n.To {
		id := n.ID
		if len(n.To) > 1 && id != "" {
			h := sha256.Sum256([]byte(to.Key()))
			id += "." + hex.EncodeToString(h[:4])
		}
		m := Message{To: to, Subject: n.Subject, Text: n.Text, Language: n.Language, ID: id}
		if _, err := p.Sender.Send(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
