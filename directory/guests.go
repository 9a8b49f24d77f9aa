package directory

import (
	"hash/maphash"
	"math"

	"github.com/foyer-dev/foyer"
)

// GuestIndex is every guest of a tenant as one read saw them, kept small
// so that a plan of a million rows can look all its chunks up in it
// instead of reading the tenant once per chunk.
//
// It keeps no addresses: each address form a guest carries (lowercased) is
// a 128-bit hash pointing to the guest, with how the guest carries it
// (its rank: lower is better, as Find prefers mail to a proxy address).
// Of each guest it keeps the object id, user type and redemption state,
// which is what a plan decides on. Two different addresses with the same
// 128-bit hash would be taken for one; the chance, for a million forms, is
// about one in 10^26.
//
// A GuestIndex is built once (Add) and then only read (Find, Lookup), which
// is safe from several goroutines.
type GuestIndex struct {
	seeds  [2]maphash.Seed
	keys   map[[2]uint64]indexHit
	ids    []byte // the guests' object ids, end to end
	guests []indexedGuest
	words  []string // user types and states, each kept once
}

type indexHit struct {
	guest uint32
	rank  uint8
}

type indexedGuest struct {
	end       uint32 // where the guest's id ends in ids; it starts where the previous one's ends
	userType  uint8  // index into words
	userState uint8  // index into words
}

// NewGuestIndex returns an empty index sized for about guests guests.
func NewGuestIndex(guests int) *GuestIndex {
	guests = max(0, min(guests, 50_000_000))
	return &GuestIndex{
		seeds:  [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		keys:   make(map[[2]uint64]indexHit, 2*guests),
		ids:    make([]byte, 0, 36*guests),
		guests: make([]indexedGuest, 0, guests),
	}
}

// Add records a guest: p's id, user type and redemption state, under every
// address form forms yields (lowercased, with its rank, lower better).
// When two guests carry the same form, the better rank wins, and between
// equal ranks the one added first.
func (x *GuestIndex) Add(p Person, forms func(yield func(key string, rank int))) {
	if len(x.guests) == math.MaxUint32 || len(x.ids)+len(p.ID) > math.MaxUint32 {
		return // beyond any tenant's quota; a Find of such an address finds nobody
	}
	i := uint32(len(x.guests))
	x.ids = append(x.ids, p.ID...)
	x.guests = append(x.guests, indexedGuest{end: uint32(len(x.ids)), userType: x.word(p.UserType), userState: x.word(p.ExternalUserState)})
	forms(func(key string, rank int) {
		r := uint8(min(max(rank, 0), math.MaxUint8))
		h := x.hash(key)
		if old, ok := x.keys[h]; !ok || r < old.rank {
			x.keys[h] = indexHit{guest: i, rank: r}
		}
	})
}

// word returns the index of s in x.words, adding it. There are a handful
// (Guest, Member; PendingAcceptance, Accepted, ""); past 255 the last
// word stands for the rest.
func (x *GuestIndex) word(s string) uint8 {
	for i, w := range x.words {
		if w == s {
			return uint8(i)
		}
	}
	if len(x.words) == math.MaxUint8+1 {
		return math.MaxUint8
	}
	x.words = append(x.words, s)
	return uint8(len(x.words) - 1)
}

func (x *GuestIndex) hash(key string) [2]uint64 {
	return [2]uint64{maphash.String(x.seeds[0], key), maphash.String(x.seeds[1], key)}
}

// Len returns the number of guests indexed.
func (x *GuestIndex) Len() int { return len(x.guests) }

// Lookup returns the guest who carries a, with its ID, UserType and
// ExternalUserState set (nothing else is kept).
func (x *GuestIndex) Lookup(a foyer.Address) (Person, bool) {
	if a == "" {
		return Person{}, false
	}
	h, ok := x.keys[x.hash(a.Key())]
	if !ok {
		return Person{}, false
	}
	g := x.guests[h.guest]
	start := uint32(0)
	if h.guest > 0 {
		start = x.guests[h.guest-1].end
	}
	return Person{ID: string(x.ids[start:g.end]), UserType: x.words[g.userType], ExternalUserState: x.words[g.userState]}, true
}

// Find answers as Directory.Find would for the guests indexed: the people
// found, keyed by Address.Key.
func (x *GuestIndex) Find(emails []foyer.Address) map[string]Person {
	found := make(map[string]Person)
	for _, a := range emails {
		if p, ok := x.Lookup(a); ok {
			found[a.Key()] = p
		}
	}
	return found
}
