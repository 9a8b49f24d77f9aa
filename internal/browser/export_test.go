package browser

import "testing"

// WithTB returns tab reporting to t instead of its test, to see how its
// helpers fail.
func WithTB(tab *Tab, t testing.TB) *Tab {
	c := *tab
	c.t = t
	return &c
}
