package sim

import (
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"sync"
)

// ids hands out identifiers (object ids, tickets, secrets) from one seeded
// source, so that a tenant started with the same Seed and driven by the same
// sequence of calls has the same ids.
type ids struct {
	mu  sync.Mutex
	rnd *rand.ChaCha8
}

func newIDs(seed int64) *ids {
	var key [32]byte
	for i := range 4 {
		v := uint64(seed) + uint64(i)*0x9e3779b97f4a7c15
		for j := range 8 {
			key[i*8+j] = byte(v >> (8 * j))
		}
	}
	return &ids{rnd: rand.NewChaCha8(key)}
}

func (g *ids) read(b []byte) {
	g.mu.Lock()
	_, _ = g.rnd.Read(b)
	g.mu.Unlock()
}

// uint64 returns a random number, for models that need one (latency, faults).
func (g *ids) uint64() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rnd.Uint64()
}

// guid returns a version 4 UUID in its canonical lowercase form.
func (g *ids) guid() string {
	var b [16]byte
	g.read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// token returns n random bytes in unpadded base64url, the shape of Graph's
// opaque ids (app role assignments) and of invitation tickets.
func (g *ids) token(n int) string {
	b := make([]byte, n)
	g.read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// isGUID reports whether s has the canonical 8-4-4-4-12 hexadecimal form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// reader is an io.Reader over the seeded source, for the models that take
// one.
func (g *ids) reader() idsReader { return idsReader{g} }

type idsReader struct{ g *ids }

func (r idsReader) Read(b []byte) (int, error) {
	r.g.read(b)
	return len(b), nil
}
