package config

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/token"
)

// Limits on what is read as a configuration. A configuration is a few
// kilobytes; these bounds are far above that and far below what makes
// go-yaml use more than a second or 100 MB. Its lexer costs about 300 bytes
// a token, its parser is quadratic in nesting depth and in the keys of one
// block mapping (it recurses once per key), and its decoder expands
// aliases without bound (a 1 KB "billion laughs" file never finishes).
// The limits are checked before the parts they protect run.
const (
	maxFileSize = 1 << 20 // bytes
	maxTokens   = 50_000  // YAML tokens (keys, values, punctuation), bounded before lexing
	maxDepth    = 32      // nested mappings and lists; foyer's own schema needs 8
	maxKeys     = 1_000   // keys in one block mapping (e.g. profiles)
)

func tooLarge(name string, size int) Problems {
	return Problems{{File: name, Msg: fmt.Sprintf("the file is larger than 1 MiB (%d bytes or more); a configuration is a few kilobytes", size)}}
}

// indicators are the characters go-yaml's scanner may make a token of, or
// end one at, without white space around them.
const indicators = "[]{},:-?|>!%&*#'\"@`.<"

// tokenBound returns an upper bound of the number of tokens go-yaml's lexer
// makes of data, counting no further than limit+1. Every token begins with
// a character that follows white space or is, or follows, an indicator;
// the lexer adds at most one implicit null after each of those, so
// the lexer's count is at most twice this bound (FuzzTokenBound checks it).
func tokenBound(data []byte, limit int) int {
	n := 0
	prevSep := true
	for _, c := range data {
		sep := c == ' ' || c == '\t' || c == '\n' || c == '\r'
		ind := strings.IndexByte(indicators, c) >= 0
		if !sep && (prevSep || ind) {
			if n++; n > limit {
				return n
			}
		}
		prevSep = sep || ind
	}
	return n
}

// checkTokens refuses, before the parser sees them, the token streams it
// cannot handle in bounded time and memory, and anchors and aliases, which
// foyer's configuration has no use for and whose expansion has no bound.
func checkTokens(name string, tks token.Tokens) Problems {
	at := func(tk *token.Token, format string, args ...any) Problem {
		return Problem{File: name, Line: tk.Position.Line, Column: tk.Position.Column, Msg: fmt.Sprintf(format, args...)}
	}
	if len(tks) > 2*maxTokens+1 {
		return Problems{{File: name, Msg: fmt.Sprintf("the file has more than %s YAML tokens (keys, values, brackets); a configuration has a few hundred", commas(maxTokens))}}
	}
	var ps Problems
	aliases := 0
	// Block collections open at a column and close when a line starts to
	// their left; a block sequence may also sit at its key's column.
	type level struct {
		col  int
		seq  bool
		keys int
	}
	var stack []level
	flow := 0
	block := func(tk *token.Token, col int, seq bool) *Problem {
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.col > col || (top.col == col && top.seq && !seq) {
				stack = stack[:len(stack)-1]
				continue
			}
			break
		}
		if n := len(stack); n > 0 && stack[n-1].col == col && stack[n-1].seq == seq {
			if stack[n-1].keys++; !seq && stack[n-1].keys > maxKeys {
				p := at(tk, "more than %s keys in one mapping; a configuration has a few dozen", commas(maxKeys))
				return &p
			}
			return nil
		}
		stack = append(stack, level{col: col, seq: seq, keys: 1})
		if len(stack)+flow > maxDepth {
			p := at(tk, "nested more than %d levels deep; a configuration needs 8", maxDepth)
			return &p
		}
		return nil
	}
	for i, tk := range tks {
		var p *Problem
		switch tk.Type {
		case token.AnchorType, token.AliasType, token.MergeKeyType:
			if aliases++; aliases == 1 {
				ps = append(ps, at(tk, "YAML anchors, aliases and merge keys (&name, *name, <<) are not accepted: write each value out"))
			}
		case token.SequenceStartType, token.MappingStartType:
			if flow++; len(stack)+flow > maxDepth {
				pr := at(tk, "nested more than %d levels deep; a configuration needs 8", maxDepth)
				p = &pr
			}
		case token.SequenceEndType, token.MappingEndType:
			flow = max(flow-1, 0)
		case token.SequenceEntryType:
			if flow == 0 {
				p = block(tk, tk.Position.Column, true)
			}
		case token.MappingValueType:
			if flow == 0 && i > 0 {
				key := tks[i-1]
				p = block(key, key.Position.Column, false)
			}
		case token.DocumentHeaderType:
			stack, flow = stack[:0], 0
		}
		if p != nil {
			return append(ps, *p) // the rest would only repeat it
		}
	}
	return ps
}

// commas writes n with thousands separators, as the messages do.
func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
