package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// Find looks addresses up the way Microsoft recommends before inviting
// (entra-docs external-id/customize-invitation-api.md: mail,
// userPrincipalName, proxyAddresses SMTP:, otherMails), plus the #EXT# UPN
// an invited guest carries. It picks the cheaper of two strategies, counted
// in reads:
//
//   - per address: one filtered GET per address, 20 per $batch;
//   - scan: read every guest once ($top=999, $select) into an index keyed by
//     every address form, costing 1 + ceil(guests/999) reads.
//
// With at most ScanThreshold addresses it looks each up; above that it
// counts the guests first (one read) and scans when that is cheaper. A scan
// sees guests only: members with an outside address are found only by the
// per-address mode (docs/graph.md).
func (c *Client) Find(ctx context.Context, emails []foyer.Address) (map[string]directory.Person, error) {
	want := make(map[string]foyer.Address, len(emails))
	for _, e := range emails {
		if e != "" {
			want[e.Key()] = e
		}
	}
	if len(want) == 0 {
		return map[string]directory.Person{}, nil
	}
	if len(want) > c.o.Pacing.ScanThreshold {
		n, err := c.countGuests(ctx)
		if err != nil {
			return nil, err
		}
		if pages := (n + 998) / 999; pages+1 < len(want) {
			return c.scan(ctx, want)
		}
	}
	return c.lookup(ctx, want)
}

// personFilter is the per-address filter. Every value goes through quote.
func personFilter(a foyer.Address) string {
	s := string(a)
	return "mail eq " + quote(s) +
		" or userPrincipalName eq " + quote(s) +
		" or otherMails/any(x:x eq " + quote(s) + ")" +
		" or proxyAddresses/any(x:x eq " + quote("SMTP:"+s) + ")" +
		" or startsWith(userPrincipalName," + quote(extPrefix(a)) + ")"
}

// lookup finds each address with its own filtered GET, 20 per $batch (one
// plain GET for a single address), up to four batches at a time.
func (c *Client) lookup(ctx context.Context, want map[string]foyer.Address) (map[string]directory.Person, error) {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	found := make(map[string]directory.Person)
	if len(keys) == 1 {
		a := want[keys[0]]
		var page userPage
		_, err := c.getJSON(ctx, call{path: "/v1.0/users", query: [][2]string{
			{"$filter", personFilter(a)}, {"$select", personSelect}},
			op: "find " + string(a), perm: permUserRead}, &page)
		if err != nil {
			return nil, err
		}
		if p, ok := best(page.Value, keys[0]); ok {
			found[keys[0]] = p
		}
		return found, nil
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 4)
	)
	for start := 0; start < len(keys); start += batchMax {
		chunk := keys[start:min(start+batchMax, len(keys))]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			got, err := c.lookupBatch(ctx, want, chunk)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			for k, p := range got {
				found[k] = p
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return found, nil
}

func (c *Client) lookupBatch(ctx context.Context, want map[string]foyer.Address, keys []string) (map[string]directory.Person, error) {
	items := make([]batchItem, len(keys))
	for i, k := range keys {
		items[i] = batchItem{ID: itemID(i), Method: http.MethodGet, URL: "/users?" + encodeQuery([][2]string{
			{"$filter", personFilter(want[k])}, {"$select", personSelect}})}
	}
	op := fmt.Sprintf("find %d addresses", len(keys))
	answers, err := c.batch(ctx, op, permUserRead, kindRead, items)
	if err != nil {
		return nil, err
	}
	found := make(map[string]directory.Person)
	for i, k := range keys {
		r := answers[itemID(i)]
		if err := answerError("find "+string(want[k]), permUserRead, r); err != nil {
			return nil, err
		}
		var page userPage
		if err := json.Unmarshal(r.body, &page); err != nil {
			return nil, &directory.Error{Op: "find " + string(want[k]), Kind: directory.ErrUnavailable, Message: "unreadable answer", Err: err}
		}
		if p, ok := best(page.Value, k); ok {
			found[k] = p
		}
	}
	return found, nil
}

// best picks, among users a filter returned, the one that carries key in
// the best-ranked form.
func best(users []user, key string) (directory.Person, bool) {
	bi, br := -1, rankNone
	for i, u := range users {
		if r := u.rank(key); r < br {
			bi, br = i, r
		}
	}
	if bi < 0 {
		return directory.Person{}, false
	}
	return users[bi].person(), true
}

type userPage struct {
	Value    []user `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// countGuests reads the number of guests: GET /users/$count with
// ConsistencyLevel: eventual (required for $count, docs/graph-reference.md §2).
func (c *Client) countGuests(ctx context.Context) (int, error) {
	r, err := c.send(ctx, call{method: http.MethodGet, path: "/v1.0/users/$count",
		query:  [][2]string{{"$filter", "userType eq " + quote("Guest")}},
		header: map[string]string{"ConsistencyLevel": "eventual", "Accept": "text/plain"},
		op:     "count guests", perm: permUserRead})
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(r.body)))
	if err != nil || n < 0 {
		return 0, &directory.Error{Op: "count guests", Kind: directory.ErrUnavailable, RequestID: r.requestID,
			Message: fmt.Sprintf("unreadable count %.40q", r.body)}
	}
	return n, nil
}

// scan reads all guests, 999 a page, and indexes them by every address
// form; then answers each wanted key from the index.
func (c *Client) scan(ctx context.Context, want map[string]foyer.Address) (map[string]directory.Person, error) {
	type hit struct {
		u    int
		rank int
	}
	var users []user // only those who carry a wanted address
	index := make(map[string]hit, len(want))
	err := c.guestPages(ctx, func(u user) {
		i := -1
		u.forms(func(k string, r int) {
			if _, ok := want[k]; !ok {
				return
			}
			if i < 0 {
				i = len(users)
				users = append(users, u)
			}
			if h, ok := index[k]; !ok || r < h.rank {
				index[k] = hit{i, r}
			}
		})
	})
	if err != nil {
		return nil, err
	}
	found := make(map[string]directory.Person, len(index))
	for k, h := range index {
		found[k] = users[h.u].person()
	}
	return found, nil
}

// guestPages reads every guest, 999 a page, calling f with each.
func (c *Client) guestPages(ctx context.Context, f func(u user)) error {
	return c.pages(ctx, call{path: "/v1.0/users", query: [][2]string{
		{"$filter", "userType eq " + quote("Guest")}, {"$select", personSelect}, {"$top", "999"}},
		op: "read all guests", perm: permUserRead},
		func(body []byte) error {
			var page userPage
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			for _, u := range page.Value {
				f(u)
			}
			return nil
		})
}

// Guests reads every guest once (the guest count, then pages of 999) into
// an index of every address form Find matches: 2 + ⌈guests/999⌉ reads.
// The index keeps hashes and ids, not users: about 100 bytes a guest.
func (c *Client) Guests(ctx context.Context) (*directory.GuestIndex, error) {
	n, err := c.countGuests(ctx)
	if err != nil {
		return nil, err
	}
	idx := directory.NewGuestIndex(n)
	if err := c.guestPages(ctx, func(u user) { idx.Add(u.person(), u.forms) }); err != nil {
		return nil, err
	}
	return idx, nil
}

// pages follows @odata.nextLink from the first page of k, calling f with
// each page's body. Next links are followed only on the service's own host,
// so that the token never goes elsewhere (microsoft-graph-docs-contrib
// concepts/paging.md: follow the link as given).
func (c *Client) pages(ctx context.Context, k call, f func(body []byte) error) error {
	k.method = http.MethodGet
	for {
		r, err := c.send(ctx, k)
		if err != nil {
			return err
		}
		if err := f(r.body); err != nil {
			return &directory.Error{Op: k.op, Kind: directory.ErrUnavailable, RequestID: r.requestID, Message: "unreadable page", Err: err}
		}
		var next struct {
			NextLink    string `json:"@odata.nextLink"`
			ARMNextLink string `json:"nextLink"` // ARM's paging
		}
		_ = json.Unmarshal(r.body, &next)
		link := cmp.Or(next.NextLink, next.ARMNextLink)
		if link == "" {
			return nil
		}
		path, query, err := c.sameHost(k.svc, link)
		if err != nil {
			return &directory.Error{Op: k.op, Kind: directory.ErrUnavailable, Message: err.Error()}
		}
		k.path, k.query, k.rawQuery = path, nil, query
	}
}

// sameHost splits a next link into path and raw query, refusing a link to
// another host than the service's.
func (c *Client) sameHost(s svcName, link string) (path, rawQuery string, err error) {
	base := c.ep.graph.base
	switch s {
	case svcARM:
		base = c.ep.arm.base
	case svcExchange:
		base = c.ep.exchange.base
	}
	bu, _ := url.Parse(base)
	u, err := url.Parse(link)
	if err != nil {
		return "", "", fmt.Errorf("unreadable next link: %w", err)
	}
	if u.Host == "" {
		return u.EscapedPath(), u.RawQuery, nil
	}
	if !strings.EqualFold(u.Host, bu.Host) || u.Scheme != bu.Scheme {
		return "", "", fmt.Errorf("next link points to another host (%s)", u.Host)
	}
	return strings.TrimPrefix(u.EscapedPath(), strings.TrimSuffix(bu.EscapedPath(), "/")), u.RawQuery, nil
}
