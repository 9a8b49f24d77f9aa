package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file parses the subset of OData $filter that Graph's directory
// supports (GD concepts/filter-query-parameter.md): eq, ne, ge, le, gt, lt,
// in, not, and, or, startsWith, endsWith, any/all lambdas on collections,
// /$count on collections, string literals with '' escapes, null, true,
// false, numbers, GUIDs and date-times. Keywords are case-insensitive, as
// Graph accepts "NOT" and "OR". Which property allows which operator is the
// resource schema's business (schema.go), not the parser's.

// node is a parsed $filter expression.
type node interface{ pos() int }

type logicNode struct {
	op   string // and, or
	l, r node
	at   int
}

type notNode struct {
	x  node
	at int
}

// cmpNode is path op literal.
type cmpNode struct {
	op   string // eq, ne, ge, le, gt, lt
	path []string
	val  literal
	at   int
}

type inNode struct {
	path []string
	vals []literal
	at   int
}

// funcNode is startsWith(path, literal) or endsWith(path, literal).
type funcNode struct {
	name string // startswith, endswith
	path []string
	arg  literal
	at   int
}

// lambdaNode is path/any(v:body) or path/all(v:body).
type lambdaNode struct {
	path []string
	kind string // any, all
	v    string
	body node
	at   int
}

func (n *logicNode) pos() int  { return n.at }
func (n *notNode) pos() int    { return n.at }
func (n *cmpNode) pos() int    { return n.at }
func (n *inNode) pos() int     { return n.at }
func (n *funcNode) pos() int   { return n.at }
func (n *lambdaNode) pos() int { return n.at }

type litKind int

const (
	litString litKind = iota
	litNull
	litBool
	litNumber
	litGUID
	litTime
)

type literal struct {
	kind litKind
	s    string // string, GUID, and the source text of every literal
	b    bool
	n    float64
	t    time.Time
}

// filterError is a syntax error at a position of the $filter text.
type filterError struct {
	at  int
	msg string
	src string
}

func (e *filterError) Error() string {
	return fmt.Sprintf("Syntax error at position %d in '%s': %s.", e.at, e.src, e.msg)
}

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tGUID
	tNumber
	tTime
	tPunct
)

type token struct {
	kind tokKind
	text string // for tString, the unescaped value
	at   int
}

// maxFilterLen bounds the work one request can ask of the parser.
const maxFilterLen = 8192

// parseFilter parses a $filter value.
func parseFilter(src string) (node, error) {
	if len(src) > maxFilterLen {
		return nil, &filterError{0, "the filter is too long", src[:64] + "..."}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, src: src}
	n, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "unexpected '"+t.text+"'")
	}
	return n, nil
}

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.IndexByte("(),:/", c) >= 0:
			toks = append(toks, token{tPunct, string(c), i})
			i++
		case c == '\'':
			s, n, ok := lexString(src[i:])
			if !ok {
				return nil, &filterError{i, "unterminated string literal", src}
			}
			toks = append(toks, token{tString, s, i})
			i += n
		default:
			t, n := lexWord(src[i:])
			if n == 0 {
				return nil, &filterError{i, fmt.Sprintf("unexpected character '%c'", c), src}
			}
			t.at = i
			toks = append(toks, t)
			i += n
		}
	}
	return append(toks, token{tEOF, "", len(src)}), nil
}

// lexString reads a quoted literal at the start of s, with ” standing for
// one quote, and returns its value and length.
func lexString(s string) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), i + 1, true
	}
	return "", 0, false
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c == '@' || c == '.' || c == '-' || c == '+' ||
		'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// lexWord reads an identifier, number, GUID or date-time.
func lexWord(s string) (token, int) {
	if len(s) >= 36 && isGUID(s[:36]) && (len(s) == 36 || !isIdentByte(s[36])) {
		return token{kind: tGUID, text: s[:36]}, 36
	}
	n := 0
	for n < len(s) && isIdentByte(s[n]) {
		n++
	}
	if n == 0 {
		return token{}, 0
	}
	word := s[:n]
	if c := word[0]; '0' <= c && c <= '9' || c == '-' {
		// A date-time carries colons (2024-01-02T03:04:05Z); read on.
		for n < len(s) && (isIdentByte(s[n]) || s[n] == ':') {
			n++
		}
		word = s[:n]
		if _, err := strconv.ParseFloat(word, 64); err == nil {
			return token{kind: tNumber, text: word}, n
		}
		return token{kind: tTime, text: word}, n
	}
	return token{kind: tWord, text: word}, n
}

type parser struct {
	toks []token
	i    int
	src  string
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, msg string) error {
	return &filterError{t.at, msg, p.src}
}

func (p *parser) isWord(t token, w string) bool {
	return t.kind == tWord && strings.EqualFold(t.text, w)
}

func (p *parser) isPunct(t token, s string) bool { return t.kind == tPunct && t.text == s }

func (p *parser) expect(s string) error {
	t := p.next()
	if !p.isPunct(t, s) {
		return p.errAt(t, fmt.Sprintf("expected '%s'", s))
	}
	return nil
}

// maxDepth bounds nesting so that a hostile filter cannot exhaust the stack.
const maxDepth = 32

// expr parses or-expressions (lowest precedence).
func (p *parser) expr(depth int) (node, error) {
	if depth > maxDepth {
		return nil, p.errAt(p.peek(), "the filter is nested too deeply")
	}
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.isWord(p.peek(), "or") {
		t := p.next()
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = &logicNode{"or", l, r, t.at}
	}
	return l, nil
}

func (p *parser) and(depth int) (node, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.isWord(p.peek(), "and") {
		t := p.next()
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = &logicNode{"and", l, r, t.at}
	}
	return l, nil
}

func (p *parser) unary(depth int) (node, error) {
	t := p.peek()
	if p.isWord(t, "not") {
		p.next()
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &notNode{x, t.at}, nil
	}
	if p.isPunct(t, "(") {
		p.next()
		x, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		return x, p.expect(")")
	}
	return p.primary(depth)
}

// primary parses a function call, a lambda, or a comparison.
func (p *parser) primary(depth int) (node, error) {
	t := p.peek()
	if t.kind != tWord {
		return nil, p.errAt(t, "expected a property or a function")
	}
	if name := strings.ToLower(t.text); (name == "startswith" || name == "endswith") && p.isPunct(p.toks[p.i+1], "(") {
		return p.function(name)
	}
	path, lam, err := p.path(depth)
	if err != nil || lam != nil {
		return lam, err
	}
	op := p.next()
	if op.kind != tWord {
		return nil, p.errAt(op, "expected an operator")
	}
	switch o := strings.ToLower(op.text); o {
	case "eq", "ne", "ge", "le", "gt", "lt":
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		return &cmpNode{o, path, v, t.at}, nil
	case "in":
		vals, err := p.list()
		if err != nil {
			return nil, err
		}
		return &inNode{path, vals, t.at}, nil
	default:
		return nil, p.errAt(op, "unknown operator '"+op.text+"'")
	}
}

// path reads a/b/c; when it ends in /any(...) or /all(...) it returns the
// lambda instead.
func (p *parser) path(depth int) ([]string, node, error) {
	start := p.peek()
	var path []string
	for {
		t := p.next()
		if t.kind != tWord {
			return nil, nil, p.errAt(t, "expected a property name")
		}
		kind := strings.ToLower(t.text)
		if (kind == "any" || kind == "all") && len(path) > 0 && p.isPunct(p.peek(), "(") {
			lam, err := p.lambda(path, kind, start.at, depth)
			return nil, lam, err
		}
		path = append(path, t.text)
		if !p.isPunct(p.peek(), "/") {
			return path, nil, nil
		}
		p.next()
	}
}

func (p *parser) lambda(path []string, kind string, at, depth int) (node, error) {
	p.next() // (
	v := p.next()
	if v.kind != tWord {
		return nil, p.errAt(v, "expected a lambda variable")
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	body, err := p.expr(depth + 1)
	if err != nil {
		return nil, err
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return &lambdaNode{path, kind, v.text, body, at}, nil
}

func (p *parser) function(name string) (node, error) {
	t := p.next()
	p.next() // (
	path, lam, err := p.path(0)
	if err != nil {
		return nil, err
	}
	if lam != nil {
		return nil, p.errAt(t, "a function takes a property, not a lambda")
	}
	if err := p.expect(","); err != nil {
		return nil, err
	}
	arg, err := p.literal()
	if err != nil {
		return nil, err
	}
	if arg.kind != litString {
		return nil, p.errAt(t, name+" takes a string")
	}
	return &funcNode{name, path, arg, t.at}, p.expect(")")
}

func (p *parser) list() ([]literal, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var vals []literal
	for {
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		t := p.next()
		if p.isPunct(t, ")") {
			return vals, nil
		}
		if !p.isPunct(t, ",") {
			return nil, p.errAt(t, "expected ',' or ')'")
		}
	}
}

func (p *parser) literal() (literal, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return literal{kind: litString, s: t.text}, nil
	case tGUID:
		return literal{kind: litGUID, s: strings.ToLower(t.text)}, nil
	case tNumber:
		n, _ := strconv.ParseFloat(t.text, 64)
		return literal{kind: litNumber, n: n, s: t.text}, nil
	case tTime:
		tm, err := parseODataTime(t.text)
		if err != nil {
			return literal{}, p.errAt(t, "invalid date-time '"+t.text+"'")
		}
		return literal{kind: litTime, t: tm, s: t.text}, nil
	case tWord:
		switch strings.ToLower(t.text) {
		case "null":
			return literal{kind: litNull, s: "null"}, nil
		case "true", "false":
			return literal{kind: litBool, b: strings.EqualFold(t.text, "true"), s: t.text}, nil
		}
	}
	return literal{}, p.errAt(t, "expected a literal")
}

// parseODataTime reads an Edm.DateTimeOffset or Edm.Date literal.
func parseODataTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date-time %q", s)
}
