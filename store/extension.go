package store

import (
	"context"

	"github.com/foyer-dev/foyer"
)

// ExtensionFilter selects extensions. Zero fields match everything.
type ExtensionFilter struct {
	RequestID string
	States    []foyer.ExtensionState
}

// Extensions are the asks for more time for a guest's access, in the
// order they were asked.
type Extensions interface {
	// CreateExtension records a new extension (CreatedAt and UpdatedAt
	// set to the transaction's time). EINVALID if x fails its Check;
	// ECONFLICT, naming the pending one, if x is pending and its request
	// has a pending extension already: a request has at most one.
	CreateExtension(ctx context.Context, x *foyer.Extension) error
	// Extension returns an extension by id; ENOTFOUND if there is none.
	Extension(ctx context.Context, id string) (*foyer.Extension, error)
	// Extensions calls fn for each extension matching f, oldest first.
	Extensions(ctx context.Context, f ExtensionFilter, fn func(*foyer.Extension) error) error
	// MoveExtension writes x's State, Stage, StageDue, Escalated,
	// DecidedBy and Note if the stored extension is still in from
	// (ECONFLICT otherwise: someone else moved it). A final state
	// (approved, rejected, lapsed) moves no more. On success x.UpdatedAt
	// is the transaction's time.
	MoveExtension(ctx context.Context, x *foyer.Extension, from foyer.ExtensionState) error
}
