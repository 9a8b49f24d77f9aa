package graph

import (
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// personSelect is the $select for every user read: what directory.Person
// holds, and no more (a smaller answer and one resource unit less,
// docs/graph-reference.md §7).
const personSelect = "id,displayName,userPrincipalName,mail,otherMails,proxyAddresses,userType,externalUserState,externalUserStateChangeDateTime,accountEnabled,createdDateTime,usageLocation"

// user is Graph's user resource, the fields foyer reads
// (microsoft-graph-docs-contrib api-reference/v1.0/resources/user.md).
type user struct {
	ID                string     `json:"id"`
	DisplayName       string     `json:"displayName"`
	UserPrincipalName string     `json:"userPrincipalName"`
	Mail              string     `json:"mail"`
	OtherMails        []string   `json:"otherMails"`
	ProxyAddresses    []string   `json:"proxyAddresses"`
	UserType          string     `json:"userType"`
	ExternalUserState string     `json:"externalUserState"`
	StateChangedAt    *time.Time `json:"externalUserStateChangeDateTime"`
	AccountEnabled    *bool      `json:"accountEnabled"`
	CreatedDateTime   time.Time  `json:"createdDateTime"`
	UsageLocation     string     `json:"usageLocation"`
}

func (u user) person() directory.Person {
	return directory.Person{
		ID: u.ID, DisplayName: u.DisplayName, UserPrincipalName: u.UserPrincipalName,
		Mail: u.Mail, OtherMails: u.OtherMails, ProxyAddresses: u.ProxyAddresses,
		UserType: u.UserType, ExternalUserState: u.ExternalUserState, ExternalUserStateChangedAt: orZero(u.StateChangedAt),
		AccountEnabled: u.AccountEnabled == nil || *u.AccountEnabled,
		CreatedAt:      u.CreatedDateTime, UsageLocation: u.UsageLocation,
	}
}

// Match ranks, best first: how an address was found on a user. When two
// users carry the same address, the better-ranked form wins (the invited
// address is mail; otherMails and proxies are secondary).
const (
	rankMail = iota
	rankUPN
	rankOther
	rankProxy
	rankExtUPN
	rankNone
)

// forms calls f with every lowercased address the user carries, and how.
func (u user) forms(f func(key string, rank int)) {
	if u.Mail != "" {
		f(strings.ToLower(u.Mail), rankMail)
	}
	if u.UserPrincipalName != "" {
		f(strings.ToLower(u.UserPrincipalName), rankUPN)
		if a := extAddress(u.UserPrincipalName); a != "" {
			f(a, rankExtUPN)
		}
	}
	for _, m := range u.OtherMails {
		f(strings.ToLower(m), rankOther)
	}
	for _, p := range u.ProxyAddresses {
		if len(p) > 5 && strings.EqualFold(p[:5], "smtp:") {
			f(strings.ToLower(p[5:]), rankProxy)
		}
	}
}

// rank returns how well u matches key (lowercased), rankNone if not at all.
func (u user) rank(key string) int {
	best := rankNone
	u.forms(func(k string, r int) {
		if k == key && r < best {
			best = r
		}
	})
	return best
}

// extAddress decodes a guest UPN "local_domain#EXT#@tenant" into
// "local@domain", lowercased; "" for any other UPN. Domains hold no '_', so
// the last '_' before #EXT# separates local part and domain
// (user-properties.md in entra-docs: UPN of an invited user).
func extAddress(upn string) string {
	l := strings.ToLower(upn)
	i := strings.Index(l, "#ext#@")
	if i <= 0 {
		return ""
	}
	head := l[:i]
	j := strings.LastIndexByte(head, '_')
	if j <= 0 || j == len(head)-1 {
		return ""
	}
	return head[:j] + "@" + head[j+1:]
}

// extPrefix is the start of the UPN Entra gives a guest invited as a.
func extPrefix(a foyer.Address) string {
	return a.Local() + "_" + a.Domain() + "#EXT#@"
}
