package source

import "hash/maphash"

// seen remembers the addresses read so far, and the line of each, in about
// 16 bytes of map slot per distinct address instead of the address itself:
// the map's key is one 64-bit hash of the address's Key and its value packs
// the top 32 bits of a second, independent hash with the line number. Two
// different addresses are taken for the same only if all 96 bits agree: for
// a million distinct addresses the chance that this happens anywhere in the
// file is about n²/2⁹⁷ ≈ 10⁻¹⁷. When only the first hash agrees (about
// n²/2⁶⁵ ≈ 3·10⁻⁸ per million-row file) the address goes to a small exact
// map instead, so that it is never mistaken for the other.
//
// The hashes are seeded at random for each file, so no input can be crafted
// to collide.
type seen struct {
	h1, h2   func(string) uint64
	m        map[uint64]uint64
	overflow map[string]int
}

func newSeen() *seen {
	s1, s2 := maphash.MakeSeed(), maphash.MakeSeed()
	return &seen{
		h1: func(k string) uint64 { return maphash.String(s1, k) },
		h2: func(k string) uint64 { return maphash.String(s2, k) },
		m:  make(map[uint64]uint64),
	}
}

// add records key as seen on line, unless it was seen before: then it
// returns the line where it was first seen.
func (s *seen) add(key string, line int) (first int, dup bool) {
	k, check := s.h1(key), s.h2(key)>>32
	v, ok := s.m[k]
	switch {
	case !ok:
		s.m[k] = check<<32 | uint64(uint32(line))
		return 0, false
	case v>>32 == check:
		return int(uint32(v)), true
	}
	if s.overflow == nil {
		s.overflow = make(map[string]int)
	}
	if first, ok := s.overflow[key]; ok {
		return first, true
	}
	s.overflow[key] = line
	return 0, false
}

// len returns the number of distinct addresses seen.
func (s *seen) len() int { return len(s.m) + len(s.overflow) }
