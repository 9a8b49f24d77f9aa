package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// TestBudget: rows are counted against the tenant's limits in input order;
// a row held back takes nothing, so later rows may still fit.
func TestBudget(t *testing.T) {
	t.Parallel()
	e3 := foyer.Grant{Kind: foyer.GrantLicense, Target: "e3-sku", Name: "E3"}
	p1 := foyer.Grant{Kind: foyer.GrantLicense, Target: "p1-sku", Name: "P1"}
	group := foyer.Grant{Kind: foyer.GrantGroup, Target: "g1", Name: "DemoApp"}
	book := foyer.Grant{Kind: foyer.GrantAddressBook, Name: "address book"}
	invite := foyer.Row{Action: foyer.ActionInvite}
	exists := func(gs ...foyer.Grant) foyer.Row {
		r := foyer.Row{Action: foyer.ActionExists, UserID: "u"}
		for _, g := range gs {
			r.Grants = append(r.Grants, g.Key())
		}
		return r
	}
	for _, tc := range []struct {
		name   string
		grants []foyer.Grant
		limits Limits
		rows   []foyer.Row
		want   string   // each row's action: i invite, e exists, s held back (skip), d other
		reason []string // a held row's reason contains this, in order
		notice []string
	}{
		{"no limits known", []foyer.Grant{e3}, Limits{}, []foyer.Row{invite, invite}, "ii", nil, nil},
		{"seats, in input order", []foyer.Grant{group, e3}, Limits{Seats: map[string]int{e3.Key(): 2}},
			[]foyer.Row{invite, exists(group), invite, exists(e3), invite},
			"ieiss", []string{"no free seat of license E3 (2 free, this row would be number 3)", "no free seat of license E3 (2 free, this row would be number 4)"},
			[]string{"2 rows held back: license E3 has 2 free seats"}},
		{"a guest who holds the license needs no seat", []foyer.Grant{e3}, Limits{Seats: map[string]int{e3.Key(): 0}},
			[]foyer.Row{exists(), invite}, "es", []string{"(0 free, this row would be number 1)"}, nil},
		{"over-assigned licenses show 0 free", []foyer.Grant{e3}, Limits{Seats: map[string]int{e3.Key(): -3}},
			[]foyer.Row{invite}, "s", []string{"(0 free, this row would be number 1)"}, nil},
		{"held for one license takes no seat of the other", []foyer.Grant{e3, p1}, Limits{Seats: map[string]int{e3.Key(): 5, p1.Key(): 1}},
			[]foyer.Row{invite, invite, exists(e3)}, "ise", []string{"no free seat of license P1"}, nil},
		{"object quota", []foyer.Grant{group}, Limits{Quota: directory.Quota{Used: 48, Total: 50}},
			[]foyer.Row{invite, exists(group), invite, invite}, "ieis", []string{"past the tenant's directory object quota (48 of 50 objects used; this row would make 51)"},
			[]string{"1 rows held back: the tenant holds 48 of its quota of 50"}},
		{"the address book makes no object", []foyer.Grant{book}, Limits{Quota: directory.Quota{Used: 48, Total: 50}},
			[]foyer.Row{invite, exists(book), exists(), invite}, "ieei", nil, nil},
		{"held for the quota takes no seat", []foyer.Grant{e3}, Limits{Quota: directory.Quota{Used: 10, Total: 10}, Seats: map[string]int{e3.Key(): 1}},
			[]foyer.Row{invite, exists(e3), exists(e3)}, "ses", []string{"object quota", "no free seat of license E3 (1 free, this row would be number 2)"}, nil},
		{"other actions pass", []foyer.Grant{e3}, Limits{Seats: map[string]int{e3.Key(): 0}},
			[]foyer.Row{{Action: foyer.ActionSkip}, {Action: foyer.ActionDuplicate}, {Action: foyer.ActionInvalid}}, "ddd", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBudget(tc.grants, tc.limits)
			var got strings.Builder
			var reasons []string
			for _, r := range tc.rows {
				r = b.admit(r)
				switch r.Action {
				case foyer.ActionInvite:
					got.WriteByte('i')
				case foyer.ActionExists:
					got.WriteByte('e')
				case foyer.ActionSkip:
					if r.Reason == "" {
						got.WriteByte('d')
						continue
					}
					got.WriteByte('s')
					reasons = append(reasons, r.Reason)
					if r.Grants != nil {
						t.Errorf("a held row keeps grants %q", r.Grants)
					}
				default:
					got.WriteByte('d')
				}
			}
			if got.String() != tc.want {
				t.Errorf("actions %s, want %s (reasons %q)", got.String(), tc.want, reasons)
			}
			for i, w := range tc.reason {
				if i >= len(reasons) || !strings.Contains(reasons[i], w) {
					t.Errorf("reasons %q: want #%d to contain %q", reasons, i+1, w)
				}
			}
			notices := fmt.Sprint(b.notices())
			for _, w := range tc.notice {
				if !strings.Contains(notices, w) {
					t.Errorf("notices %s, want %q", notices, w)
				}
			}
		})
	}
}
