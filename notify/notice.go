package notify

import "github.com/foyer-dev/foyer"

// Notice is a short message foyer sends a person about a request: the link
// that proves an address, an approval that awaits someone, a decision, an
// invitation made. The engine renders it; a postman (notify/email) delivers
// it.
type Notice struct {
	To       []foyer.Address
	Subject  string
	Text     string // plain text, links written out
	Language string // its language tag (en, fr), "" if unknown
	// ID is the same on every attempt to send the same notice, so that a
	// notice sent again after a crash keeps its identity (an email's
	// Message-ID): letters, digits, dots and hyphens.
	ID string
}
