package sim

import (
	"bytes"
	"encoding/json"
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
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.name)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalValue(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalValue encodes v without HTML escaping (Graph writes '<' and '&'
// as they are).
func marshalValue(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// nullable returns nil for an empty string, so that unset string properties
// are written as null, as Graph does.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// strings returns a non-nil slice, so that empty collections are written as
// [] rather than null.
func stringsOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
