package foyer_test

import (
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
)

func TestParseAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    foyer.Address
		wantErr string // a part of the message
	}{
		{in: "  Jane.Doe@Fabrikam.Example ", want: "Jane.Doe@fabrikam.example"},
		{in: "o'brien@fabrikam.example", want: "o'brien@fabrikam.example"},
		{in: "first_last@sub.partner.example", want: "first_last@sub.partner.example"},
		{in: "a-b@x.example", want: "a-b@x.example"},
		{in: "", wantErr: "empty"},
		{in: "no-at.example", wantErr: "no @"},
		{in: "a@b@c.example", wantErr: "more than one @"},
		{in: "@fabrikam.example", wantErr: "before @ is empty"},
		{in: "jane@", wantErr: "domain is empty"},
		{in: "jane+tag@fabrikam.example", wantErr: `'+'`},
		{in: "jane#1@fabrikam.example", wantErr: `'#'`},
		{in: "ja,ne@fabrikam.example", wantErr: `','`},
		{in: "ja ne@fabrikam.example", wantErr: "space"},
		{in: ".jane@fabrikam.example", wantErr: "start with '.'"},
		{in: "jane-@fabrikam.example", wantErr: "end with '-'"},
		{in: "ja..ne@fabrikam.example", wantErr: "two dots"},
		{in: "jané@fabrikam.example", wantErr: "non-ASCII"},
		{in: "jane@bücher.example", wantErr: "xn--"},
		{in: "jane@localhost", wantErr: "no dot"},
		{in: "jane@-x.example", wantErr: "starting or ending with -"},
		{in: "jane@x..example", wantErr: "empty label"},
		{in: "jane@x.123", wantErr: "numeric"},
		{in: "jane@x_y.example", wantErr: `'_'`},
		{in: strings.Repeat("a", 65) + "@x.example", wantErr: "longer than 64"},
	}
	for _, tt := range tests {
		got, err := foyer.ParseAddress(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAddress(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			if foyer.ErrorCode(err) != foyer.EINVALID {
				t.Errorf("ParseAddress(%q) error code = %q, want %q", tt.in, foyer.ErrorCode(err), foyer.EINVALID)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestAddressParts(t *testing.T) {
	t.Parallel()
	a, err := foyer.ParseAddress("Jane@Sub.Fabrikam.Example")
	if err != nil {
		t.Fatal(err)
	}
	if a.Local() != "Jane" || a.Domain() != "sub.fabrikam.example" || a.Key() != "jane@sub.fabrikam.example" {
		t.Errorf("parts of %q: %q %q %q", a, a.Local(), a.Domain(), a.Key())
	}
	for _, tt := range []struct {
		domains []string
		want    bool
	}{
		{[]string{"fabrikam.example"}, true},
		{[]string{"@Fabrikam.Example"}, true},
		{[]string{"sub.fabrikam.example"}, true},
		{[]string{"abrikam.example"}, false},
		{[]string{"other.example", ""}, false},
		{nil, false},
	} {
		if got := a.InDomains(tt.domains); got != tt.want {
			t.Errorf("InDomains(%q) = %v, want %v", tt.domains, got, tt.want)
		}
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"jane@fabrikam.example", "o'brien@x.example", "a@b@c", " x@Y.Z ", "\x00@a.b", "ü@ü.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := foyer.ParseAddress(s)
		if err != nil {
			if foyer.ErrorCode(err) != foyer.EINVALID {
				t.Fatalf("error code %q for %q", foyer.ErrorCode(err), s)
			}
			return
		}
		if strings.ContainsAny(string(a), "~!#$%^&*()+=[]{}\\/|;:\"<>?, \t\r\n") {
			t.Fatalf("accepted %q with a refused character", a)
		}
		if strings.Count(string(a), "@") != 1 || a.Domain() != strings.ToLower(a.Domain()) {
			t.Fatalf("accepted malformed %q", a)
		}
		again, err := foyer.ParseAddress(string(a))
		if err != nil || again != a {
			t.Fatalf("not idempotent: %q -> %q, %v", a, again, err)
		}
	})
}
