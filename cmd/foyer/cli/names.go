package cli

import (
	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
)

// namer shows grants by name: rows carry grant keys from the plan to the
// job to the ledger, and the run (or the profile) knows their names.
type namer map[string]string

// row returns r with its grants named; a key without a name (a row
// recorded before grants travelled by key holds names) is shown as it is.
func (n namer) row(r foyer.Row) foyer.Row {
	if len(r.Grants) == 0 {
		return r
	}
	named := make([]string, len(r.Grants))
	for i, k := range r.Grants {
		if name, ok := n[k]; ok {
			named[i] = name
		} else {
			named[i] = k
		}
	}
	r.Grants = named
	return r
}

// sink names the grants of the rows in the events it passes on, learning
// the names from the run's started event.
func (n namer) sink(next engine.Sink) engine.Sink {
	return func(ev engine.Event) {
		for k, v := range ev.GrantNames {
			n[k] = v
		}
		if ev.Row != nil {
			r := n.row(*ev.Row)
			ev.Row = &r
		}
		next(ev)
	}
}
