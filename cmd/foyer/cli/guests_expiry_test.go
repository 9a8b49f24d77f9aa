package cli_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/chaos"
)

// TestExpireKilledHalfwayRemovesEveryGrantOnce: a real foyer guests
// expire is SIGKILLed half way through its revoke run; the next one
// finishes that run instead of starting another: every grant is removed
// once (the sim's DELETE counter is the judge), nobody is left in the
// group, every request is expired, and a third run has nothing to do.
func TestExpireKilledHalfwayRemovesEveryGrantOnce(t *testing.T) {
	t.Parallel()
	bin, s, dir, config := processWorld(t, sim.Options{Latency: chaos.Latency{Median: 20 * time.Millisecond, P99: 60 * time.Millisecond}}, "")
	b, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	withExpiry := strings.Replace(string(b), "  partners:\n", "  partners:\n    expiry: 30d\n", 1)
	if withExpiry == string(b) {
		t.Fatalf("no profile partners in the configuration:\n%s", b)
	}
	if err := os.WriteFile(config, []byte(withExpiry), 0o600); err != nil {
		t.Fatal(err)
	}
	file, _ := peopleFile(t, dir, "expiring", 30)
	demoApp := func() int {
		for _, g := range s.Snapshot().Groups {
			if g.DisplayName == "DemoApp" {
				return len(g.Members)
			}
		}
		t.Fatal("the sim has no group DemoApp")
		return 0
	}
	before := demoApp() // the sim's own members
	// Applied 31 days ago, as the ledger sees it: every access has ended.
	var out, errs strings.Builder
	code := cli.Run(context.Background(), cli.Env{Args: applyArgs(config, file), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs,
		Getenv: func(string) string { return "" }, Clock: foyer.ClockFunc(func() time.Time { return time.Now().Add(-31 * 24 * time.Hour) })})
	if code != cli.ExitOK {
		t.Fatalf("apply exit %d: %s", code, errs.String())
	}
	if n := demoApp(); n != before+30 {
		t.Fatalf("DemoApp holds %d members after the apply, want %d", n, before+30)
	}
	removals := func() int64 {
		var n int64
		for route, c := range s.Stats().Routes {
			if strings.HasPrefix(route, "DELETE ") {
				n += c
			}
		}
		return n
	}
	args := []string{"guests", "expire", "--yes", "--config", config}
	p := startProc(t, exec.Command(bin, args...))
	eventually(t, time.Minute, "the expiry removes grants", func() bool { return removals() >= 8 })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)
	t.Logf("killed after %d removals", removals())
	again, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("the expiry run again: %v\n%s", err, again)
	}
	if !strings.Contains(string(again), "1 interrupted expiry run finished") {
		t.Errorf("the second expiry did not finish the first's run:\n%s", again)
	}
	if n := strings.Count(string(again), ": expired ("); n != 30 {
		t.Errorf("the second expiry shows %d people expired, want 30:\n%s", n, again)
	}
	if n := removals(); n != 30 {
		t.Errorf("%d removals reached the tenant, want 30: each grant once", n)
	}
	if n := demoApp(); n != before {
		t.Errorf("DemoApp holds %d members after the expiry, want the %d it held before the apply", n, before)
	}
	third, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || !strings.Contains(string(third), "Nothing due") || !strings.Contains(string(third), "0 guests with an end") {
		t.Errorf("a third expiry: %v\n%s", err, third)
	}
}
