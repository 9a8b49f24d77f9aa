package throttle

import (
	"net/url"
	"testing"
)

func TestCost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		req   Request
		ru    int
		write bool
	}{
		// Base costs from the published table.
		{"list users", Request{Route: "GET /users"}, 2, false},
		{"get user", Request{Route: "GET /users/{id}"}, 1, false},
		{"users count", Request{Route: "GET /users/$count"}, 1, false},
		{"group members", Request{Route: "GET /groups/{id}/members"}, 3, false},
		{"transitive members", Request{Route: "GET /groups/{id}/transitiveMembers"}, 5, false},
		{"subscribed skus", Request{Route: "GET /subscribedSkus"}, 3, false},
		{"applications", Request{Route: "GET /applications"}, 2, false},
		{"extension properties", Request{Route: "GET /applications/{id}/extensionProperties"}, 2, false},
		{"contracts", Request{Route: "GET /contracts"}, 3, false},
		{"domain name references", Request{Route: "GET /domains/{id}/domainNameReferences"}, 4, false},
		{"sp app role assignments", Request{Route: "GET /servicePrincipals/{id}/appRoleAssignments"}, 2, false},
		{"oauth2 grants", Request{Route: "GET /oauth2PermissionGrants"}, 2, false},
		{"oauth2 grant", Request{Route: "GET /oauth2PermissionGrants/{id}"}, 2, false},
		{"me memberOf", Request{Route: "GET /me/memberOf"}, 2, false},
		{"user memberOf like me", Request{Route: "GET /users/{id}/memberOf"}, 2, false},
		{"user licenseDetails", Request{Route: "GET /users/{user-id}/licenseDetails"}, 2, false},
		{"me ownedObjects", Request{Route: "GET /me/ownedObjects"}, 2, false},
		{"me transitiveMemberOf", Request{Route: "GET /me/transitiveMemberOf"}, 2, false},
		{"checkMemberGroups", Request{Route: "POST /me/checkMemberGroups"}, 4, false},
		{"checkMemberObjects", Request{Route: "POST /users/{id}/checkMemberObjects"}, 4, false},
		{"getMemberGroups", Request{Route: "POST /me/getMemberGroups"}, 2, false},
		{"getMemberObjects", Request{Route: "POST /users/{id}/getMemberObjects"}, 2, false},
		{"isMemberOf", Request{Route: "POST /isMemberOf"}, 4, false},
		{"getByIds", Request{Route: "POST /directoryObjects/getByIds"}, 5, false},
		{"getObjectsById", Request{Route: "POST /getObjectsById"}, 5, false},
		{"sp by appId key", Request{Route: "GET /servicePrincipals(appId='00000003-0000-0000-c000-000000000000')"}, 1, false},
		{"unlisted GET", Request{Route: "GET /organization"}, 1, false},
		{"domains", Request{Route: "GET /domains"}, 1, false},

		// Writes: 1 RU and 1 write.
		{"invite", Request{Route: "POST /invitations"}, 1, true},
		{"add member", Request{Route: "POST /groups/{id}/members/$ref"}, 1, true},
		{"remove member", Request{Route: "DELETE /groups/{id}/members/{id}/$ref"}, 1, true},
		{"patch user", Request{Route: "PATCH /users/{id}"}, 1, true},
		{"put", Request{Route: "PUT /users/{id}/manager/$ref"}, 1, true},
		{"assign license", Request{Route: "POST /users/{id}/assignLicense"}, 1, true},
		{"write with select stays 1", Request{Route: "POST /invitations", Select: true}, 1, true},
		{"write with expand", Request{Route: "PATCH /users/{id}", Expand: true}, 2, true},
		{"batch envelope", Request{Route: "POST /$batch"}, 1, false},

		// Modifiers.
		{"users $select", Request{Route: "GET /users", Select: true}, 1, false},
		{"users $expand", Request{Route: "GET /users", Expand: true}, 3, false},
		{"users $top 19", Request{Route: "GET /users", Top: 19}, 1, false},
		{"users $top 20", Request{Route: "GET /users", Top: 20}, 2, false},
		{"users $top 999", Request{Route: "GET /users", Top: 999}, 2, false},
		{"users $top 1", Request{Route: "GET /users", Top: 1}, 1, false},
		{"users select+top floor 1", Request{Route: "GET /users", Select: true, Top: 5}, 1, false},
		{"members select", Request{Route: "GET /groups/{id}/members", Select: true}, 2, false},
		{"members select+top", Request{Route: "GET /groups/{id}/members", Select: true, Top: 10}, 1, false},
		{"members expand", Request{Route: "GET /groups/{id}/members", Expand: true}, 4, false},
		{"transitive expand is the max", Request{Route: "GET /groups/{id}/transitiveMembers", Expand: true}, MaxCost, false},
		{"getByIds $select is 2", Request{Route: "POST /directoryObjects/getByIds", Select: true}, 2, false},
		{"getObjectsById $select is 2", Request{Route: "POST /getObjectsById", Select: true}, 2, false},
		{"getByIds select+expand", Request{Route: "POST /directoryObjects/getByIds", Select: true, Expand: true}, 3, false},
		{"get user select floor", Request{Route: "GET /users/{id}", Select: true}, 1, false},

		// Spelling: version prefix, case, query string, slashes.
		{"v1.0 prefix", Request{Route: "GET /v1.0/users"}, 2, false},
		{"beta prefix", Request{Route: "GET /beta/groups/{id}/members"}, 3, false},
		{"lower-case method and path", Request{Route: "get /USERS"}, 2, false},
		{"query string ignored", Request{Route: "GET /users?$filter=mail eq 'a@b.example'"}, 2, false},
		{"trailing slash", Request{Route: "GET /users/"}, 2, false},
		{"no leading slash", Request{Route: "GET users"}, 2, false},
		{"v1.0 alone", Request{Route: "GET /v1.0"}, 1, false},
		{"empty", Request{}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ru, write := Cost(tt.req)
			if ru != tt.ru || write != tt.write {
				t.Errorf("Cost(%+v) = %d, %v; want %d, %v", tt.req, ru, write, tt.ru, tt.write)
			}
		})
	}
}

// TestCostNeverExceedsMax checks MaxCost against every listed route with
// every modifier, since Validate relies on it.
func TestCostNeverExceedsMax(t *testing.T) {
	t.Parallel()
	for key := range baseCost {
		for _, sel := range []bool{false, true} {
			for _, exp := range []bool{false, true} {
				for _, top := range []int{0, 5, 50} {
					r := Request{Route: key, Select: sel, Expand: exp, Top: top}
					if ru, _ := Cost(r); ru < 1 || ru > MaxCost {
						t.Errorf("Cost(%+v) = %d, outside 1..%d", r, ru, MaxCost)
					}
				}
			}
		}
	}
}

func FuzzCost(f *testing.F) {
	f.Add("GET /users", true, false, 5)
	f.Add("POST /directoryObjects/getByIds", true, true, 0)
	f.Add("get /me/(x)/{", false, true, -3)
	f.Fuzz(func(t *testing.T, route string, sel, exp bool, top int) {
		ru, _ := Cost(Request{Route: route, Select: sel, Expand: exp, Top: top})
		if ru < 1 || ru > MaxCost {
			t.Fatalf("Cost(%q) = %d, outside 1..%d", route, ru, MaxCost)
		}
	})
}

func TestRequestFrom(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		query string
		want  Request
	}{
		{"", Request{Route: "GET /users"}},
		{"$select=id,mail&$top=5", Request{Route: "GET /users", Select: true, Top: 5}},
		{"select=id&expand=manager&top=999", Request{Route: "GET /users", Select: true, Expand: true, Top: 999}},
		{"$filter=mail eq 'a@b.example'&$top=many", Request{Route: "GET /users"}},
		{"$top=0", Request{Route: "GET /users"}},
		{"$expand=memberOf", Request{Route: "GET /users", Expand: true}},
	} {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := RequestFrom("GET", "/users", q); got != tt.want {
			t.Errorf("RequestFrom(GET /users?%s) = %+v, want %+v", tt.query, got, tt.want)
		}
	}
}
