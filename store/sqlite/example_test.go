package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/riverqueue/river"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// provisionArgs is a job caused by a ledger write.
type provisionArgs struct {
	RequestID string `json:"request_id" river:"unique"`
}

func (provisionArgs) Kind() string { return "example.provision" }

// A request is approved and its job inserted in one transaction: the job
// exists if and only if the approval is recorded.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "foyer-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sqlite.Open(ctx, filepath.Join(dir, "ledger.db"), sqlite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	q, err := db.Queue(nil) // inserts only; give Workers and Queues to work jobs
	if err != nil {
		log.Fatal(err)
	}
	unique := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}

	for range 2 {
		err = db.InTx(ctx, func(tx store.Tx) error {
			r, err := tx.FindRequest(ctx, "partners", "Ann@Example.com")
			if foyer.ErrorCode(err) == foyer.ENOTFOUND {
				r = &foyer.Request{ID: "req-1", Origin: foyer.OriginAPI, Email: "ann@example.com", Profile: "partners"}
				if err := tx.CreateRequest(ctx, r); err != nil {
					return err
				}
				if err := tx.MoveRequest(ctx, r, foyer.StateApproved, "approved by sam@example.com"); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			_, inserted, err := q.InsertTx(ctx, tx, provisionArgs{RequestID: r.ID}, unique)
			fmt.Printf("%s is %s; job inserted: %v\n", r.ID, r.State, inserted)
			return err
		})
		if err != nil {
			log.Fatal(err)
		}
	}

	err = db.InTx(ctx, func(tx store.Tx) error {
		h, err := tx.History(ctx, "req-1")
		for _, t := range h {
			fmt.Printf("%q → %s (%s)\n", t.From, t.To, t.Note)
		}
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// req-1 is approved; job inserted: true
	// req-1 is approved; job inserted: false
	// "" → received (created)
	// "received" → approved (approved by sam@example.com)
}
