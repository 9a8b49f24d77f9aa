package ledger

import (
	"context"
	"fmt"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

var _ store.GuestList = (*Tx)(nil)

// defaultGuestPage is how many guests ListGuests gives when the filter
// does not say.
const defaultGuestPage = 100

// guestSearch is a guest's search column: what a list's query looks in,
// lowercased here rather than by the database, whose lower() may know only
// ASCII (SQLite's does), and joined by a line feed, which no query matches
// across (guestMatch refuses a query holding one).
func guestSearch(g *foyer.Guest) string {
	return strings.ToLower(string(g.Email) + "\n" + g.DisplayName + "\n" + g.UPN)
}

// guestMatch adds the condition that selects the guests query matches to
// where and returns it; ok is false when query can match no guest.
func guestMatch(where []string, args *params, query string) (_ []string, ok bool) {
	query = strings.ToLower(strings.TrimSpace(query))
	if query == "" {
		return where, true
	}
	if strings.Contains(query, "\n") {
		return where, false
	}
	return append(where, `search LIKE `+args.add("%"+escapeLike(query)+"%")+` ESCAPE '\'`), true
}

// escapeLike makes LIKE match s literally: its wildcards % and _, and the
// escape character itself, are escaped with a backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (t *Tx) CountGuests(ctx context.Context, query string) (int, error) {
	var args params
	where, ok := guestMatch(nil, &args, query)
	if !ok {
		return 0, nil
	}
	stmt := `SELECT count(*) FROM guests`
	if len(where) > 0 {
		stmt += ` WHERE ` + strings.Join(where, " AND ")
	}
	var n int
	if err := t.c.QueryRow(ctx, stmt, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count guests matching %q: %w", query, err)
	}
	return n, nil
}

// ListGuests lists guests by (email_key, user_id): address order without
// case, the object id apart guests that share an address. f.After names
// only an address, so a page never ends between two guests with the same
// address: the ones after the Limit-th that share its address come too.
// Otherwise the next page, which starts past that address, would skip
// them.
func (t *Tx) ListGuests(ctx context.Context, f store.GuestFilter, fn func(*foyer.Guest) error) error {
	limit := f.Limit
	switch {
	case limit < 0:
		return foyer.Errorf(foyer.EINVALID, "list guests: limit %d is negative", limit)
	case limit == 0:
		limit = defaultGuestPage
	}
	var (
		given     int
		lastKey   string // email_key and user_id of the last guest given
		lastID    string
		collation = t.db.Dialect.ByteOrder
	)
	for {
		var args params
		where, ok := guestMatch(nil, &args, f.Query)
		if !ok {
			return nil
		}
		switch {
		case given == 0 && f.After != "":
			where = append(where, `email_key`+collation+` > `+args.add(foyer.Address(f.After).Key()))
		case given > 0:
			k := args.add(lastKey)
			where = append(where, `(email_key`+collation+` > `+k+` OR (email_key`+collation+` = `+k+
				` AND user_id`+collation+` > `+args.add(lastID)+`))`)
		}
		size := min(pageSize, limit-given)
		if given >= limit {
			// Past the limit: only the last address's other guests.
			where = append(where, `email_key`+collation+` = `+args.add(lastKey))
			size = pageSize
		}
		stmt := `SELECT email_key, ` + guestColumns + ` FROM guests`
		if len(where) > 0 {
			stmt += ` WHERE ` + strings.Join(where, " AND ")
		}
		stmt += ` ORDER BY email_key` + collation + `, user_id` + collation + ` LIMIT ` + args.add(size)
		page, keys, err := t.guestPage(ctx, stmt, args)
		if err != nil {
			return fmt.Errorf("list guests: %w", err)
		}
		for i, g := range page {
			if err := fn(g); err != nil {
				return err
			}
			given, lastKey, lastID = given+1, keys[i], g.UserID
		}
		if len(page) < size {
			return nil
		}
	}
}

// guestPage reads a page of guests, each after its email_key, and closes
// it before returning, so that the caller's fn may use the transaction.
func (t *Tx) guestPage(ctx context.Context, stmt string, args []any) ([]*foyer.Guest, []string, error) {
	rows, err := t.c.Query(ctx, stmt, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		page []*foyer.Guest
		keys []string
	)
	for rows.Next() {
		var key string
		g, err := scanGuest(keyScanner{rows, &key})
		if err != nil {
			return nil, nil, err
		}
		page, keys = append(page, g), append(keys, key)
	}
	return page, keys, rows.Err()
}

// keyScanner reads a leading text column before the ones a scan function
// expects.
type keyScanner struct {
	rows Rows
	key  *string
}

func (s keyScanner) Scan(dest ...any) error { return s.rows.Scan(append([]any{s.key}, dest...)...) }
