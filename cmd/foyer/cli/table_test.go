package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestTableWidths(t *testing.T) {
	t.Parallel()
	long := "a.very.long.local.part.of.an.address@a-subdomain.of.northwind-traders.example"
	reason := "already a guest (PendingAcceptance); missing 3 of 3 grants: group DemoApp, app role DemoApp, license"
	for _, width := range []int{60, 80, 132, 200} {
		var b bytes.Buffer
		tb := newTable(&b, width)
		tb.row("1234567", "duplicate", long, reason)
		tb.row("3", "invite", "李小龍@例え.jp", "名前が長い理由"+strings.Repeat("。", 40))
		for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			if n := cellsOf(l); n >= width {
				t.Errorf("width %d: a line of %d columns: %q", width, n, l)
			}
		}
	}
	var b bytes.Buffer
	tb := newTable(&b, 0)
	tb.row("1", "exists", long, reason)
	if !strings.Contains(b.String(), long) || !strings.Contains(b.String(), reason) {
		t.Errorf("off a terminal a value was cut:\n%s", b.String())
	}
}

func TestPrintable(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ana@x.example":               "ana@x.example",
		"evil\x1b[2J@x.example":       "evil?[2J@x.example",
		"a\u202egnp.exe@x.example":    "a?gnp.exe@x.example",
		"two\r\nlines\tand a tab":     "two  lines and a tab",
		"bell\x07 and C1 \u009b here": "bell? and C1 ? here",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}
