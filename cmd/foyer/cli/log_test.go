package cli

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestRiverQuietByDefault: the job queue's information and warnings stay
// out of the default output; its errors, and everything with --log-level,
// come through.
func TestRiverQuietByDefault(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args  []string
		river []string // the River records expected
	}{
		{nil, []string{"river error"}},
		{[]string{"--log-level", "info"}, []string{"river info", "river warn", "river error"}},
		{[]string{"--log-level", "warn"}, []string{"river warn", "river error"}},
	} {
		var b bytes.Buffer
		cmd := &cobra.Command{}
		cmd.Flags().String("log-level", "warn", "")
		if err := cmd.Flags().Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		log, err := logger(cmd, &Env{Stderr: &b})
		if err != nil {
			t.Fatal(err)
		}
		river := log.With("component", "engine").With("component", "river").With("client", "x")
		river.Info("river info")
		river.Warn("river warn")
		river.Error("river error")
		log.With("component", "engine").Warn("engine warn")
		log.WithGroup("g").With("component", "river").Log(context.Background(), slog.LevelWarn, "grouped river warn")
		got := b.String()
		want := map[string]bool{"engine warn": true, "grouped river warn": tt.args != nil}
		for _, r := range tt.river {
			want[r] = true
		}
		for _, m := range []string{"river info", "river warn", "river error", "grouped river warn", "engine warn"} {
			if has := strings.Contains(got, `msg="`+m+`"`); has != want[m] {
				t.Errorf("%v: %q logged %v, want %v:\n%s", tt.args, m, has, want[m], got)
			}
		}
	}
}
