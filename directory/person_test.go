package directory

import "testing"

func TestPersonReach(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    Person
		want string
		ok   bool
	}{
		{"mail first", Person{Mail: "Ann@Contoso.example", UserPrincipalName: "ann.b@contoso.example"}, "Ann@contoso.example", true},
		{"UPN without mail", Person{UserPrincipalName: "bob@contoso.example"}, "bob@contoso.example", true},
		{"a guest's #EXT# UPN reaches nobody", Person{UserPrincipalName: "cy_fabrikam.example#EXT#@contoso.onmicrosoft.com"}, "", false},
		{"a guest's mail", Person{Mail: "cy@fabrikam.example", UserPrincipalName: "cy_fabrikam.example#EXT#@contoso.onmicrosoft.com"}, "cy@fabrikam.example", true},
		{"nothing", Person{ID: "x"}, "", false},
		{"not an address", Person{Mail: "not an address"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, ok := tc.p.Reach()
			if ok != tc.ok || (ok && a.String() != tc.want) {
				t.Errorf("Reach() = %q, %v; want %q, %v", a, ok, tc.want, tc.ok)
			}
		})
	}
}
