package config

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// The decoder fills a Config from the parsed file by walking the file and
// the Go types side by side, so that it can report every key it does not
// know and every value of the wrong type, each with its place and field,
// where go-yaml's decoder stops at the first.

// durationDocs says what each duration is for, by schema path ("*" for a
// name the user chooses), so that a duration foyer cannot read is
// explained in the terms of its field.
var durationDocs = map[string]struct{ what, example string }{
	"pacing.write_budget.window":           {"the window of the app and tenant write budget (absent: 150s)", "150s or 2m30s"},
	"pacing.write_budget.app_window":       {"the window of the app's write budget across tenants (absent: 5m)", "5m"},
	"pacing.write_budget.margin":           {"how much longer foyer counts a write than the service's window (absent: 2s)", "2s"},
	"pacing.lookup_grace":                  {"how long foyer keeps looking up a person whose invitation got no answer, before inviting again (default 5m)", "30s or 2m"},
	"profiles.*.expiry":                    {"how long after it is granted a guest's access ends (0 or absent: never)", "90d, 2w or 36h"},
	"profiles.*.expiry_notice":             {"how long before access ends the guest and sponsors are told (absent: 7d when smtp is configured; 0: never)", "7d or 72h"},
	"profiles.*.reminders.after":           {"how long an invitation stays pending before it is sent again, and between two reminders", "7d or 72h"},
	"profiles.*.inactivity":                {"how long without a sign-in before a guest counts as inactive (0 or absent: never)", "30d or 12w"},
	"profiles.*.approval.stages[].timeout": {"how long a stage waits for a decision before it denies or escalates (absent: 14d)", "72h or 14d"},
	"triggers.*.watch_interval":            {"how often a watched folder is scanned; a file is applied once two scans found it unchanged (absent: 30s)", "30s or 5m"},
	"serve.drain_timeout":                  {"how long foyer serve lets the jobs under way finish once told to stop (absent: 30s)", "30s or 2m"},
	"serve.lifecycle_interval":             {"how often foyer serve syncs redemptions, sends reminders and does the expiry due (absent: 1h)", "1h or 15m"},
	"serve.verification.link_ttl":          {"how long the link that proves a requester's address works (absent: 30m)", "30m or 2h"},
}

var durationType = reflect.TypeFor[Duration]()

type decoder struct {
	name string
	ps   Problems
}

// decodeFile fills c from f and returns every problem with the file's
// shape: unknown keys, values of the wrong type, durations it cannot read.
func decodeFile(name string, f *ast.File, c *Config) Problems {
	d := &decoder{name: name}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) > 1 {
		d.add(docs[1].Body, "$", "the file holds more than one YAML document (--- separates them); foyer reads one")
	}
	if len(docs) > 0 {
		d.value(docs[0].Body, reflect.ValueOf(c).Elem(), "$", "")
	}
	return d.ps
}

func (d *decoder) add(n ast.Node, path, format string, args ...any) {
	p := Problem{File: d.name, Msg: fmt.Sprintf(format, args...), path: path}
	if n != nil {
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			p.Line, p.Column = tk.Position.Line, tk.Position.Column
		}
	}
	d.ps = append(d.ps, p)
}

// value decodes n into v. path is where n is (a go-yaml path, as the
// checker's); schema is the same with "*" for names the user chose.
func (d *decoder) value(n ast.Node, v reflect.Value, path, schema string) {
	for {
		switch t := n.(type) {
		case *ast.TagNode:
			n = t.Value
			continue
		case *ast.AnchorNode: // refused earlier; kept harmless here
			n = t.Value
			continue
		}
		break
	}
	if isNull(n) {
		return
	}
	if _, ok := n.(*ast.AliasNode); ok {
		d.add(n, path, "%s: YAML aliases are not accepted: write the value out", field(path))
		return
	}
	if v.Type() == durationType {
		d.duration(n, v, path, schema)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path, schema)
	case reflect.Struct:
		d.structure(n, v, path, schema)
	case reflect.Map:
		d.mapping(n, v, path, schema)
	case reflect.Slice:
		d.list(n, v, path, schema)
	case reflect.String:
		s, ok := scalar(n)
		if !ok {
			d.add(n, path, "%s: want text, not %s", field(path), describe(n))
			return
		}
		v.SetString(s)
	case reflect.Int:
		x, ok := wholeNumber(n)
		if !ok {
			d.add(n, path, "%s: want a whole number, not %s", field(path), describe(n))
			return
		}
		v.SetInt(x)
	case reflect.Float64:
		x, ok := number(n)
		if !ok {
			d.add(n, path, "%s: want a number, not %s", field(path), describe(n))
			return
		}
		v.SetFloat(x)
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.add(n, path, "%s: want true or false, not %s", field(path), describe(n))
			return
		}
		v.SetBool(b.Value)
	default:
		d.add(n, path, "%s: foyer cannot read a %s", field(path), v.Type())
	}
}

// number reads a decimal or whole number.
func number(n ast.Node) (float64, bool) {
	switch f := n.(type) {
	case *ast.FloatNode:
		return f.Value, true
	case *ast.IntegerNode:
		x, ok := wholeNumber(n)
		return float64(x), ok
	}
	return 0, false
}

// wholeNumber reads an integer small enough for any setting.
func wholeNumber(n ast.Node) (int64, bool) {
	i, ok := n.(*ast.IntegerNode)
	if !ok {
		return 0, false
	}
	switch x := i.Value.(type) {
	case int64:
		return x, x >= math.MinInt32 && x <= math.MaxInt32
	case uint64:
		return int64(min(x, math.MaxInt32+1)), x <= math.MaxInt32
	}
	return 0, false
}

func (d *decoder) structure(n ast.Node, v reflect.Value, path, schema string) {
	entries, ok := entriesOf(n)
	if !ok {
		d.add(n, path, "%s: want keys and values (key: value), not %s", field(path), describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	for _, e := range entries {
		key, ok := d.key(e, path)
		if !ok {
			continue
		}
		i, known := fields.index[key]
		if !known {
			if _, secret := secretKeys[strings.ToLower(key)]; !secret { // inlineSecrets says why
				d.unknown(e.Key, key, path, schema, fields.names)
			}
			continue
		}
		d.value(e.Value, v.Field(i), path+"."+key, schema+"."+key)
	}
}

func (d *decoder) mapping(n ast.Node, v reflect.Value, path, schema string) {
	entries, ok := entriesOf(n)
	if !ok {
		d.add(n, path, "%s: want named entries (name: …), not %s", field(path), describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(v.Type(), len(entries)))
	}
	for _, e := range entries {
		key, ok := d.key(e, path)
		if !ok {
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(e.Value, elem, path+"."+key, schema+".*")
		v.SetMapIndex(reflect.ValueOf(key), elem)
	}
}

func (d *decoder) list(n ast.Node, v reflect.Value, path, schema string) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.add(n, path, "%s: want a list, such as [a, b] or lines that start with \"- \", not %s", field(path), describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i), schema+"[]")
	}
	v.Set(s)
}

func (d *decoder) duration(n ast.Node, v reflect.Value, path, schema string) {
	s, ok := scalar(n)
	var err error
	var x time.Duration
	if ok {
		x, err = ParseDuration(strings.TrimSpace(s))
	}
	if ok && err == nil {
		v.SetInt(int64(x))
		return
	}
	what := fmt.Sprintf("%q is not a duration", s)
	switch {
	case !ok:
		what = describe(n) + " is not a duration"
	case isNumber(n):
		what = s + " has no unit"
	case strings.HasPrefix(strings.TrimSpace(s), "-"):
		what = fmt.Sprintf("%q is negative", s)
	}
	doc, ok := durationDocs[strings.TrimPrefix(schema, ".")]
	if !ok {
		doc.example = "30s, 36h or 90d"
	}
	msg := fmt.Sprintf("%s: %s", field(path), what)
	if doc.what != "" {
		msg += fmt.Sprintf("; %s is %s", path[strings.LastIndexByte(path, '.')+1:], doc.what)
	}
	d.add(n, path, "%s; write a duration such as %s (units: s, m, h, d for days, w for weeks)", msg, doc.example)
}

// key returns the text of an entry's key.
func (d *decoder) key(e *ast.MappingValueNode, path string) (string, bool) {
	k := ast.Node(e.Key)
	if mk, ok := k.(*ast.MappingKeyNode); ok { // "? key"
		k = mk.Value
	}
	if _, ok := k.(*ast.MergeKeyNode); ok {
		d.add(k, path, "%s: YAML merge keys (<<) are not accepted: write each key out", field(path))
		return "", false
	}
	s, ok := scalar(k)
	if !ok || isNull(k) {
		d.add(k, path, "%s: a key must be a plain name, not %s", field(path), describe(k))
		return "", false
	}
	return s, true
}

// unknown reports a key the schema does not have, with the nearest known
// key, or the sections where it belongs, or the keys that are known here.
func (d *decoder) unknown(n ast.Node, key, path, schema string, names []string) {
	where := "at the top level"
	if path != "$" {
		where = "in " + field(path)
	}
	hint := ""
	if near := nearest(key, names); near != "" {
		hint = fmt.Sprintf("; did you mean %q?", near)
	} else if homes := homesOf(key); len(homes) > 0 {
		hint = fmt.Sprintf("; %s belongs in %s", key, strings.Join(homes, " or "))
	} else {
		hint = "; the keys here are " + strings.Join(names, ", ")
	}
	d.add(n, path+"."+key, "unknown key %q %s%s", key, where, hint)
}

// entriesOf returns a mapping's entries; go-yaml gives a mapping of one
// entry as the entry itself.
func entriesOf(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	return nil, false
}

// scalar returns a scalar's text as written (a number stays "0123").
func scalar(n ast.Node) (string, bool) {
	switch s := n.(type) {
	case *ast.StringNode:
		return s.Value, true
	case *ast.LiteralNode:
		return s.Value.Value, true
	case *ast.NullNode:
		return "", true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	}
	return "", false
}

func isNull(n ast.Node) bool {
	_, null := n.(*ast.NullNode)
	return n == nil || null
}

func isNumber(n ast.Node) bool {
	switch n.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		return true
	}
	return false
}

// describe names a value for a message: its kind, or a short quote of a
// scalar. Only fields that never hold secrets quote their value.
func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "keys and values"
	case *ast.SequenceNode:
		return "a list"
	}
	s, ok := scalar(n)
	if !ok {
		return "this"
	}
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// field writes a go-yaml path as people read it: pacing.lookup_grace.
func field(path string) string {
	if path == "$" {
		return "the file"
	}
	return strings.TrimPrefix(path, "$.")
}

type structFields struct {
	index map[string]int
	names []string // in declaration order
}

func fieldsOf(t reflect.Type) structFields {
	fs := structFields{index: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fs.index[name] = i
		fs.names = append(fs.names, name)
	}
	return fs
}

// homesOf returns the sections of the schema that know key, e.g.
// "pacing" for lookup_grace.
func homesOf(key string) []string {
	var homes []string
	var walk func(t reflect.Type, at string, depth int)
	walk = func(t reflect.Type, at string, depth int) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			if t.Kind() == reflect.Map {
				at += ".<name>"
			}
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == durationType || depth > maxDepth {
			return
		}
		fs := fieldsOf(t)
		if _, ok := fs.index[key]; ok {
			homes = append(homes, field("$"+at))
		}
		for _, name := range fs.names {
			walk(t.Field(fs.index[name]).Type, at+"."+name, depth+1)
		}
	}
	walk(reflect.TypeFor[Config](), "", 0)
	return homes
}

// nearest returns the name closest to key by edit distance, if it is close
// enough to be a slip: case, - for _, a letter or two.
func nearest(key string, names []string) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	k := norm(key)
	limit := 3 // edits that still look like a slip
	switch {
	case len(k) <= 4:
		limit = 1
	case len(k) <= 8:
		limit = 2
	}
	best, bestD := "", limit+1
	for _, name := range names {
		if dist := editDistance(k, norm(name)); dist < bestD {
			best, bestD = name, dist
		}
	}
	return best
}

// editDistance is Levenshtein's distance between a and b, in bytes (keys
// are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
