package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
)

// benchArgs is shaped like the engine's provisioning job: unique by its
// arguments, so each insert also checks for a duplicate.
type benchArgs struct {
	RunID     string   `json:"run_id" river:"unique"`
	RequestID string   `json:"request_id" river:"unique"`
	Line      int      `json:"line"`
	Grants    []string `json:"grants"`
}

func (benchArgs) Kind() string { return "storetest_bench" }

// Benchmark measures what apply does for each row of a file: in one
// transaction per batch of rows, create the request, move it to approved
// and then provisioning, and insert its unique job. One op is one row, so
// ns/op is the cost per row. s must be empty; its rows are left behind.
func Benchmark(b *testing.B, s store.Store, batch int) {
	q, err := s.Queue(nil)
	if err != nil {
		b.Fatalf("Queue: %v", err)
	}
	unique := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
	ctx := context.Background()
	n := 0
	b.ResetTimer()
	for n < b.N {
		size := min(batch, b.N-n)
		err := s.InTx(ctx, func(tx store.Tx) error {
			for i := range size {
				line := n + i + 2
				r := &foyer.Request{ID: fmt.Sprintf("req-%d", line), RunID: "run-bench", Origin: foyer.OriginCSV, Line: line,
					Email: foyer.Address(fmt.Sprintf("guest%d@example.com", line)), Profile: "partners", State: foyer.StateReceived}
				if err := tx.CreateRequest(ctx, r); err != nil {
					return err
				}
				if err := tx.MoveRequest(ctx, r, foyer.StateApproved, ""); err != nil {
					return err
				}
				if err := tx.MoveRequest(ctx, r, foyer.StateProvisioning, ""); err != nil {
					return err
				}
				args := benchArgs{RunID: r.RunID, RequestID: r.ID, Line: line, Grants: []string{"group:g1", "app:a1/r1"}}
				if _, _, err := q.InsertTx(ctx, tx, args, unique); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("batch at row %d: %v", n, err)
		}
		n += size
	}
}

// Benchmarks runs Benchmark with 1, 100 and 1000 rows per transaction,
// each on a new, empty store from open.
func Benchmarks(b *testing.B, open func(b *testing.B) store.Store) {
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			Benchmark(b, open(b), batch)
		})
	}
}

// GuestListSize is how many guests GuestListBenchmarks lists: the approver
// UI's list must stay quick at this size.
const GuestListSize = 100_000

// GuestListBenchmarks measures the approver UI's guest list on a store
// holding GuestListSize guests: a page of 100 from the middle, the count of
// every guest, and a search with its count (which reads every guest).
func GuestListBenchmarks(b *testing.B, open func(b *testing.B) store.Store) {
	s := open(b)
	ctx := context.Background()
	for from := 0; from < GuestListSize; from += 5000 {
		err := s.InTx(ctx, func(tx store.Tx) error {
			for i := from; i < from+5000; i++ {
				g := &foyer.Guest{UserID: fmt.Sprintf("u-%06d", i), Email: foyer.Address(fmt.Sprintf("guest%06d@partner%d.example", i, i%50)),
					DisplayName: fmt.Sprintf("Guest %d", i), UPN: fmt.Sprintf("guest%06d_partner%d.example#EXT#@contoso.onmicrosoft.com", i, i%50)}
				if err := tx.PutGuest(ctx, g); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("record guests from %d: %v", from, err)
		}
	}
	for _, c := range []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"page", func(tx store.Tx) error {
			n := 0
			err := tx.ListGuests(ctx, store.GuestFilter{After: "guest050000@partner0.example", Limit: 100},
				func(*foyer.Guest) error { n++; return nil })
			if err == nil && n != 100 {
				err = fmt.Errorf("a page of %d guests, want 100", n)
			}
			return err
		}},
		{"count", func(tx store.Tx) error {
			n, err := tx.CountGuests(ctx, "")
			if err == nil && n != GuestListSize {
				err = fmt.Errorf("counted %d guests, want %d", n, GuestListSize)
			}
			return err
		}},
		{"search", func(tx store.Tx) error {
			n := 0
			err := tx.ListGuests(ctx, store.GuestFilter{Query: "PARTNER7.", Limit: 100}, func(*foyer.Guest) error { n++; return nil })
			if err == nil && n != 100 {
				err = fmt.Errorf("a page of %d guests, want 100", n)
			}
			return err
		}},
		{"search count", func(tx store.Tx) error {
			n, err := tx.CountGuests(ctx, "PARTNER7.")
			if err == nil && n != GuestListSize/50 {
				err = fmt.Errorf("counted %d guests, want %d", n, GuestListSize/50)
			}
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := s.InTx(ctx, c.fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
