package foyer_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/foyer-dev/foyer"
)

// coded is a package's error type: a Coder whose text is safe.
type coded struct{ msg string }

func (c *coded) Error() string     { return c.msg }
func (c *coded) ErrorCode() string { return foyer.EUNAVAILABLE }

func TestErrorVocabulary(t *testing.T) {
	raw := errors.New(`Post "https://host/x?sig=SECRET": dial tcp: refused`)
	tests := []struct {
		name string
		err  error
		code string
		msg  string
	}{
		{"nil", nil, "", ""},
		{"foyer error, wrapped", fmt.Errorf("plan: %w", foyer.Errorf(foyer.EINVALID, "bad row")), foyer.EINVALID, "bad row"},
		{"a package's coder, wrapped", fmt.Errorf("send: %w", &coded{"webhook: HTTP 503"}), foyer.EUNAVAILABLE, "webhook: HTTP 503"},
		{"a library's error is never shown", fmt.Errorf("open: %w", raw), foyer.EINTERNAL, "internal error (the log has the detail)"},
	}
	for _, tt := range tests {
		if got := foyer.ErrorCode(tt.err); got != tt.code {
			t.Errorf("%s: ErrorCode = %q, want %q", tt.name, got, tt.code)
		}
		if got := foyer.ErrorMessage(tt.err); got != tt.msg {
			t.Errorf("%s: ErrorMessage = %q, want %q", tt.name, got, tt.msg)
		}
	}
}
