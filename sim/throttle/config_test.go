package throttle

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	custom := func(edit func(*Config)) Config {
		var c Config
		edit(&c)
		return c
	}
	tests := []struct {
		in   string
		want Config
		err  string // substring of the error; "" for none
	}{
		{in: "published", want: Published()},
		{in: " Published ", want: Published()},
		{in: "off", want: Off()},
		{in: "", want: Off()},
		{in: "custom:", want: Off()},
		{in: "custom:ru-s=3500/10s,ru-m=5000/10s,ru-l=8000/10s,app-ru=150000/20s,writes=3000/2m30s,app-writes=35000/5m,tenant-writes=18000/5m", want: Published()},
		{in: "custom:writes=10/1m", want: custom(func(c *Config) { c.AppTenantWrites = Limit{10, time.Minute} })},
		{in: "custom:writes=3000/150s,tenant-writes=18000/5m,ru=8000/10s", want: custom(func(c *Config) {
			c.AppTenantWrites = Limit{3000, 150 * time.Second}
			c.TenantWrites = Limit{18000, 5 * time.Minute}
			c.AppTenantRUSmall = Limit{8000, 10 * time.Second}
			c.AppTenantRUMedium = Limit{8000, 10 * time.Second}
			c.AppTenantRULarge = Limit{8000, 10 * time.Second}
		})},
		{in: "custom:ru-s=100/1s,ru-m=200/1s,ru-l=300/1s,app-ru=0,app-writes=off,tenant-writes=5/2m30s", want: custom(func(c *Config) {
			c.AppTenantRUSmall = Limit{100, time.Second}
			c.AppTenantRUMedium = Limit{200, time.Second}
			c.AppTenantRULarge = Limit{300, time.Second}
			c.TenantWrites = Limit{5, 150 * time.Second}
		})},
		{in: "CUSTOM: Writes = 7/10s ,", want: custom(func(c *Config) { c.AppTenantWrites = Limit{7, 10 * time.Second} })},
		{in: "custom:writes=0/0s", want: custom(func(c *Config) { c.AppTenantWrites = Limit{} })},

		{in: "fast", err: "want published, off or custom"},
		{in: "custom", err: "want published, off or custom"},
		{in: "other:writes=1/1s", err: "want published, off or custom"},
		{in: "custom:writes", err: "is not KEY=LIMIT"},
		{in: "custom:reads=1/1s", err: `unknown key "reads"`},
		{in: "custom:writes=1/1s,writes=2/1s", err: "given twice"},
		{in: "custom:writes=10", err: "want COUNT/DURATION"},
		{in: "custom:writes=x/1s", err: "not a whole number"},
		{in: "custom:writes=10/soon", err: "not a duration"},
		{in: "custom:writes=-1/1s", err: "must not be negative"},
		{in: "custom:writes=10/0s", err: "window must be positive"},
		{in: "custom:writes=10/-1s", err: "window must be positive"},
		{in: "custom:writes=10/1us", err: "at least 1ms"},
		{in: "custom:writes=10/2h", err: "at most 1h0m0s"},
		{in: "custom:writes=100000001/1s", err: "at most 100000000"},
		{in: "custom:ru=5/10s", err: "at least 6"},
		{in: "custom:app-ru=1/1s", err: "at least 6"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseConfig(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseConfig(%q) error = %v, want one containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseConfig(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseConfig(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if back, err := ParseConfig(got.String()); err != nil || back != got {
				t.Fatalf("round trip of %q via %q = %+v, %v", tt.in, got.String(), back, err)
			}
		})
	}
}

func TestConfigString(t *testing.T) {
	t.Parallel()
	c := Published()
	c.AppTenantWrites = Limit{10, time.Minute}
	c.TenantWrites = Limit{}
	c.AppRU = Limit{}
	for _, tt := range []struct {
		c    Config
		want string
	}{
		{Published(), "published"},
		{Off(), "off"},
		{Config{AppWrites: Limit{0, time.Second}}, "off"},
		{c, "custom:ru-s=3500/10s,ru-m=5000/10s,ru-l=8000/10s,writes=10/1m0s,app-writes=35000/5m0s"},
		{Config{TenantWrites: Limit{5, time.Second}}, "custom:tenant-writes=5/1s"},
	} {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := Config{AppRU: Limit{3, time.Second}, AppWrites: Limit{-1, time.Second}, TenantWrites: Limit{5, 0}}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	for _, want := range []string{"app-ru", "app-writes", "tenant-writes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q does not name %s", err, want)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	t.Parallel()
	type settings struct {
		Throttle Config `json:"throttle"`
	}
	in := settings{Throttle: Config{TenantWrites: Limit{100, time.Minute}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"throttle":"custom:tenant-writes=100/1m0s"}`; string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	var out settings
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("round trip = %+v, want %+v", out, in)
	}
	if err := json.Unmarshal([]byte(`{"throttle":"sometimes"}`), &out); err == nil {
		t.Fatal("bad throttle setting accepted")
	}
}

func TestConfigAppTenantRUBySize(t *testing.T) {
	t.Parallel()
	p := Published()
	for _, tt := range []struct {
		users int
		want  int
	}{{0, 3500}, {49, 3500}, {50, 5000}, {500, 5000}, {501, 8000}, {100000, 8000}} {
		if got := p.AppTenantRU(tt.users).N; got != tt.want {
			t.Errorf("AppTenantRU(%d) = %d, want %d", tt.users, got, tt.want)
		}
	}
}

func TestRetryAfterFormat(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{2128 * time.Millisecond, "2.128"},
		{2127*time.Millisecond + 1, "2.128"}, // rounded up
		{time.Second, "1"},
		{1, "0.001"},
		{150 * time.Second, "150"},
	} {
		got := formatSeconds(tt.d)
		if got != tt.want {
			t.Errorf("formatSeconds(%v) = %q, want %q", tt.d, got, tt.want)
		}
		back, err := ParseRetryAfter(got)
		if err != nil || back < tt.d || back-tt.d >= time.Millisecond {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want within 1ms above %v", got, back, err, tt.d)
		}
	}
	for _, bad := range []string{"", "soon", "-1", "NaN", "Inf", "1e10"} {
		if _, err := ParseRetryAfter(bad); err == nil {
			t.Errorf("ParseRetryAfter(%q) accepted", bad)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{"published", "off", "custom:writes=3000/150s,tenant-writes=18000/5m,ru=8000/10s",
		"custom:ru-s=6/1ms", "custom:app-ru=0", "custom:writes=1/1h", "custom:,,", "custom:writes=9223372036854775807/1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConfig(s)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig(%q) gave an invalid config: %v", s, err)
		}
		back, err := ParseConfig(c.String())
		if err != nil || back != c {
			t.Fatalf("round trip of %q via %q = %+v, %v; want %+v", s, c.String(), back, err, c)
		}
	})
}

func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"3000/150s", "0", "off", "1/1ms", "5/", "/5s", "1/1h1ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimit(s)
		if err != nil {
			return
		}
		if err := l.validate(); err != nil {
			t.Fatalf("ParseLimit(%q) gave an invalid limit %+v: %v", s, l, err)
		}
		back, err := ParseLimit(l.String())
		if err != nil || back != l {
			t.Fatalf("round trip of %q via %q = %+v, %v", s, l.String(), back, err)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"2.128", "1", "0", "0.0005", "3600"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseRetryAfter(s)
		if err == nil && (d < 0 || d > MaxLimitPer) {
			t.Fatalf("ParseRetryAfter(%q) = %v, out of range", s, d)
		}
	})
}
