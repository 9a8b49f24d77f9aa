package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/foyer-dev/foyer/engine"
)

// Off a terminal, a progress line is written when the count changed and at
// least progressEvery has passed since the last one, and always for the
// last row; when nothing changes for stallEvery, a line says for how long.
// An eight-hour run writes a few hundred lines to a CI log, not one every
// two seconds, and never the same line twice.
const (
	progressEvery = 30 * time.Second
	stallEvery    = 10 * time.Minute
)

// status writes progress and messages to stderr: on a terminal, a progress
// line redrawn in place; elsewhere, lines at the cadence above. Both views,
// human and JSON, write progress through it.
type status struct {
	w     io.Writer
	tty   bool
	width int // the terminal's columns; 0 when unknown

	bar       bool      // a progress line is on the terminal
	started   time.Time // the first progress event of this process
	startDone int       // rows done then (a resumed run starts above 0)
	seen      int       // rows done at the last event
	changedAt time.Time // when that count last changed
	printed   bool      // a progress line was written (off a terminal)
	last      time.Time // when
	lastDone  int       // with how many rows done
}

// say writes a message on a line of its own.
func (s *status) say(format string, args ...any) {
	s.clear()
	fmt.Fprintf(s.w, format+"\n", args...)
}

// runStarted says that a run started. A run read back from the ledger
// (runs show) replays its events without a time, and says nothing.
func (s *status) runStarted(ev engine.Event) {
	if ev.At.IsZero() {
		return
	}
	if ev.Resumed {
		s.say("Resuming run %s where it stopped.", ev.RunID)
	} else {
		s.say("Run %s started.", ev.RunID)
	}
}

// clear removes the progress line from the terminal, before other output.
func (s *status) clear() {
	if s.bar {
		fmt.Fprint(s.w, "\r\033[K")
		s.bar = false
	}
}

func (s *status) progress(ev engine.Event) {
	if s.started.IsZero() {
		s.started, s.startDone, s.seen, s.changedAt = ev.At, ev.Done, ev.Done, ev.At
	}
	if ev.Done != s.seen {
		s.seen, s.changedAt = ev.Done, ev.At
	}
	if s.tty {
		s.draw(ev)
		return
	}
	line := ""
	switch {
	case !s.printed, ev.Done != s.lastDone && (ev.Done >= ev.Total || ev.At.Sub(s.last) >= progressEvery):
		line = "progress: " + s.describe(ev)
	case ev.Done == s.lastDone && ev.Done < ev.Total && ev.At.Sub(s.last) >= stallEvery:
		line = fmt.Sprintf("progress: %d of %s done; none finished for %s", ev.Done, plural(ev.Total, "row", "rows"), roughDuration(ev.At.Sub(s.changedAt)))
	default:
		return
	}
	fmt.Fprintln(s.w, line)
	s.printed, s.last, s.lastDone = true, ev.At, ev.Done
}

// describe is the progress in words: "120 of 9533 rows done, 14.5 rows/s,
// about 10m50s left".
func (s *status) describe(ev engine.Event) string {
	text := fmt.Sprintf("%d of %s done", ev.Done, plural(ev.Total, "row", "rows"))
	rate, eta := s.rate(ev)
	if rate > 0 {
		text += fmt.Sprintf(", %.1f rows/s", rate)
	}
	if eta > 0 {
		text += ", about " + roughDuration(eta) + " left"
	}
	return text
}

// rate is the rows finished a second since this process began waiting,
// and the time the rest would take at that rate (0 when unknown).
func (s *status) rate(ev engine.Event) (float64, time.Duration) {
	el := ev.At.Sub(s.started).Seconds()
	done := ev.Done - s.startDone
	if el < 1 || done <= 0 {
		return 0, 0
	}
	rate := float64(done) / el
	left := ev.Total - ev.Done
	if left <= 0 {
		return rate, 0
	}
	return rate, time.Duration(float64(left) / rate * float64(time.Second))
}

// draw redraws the progress line on the terminal, within its width.
func (s *status) draw(ev engine.Event) {
	bar := 30
	if s.width > 0 && s.width < 80 {
		bar = max(s.width-50, 10)
	}
	filled := bar
	if ev.Total > 0 {
		filled = bar * min(ev.Done, ev.Total) / ev.Total
	}
	line := fmt.Sprintf("[%s%s] %d/%d rows", strings.Repeat("=", filled), strings.Repeat(" ", bar-filled), ev.Done, ev.Total)
	if rate, eta := s.rate(ev); rate > 0 {
		line += fmt.Sprintf("  %.1f/s", rate)
		if eta > 0 {
			line += "  ETA " + roughDuration(eta)
		}
	}
	if s.width > 1 {
		line = clipCells(line, s.width-1)
	}
	fmt.Fprintf(s.w, "\r%s\033[K", line)
	s.bar = true
}

// roughDuration writes d to the second under a minute, to ten seconds
// under an hour, and to the minute above: 42s, 7m30s, 2h05m.
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		d = d.Round(10 * time.Second)
		if d < time.Hour {
			return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
		}
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
