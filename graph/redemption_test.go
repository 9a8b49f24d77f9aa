package graph

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/foyer-dev/foyer/directory"
)

// TestRedemptionChangesResync: the answers Graph gives a delta token it
// no longer knows (400 syncStateNotFound, 410 Gone), and a token that is
// not a users delta link of this client's endpoint, are ErrResync, which
// the engine answers with a full round; another 400 is not.
func TestRedemptionChangesResync(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		token  func(base string) string
		want   error
	}{
		{"410 Gone", func(w http.ResponseWriter) {
			graphErr(w, http.StatusGone, "resyncRequired", "The delta token is no longer valid.")
		}, func(base string) string { return base + "/v1.0/users/delta?$deltatoken=old" }, directory.ErrResync},
		{"400 syncStateNotFound", func(w http.ResponseWriter) {
			graphErr(w, http.StatusBadRequest, "syncStateNotFound", "The sync state generation is not found.")
		}, func(base string) string { return base + "/v1.0/users/delta?$deltatoken=old" }, directory.ErrResync},
		{"another host", nil, func(string) string { return "https://elsewhere.example/v1.0/users/delta?$deltatoken=old" }, directory.ErrResync},
		{"another path", nil, func(base string) string { return base + "/v1.0/groups/delta?$deltatoken=old" }, directory.ErrResync},
		{"another 400", func(w http.ResponseWriter) {
			graphErr(w, http.StatusBadRequest, "Request_BadRequest", "Invalid $select properties.")
		}, func(base string) string { return base + "/v1.0/users/delta?$deltatoken=old" }, directory.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			c, _ := fakeGraph(t, func(w http.ResponseWriter, r *http.Request) {
				calls++
				if r.URL.Path != "/v1.0/users/delta" || tc.answer == nil {
					http.NotFound(w, r)
					return
				}
				tc.answer(w)
			}, nil)
			_, next, err := c.RedemptionChanges(context.Background(), tc.token(c.ep.graph.base))
			if !errors.Is(err, tc.want) || next != "" {
				t.Fatalf("RedemptionChanges = %q, %v; want no token and %v", next, err, tc.want)
			}
			if tc.answer == nil && calls != 0 {
				t.Errorf("a token of another endpoint was sent there: %d calls", calls)
			}
		})
	}
}
