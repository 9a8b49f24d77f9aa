package sim

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"strings"
)

// Extension attributes of users, the two kinds foyer filters on:
//
//   - directory extension properties, extension_{appId without dashes}_{name}
//     (GD concepts/extensibility-overview.md: registered on an application,
//     set by PATCH /users/{id} with the name as a property, null clears it,
//     read in v1.0 only when $select names it, "Filterable: Yes"). The sim
//     keeps String values only and accepts any well-formed name: it has no
//     registry of extensionProperty definitions (Graph refuses a name no
//     application defines).
//   - onPremisesExtensionAttributes/extensionAttribute1..15 (the same page;
//     PATCH with an onPremisesExtensionAttributes object, null clears one;
//     GD includes/filter-directory-objects.md: eq, ne, ge, le and in only
//     with the advanced query parameters).
//
// SeedUser.Extensions sets either kind through the side door.

// extensionName is a directory extension property's name.
var extensionName = regexp.MustCompile(`^extension_[0-9a-fA-F]{32}_[A-Za-z0-9_]+$`)

// isExtensionName reports whether name is a directory extension property.
func isExtensionName(name string) bool { return extensionName.MatchString(name) }

const onPremPrefix = "onpremisesextensionattributes/"

// onPremIndex returns N for "extensionAttributeN" (1 to 15), or 0.
func onPremIndex(name string) int {
	lower := strings.ToLower(name)
	if !strings.HasPrefix(lower, "extensionattribute") {
		return 0
	}
	n, err := strconv.Atoi(lower[len("extensionattribute"):])
	if err != nil || n < 1 || n > 15 || strconv.Itoa(n) != lower[len("extensionattribute"):] {
		return 0
	}
	return n
}

// onPremFilterProps are the 15 on-premises extension attributes as filter
// properties: advanced queries only.
func onPremFilterProps() []filterProp {
	out := make([]filterProp, 15)
	for i := range out {
		out[i] = prop(fmt.Sprintf("onPremisesExtensionAttributes/extensionAttribute%d", i+1), kString, 0, opEq|opOrdered)
	}
	return out
}

// extensionFilterProp is a directory extension property as a filter
// property: eq (and in) without the advanced parameters, as the
// extensibility page's examples use it; ne and not with them.
func extensionFilterProp(name string) filterProp { return prop(name, kString, opEq, 0) }

// renderOnPrem writes onPremisesExtensionAttributes, every attribute
// present, unset ones null.
func (u *user) renderOnPrem() object {
	o := make(object, 15)
	for i := range o {
		o[i] = member{fmt.Sprintf("extensionAttribute%d", i+1), nullable(u.OnPremExt[i])}
	}
	return o
}

// onPremField is onPremisesExtensionAttributes for $filter: lowercased
// keys, unset ones nil.
func (u *user) onPremField() map[string]any {
	m := make(map[string]any, 15)
	for i, v := range u.OnPremExt {
		if v != "" {
			m[fmt.Sprintf("extensionattribute%d", i+1)] = v
		}
	}
	return m
}

// extValue is a directory extension property's value and its name as it
// was set (Graph writes the name as its definition spells it; a $select
// reaches the sim lowercased).
type extValue struct{ name, value string }

// extension returns a directory extension property's value, nil if unset.
func (u *user) extension(lower string) any {
	if v, ok := u.Extensions[lower]; ok {
		return v.value
	}
	return nil
}

// extensionMember is the property as an answer writes it.
func (u *user) extensionMember(lower string) member {
	if v, ok := u.Extensions[lower]; ok {
		return member{v.name, v.value}
	}
	return member{lower, nil}
}

// setExtension sets (or with "" clears) a directory extension property,
// on a copy of the map: a PATCH works on a copy of the user and keeps it
// only when every property applies.
func (u *user) setExtension(name, v string) {
	lower := strings.ToLower(name)
	m := maps.Clone(u.Extensions)
	if m == nil {
		m = map[string]extValue{}
	}
	if v == "" {
		delete(m, lower)
	} else {
		m[lower] = extValue{name, v}
	}
	u.Extensions = m
}

// setOnPrem applies a PATCH's onPremisesExtensionAttributes object: the
// attributes it names are set, null clears one, the others stay.
func (u *user) setOnPrem(raw json.RawMessage) *apiError {
	if string(raw) == "null" {
		return invalidValue("onPremisesExtensionAttributes")
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return errOData("Cannot convert the literal '%s' to the expected type 'microsoft.graph.onPremisesExtensionAttributes'.", string(raw))
	}
	vals := u.OnPremExt
	for k, r := range in {
		if strings.HasPrefix(k, "@odata") {
			continue
		}
		n := onPremIndex(k)
		if n == 0 {
			return errUnknownBodyProperty(k, "onPremisesExtensionAttributes")
		}
		s, err := jsonString(r, "Edm.String")
		if err != nil {
			return err
		}
		vals[n-1] = s
	}
	u.OnPremExt = vals
	return nil
}

// seedExtensions applies SeedUser.Extensions: directory extension
// properties by name, on-premises ones as
// onPremisesExtensionAttributes/extensionAttributeN.
func (u *user) seedExtensions(ext map[string]string) error {
	for k, v := range ext {
		switch {
		case isExtensionName(k):
			u.setExtension(k, v)
		case strings.HasPrefix(strings.ToLower(k), onPremPrefix) && onPremIndex(k[len(onPremPrefix):]) > 0:
			u.OnPremExt[onPremIndex(k[len(onPremPrefix):])-1] = v
		default:
			return fmt.Errorf("extension %q: want extension_{appId without dashes}_{name} or onPremisesExtensionAttributes/extensionAttribute1..15", k)
		}
	}
	return nil
}
