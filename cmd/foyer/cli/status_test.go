package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/engine"
)

// progressEvents are the heartbeats of an eight-hour run of total rows,
// every 2 s, with rows finishing steadily but for a stall of stall in the
// middle.
func progressEvents(total int, run, stall time.Duration) []engine.Event {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var evs []engine.Event
	working := run - stall
	for el := time.Duration(0); ; el += 2 * time.Second {
		var at time.Duration
		switch {
		case el < working/2:
			at = el
		case el < working/2+stall:
			at = working / 2
		default:
			at = el - stall
		}
		done := min(int(int64(total)*int64(at)/int64(working)), total)
		evs = append(evs, engine.Event{Kind: engine.EventProgress, At: t0.Add(el), Done: done, Total: total})
		if done == total {
			return evs
		}
	}
}

func TestProgressOffTerminal(t *testing.T) {
	t.Parallel()
	const total = 9533
	evs := progressEvents(total, 8*time.Hour, 25*time.Minute)
	var b bytes.Buffer
	st := &status{w: &b}
	for _, ev := range evs {
		st.progress(ev)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	// At most one line per 30 s of the run, plus the stall's and the last.
	if max := int(8*time.Hour/progressEvery) + 4; len(lines) > max || len(lines) < 100 {
		t.Errorf("%d lines for %d heartbeats, want between 100 and %d", len(lines), len(evs), max)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] == lines[i-1] {
			t.Fatalf("line %d repeats line %d: %q", i+1, i, lines[i])
		}
	}
	if first := lines[0]; !strings.HasPrefix(first, "progress: 0 of 9533 rows done") {
		t.Errorf("first line %q", first)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "progress: 9533 of 9533 rows done") {
		t.Errorf("last line %q", last)
	}
	stalls := 0
	for _, l := range lines {
		if strings.Contains(l, "none finished for") {
			stalls++
		}
		if strings.Contains(l, "rows/s") && !strings.Contains(l, "left") && !strings.HasPrefix(l, "progress: 9533 ") {
			t.Errorf("a line with a rate but no time left: %q", l)
		}
	}
	if stalls != 2 {
		t.Errorf("%d lines about the 25-minute stall, want 2 (at 10 and 20 minutes)", stalls)
	}
}

func TestProgressOnTerminal(t *testing.T) {
	t.Parallel()
	evs := progressEvents(600, 10*time.Minute, 0)
	var b bytes.Buffer
	st := &status{w: &b, tty: true, width: 60}
	for _, ev := range evs[:len(evs)/2] {
		st.progress(ev)
	}
	out := b.String()
	last := out[strings.LastIndex(out, "\r")+1:]
	if !strings.Contains(last, "/600 rows") || !strings.Contains(last, "ETA 5m") || !strings.HasSuffix(last, "\033[K") {
		t.Errorf("progress line %q", last)
	}
	if n := cellsOf(strings.TrimSuffix(last, "\033[K")); n >= 60 {
		t.Errorf("a progress line of %d columns on a 60-column terminal: %q", n, last)
	}
	st.say("Run %s started.", "r1")
	if !strings.HasSuffix(b.String(), "\r\033[KRun r1 started.\n") {
		t.Errorf("a message does not clear the progress line first: %q", b.String()[len(out):])
	}
}

func TestRoughDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", 42*time.Second + 300*time.Millisecond: "42s", 7*time.Minute + 34*time.Second: "7m30s",
		59*time.Minute + 58*time.Second: "1h00m", 2*time.Hour + 4*time.Minute + 40*time.Second: "2h05m",
	} {
		if got := roughDuration(d); got != want {
			t.Errorf("roughDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
