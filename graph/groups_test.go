package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// fakeGroup is a group behind PATCH members@odata.bind (all or nothing,
// at most 20) and $batch of POST members/$ref, as Graph documents them.
type fakeGroup struct {
	mu       sync.Mutex
	members  map[string]bool
	hidden   map[string]int // ids answered 404 this many more times (replication)
	patches  []int          // sizes of the PATCHes received
	refs     int
	requests int
}

func (g *fakeGroup) handle(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests++
	switch {
	case r.Method == http.MethodPatch && r.URL.Path == "/v1.0/groups/g1":
		var body map[string][]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		ids := body["members@odata.bind"]
		g.patches = append(g.patches, len(ids))
		if len(ids) > 20 {
			graphErr(w, 400, "Request_BadRequest", "too many")
			return
		}
		for _, u := range ids {
			id := u[strings.LastIndexByte(u, '/')+1:]
			if g.members[id] {
				graphErr(w, 400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'members'.")
				return
			}
			if g.hidden[id] > 0 {
				g.hidden[id]--
				graphErr(w, 404, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
				return
			}
		}
		for _, u := range ids {
			g.members[u[strings.LastIndexByte(u, '/')+1:]] = true
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && r.URL.Path == "/v1.0/$batch":
		var req struct{ Requests []batchItem }
		_ = json.NewDecoder(r.Body).Decode(&req)
		var out []map[string]any
		for _, it := range req.Requests {
			g.refs++
			b, _ := json.Marshal(it.Body)
			var ref map[string]string
			_ = json.Unmarshal(b, &ref)
			u := ref["@odata.id"]
			id := u[strings.LastIndexByte(u, '/')+1:]
			a := map[string]any{"id": it.ID, "status": 204}
			switch {
			case g.members[id]:
				a["status"] = 400
				a["body"] = map[string]any{"error": map[string]string{"code": "Request_BadRequest", "message": "One or more added object references already exist for the following modified properties: 'members'."}}
			case g.hidden[id] > 0:
				g.hidden[id]--
				a["status"] = 404
				a["body"] = map[string]any{"error": map[string]string{"code": "Request_ResourceNotFound", "message": "Resource '" + id + "' does not exist or one of its queried reference-property objects are not present."}}
			default:
				g.members[id] = true
			}
			out = append(out, a)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"responses": out})
	default:
		graphErr(w, 404, "Request_ResourceNotFound", "no route "+r.URL.Path)
	}
}

func TestGroupAddsShareRequests(t *testing.T) {
	t.Parallel()
	fg := &fakeGroup{members: map[string]bool{"u3": true}, hidden: map[string]int{"u7": 3}}
	block := make(chan struct{})
	c, _ := fakeGraph(t, fg.handle, nil)
	// Hold the flush until all 25 callers have joined: the window is
	// virtual time, so release it by hand.
	c.o.After = func(d time.Duration) <-chan time.Time {
		ch := make(chan time.Time, 1)
		go func() { <-block; ch <- time.Time{} }()
		return ch
	}
	g := foyer.Grant{Kind: foyer.GrantGroup, Ref: "G", Target: "g1"}
	var wg sync.WaitGroup
	errs := make(chan error, 25)
	joined := make(chan struct{}, 25)
	for i := range 25 {
		wg.Go(func() {
			joined <- struct{}{}
			_, err := c.Grant(context.Background(), directory.Grantee{UserID: fmt.Sprintf("u%d", i)}, g)
			errs <- err
		})
	}
	for range 25 {
		<-joined
	}
	// Wait until the adder holds everyone, then let windows close.
	for {
		c.groups.mu.Lock()
		b := c.groups.pending["g1"]
		n := 0
		if b != nil {
			n = len(b.order)
		}
		c.groups.mu.Unlock()
		if n == 5 {
			break
		}
	}
	close(block)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	fg.mu.Lock()
	defer fg.mu.Unlock()
	for i := range 25 {
		if !fg.members[fmt.Sprintf("u%d", i)] {
			t.Errorf("u%d not added", i)
		}
	}
	// 20 in one PATCH (refused: u3 is a member), then each alone in a $batch
	// where u3 counts as done and u7 waits for replication; 5 in another.
	if len(fg.patches) < 2 || fg.patches[0] != 20 && fg.patches[1] != 20 {
		t.Fatalf("PATCH sizes %v, want a batch of 20", fg.patches)
	}
	if fg.requests > 12 {
		t.Fatalf("%d requests for 25 adds", fg.requests)
	}
}
