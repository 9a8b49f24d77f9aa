package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/foyer-dev/foyer"
)

// EachRunRow calls fn for each row of a run in line order. It reads the
// ledger a page at a time, each page in its own short transaction, and calls
// fn between them, so a slow consumer (a terminal, a pipe, a notifier) holds
// no transaction open and memory does not grow with the run.
func EachRunRow(ctx context.Context, s Store, runID string, fn func(foyer.Row) error) error {
	const page = 1000
	errFull := errors.New("page full")
	var rows []foyer.Row
	for after := 0; ; {
		err := s.InTx(ctx, func(tx Tx) error {
			rows = rows[:0]
			err := tx.RunRows(ctx, runID, after, func(r foyer.Row) error {
				if rows = append(rows, r); len(rows) == page {
					return errFull
				}
				return nil
			})
			if errors.Is(err, errFull) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("read the rows of run %s: %w", runID, err)
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rows) < page {
			return nil
		}
		after = rows[len(rows)-1].Line
	}
}
