package cli

import "github.com/foyer-dev/foyer/sim"

// WriteSimFiles writes the configuration for s into dir, as `foyer sim
// --dir` does, and returns its path.
func WriteSimFiles(s *sim.Server, dir string) (string, error) {
	r, err := writeSimFiles(s, dir, false, nil)
	return r.Config, err
}

// WriteServeSimFiles is WriteSimFiles with what foyer serve needs, as
// foyer sim and foyer demo write it: the approvers and the web app seeded
// in s, a serve: section for port, and the public profile "requests".
func WriteServeSimFiles(s *sim.Server, dir string, port int) (config string, approver, password string, err error) {
	serve, err := seedServe(s, dir, port)
	if err != nil {
		return "", "", "", err
	}
	r, err := writeSimFiles(s, dir, false, serve)
	return r.Config, serve.Approver, serve.Password, err
}
