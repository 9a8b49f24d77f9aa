package throttle

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Limit is a quota: at most N units (resource units or writes) in any window
// of length Per. A zero N means unlimited.
type Limit struct {
	N   int
	Per time.Duration
}

// Bounds on a Limit, so that a typo cannot make the sim keep hours of
// history or overflow: timestamps are kept per millisecond, so a window of
// an hour holds at most 3.6 million entries per key.
const (
	MaxLimitN   = 100_000_000
	MaxLimitPer = time.Hour
)

// Unlimited reports whether the limit admits everything.
func (l Limit) Unlimited() bool { return l.N == 0 }

// String writes the limit as "3000/2m30s", or "0" when unlimited.
func (l Limit) String() string {
	if l.Unlimited() {
		return "0"
	}
	return strconv.Itoa(l.N) + "/" + l.Per.String()
}

// ParseLimit reads "3000/150s", "3000/2m30s" or "0" (unlimited; "off" too).
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "0" || strings.EqualFold(s, "off") {
		return Limit{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Limit{}, fmt.Errorf("limit %q: want COUNT/DURATION such as 3000/150s, or 0 for unlimited", s)
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil {
		return Limit{}, fmt.Errorf("limit %q: count %q is not a whole number", s, n)
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil {
		return Limit{}, fmt.Errorf("limit %q: window %q is not a duration such as 10s or 2m30s", s, per)
	}
	l := Limit{N: count, Per: d}
	if count == 0 {
		l = Limit{}
	}
	if err := l.validate(); err != nil {
		return Limit{}, fmt.Errorf("limit %q: %w", s, err)
	}
	return l, nil
}

func (l Limit) validate() error {
	switch {
	case l.N < 0:
		return errors.New("count must not be negative")
	case l.N == 0:
		return nil // unlimited; the window does not matter
	case l.N > MaxLimitN:
		return fmt.Errorf("count must be at most %d", MaxLimitN)
	case l.Per <= 0:
		return errors.New("window must be positive")
	case l.Per < time.Millisecond:
		return errors.New("window must be at least 1ms")
	case l.Per > MaxLimitPer:
		return fmt.Errorf("window must be at most %s", MaxLimitPer)
	}
	return nil
}

// Config holds the limits the Limiter enforces. The zero Config enforces
// nothing; Published returns Microsoft's numbers.
//
// Source: microsoft-graph-docs-contrib includes/throttling-identity-and-access.md
// (table "Limit type / Resource unit quota / Write quota").
type Config struct {
	// Resource units per application+tenant pair, by the size of the tenant
	// the requests run against: S under 50 users, M 50 to 500, L above 500.
	AppTenantRUSmall  Limit
	AppTenantRUMedium Limit
	AppTenantRULarge  Limit
	// Resource units per application across all tenants.
	AppRU Limit
	// Writes per application+tenant pair, per application across all
	// tenants, and per tenant across all applications.
	AppTenantWrites Limit
	AppWrites       Limit
	TenantWrites    Limit
}

// Published returns the limits Microsoft publishes for identity and access:
// 3,500 / 5,000 / 8,000 RU per 10 s per application+tenant for S / M / L
// tenants, 150,000 RU per 20 s per application, 3,000 writes per 2 min 30 s
// per application+tenant, 35,000 writes per 5 min per application and 18,000
// writes per 5 min per tenant.
//
// Older copies of concepts/throttling-limits.md give 70,000 writes per 5 min
// per application; the current include gives 35,000, which is used here.
func Published() Config {
	return Config{
		AppTenantRUSmall:  Limit{3_500, 10 * time.Second},
		AppTenantRUMedium: Limit{5_000, 10 * time.Second},
		AppTenantRULarge:  Limit{8_000, 10 * time.Second},
		AppRU:             Limit{150_000, 20 * time.Second},
		AppTenantWrites:   Limit{3_000, 150 * time.Second},
		AppWrites:         Limit{35_000, 5 * time.Minute},
		TenantWrites:      Limit{18_000, 5 * time.Minute},
	}
}

// Off returns the Config that admits everything (the zero Config).
func Off() Config { return Config{} }

// Off reports whether c admits everything.
func (c Config) Off() bool { return c.normalize() == Config{} }

// normalize clears the window of every unlimited limit, so that equal
// behaviour compares equal.
func (c Config) normalize() Config {
	for _, f := range fields {
		if l := f.get(&c); l.N == 0 {
			*l = Limit{}
		}
	}
	return c
}

// AppTenantRU returns the application+tenant resource-unit limit for a
// tenant with the given number of users.
func (c Config) AppTenantRU(users int) Limit {
	switch {
	case users < 50:
		return c.AppTenantRUSmall
	case users <= 500:
		return c.AppTenantRUMedium
	default:
		return c.AppTenantRULarge
	}
}

// field names one Config limit in the flag syntax.
type field struct {
	key string
	ru  bool // counts resource units, not writes
	get func(*Config) *Limit
}

// fields lists the keys of the custom syntax, in the order String writes
// them. "ru" is special: it sets the three tenant sizes at once.
var fields = []field{
	{"ru-s", true, func(c *Config) *Limit { return &c.AppTenantRUSmall }},
	{"ru-m", true, func(c *Config) *Limit { return &c.AppTenantRUMedium }},
	{"ru-l", true, func(c *Config) *Limit { return &c.AppTenantRULarge }},
	{"app-ru", true, func(c *Config) *Limit { return &c.AppRU }},
	{"writes", false, func(c *Config) *Limit { return &c.AppTenantWrites }},
	{"app-writes", false, func(c *Config) *Limit { return &c.AppWrites }},
	{"tenant-writes", false, func(c *Config) *Limit { return &c.TenantWrites }},
}

// Validate reports every limit that is out of bounds, and resource-unit
// limits too small to ever admit the most expensive request (MaxCost).
func (c Config) Validate() error {
	var errs []error
	for _, f := range fields {
		l := *f.get(&c)
		if err := l.validate(); err != nil {
			errs = append(errs, fmt.Errorf("throttle %s=%s: %w", f.key, l, err))
			continue
		}
		if f.ru && l.N > 0 && l.N < MaxCost {
			errs = append(errs, fmt.Errorf("throttle %s=%s: a resource-unit limit must be at least %d, the cost of the dearest request", f.key, l, MaxCost))
		}
	}
	return errors.Join(errs...)
}

// ParseConfig reads the --throttle flag:
//
//	published                  Microsoft's published limits
//	off                        no throttling
//	custom:KEY=LIMIT,...       only the limits listed; the others unlimited
//
// LIMIT is COUNT/DURATION (3000/150s, 18000/5m) or 0 for unlimited. KEY is
// one of ru (all three tenant sizes), ru-s, ru-m, ru-l (application+tenant
// resource units for S, M, L tenants), app-ru (application resource units),
// writes (application+tenant writes), app-writes, tenant-writes. For example
// "custom:writes=3000/150s,tenant-writes=18000/5m,ru=8000/10s".
func ParseConfig(s string) (Config, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "published":
		return Published(), nil
	case "off", "":
		return Off(), nil
	}
	prefix, rest, ok := strings.Cut(s, ":")
	if !ok || !strings.EqualFold(strings.TrimSpace(prefix), "custom") {
		return Config{}, fmt.Errorf("throttle %q: want published, off or custom:KEY=LIMIT,...", s)
	}
	var c Config
	seen := map[string]bool{}
	for _, kv := range strings.Split(rest, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok {
			return Config{}, fmt.Errorf("throttle %q: %q is not KEY=LIMIT", s, kv)
		}
		if seen[k] {
			return Config{}, fmt.Errorf("throttle %q: %s given twice", s, k)
		}
		seen[k] = true
		l, err := ParseLimit(v)
		if err != nil {
			return Config{}, fmt.Errorf("throttle %s: %w", k, err)
		}
		if k == "ru" {
			c.AppTenantRUSmall, c.AppTenantRUMedium, c.AppTenantRULarge = l, l, l
			continue
		}
		f, ok := fieldByKey(k)
		if !ok {
			return Config{}, fmt.Errorf("throttle %q: unknown key %q (want ru, ru-s, ru-m, ru-l, app-ru, writes, app-writes, tenant-writes)", s, k)
		}
		*f.get(&c) = l
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func fieldByKey(k string) (field, bool) {
	for _, f := range fields {
		if f.key == k {
			return f, true
		}
	}
	return field{}, false
}

// String writes c in the flag syntax: "published", "off", or "custom:"
// followed by every limit that is not unlimited. ParseConfig(c.String())
// gives c back.
func (c Config) String() string {
	c = c.normalize()
	switch {
	case c == Published():
		return "published"
	case c.Off():
		return "off"
	}
	var parts []string
	for _, f := range fields {
		if l := *f.get(&c); !l.Unlimited() {
			parts = append(parts, f.key+"="+l.String())
		}
	}
	return "custom:" + strings.Join(parts, ",")
}

// Set implements flag.Value (and pflag.Value with Type).
func (c *Config) Set(s string) error {
	v, err := ParseConfig(s)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Type implements pflag.Value.
func (*Config) Type() string { return "throttle" }

// MarshalText writes the flag syntax, so that a Config is a JSON string in
// the sim's settings.
func (c Config) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads the flag syntax.
func (c *Config) UnmarshalText(b []byte) error { return c.Set(string(b)) }

// formatSeconds writes d in seconds with up to three decimals, rounded up to
// the millisecond, the way Graph writes Retry-After ("2.128").
func formatSeconds(d time.Duration) string {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}

// ParseRetryAfter reads a Retry-After value in seconds, fractional or whole,
// as Graph sends it. It is the inverse of Decision's header and is here for
// the sim's tests and tools.
func ParseRetryAfter(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > float64(MaxLimitPer/time.Second) {
		return 0, fmt.Errorf("retry-after %q: want a number of seconds", s)
	}
	return time.Duration(math.Round(f * 1e9)), nil
}
