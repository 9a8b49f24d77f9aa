package cli

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"
)

// logger returns the logger for a command, writing to stderr at the level the
// --log-level flag names. Unless the flag is given, the job queue's own
// records (River's, component=river) are kept to errors: its information and
// warnings (a job that errored and will be retried, a soft stop timing out
// on Ctrl-C) are about its machinery, and what they mean for a row is in the
// row's result.
func logger(cmd *cobra.Command, env *Env) (*slog.Logger, error) {
	name, _ := cmd.Flags().GetString("log-level")
	var level slog.Level
	if err := level.UnmarshalText([]byte(name)); err != nil {
		return nil, usageError("--log-level %q: want debug, info, warn or error", name)
	}
	var h slog.Handler = slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level})
	if f := cmd.Flags().Lookup("log-level"); f == nil || !f.Changed {
		h = quietComponent{Handler: h, component: "river", floor: slog.LevelError}
	}
	return slog.New(h), nil
}

// quietComponent passes the records of one component (a logger made with
// With("component", name)) only from floor up, and every other record as
// its handler would.
type quietComponent struct {
	slog.Handler
	component string
	floor     slog.Level
	in        bool // this handler's records are the component's
}

func (h quietComponent) Enabled(ctx context.Context, l slog.Level) bool {
	if h.in && l < h.floor {
		return false
	}
	return h.Handler.Enabled(ctx, l)
}

func (h quietComponent) Handle(ctx context.Context, r slog.Record) error {
	if h.in && r.Level < h.floor {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietComponent) WithAttrs(as []slog.Attr) slog.Handler {
	in := h.in
	for _, a := range as {
		if a.Key == "component" {
			in = a.Value.String() == h.component
		}
	}
	return quietComponent{Handler: h.Handler.WithAttrs(as), component: h.component, floor: h.floor, in: in}
}

func (h quietComponent) WithGroup(name string) slog.Handler {
	return quietComponent{Handler: h.Handler.WithGroup(name), component: h.component, floor: h.floor, in: h.in}
}
