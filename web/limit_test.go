package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	l := NewLimiter(Rate{N: 2, Per: time.Hour}, foyer.ClockFunc(func() time.Time { return now }))
	for i := range 2 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("event %d refused", i+1)
		}
	}
	ok, retry := l.Allow("a")
	if ok || retry != 30*time.Minute {
		t.Fatalf("third event: %v, retry %v; want refused for 30m", ok, retry)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key refused")
	}
	now = now.Add(30 * time.Minute)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("refused after the wait it announced")
	}
	// Idle keys are forgotten once the map grows: memory follows the
	// keys active within one period.
	now = now.Add(2 * time.Hour)
	for i := range 1100 {
		l.Allow(fmt.Sprint("k", i))
	}
	if n := l.Len(); n != 1100 {
		t.Fatalf("%d keys remembered, want 1100: a and b, idle, were swept", n)
	}
	// Most keys were active at that sweep, so the next waits until the
	// map doubles; by then the first ones are idle and go.
	now = now.Add(2 * time.Hour)
	for i := range 1000 {
		l.Allow(fmt.Sprint("m", i))
	}
	if n := l.Len(); n != 1000 {
		t.Fatalf("%d keys remembered after the second sweep, want the new ones only", n)
	}
	if ok, _ := NewLimiter(Rate{}, nil).Allow("x"); ok {
		t.Fatal("a zero rate allowed an event")
	}
}
