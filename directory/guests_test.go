package directory_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

type form struct {
	key  string
	rank int
}

func forms(fs ...form) func(func(string, int)) {
	return func(yield func(string, int)) {
		for _, f := range fs {
			yield(f.key, f.rank)
		}
	}
}

func TestGuestIndex(t *testing.T) {
	t.Parallel()
	x := directory.NewGuestIndex(3)
	x.Add(directory.Person{ID: "a", UserType: "Guest", ExternalUserState: "Accepted"},
		forms(form{"ann@fabrikam.example", 0}, form{"shared@fabrikam.example", 2}))
	x.Add(directory.Person{ID: "b", UserType: "Guest", ExternalUserState: "PendingAcceptance"},
		forms(form{"shared@fabrikam.example", 1}, form{"tie@fabrikam.example", 3}))
	x.Add(directory.Person{ID: "c", UserType: "Guest"}, forms(form{"tie@fabrikam.example", 3}))
	for _, tc := range []struct {
		addr  foyer.Address
		id    string
		state string
	}{
		{"Ann@Fabrikam.example", "a", "Accepted"},
		{"shared@fabrikam.example", "b", "PendingAcceptance"}, // the better rank wins
		{"tie@fabrikam.example", "b", "PendingAcceptance"},    // equal ranks: the first added
		{"nobody@fabrikam.example", "", ""},
		{"", "", ""},
	} {
		p, ok := x.Lookup(tc.addr)
		if ok != (tc.id != "") || p.ID != tc.id || p.ExternalUserState != tc.state || ok && !p.Guest() {
			t.Errorf("Lookup(%q) = %+v, %v; want id %q, state %q", tc.addr, p, ok, tc.id, tc.state)
		}
	}
	if x.Len() != 3 {
		t.Errorf("Len %d", x.Len())
	}
	found := x.Find([]foyer.Address{"ANN@fabrikam.example", "nobody@fabrikam.example"})
	if len(found) != 1 || found["ann@fabrikam.example"].ID != "a" {
		t.Errorf("Find: %v", found)
	}
}

// TestGuestIndexIsSmall: guests with two distinct forms each (mail and
// #EXT# UPN, as a tenant's invited guests carry) take at most 200 bytes
// each, so 300,000 of them stay under 60 MB (go test -v prints the figure).
func TestGuestIndexIsSmall(t *testing.T) {
	const n = 20_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := directory.NewGuestIndex(n)
	for i := range n {
		mail := fmt.Sprintf("guest%d@bulk.example", i)
		upn := fmt.Sprintf("guest%d_bulk.example#ext#@contoso.onmicrosoft.com", i)
		x.Add(directory.Person{ID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), UserType: "Guest", ExternalUserState: "Accepted"},
			forms(form{mail, 0}, form{upn, 1}, form{mail, 2}, form{mail, 3}, form{mail, 4}))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	each := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%d guests, 2 forms each: %.0f bytes a guest", n, each)
	if each > 200 {
		t.Errorf("%.0f bytes a guest, want at most 200", each)
	}
	if p, ok := x.Lookup("guest19999@bulk.example"); !ok || p.ID != fmt.Sprintf("%08x-0000-4000-8000-000000000000", 19999) {
		t.Errorf("last guest: %+v, %v", p, ok)
	}
	runtime.KeepAlive(x)
}
