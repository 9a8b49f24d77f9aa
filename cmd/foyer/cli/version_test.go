package cli

import (
	"testing"
)

func TestProgram(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                 "foyer",
		"foyer":                            "foyer",
		"./foyer":                          "./foyer",
		"/usr/local/bin/foyer":             "/usr/local/bin/foyer",
		"/tmp/go-build1234/b001/exe/foyer": "go run ./cmd/foyer",
	} {
		env := &Env{Program: in}
		if got := env.program(); got != want {
			t.Errorf("program(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatVersion(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v, rev, at string
		mod        bool
		goV, want  string
	}{
		{"v1.4.0", "", "", false, "", "v1.4.0"},
		{"v1.4.0", "", "", false, "go1.26.0", "v1.4.0 (go1.26.0)"},
		{"devel", "3f2a9c1d0b7e55aa", "2026-05-02T09:14:00Z", true, "go1.26.0", "devel (commit 3f2a9c1d0b7e, 2026-05-02T09:14:00Z, modified, go1.26.0)"},
	} {
		if got := formatVersion(tt.v, tt.rev, tt.at, tt.mod, tt.goV); got != tt.want {
			t.Errorf("formatVersion = %q, want %q", got, tt.want)
		}
	}
}
