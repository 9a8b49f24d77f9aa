package cli

import "github.com/foyer-dev/foyer/sim"

// WriteSimFiles writes the configuration for s into dir, as `foyer sim
// --dir` does, and returns its path.
func WriteSimFiles(s *sim.Server, dir string) (string, error) {
	r, err := writeSimFiles(s, dir, false)
	return r.Config, err
}
