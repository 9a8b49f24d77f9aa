package sim

import (
	"strings"
)

// group is a directory group (GD api-reference/v1.0/resources/group.md).
// Members are kept in the order they were added, each with a sequence
// number so that member lists page like any collection.
type group struct {
	objMeta
	DisplayName        string
	Description        string
	GroupTypes         []string
	IsAssignableToRole bool
	Mail               string
	MailEnabled        bool
	MailNickname       string
	ProxyAddresses     []string
	SecurityEnabled    bool
	Visibility         string
	members            []*membership
	owners             []string
}

// membership is one member of a group: its object id and when it was added.
type membership struct{ objMeta }

func (g *group) hasMember(id string) bool {
	for _, m := range g.members {
		if strings.EqualFold(m.id, id) {
			return true
		}
	}
	return false
}

func (g *group) addMember(id string, seq int64) {
	g.members = append(g.members, &membership{objMeta{seq: seq, id: id}})
}

func (g *group) removeMember(id string) bool {
	for i, m := range g.members {
		if strings.EqualFold(m.id, id) {
			g.members = append(g.members[:i], g.members[i+1:]...)
			return true
		}
	}
	return false
}

func (g *group) field(name string) any {
	if f, ok := groupFields[name]; ok {
		return f.get(g)
	}
	return nil
}

type groupField struct {
	name string
	get  func(g *group) any
}

var groupFields = func() map[string]groupField {
	list := []groupField{
		{"id", func(g *group) any { return g.id }},
		{"deletedDateTime", func(*group) any { return nil }},
		{"classification", func(*group) any { return nil }},
		{"createdDateTime", func(g *group) any { return timeOrNull(g.created) }},
		{"creationOptions", func(*group) any { return []string{} }},
		{"description", func(g *group) any { return nullable(g.Description) }},
		{"displayName", func(g *group) any { return nullable(g.DisplayName) }},
		{"expirationDateTime", func(*group) any { return nil }},
		{"groupTypes", func(g *group) any { return stringsOrEmpty(g.GroupTypes) }},
		{"isAssignableToRole", func(g *group) any { return g.IsAssignableToRole }},
		{"mail", func(g *group) any { return nullable(g.Mail) }},
		{"mailEnabled", func(g *group) any { return g.MailEnabled }},
		{"mailNickname", func(g *group) any { return nullable(g.MailNickname) }},
		{"membershipRule", func(*group) any { return nil }},
		{"membershipRuleProcessingState", func(*group) any { return nil }},
		{"onPremisesSyncEnabled", func(*group) any { return nil }},
		{"preferredDataLocation", func(*group) any { return nil }},
		{"preferredLanguage", func(*group) any { return nil }},
		{"proxyAddresses", func(g *group) any { return stringsOrEmpty(g.ProxyAddresses) }},
		{"renewedDateTime", func(g *group) any { return timeOrNull(g.created) }},
		{"resourceBehaviorOptions", func(*group) any { return []string{} }},
		{"resourceProvisioningOptions", func(*group) any { return []string{} }},
		{"securityEnabled", func(g *group) any { return g.SecurityEnabled }},
		{"securityIdentifier", func(*group) any { return nil }},
		{"theme", func(*group) any { return nil }},
		{"visibility", func(g *group) any { return nullable(g.Visibility) }},
	}
	m := make(map[string]groupField, len(list))
	for _, f := range list {
		m[strings.ToLower(f.name)] = f
	}
	return m
}()

var groupDefault = func() []string {
	var names []string
	for _, n := range []string{"id", "deletedDateTime", "classification", "createdDateTime", "creationOptions", "description", "displayName", "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled", "mailNickname", "membershipRule", "membershipRuleProcessingState", "onPremisesSyncEnabled", "preferredDataLocation", "preferredLanguage", "proxyAddresses", "renewedDateTime", "resourceBehaviorOptions", "resourceProvisioningOptions", "securityEnabled", "securityIdentifier", "theme", "visibility"} {
		names = append(names, n)
	}
	return names
}()

func (g *group) render(sel []string) object {
	if len(sel) == 0 {
		sel = groupDefault
	}
	o := make(object, 0, len(sel))
	for _, name := range sel {
		if f, ok := groupFields[strings.ToLower(name)]; ok {
			o = append(o, member{f.name, f.get(g)})
		}
	}
	return o
}

var groupList = listSpec{
	typ:    "group",
	filter: groupFilter,
	fields: func(lower string) (string, bool) {
		f, ok := groupFields[lower]
		return f.name, ok
	},
	defaultTop: 100,
	maxTop:     999,
}
