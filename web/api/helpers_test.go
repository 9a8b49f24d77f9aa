package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
	"github.com/foyer-dev/foyer/web"
	"github.com/foyer-dev/foyer/web/api"
)

// openLedger opens a private SQLite ledger in memory: the API reads the
// real one, with its keys, idempotency keys and guest pages.
func openLedger(t *testing.T) store.Store {
	t.Helper()
	db, err := sqlite.Open(t.Context(), ":memory:", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// inTx runs fn in a ledger transaction or fails the test.
func inTx(t *testing.T, l store.Store, fn func(context.Context, store.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := l.InTx(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func addGuests(t *testing.T, l store.Store, gs ...*foyer.Guest) {
	t.Helper()
	inTx(t, l, func(ctx context.Context, tx store.Tx) error {
		for _, g := range gs {
			if err := tx.PutGuest(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
}

// fakeIntake is a small engine with state: requests by id, refusals as the
// engine gives them, idempotency keys recorded in the ledger.
//   - profile "partners" is open; "closed" refuses applications; others are unknown
//   - contoso.example is the tenant's own domain
//   - auto.example is approved and invited at once; other domains wait for approval
//   - an address that is a guest already is refused
type fakeIntake struct {
	ledger store.Store
	mu     sync.Mutex
	reqs   map[string]*foyer.RequestView
	n      int
	subs   []foyer.Submission
}

func newFakeIntake(l store.Store) *fakeIntake {
	return &fakeIntake{ledger: l, reqs: map[string]*foyer.RequestView{}}
}

func (f *fakeIntake) Submit(ctx context.Context, s foyer.Submission) (foyer.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, s)
	addr, err := foyer.ParseAddress(s.Email)
	if err != nil {
		return foyer.Receipt{}, err
	}
	switch {
	case s.Profile == "closed":
		return foyer.Receipt{}, foyer.Errorf(foyer.EFORBIDDEN, "profile closed may not be asked for by applications")
	case s.Profile != "partners":
		return foyer.Receipt{}, foyer.Errorf(foyer.EINVALID, "there is no profile %q", s.Profile)
	case addr.Domain() == "contoso.example":
		return foyer.Receipt{}, foyer.Errorf(foyer.EFORBIDDEN, "%s is an address of the tenant itself: employees are not invited", addr)
	}
	var again *foyer.Receipt
	err = f.ledger.InTx(ctx, func(tx store.Tx) error {
		if s.IdempotencyKey != "" {
			k, err := tx.IdempotencyKeyOf(ctx, s.By.ID, s.IdempotencyKey)
			switch {
			case err == nil && k.BodyHash != s.BodyHash:
				return foyer.Errorf(foyer.ECONFLICT, "the idempotency key was used with another body")
			case err == nil:
				again = &foyer.Receipt{Request: f.reqs[k.RequestID].Request, Again: true}
				return nil
			}
		}
		if _, err := tx.GuestByEmail(ctx, addr); err == nil {
			return foyer.Errorf(foyer.ECONFLICT, "%s is a guest already, holding profile partners", addr)
		}
		return nil
	})
	if err != nil || again != nil {
		return *orZero(again), err
	}
	f.n++
	now := time.Date(2026, 3, 1, 9, f.n, 0, 0, time.UTC)
	r := &foyer.Request{ID: fmt.Sprintf("req-%d", f.n), Origin: s.Origin, Email: addr, DisplayName: s.DisplayName, Profile: s.Profile,
		State: foyer.StatePendingApproval, Details: s.Details, Stage: 1, StageDue: now.Add(foyer.DefaultStageTimeout), CreatedAt: now, UpdatedAt: now}
	v := &foyer.RequestView{Request: r, Verified: true, History: []foyer.Transition{{To: foyer.StateReceived, At: now}, {From: foyer.StateReceived, To: foyer.StatePendingApproval, At: now}}}
	if addr.Domain() == "auto.example" {
		r.State, r.Stage, r.StageDue, r.UserID = foyer.StateInvited, 0, time.Time{}, "guest-"+r.ID
		v.History[1].To = foyer.StateApproved
		v.History = append(v.History, foyer.Transition{From: foyer.StateApproved, To: foyer.StateProvisioning, At: now}, foyer.Transition{From: foyer.StateProvisioning, To: foyer.StateInvited, At: now})
		v.AccessEnds = now.Add(30 * 24 * time.Hour) // the profile's expiry
	}
	f.reqs[r.ID] = v
	if s.IdempotencyKey != "" {
		// As the engine does: the request and its key in one transaction.
		err := f.ledger.InTx(ctx, func(tx store.Tx) error {
			c := *r
			if err := tx.CreateRequest(ctx, &c); err != nil {
				return err
			}
			return tx.PutIdempotencyKey(ctx, store.IdempotencyKey{Client: s.By.ID, Key: s.IdempotencyKey, BodyHash: s.BodyHash, RequestID: r.ID})
		})
		if err != nil {
			return foyer.Receipt{}, err
		}
	}
	return foyer.Receipt{Request: r}, nil
}

func orZero[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	return p
}

func (f *fakeIntake) View(_ context.Context, id string) (foyer.RequestView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.reqs[id]
	if !ok {
		return foyer.RequestView{}, foyer.Errorf(foyer.ENOTFOUND, "there is no request %s", id)
	}
	return *v, nil
}

func (f *fakeIntake) RevokeRequest(_ context.Context, id string, who foyer.Principal) (*foyer.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.reqs[id]
	if !ok {
		return nil, foyer.Errorf(foyer.ENOTFOUND, "there is no request %s", id)
	}
	if err := v.Request.State.CheckMove(foyer.StateRevoked); err != nil {
		return nil, err
	}
	v.History = append(v.History, foyer.Transition{From: v.Request.State, To: foyer.StateRevoked, Note: "by " + who.String()})
	v.Request.State = foyer.StateRevoked
	return v.Request, nil
}

// AskExtension keeps the engine's rules the API answers with: an unknown
// request, one that holds no access, an end not later than the current
// one; otherwise it is approved at once and moves the end.
func (f *fakeIntake) AskExtension(_ context.Context, id string, who foyer.Principal, until time.Time, justification string) (*foyer.Extension, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.reqs[id]
	switch {
	case !ok:
		return nil, foyer.Errorf(foyer.ENOTFOUND, "there is no request %s", id)
	case v.Request.State != foyer.StateInvited && v.Request.State != foyer.StateActive:
		return nil, foyer.Errorf(foyer.ECONFLICT, "request %s is %s: only access granted is extended", id, v.Request.State)
	case !until.After(v.AccessEnds):
		return nil, foyer.Errorf(foyer.EINVALID, "the end asked for is not later than the current end of access")
	}
	f.n++
	now := time.Date(2026, 3, 2, 9, f.n, 0, 0, time.UTC)
	x := &foyer.Extension{ID: fmt.Sprintf("ext-%d", f.n), RequestID: id, Until: until, Justification: justification, AskedBy: who.String(),
		State: foyer.ExtensionApproved, DecidedBy: "policy", CreatedAt: now, UpdatedAt: now}
	v.AccessEnds, v.Extension = until, x
	return x, nil
}

var _ api.Intake = (*fakeIntake)(nil)

// env is an API served the way web.New would route it, with an API key.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	ledger store.Store
	intake *fakeIntake
	key    string // a working API key, named crm
}

func newEnv(t *testing.T, auth func(store.Store) *api.Authenticator) *env {
	t.Helper()
	e := &env{t: t, ledger: openLedger(t)}
	e.intake = newFakeIntake(e.ledger)
	key, hash, prefix, err := api.NewKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	e.key = key
	inTx(t, e.ledger, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateAPIKey(ctx, store.APIKey{Name: "crm", Hash: hash, Prefix: prefix, CreatedAt: tx.Now()})
	})
	var a *api.Authenticator
	if auth != nil {
		a = auth(e.ledger)
	} else {
		a, err = api.NewAuthenticator(t.Context(), api.AuthOptions{Ledger: e.ledger})
		if err != nil {
			t.Fatal(err)
		}
	}
	h, err := api.New(api.Options{Intake: e.intake, Ledger: e.ledger, Auth: a, MaxBody: 4096})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(mux(h.Routes()))
	t.Cleanup(e.srv.Close)
	return e
}

// mux routes like web.New, without its middleware.
func mux(routes []web.Route) *http.ServeMux {
	m := http.NewServeMux()
	for _, r := range routes {
		m.Handle(r.Method+" "+r.Pattern, r.Handler)
	}
	return m
}

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (e *env) do(method, path, auth, body string, header ...string) answer {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			e.t.Fatalf("%s %s: %d, body not a JSON object: %.300s", method, path, resp.StatusCode, raw)
		}
	}
	return a
}

func (e *env) bearer() string { return "Bearer " + e.key }

// fields returns the field names of a problem's errors.
func (a answer) fields() []string {
	var out []string
	errs, _ := a.body["errors"].([]any)
	for _, fe := range errs {
		out = append(out, fe.(map[string]any)["field"].(string))
	}
	slices.Sort(out)
	return out
}
