package cli

import (
	"context"
	"io"
	"log/slog"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/web"
)

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

// ServeRoutes builds foyer serve from the configuration at path, as the
// serve command does, and returns its route table, without serving.
func ServeRoutes(ctx context.Context, path string) ([]web.Route, error) {
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Clock: foyer.SystemClock{}}
	c, err := config.Load(ctx, path)
	if err != nil {
		return nil, err
	}
	st, err := c.ServeSettings()
	if err != nil {
		return nil, err
	}
	sv, err := buildService(ctx, c, st, env, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return nil, err
	}
	defer sv.close()
	return sv.web.Routes(), nil
}

// ListInputs lists a blob prefix or a folder as foyer serve's triggers do.
func ListInputs(ctx context.Context, c *config.Config, spec string) ([]engine.SourceItem, error) {
	return inputSources{c: c, env: &Env{Getenv: func(string) string { return "" }}}.List(ctx, spec)
}
