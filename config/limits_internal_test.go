package config

import (
	"testing"

	"github.com/goccy/go-yaml/lexer"
)

// FuzzTokenBound: tokenBound, which runs before go-yaml's lexer to keep it
// from large inputs, never counts fewer than half the tokens the lexer
// makes.
func FuzzTokenBound(f *testing.F) {
	for _, s := range []string{"a: b\n", "[a, [b, {c: d}]]", "- - - x", "a:\n", "k:\nj:\n", "[,,,,]", "? a\n: b\n", "- \n- \n", "'a b' : \"c d\"",
		"a: |\n  x\n  y\n", "--- \n...\n", "a: !!str b", "&a x", "*a", "<<: {a: 1}", "#c\na: b #d\n", "a:b:c", "{a,b}: [c]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		bound := tokenBound(data, 1<<30)
		if n := len(lexer.Tokenize(string(data))); n > 2*bound+1 {
			t.Errorf("%q: lexer makes %d tokens, bound %d", data, n, bound)
		}
	})
}
