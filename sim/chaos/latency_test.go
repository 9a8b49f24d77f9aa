package chaos

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseLatency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Latency
		err  string
	}{
		{in: "", want: Latency{}},
		{in: "0", want: Latency{}},
		{in: "off", want: Latency{}},
		{in: "0s", want: Latency{}},
		{in: "100ms", want: Latency{Median: 100 * time.Millisecond}},
		{in: " 100ms , 400ms ", want: Latency{100 * time.Millisecond, 400 * time.Millisecond}},
		{in: "50ms,50ms", want: Latency{50 * time.Millisecond, 50 * time.Millisecond}},
		{in: "1m,5m", want: Latency{time.Minute, 5 * time.Minute}},
		{in: "fast", err: "not a duration"},
		{in: "100", err: "not a duration"},
		{in: "100ms,slow", err: "not a duration"},
		{in: "100ms,0", err: "p99 must be positive"},
		{in: "-1ms", err: "must not be negative"},
		{in: "100ms,50ms", err: "not be below the median"},
		{in: "0ms,400ms", err: "a p99 needs a median"},
		{in: "2m", err: "median must be at most"},
		{in: "1m", want: Latency{Median: time.Minute}}, // p99 4m, within bounds
		{in: "50s,6m", err: "p99 must be at most"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseLatency(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseLatency(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseLatency(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if back, err := ParseLatency(got.String()); err != nil || back != got {
				t.Fatalf("round trip via %q = %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestLatencyJSON(t *testing.T) {
	t.Parallel()
	in := struct {
		L Latency `json:"latency"`
	}{Latency{100 * time.Millisecond, 400 * time.Millisecond}}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `{"latency":"100ms,400ms"}` {
		t.Fatalf("json = %s, %v", b, err)
	}
	out := in
	out.L = Latency{}
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("round trip = %+v, %v", out, err)
	}
}

// TestLatencyDistribution draws many delays and checks that their median
// and 99th percentile are those asked for.
func TestLatencyDistribution(t *testing.T) {
	t.Parallel()
	for _, l := range []Latency{
		{Median: 100 * time.Millisecond, P99: 400 * time.Millisecond},
		{Median: 20 * time.Millisecond}, // default spread: p99 80ms
		{Median: 5 * time.Millisecond, P99: 200 * time.Millisecond},
		{Median: 30 * time.Millisecond, P99: 30 * time.Millisecond}, // constant
	} {
		t.Run(l.String(), func(t *testing.T) {
			t.Parallel()
			c, err := New(Options{Seed: 42, Latency: l})
			if err != nil {
				t.Fatal(err)
			}
			const n = 100_000
			d := make([]time.Duration, n)
			for i := range d {
				d[i] = c.Decide().Delay
			}
			slices.Sort(d)
			within := func(name string, got, want time.Duration, tol float64) {
				if math.Abs(float64(got)/float64(want)-1) > tol {
					t.Errorf("%s = %v, want %v within %.0f%%", name, got, want, tol*100)
				}
			}
			within("median", d[n/2], l.Median, 0.02)
			within("p99", d[n*99/100], l.Percentile99(), 0.05)
			if max := d[n-1]; max > MaxTailFactor*l.Percentile99() {
				t.Errorf("max sample %v above the cap", max)
			}
			if c.Stats().Delayed != n {
				t.Errorf("Stats().Delayed = %d, want %d", c.Stats().Delayed, n)
			}
		})
	}
}

func TestLatencySeeded(t *testing.T) {
	t.Parallel()
	opts := Options{Seed: 7, Latency: Latency{Median: 100 * time.Millisecond}, Faults: DefaultFaults(0.3)}
	a, _ := New(opts)
	b, _ := New(opts)
	opts.Seed = 8
	other, _ := New(opts)
	same, differ := true, false
	for range 1000 {
		x, y, z := a.Decide(), b.Decide(), other.Decide()
		same = same && x == y
		differ = differ || x != z
	}
	if !same {
		t.Error("two Chaos with the same seed decided differently")
	}
	if !differ {
		t.Error("two Chaos with different seeds decided the same 1000 times")
	}
}

func TestZeroLatencyNoDelay(t *testing.T) {
	t.Parallel()
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if a := c.Decide(); a != (Action{}) {
			t.Fatalf("zero options decided %+v", a)
		}
	}
	if s := c.Stats(); s.Requests != 100 || s.Delayed != 0 || s.Faults != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

func FuzzParseLatency(f *testing.F) {
	for _, s := range []string{"100ms", "100ms,400ms", "0", "off", "1m,5m", "1h", "-5s,1s", ",", "1ns,1ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLatency(s)
		if err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseLatency(%q) = %+v, invalid: %v", s, l, err)
		}
		back, err := ParseLatency(l.String())
		if err != nil || back != l {
			t.Fatalf("round trip of %q via %q = %+v, %v", s, l.String(), back, err)
		}
	})
}
