package sim

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"
)

// Stats counts what the tenant was asked to do (GET /_sim/stats).
// Reads, Writes and Routes count the Graph, ARM and Exchange calls that
// reached their handler (after authentication, permission and throttling);
// Throttled counts the 429 answers and Faults the injected faults.
type Stats struct {
	InvitationsByEmail map[string]int   `json:"invitations_by_email"` // POST /invitations answered 201, per lowercased address
	Writes             int64            `json:"writes"`
	Reads              int64            `json:"reads"`
	Throttled          int64            `json:"throttled"`
	Faults             int64            `json:"faults"`
	Routes             map[string]int64 `json:"routes"` // "POST /v1.0/invitations" → count
	// DisablesByUser counts the PATCH /users/{id} answered 204 that set
	// accountEnabled to false, per user object id (lowercased);
	// DeletesByUser the DELETE /users/{id} answered 204.
	DisablesByUser map[string]int `json:"disables_by_user"`
	DeletesByUser  map[string]int `json:"deletes_by_user"`
	// ResetsByUser counts the POST /invitations with resetRedemption
	// answered 201, per user object id (lowercased): a reset is an
	// invitation too, and is also counted in InvitationsByEmail.
	ResetsByUser map[string]int `json:"resets_by_user"`
}

type stats struct {
	writes, reads, throttled, faults atomic.Int64

	mu          sync.Mutex
	routes      map[string]int64
	invitations map[string]int
	disables    map[string]int
	deletes     map[string]int
	resets      map[string]int
}

func newStats() *stats {
	return &stats{routes: map[string]int64{}, invitations: map[string]int{}, disables: map[string]int{}, deletes: map[string]int{}, resets: map[string]int{}}
}

func (st *stats) route(name string, write bool) {
	if write {
		st.writes.Add(1)
	} else {
		st.reads.Add(1)
	}
	st.mu.Lock()
	st.routes[name]++
	st.mu.Unlock()
}

func (st *stats) invited(email string) {
	st.mu.Lock()
	st.invitations[strings.ToLower(email)]++
	st.mu.Unlock()
}

// disabled and deleted count a user's disables and deletes.
func (st *stats) disabled(id string) {
	st.mu.Lock()
	st.disables[strings.ToLower(id)]++
	st.mu.Unlock()
}

func (st *stats) deleted(id string) {
	st.mu.Lock()
	st.deletes[strings.ToLower(id)]++
	st.mu.Unlock()
}

// redemptionReset counts a reset of the user's redemption.
func (st *stats) redemptionReset(id string) {
	st.mu.Lock()
	st.resets[strings.ToLower(id)]++
	st.mu.Unlock()
}

func (st *stats) throttle() { st.throttled.Add(1) }
func (st *stats) fault()    { st.faults.Add(1) }

func (st *stats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	return Stats{
		InvitationsByEmail: maps.Clone(st.invitations),
		Writes:             st.writes.Load(),
		Reads:              st.reads.Load(),
		Throttled:          st.throttled.Load(),
		Faults:             st.faults.Load(),
		Routes:             maps.Clone(st.routes),
		DisablesByUser:     maps.Clone(st.disables),
		DeletesByUser:      maps.Clone(st.deletes),
		ResetsByUser:       maps.Clone(st.resets),
	}
}

func (st *stats) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.writes.Store(0)
	st.reads.Store(0)
	st.throttled.Store(0)
	st.faults.Store(0)
	st.routes = map[string]int64{}
	st.invitations = map[string]int{}
	st.disables = map[string]int{}
	st.deletes = map[string]int{}
	st.resets = map[string]int{}
}

// Stats returns the counters (the content of GET /_sim/stats).
func (s *Server) Stats() Stats { return s.stats.snapshot() }
