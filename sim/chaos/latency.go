package chaos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Latency is the distribution of the delay added before each response: a
// log-normal distribution with the given median and 99th percentile. The
// zero Latency adds no delay.
//
// Log-normal is the usual shape of service response times: most answers
// close to the median, a long tail of slow ones. Microsoft publishes no
// latency figures for Graph; pick numbers that match what you observe.
// Samples are capped at MaxTailFactor times the 99th percentile so that one
// freak draw cannot stall a test.
type Latency struct {
	Median time.Duration
	// P99 is the 99th percentile; 0 means DefaultSpread × Median.
	P99 time.Duration
}

// DefaultSpread is the ratio of the 99th percentile to the median when only
// the median is given: "--latency 100ms" has a p99 of 400ms.
const DefaultSpread = 4

// MaxTailFactor caps a sample at this many times the 99th percentile.
const MaxTailFactor = 10

// Bounds on the flag, so that a typo cannot hang the sim.
const (
	MaxMedian = time.Minute
	MaxP99    = 5 * time.Minute
)

// z99 is the 0.99 quantile of the standard normal distribution.
const z99 = 2.3263478740408408

// Zero reports whether l adds no delay.
func (l Latency) Zero() bool { return l.Median == 0 }

// Percentile99 returns the 99th percentile in force (P99, or the default
// spread of the median).
func (l Latency) Percentile99() time.Duration {
	if l.P99 == 0 {
		return DefaultSpread * l.Median
	}
	return l.P99
}

// sigma is the standard deviation of ln(delay).
func (l Latency) sigma() float64 {
	return math.Log(float64(l.Percentile99())/float64(l.Median)) / z99
}

// sample draws one delay from r.
func (l Latency) sample(r *rand.Rand) time.Duration {
	if l.Zero() {
		return 0
	}
	d := float64(l.Median) * math.Exp(l.sigma()*r.NormFloat64())
	return time.Duration(min(d, float64(MaxTailFactor*l.Percentile99())))
}

// Validate reports a negative, too large or inverted distribution.
func (l Latency) Validate() error {
	switch {
	case l.Median < 0 || l.P99 < 0:
		return fmt.Errorf("latency %s: must not be negative", l)
	case l.Median == 0 && l.P99 != 0:
		return fmt.Errorf("latency %s: a p99 needs a median", l)
	case l.Median > MaxMedian:
		return fmt.Errorf("latency %s: median must be at most %s", l, MaxMedian)
	case l.P99 != 0 && l.P99 < l.Median:
		return fmt.Errorf("latency %s: p99 must not be below the median", l)
	case l.Percentile99() > MaxP99:
		return fmt.Errorf("latency %s: p99 must be at most %s", l, MaxP99)
	}
	return nil
}

// ParseLatency reads the --latency flag: "0" or "off" for none, "100ms" for
// a median of 100ms with the default spread, "100ms,400ms" for median and
// 99th percentile.
func ParseLatency(s string) (Latency, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || strings.EqualFold(s, "off") || strings.EqualFold(s, "none") {
		return Latency{}, nil
	}
	med, p99, two := strings.Cut(s, ",")
	var l Latency
	var err error
	if l.Median, err = time.ParseDuration(strings.TrimSpace(med)); err != nil {
		return Latency{}, fmt.Errorf("latency %q: median %q is not a duration such as 100ms", s, med)
	}
	if two {
		if l.P99, err = time.ParseDuration(strings.TrimSpace(p99)); err != nil {
			return Latency{}, fmt.Errorf("latency %q: p99 %q is not a duration such as 400ms", s, p99)
		}
		if l.P99 == 0 {
			return Latency{}, fmt.Errorf("latency %q: p99 must be positive", s)
		}
	}
	if l.Median == 0 && !two {
		return Latency{}, nil
	}
	if err := l.Validate(); err != nil {
		return Latency{}, err
	}
	return l, nil
}

// String writes l in the flag syntax; ParseLatency(l.String()) gives l.
func (l Latency) String() string {
	switch {
	case l.Zero() && l.P99 == 0:
		return "0"
	case l.P99 == 0:
		return l.Median.String()
	}
	return l.Median.String() + "," + l.P99.String()
}

// Set implements flag.Value (and pflag.Value with Type).
func (l *Latency) Set(s string) error {
	v, err := ParseLatency(s)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Type implements pflag.Value.
func (*Latency) Type() string { return "latency" }

// MarshalText writes the flag syntax, so that a Latency is a JSON string in
// the sim's settings.
func (l Latency) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads the flag syntax.
func (l *Latency) UnmarshalText(b []byte) error { return l.Set(string(b)) }
