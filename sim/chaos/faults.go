package chaos

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Faults says how often and how requests fail. The zero Faults injects
// nothing.
//
// Microsoft publishes no failure rates; these are knobs for testing a
// client's retries and its idempotence, not a model of Graph's availability.
type Faults struct {
	// Rate is the fraction of requests, 0 to 1, that get a fault.
	Rate float64
	// Drop is the fraction of faults, 0 to 1, that close the connection
	// without an answer; the others are answered 500, 503 or 504.
	Drop float64
	// After is the fraction of faults, 0 to 1, that strike after the
	// request was handled: its effect happened, its answer is lost. The
	// others strike before: nothing happened.
	After float64
	// Mix weighs 500, 503 and 504 among the answered faults; all zero means
	// equal weights.
	Mix Mix
	// RetryAfter is sent with 503, in whole seconds rounded up; 0 means
	// DefaultRetryAfter. concepts/errors.md: 503 "You may repeat the request
	// after a delay, the length of which may be specified in a Retry-After
	// header."
	RetryAfter time.Duration
}

// Mix weighs the 5xx answers.
type Mix struct {
	S500, S503, S504 float64
}

// Defaults of the flag's short form "--faults 0.05" (and of keys left out
// of the long form): a fifth of the faults drop the connection, half strike
// after the handler ran.
const (
	DefaultDrop       = 0.2
	DefaultAfter      = 0.5
	DefaultRetryAfter = time.Second
	MaxRetryAfter     = time.Hour
	maxWeight         = 1e6
)

// DefaultFaults returns the faults of "--faults RATE": the given rate with
// DefaultDrop and DefaultAfter, equal 5xx weights and DefaultRetryAfter.
func DefaultFaults(rate float64) Faults {
	return Faults{Rate: rate, Drop: DefaultDrop, After: DefaultAfter}
}

// Zero reports whether f injects nothing.
func (f Faults) Zero() bool { return f.Rate == 0 }

func (f Faults) retryAfter() time.Duration {
	if f.RetryAfter == 0 {
		return DefaultRetryAfter
	}
	return f.RetryAfter
}

// Validate reports every field out of range.
func (f Faults) Validate() error {
	var errs []error
	frac := func(name string, v float64) {
		if !(v >= 0 && v <= 1) { // also false for NaN
			errs = append(errs, fmt.Errorf("faults %s=%v: want a fraction from 0 to 1", name, v))
		}
	}
	frac("rate", f.Rate)
	frac("drop", f.Drop)
	frac("after", f.After)
	for _, w := range []struct {
		name string
		v    float64
	}{{"500", f.Mix.S500}, {"503", f.Mix.S503}, {"504", f.Mix.S504}} {
		if !(w.v >= 0 && w.v <= maxWeight) {
			errs = append(errs, fmt.Errorf("faults %s=%v: want a weight from 0 to %g", w.name, w.v, float64(maxWeight)))
		}
	}
	if f.RetryAfter < 0 || f.RetryAfter > MaxRetryAfter {
		errs = append(errs, fmt.Errorf("faults retry-after=%s: want 0 to %s", f.RetryAfter, MaxRetryAfter))
	}
	return errors.Join(errs...)
}

// ParseFaults reads the --faults flag: "0" or "off" for none; a bare
// fraction "0.05" for DefaultFaults(0.05); or KEY=VALUE pairs
// "rate=0.05,drop=0.3,after=0.5,500=1,503=2,504=1,retry-after=2s", where
// the keys left out take the defaults (drop 0.2, after 0.5, equal weights,
// retry-after 1s) and rate is required.
func ParseFaults(s string) (Faults, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || strings.EqualFold(s, "off") || strings.EqualFold(s, "none") {
		return Faults{}, nil
	}
	if !strings.Contains(s, "=") {
		r, err := parseNumber(s)
		if err != nil {
			return Faults{}, fmt.Errorf("faults %q: want a fraction such as 0.05, or rate=...,drop=...,after=...", s)
		}
		f := DefaultFaults(r)
		if r == 0 {
			f = Faults{}
		}
		return f, f.Validate()
	}
	f := DefaultFaults(0)
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok {
			return Faults{}, fmt.Errorf("faults %q: %q is not KEY=VALUE", s, kv)
		}
		if seen[k] {
			return Faults{}, fmt.Errorf("faults %q: %s given twice", s, k)
		}
		seen[k] = true
		var err error
		switch k {
		case "rate":
			f.Rate, err = parseNumber(v)
		case "drop":
			f.Drop, err = parseNumber(v)
		case "after":
			f.After, err = parseNumber(v)
		case "500":
			f.Mix.S500, err = parseNumber(v)
		case "503":
			f.Mix.S503, err = parseNumber(v)
		case "504":
			f.Mix.S504, err = parseNumber(v)
		case "retry-after":
			f.RetryAfter, err = time.ParseDuration(v)
		default:
			return Faults{}, fmt.Errorf("faults %q: unknown key %q (want rate, drop, after, 500, 503, 504, retry-after)", s, k)
		}
		if err != nil && k == "retry-after" {
			return Faults{}, fmt.Errorf("faults %q: retry-after=%q is not a duration such as 2s", s, v)
		}
		if err != nil {
			return Faults{}, fmt.Errorf("faults %q: %s=%q is not a number", s, k, v)
		}
	}
	if !seen["rate"] {
		return Faults{}, fmt.Errorf("faults %q: rate is required", s)
	}
	if err := f.Validate(); err != nil {
		return Faults{}, err
	}
	if f.Rate == 0 {
		return Faults{}, nil
	}
	return f, nil
}

func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.New("not a number")
	}
	return v, nil
}

// String writes f in the flag syntax, every field given, so that
// ParseFaults(f.String()) gives f back.
func (f Faults) String() string {
	if f.Zero() {
		return "0"
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	parts := []string{"rate=" + num(f.Rate), "drop=" + num(f.Drop), "after=" + num(f.After)}
	if f.Mix != (Mix{}) {
		parts = append(parts, "500="+num(f.Mix.S500), "503="+num(f.Mix.S503), "504="+num(f.Mix.S504))
	}
	if f.RetryAfter != 0 {
		parts = append(parts, "retry-after="+f.RetryAfter.String())
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value (and pflag.Value with Type).
func (f *Faults) Set(s string) error {
	v, err := ParseFaults(s)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Type implements pflag.Value.
func (*Faults) Type() string { return "faults" }

// MarshalText writes the flag syntax, so that Faults is a JSON string in the
// sim's settings.
func (f Faults) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText reads the flag syntax.
func (f *Faults) UnmarshalText(b []byte) error { return f.Set(string(b)) }
