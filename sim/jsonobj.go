package sim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// object is a JSON object that keeps its members in the order they were
// added, so that answers read like Graph's (@odata.context first, then the
// properties in the order the resource defines them).
type object []member

type member struct {
	name  string
	value any
}

func (o object) set(name string, value any) object {
	for i := range o {
		if o[i].name == name {
			o[i].value = value
			return o
		}
	}
	return append(o, member{name, value})
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) { return o.appendJSON(nil) }

func (o object) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, m.name)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, m.value); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendValue encodes the common value types directly and the others
// with encoding/json, without HTML escaping (Graph writes '<' and '&' as
// they are).
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case object:
		return x.appendJSON(b)
	case []object:
		b = append(b, '[')
		for i, o := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = o.appendJSON(b); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']'), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...), nil
}

// marshalValue encodes v.
func marshalValue(v any) ([]byte, error) { return appendValue(make([]byte, 0, 512), v) }

// appendString writes a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced, as encoding/json does
// (without HTML escaping).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// nullable returns nil for an empty string, so that unset string properties
// are written as null, as Graph does.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// stringsOrEmpty returns a non-nil slice, so that empty collections are
// written as [] rather than null.
func stringsOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
