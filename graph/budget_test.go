package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/directory"
)

// fakeBudget admits a write once it was refused `refuse` times, or fails.
type fakeBudget struct {
	mu     sync.Mutex
	refuse int
	fail   error
	asked  []int
}

func (b *fakeBudget) Reserve(_ context.Context, n int) (time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.asked = append(b.asked, n)
	if b.fail != nil {
		return 0, b.fail
	}
	if b.refuse > 0 {
		b.refuse--
		return 3 * time.Second, nil
	}
	return 0, nil
}

// countGate admits every write and counts how often it was asked.
type countGate struct{ n atomic.Int64 }

func (g *countGate) Admit(context.Context) error {
	g.n.Add(1)
	return nil
}

// TestBudgetAdmitsEveryWrite: a write waits while the shared budget is
// spent, passes its gate again, and goes once it is admitted; a budget that fails sends nothing;
// reads never ask it.
func TestBudgetAdmitsEveryWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		budget    *fakeBudget
		wantPosts int64
		wantErr   bool
	}{
		{"room", &fakeBudget{}, 1, false},
		{"spent twice", &fakeBudget{refuse: 2}, 1, false},
		{"ledger down", &fakeBudget{fail: errors.New("ledger unreachable")}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var posts atomic.Int64
			var vc *vclock
			c, _ := fakeGraph(t, func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/v1.0/invitations":
					posts.Add(1)
					var got map[string]any
					_ = json.NewDecoder(r.Body).Decode(&got)
					inviteOK(w, got)
				default:
					_, _ = w.Write([]byte(`{"value":[]}`))
				}
			}, func(o *Options) {
				o.Budget = tc.budget
				vc = newVClock()
				o.Clock, o.After = vc, vc.After
			})
			if _, _, err := c.Lookup(context.Background(), "ana@fabrikam.example"); err != nil {
				t.Fatal(err)
			}
			if n := len(tc.budget.asked); n != 0 {
				t.Errorf("a read asked the budget %d times", n)
			}
			gate := &countGate{}
			_, err := c.Invite(directory.WithGate(context.Background(), gate), directory.Invitation{Email: "ana@fabrikam.example", RedirectURL: redirect})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Invite: %v, want error %v", err, tc.wantErr)
			}
			if got := posts.Load(); got != tc.wantPosts {
				t.Errorf("%d invitations sent, want %d", got, tc.wantPosts)
			}
			waited := time.Duration(0)
			for _, w := range vc.waits {
				if w == 3*time.Second {
					waited += w
				}
			}
			if want := time.Duration(len(tc.budget.asked)-1) * 3 * time.Second; !tc.wantErr && waited != want {
				t.Errorf("waited %v for the budget, want %v (asked %v)", waited, want, tc.budget.asked)
			}
			// The gate is asked before the first reservation and again
			// after every wait: its check is stale by then.
			if want := int64(len(tc.budget.asked)); gate.n.Load() != want {
				t.Errorf("the gate was asked %d times, want %d", gate.n.Load(), want)
			}
		})
	}
}
