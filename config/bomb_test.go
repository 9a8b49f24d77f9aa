package config_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/config"
)

// A bomb is a small file built to make a YAML reader use all the memory or
// time there is.
type bomb struct {
	name string
	data func() []byte
	want string // a fragment of the error
	load bool   // through Load (a file on disk) rather than Parse
}

var bombs = []bomb{
	// Ten lists of ten, each made of the one before: 10^10 strings once
	// aliases are expanded.
	{"billion laughs", laughs, "anchors, aliases and merge keys", false},
	{"100,000 [", func() []byte { return bytes.Repeat([]byte("["), 100_000) }, "more than 50,000 YAML tokens", false},
	{"20,000 [", func() []byte { return bytes.Repeat([]byte("["), 20_000) }, "nested more than 32 levels", false},
	{"15,000 {a:", func() []byte { return bytes.Repeat([]byte("{a: "), 15_000) }, "nested more than 32 levels", false},
	{"20,000 -", func() []byte { return append(bytes.Repeat([]byte("- "), 20_000), 'x') }, "nested more than 32 levels", false},
	{"8,000 keys", func() []byte {
		var b bytes.Buffer
		for i := range 8000 {
			fmt.Fprintf(&b, "k%d: v\n", i)
		}
		return b.Bytes()
	}, "more than 1,000 keys", false},
	{"a 1 GiB file", nil, "larger than 1 MiB", true},
	// Not a bomb: the heaviest file the bounds let through, which must
	// still be read within them.
	{"25,000 items", func() []byte {
		return []byte("profiles: {p: {groups: [" + strings.Repeat("a, ", 24_990) + "a]}}\n")
	}, "listed twice", false},
	{"2 MiB in memory", func() []byte {
		return append([]byte("profiles: {p: {groups: ["), bytes.Repeat([]byte("x,"), 1<<20)...)
	}, "larger than 1 MiB", false},
}

func laughs() []byte {
	var b bytes.Buffer
	b.WriteString("tenants:\n  t:\n    internal_domains:\n      - &a0 [")
	b.WriteString(strings.Repeat("lol.example, ", 9) + "lol.example]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "      - &a%d [%s*a%d]\n", i, strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), i-1)
	}
	return b.Bytes()
}

// bombResult is what the child process reports of one bomb.
type bombResult struct {
	Name  string
	Err   string
	Bytes uint64        // allocated while reading
	Took  time.Duration // spent reading
	Over  string        // set by the watchdog when the child ran away
}

const bombEnv = "FOYER_TEST_CONFIG_BOMBS"

// TestConfigBombs: every bomb is refused with a clear error, within a
// second and 100 MB of allocations (five seconds with the race detector).
// The bombs are read in a child process (this test binary again), so that
// a reader without bounds fails this test instead of exhausting the
// machine: the child stops itself once the Go runtime holds 1 GiB, and the
// parent kills it after a minute.
func TestConfigBombs(t *testing.T) {
	if os.Getenv(bombEnv) != "" {
		readBombs(t)
		return
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	// The bound on time only catches a reader that runs away (a bomb
	// expanded takes minutes); the memory bound below is the measure. On a
	// quiet machine each bomb takes well under 0.2 s (docs/benchmarks.md);
	// on a shared two-core machine under load, several seconds.
	limit := 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestConfigBombs$", "-test.count=1")
	cmd.Env = append(os.Environ(), bombEnv+"=1")
	out, err := cmd.CombinedOutput()
	results := parseBombResults(out)
	stopped := false // the child stopped at a bomb; the later ones were not read
	for _, b := range bombs {
		t.Run(b.name, func(t *testing.T) {
			r, ok := results[b.name]
			switch {
			case stopped:
				t.Skip("not read: the child stopped at an earlier bomb")
			case !ok && ctx.Err() != nil:
				stopped = true
				t.Fatalf("still reading after a minute (killed)")
			case !ok:
				stopped = true
				t.Fatalf("child failed: %v\n%s", err, tail(out))
			case r.Over != "":
				stopped = true
				t.Fatalf("ran away: %s", r.Over)
			}
			t.Logf("%v, %d KiB allocated, %s", r.Took, r.Bytes>>10, r.Err)
			if !strings.Contains(r.Err, b.want) {
				t.Errorf("error %q lacks %q", r.Err, b.want)
			}
			if r.Bytes > 100<<20 {
				t.Errorf("allocated %d MiB, want at most 100", r.Bytes>>20)
			}
			if r.Took > limit {
				t.Errorf("took %v, want at most %v", r.Took, limit)
			}
		})
	}
}

// readBombs runs in the child: it reads each bomb in turn and prints a
// bombResult for each.
func readBombs(t *testing.T) {
	report := func(r bombResult) {
		j, _ := json.Marshal(r)
		fmt.Printf("\nBOMB %s\n", j)
	}
	var current atomic.Value
	current.Store("")
	// The watchdog: a guard against the code under test, not a wait.
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
		for range time.Tick(10 * time.Millisecond) {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > 1<<30 {
				report(bombResult{Name: current.Load().(string), Over: fmt.Sprintf("the Go runtime holds %d MiB", v>>20)})
				os.Exit(3)
			}
		}
	}()
	for _, b := range bombs {
		current.Store(b.name)
		var data []byte
		var path string
		if b.load {
			path = filepath.Join(t.TempDir(), "bomb.yaml")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Truncate(1 << 30); err != nil { // sparse: no disk used
				t.Fatal(err)
			}
			f.Close()
		} else {
			data = b.data()
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		var err error
		if b.load {
			_, err = config.Load(context.Background(), path)
		} else {
			_, err = config.Parse("bomb.yaml", data)
		}
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		r := bombResult{Name: b.name, Bytes: after.TotalAlloc - before.TotalAlloc, Took: took}
		if err != nil {
			r.Err = err.Error()
			if len(r.Err) > 4096 { // keep the report one readable line
				r.Err = r.Err[:4096]
			}
		}
		report(r)
	}
}

func parseBombResults(out []byte) map[string]bombResult {
	results := map[string]bombResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if j, ok := strings.CutPrefix(sc.Text(), "BOMB "); ok {
			var r bombResult
			if json.Unmarshal([]byte(j), &r) == nil {
				results[r.Name] = r
			}
		}
	}
	return results
}

func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}
