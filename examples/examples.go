// Package examples holds the example files foyer ships with, embedded so
// that `foyer demo` runs from the binary alone.
package examples

import _ "embed"

// GuestsCSV is examples/guests.csv: a guest list with every kind of row
// (new people, guests the emulated tenant already has, the organisation's
// own addresses, a refused domain, duplicates, invalid addresses).
//
//go:embed guests.csv
var GuestsCSV []byte
