package chaos

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Faults
		err  string
	}{
		{in: "", want: Faults{}},
		{in: "0", want: Faults{}},
		{in: "off", want: Faults{}},
		{in: "0.0", want: Faults{}},
		{in: "0.05", want: DefaultFaults(0.05)},
		{in: "1", want: DefaultFaults(1)},
		{in: "rate=0.05", want: DefaultFaults(0.05)},
		{in: "rate=0.05,drop=0.3,after=0.5", want: Faults{Rate: 0.05, Drop: 0.3, After: 0.5}},
		{in: "rate=0.1, drop=0, after=1, 500=1, 503=2, 504=0, retry-after=2s",
			want: Faults{Rate: 0.1, After: 1, Mix: Mix{1, 2, 0}, RetryAfter: 2 * time.Second}},
		{in: "RATE=0.2,,", want: DefaultFaults(0.2)},
		{in: "rate=0,drop=1", want: Faults{}},
		{in: "rate=0,drop=2", err: "drop=2"},
		{in: "often", err: "want a fraction"},
		{in: "1.5", err: "want a fraction from 0 to 1"},
		{in: "-0.1", err: "want a fraction from 0 to 1"},
		{in: "NaN", err: "want a fraction such as"},
		{in: "drop=0.3", err: "rate is required"},
		{in: "rate=0.1,rate=0.2", err: "given twice"},
		{in: "rate=0.1,drop", err: "not KEY=VALUE"},
		{in: "rate=0.1,delay=1s", err: `unknown key "delay"`},
		{in: "rate=x", err: `rate="x" is not a number`},
		{in: "rate=0.1,retry-after=soon", err: "not a duration"},
		{in: "rate=0.1,retry-after=-1s", err: "want 0 to 1h"},
		{in: "rate=0.1,503=-1", err: "want a weight"},
		{in: "rate=0.1,drop=2,after=-1", err: "after=-1"}, // every problem reported
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFaults(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseFaults(%q) = %+v, %v; want an error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFaults(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if back, err := ParseFaults(got.String()); err != nil || back != got {
				t.Fatalf("round trip via %q = %+v, %v", got.String(), back, err)
			}
		})
	}
}

// TestFaultRates draws many decisions and checks every share against the
// configuration, within five standard deviations.
func TestFaultRates(t *testing.T) {
	t.Parallel()
	f := Faults{Rate: 0.1, Drop: 0.3, After: 0.5, Mix: Mix{S500: 1, S503: 2, S504: 1}, RetryAfter: 3 * time.Second}
	c, err := New(Options{Seed: 1, Faults: f})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200_000
	var faults, drops, after, s500, s503, s504 int
	for range n {
		a := c.Decide()
		switch a.Fault {
		case None:
			if a.Status != 0 || a.After {
				t.Fatalf("no fault but %+v", a)
			}
			continue
		case Drop:
			drops++
		case Answer:
			switch a.Status {
			case http.StatusInternalServerError:
				s500++
				check(t, a, "InternalServerError", 0)
			case http.StatusServiceUnavailable:
				s503++
				check(t, a, "ServiceUnavailable", 3*time.Second)
			case http.StatusGatewayTimeout:
				s504++
				check(t, a, "GatewayTimeout", 0)
			default:
				t.Fatalf("status %d", a.Status)
			}
		}
		faults++
		if a.After {
			after++
		}
	}
	share := func(name string, got, of int, p float64) {
		sd := math.Sqrt(float64(of) * p * (1 - p))
		if math.Abs(float64(got)-float64(of)*p) > 5*sd {
			t.Errorf("%s: %d of %d, want about %.0f", name, got, of, float64(of)*p)
		}
	}
	share("faults", faults, n, 0.1)
	share("drops", drops, faults, 0.3)
	share("after", after, faults, 0.5)
	answered := faults - drops
	share("500", s500, answered, 0.25)
	share("503", s503, answered, 0.5)
	share("504", s504, answered, 0.25)
	s := c.Stats()
	if s.Requests != n || s.Faults != int64(faults) || s.Drops != int64(drops) || s.After != int64(after) ||
		s.Status500 != int64(s500) || s.Status503 != int64(s503) || s.Status504 != int64(s504) {
		t.Errorf("Stats() = %+v; counted faults %d drops %d after %d 500 %d 503 %d 504 %d", s, faults, drops, after, s500, s503, s504)
	}
}

func check(t *testing.T, a Action, code string, retry time.Duration) {
	t.Helper()
	if a.Code != code || a.Message == "" || a.RetryAfter != retry {
		t.Fatalf("%d answer = %+v, want code %s retry %v", a.Status, a, code, retry)
	}
}

func TestDecideBatchItem(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Seed: 3, Latency: Latency{Median: time.Second}, Faults: Faults{Rate: 1, Drop: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		a := c.DecideBatchItem()
		if a.Delay != 0 || a.Fault != Answer || a.Status < 500 {
			t.Fatalf("batch item action %+v: want a 5xx answer without delay", a)
		}
	}
	if s := c.Stats(); s.Drops != 0 || s.Faults != 1000 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPickWeights(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		u    float64
		m    Mix
		want int
	}{
		{0, Mix{}, 0}, {0.34, Mix{}, 1}, {0.99, Mix{}, 2},
		{0.5, Mix{S503: 1}, 1}, {0.999999, Mix{S500: 1, S503: 1}, 1},
		{0, Mix{S504: 5}, 2}, {0.99, Mix{S500: 1}, 0},
	} {
		if got := pick(tt.u, tt.m); got != tt.want {
			t.Errorf("pick(%v, %+v) = %d, want %d", tt.u, tt.m, got, tt.want)
		}
	}
}

func TestSetAtRunTime(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Faults: Faults{Rate: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Decide(); a.Fault != Answer {
		t.Fatalf("rate 1: %+v", a)
	}
	if err := c.SetFaults(Faults{Rate: 2}); err == nil {
		t.Fatal("SetFaults accepted rate 2")
	}
	if err := c.SetFaults(Faults{}); err != nil {
		t.Fatal(err)
	}
	if a := c.Decide(); a.Fault != None {
		t.Fatalf("faults off: %+v", a)
	}
	if err := c.SetLatency(Latency{Median: -1}); err == nil {
		t.Fatal("SetLatency accepted a negative median")
	}
	l := Latency{Median: time.Millisecond, P99: 2 * time.Millisecond}
	if err := c.SetLatency(l); err != nil || c.Latency() != l || c.Faults() != (Faults{}) {
		t.Fatalf("SetLatency: %v; Latency() = %+v, Faults() = %+v", err, c.Latency(), c.Faults())
	}
	if _, err := New(Options{Faults: Faults{Rate: math.NaN()}}); err == nil {
		t.Fatal("New accepted a NaN rate")
	}
}

func FuzzParseFaults(f *testing.F) {
	for _, s := range []string{"0.05", "rate=0.05,drop=0.3,after=0.5", "rate=1,500=0,503=0,504=0,retry-after=1h",
		"off", "rate=1e-9", "rate=0.5,503=1e300", "=,=", "rate=0x1p-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseFaults(s)
		if err != nil {
			return
		}
		if err := v.Validate(); err != nil {
			t.Fatalf("ParseFaults(%q) = %+v, invalid: %v", s, v, err)
		}
		back, err := ParseFaults(v.String())
		if err != nil || back != v {
			t.Fatalf("round trip of %q via %q = %+v, %v; want %+v", s, v.String(), back, err, v)
		}
	})
}
