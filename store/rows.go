package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/foyer-dev/foyer"
)

// ReadRunRows reads, in tx, the rows of a run after line after that keep
// accepts (nil accepts every row), until it has limit of them. It returns
// them, the last line it read (accepted or not: where the next read starts)
// and whether it read to the end of the run.
func ReadRunRows(ctx context.Context, tx Tx, runID string, after, limit int, keep func(foyer.Row) bool) (rows []foyer.Row, last int, end bool, err error) {
	errFull := errors.New("limit reached")
	last = after
	err = tx.RunRows(ctx, runID, after, func(r foyer.Row) error {
		last = r.Line
		if keep == nil || keep(r) {
			if rows = append(rows, r); len(rows) == limit {
				return errFull
			}
		}
		return nil
	})
	switch {
	case err == nil:
		return rows, last, true, nil
	case errors.Is(err, errFull):
		return rows, last, false, nil
	default:
		return nil, after, false, err
	}
}

// EachRunRow calls fn for each row of a run in line order. It reads the
// ledger a page at a time, each page in its own short transaction, and calls
// fn between them, so a slow consumer (a terminal, a pipe, a notifier) holds
// no transaction open and memory does not grow with the run.
func EachRunRow(ctx context.Context, s Store, runID string, fn func(foyer.Row) error) error {
	const page = 1000
	for after, end := 0, false; !end; {
		var (
			rows []foyer.Row
			last int
		)
		err := s.InTx(ctx, func(tx Tx) error {
			var err error
			rows, last, end, err = ReadRunRows(ctx, tx, runID, after, page, nil)
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
		after = last
	}
	return nil
}
