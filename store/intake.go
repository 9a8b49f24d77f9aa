package store

import (
	"context"
	"time"

	"github.com/foyer-dev/foyer"
)

// Token is a link sent to a person who asked for access on the request
// page. Opening it before VerifyBy proves they own the address (once);
// afterwards, until ExpiresAt, it shows where their request stands. The
// ledger keeps only its hash.
type Token struct {
	Hash       string // hex SHA-256 of the token
	RequestID  string
	CreatedAt  time.Time
	VerifyBy   time.Time // the address must be proved before this
	VerifiedAt time.Time // zero until proved
	ExpiresAt  time.Time // the status page answers until this
}

// Tokens are the request page's links.
type Tokens interface {
	// PutToken records a new token; ECONFLICT if the hash exists.
	PutToken(ctx context.Context, t Token) error
	// Token returns a token by hash; ENOTFOUND if there is none.
	Token(ctx context.Context, hash string) (Token, error)
	// PurgeTokens deletes the links that expired before the given time
	// and returns how many there were.
	PurgeTokens(ctx context.Context, before time.Time) (int, error)
	// MarkTokenVerified sets VerifiedAt to the transaction's time if it is
	// zero and returns the token as stored afterwards. It does not check
	// VerifyBy: the caller decides what an expired link means.
	MarkTokenVerified(ctx context.Context, hash string) (Token, error)
}

// Decisions are approvers' answers, in the order given.
type Decisions interface {
	// AddDecision records d (At filled with the transaction's time if zero).
	// ECONFLICT if the same approver already decided the same stage of the
	// request.
	AddDecision(ctx context.Context, d foyer.Decision) error
	// Decisions returns a request's decisions, oldest first.
	Decisions(ctx context.Context, requestID string) ([]foyer.Decision, error)
}

// APIKey is a key another application uses on the API. The ledger keeps
// only its hash; the key itself is shown once, when it is made.
type APIKey struct {
	Name      string // unique; the principal is "apikey:NAME"
	Hash      string // hex SHA-256 of the key
	Prefix    string // the key's first characters, to recognise it in a list
	CreatedAt time.Time
	RevokedAt time.Time // zero while it works
}

// APIKeys are the API's keys.
type APIKeys interface {
	// CreateAPIKey records a key; ECONFLICT if the name or hash exists.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// APIKeyByHash returns a key that was not revoked; ENOTFOUND otherwise.
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	// APIKeysList returns every key, revoked ones too, by name.
	APIKeysList(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey revokes a key by name; ENOTFOUND if there is none.
	// Revoking a revoked key is no error.
	RevokeAPIKey(ctx context.Context, name string) error
}

// IdempotencyKey remembers which request an API call with an
// Idempotency-Key header made, so that the same call again answers the
// same request.
type IdempotencyKey struct {
	Client    string // the principal's id: keys are per client
	Key       string
	BodyHash  string // hex SHA-256 of the call's canonical body
	RequestID string
	CreatedAt time.Time
}

// Idempotency records API calls' idempotency keys.
type Idempotency interface {
	// PutIdempotencyKey records k; ECONFLICT if the client's key exists.
	PutIdempotencyKey(ctx context.Context, k IdempotencyKey) error
	// IdempotencyKeyOf returns a client's key; ENOTFOUND if there is none.
	IdempotencyKeyOf(ctx context.Context, client, key string) (IdempotencyKey, error)
	// PurgeIdempotencyKeys deletes the keys recorded before the given time
	// and returns how many there were: a call repeated after that is a new
	// call.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int, error)
}

// GuestFilter selects guests for a list, a page at a time.
type GuestFilter struct {
	// Query matches guests whose address, display name or UPN contains it
	// (without case); "" matches all.
	Query string
	// After is the address (Guest.Email, as stored) the previous page
	// ended with; guests come in address order (without case, then by
	// object id).
	After string
	// Limit: at most this many (0: 100), and then any others with the
	// last one's address, which several directory objects may share: the
	// next page, starting after that address, would skip them.
	Limit int
}

// GuestList pages through the guests foyer knows.
type GuestList interface {
	// ListGuests calls fn for each guest matching f, in address order.
	ListGuests(ctx context.Context, f GuestFilter, fn func(*foyer.Guest) error) error
	// CountGuests counts the guests matching f.Query.
	CountGuests(ctx context.Context, query string) (int, error)
}
