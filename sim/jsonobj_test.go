package sim

import (
	"encoding/json"
	"testing"
)

// FuzzJSONString: appendString writes what encoding/json reads back as the
// same string (modulo invalid UTF-8, which both replace).
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "a", `"\`, "\x00\x1f", "é\u2028", "\xff", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Fatalf("%q: got %q want %q", s, back, wantBack)
		}
	})
}

func TestObjectJSON(t *testing.T) {
	t.Parallel()
	o := object{{"a", 1}, {"b", nil}, {"c", []string{"x"}}, {"d", object{{"e", true}}}, {"f", []object{{{"g", "h"}}}}, {"i", map[string]int{"j": 2}}, {"k", "<&>"}}
	b, err := marshalValue(o)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"a":1,"b":null,"c":["x"],"d":{"e":true},"f":[{"g":"h"}],"i":{"j":2},"k":"<&>"}` {
		t.Errorf("%s", b)
	}
}
