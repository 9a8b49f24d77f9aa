package sim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/sim"
)

var eventual = []string{"ConsistencyLevel", "eventual"}

func mails(a answer) []string {
	var out []string
	for _, v := range a.list("value") {
		m, _ := v.(map[string]any)["mail"].(string)
		out = append(out, m)
	}
	return out
}

func TestUserQueries(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	q := func(s string) string { return "/users?" + s }
	cases := []struct {
		name    string
		path    string
		headers []string
		want    []string // mails, in order
	}{
		{"mail eq", q("$filter=mail eq 'ann@fabrikam.example'&$select=mail"), nil, []string{"ann@fabrikam.example"}},
		{"mail eq any case", q("$filter=mail eq 'ANN@fabrikam.example'&$select=mail"), nil, []string{"ann@fabrikam.example"}},
		{"upn eq ext", q("$filter=userPrincipalName eq '" + url.QueryEscape("pat_fabrikam.example#EXT#@contoso.onmicrosoft.com") + "'&$select=mail"), nil, []string{"pat@fabrikam.example"}},
		{"userType guest", q("$filter=userType eq 'Guest'&$select=mail"), nil, []string{"pat@fabrikam.example", "ann@fabrikam.example", "lee.chen@northwind.example", "ida@tailspin.example"}},
		{"otherMails any", q("$filter=otherMails/any(x:x eq 'lee@northwind.example')&$select=mail"), nil, []string{"lee.chen@northwind.example"}},
		{"proxyAddresses any", q("$filter=proxyAddresses/any(p:p eq 'SMTP:ann@fabrikam.example')&$select=mail"), nil, []string{"ann@fabrikam.example"}},
		{"state", q("$filter=externalUserState eq 'PendingAcceptance'&$select=mail"), nil, []string{"pat@fabrikam.example", "ida@tailspin.example"}},
		{"created ge", q("$filter=createdDateTime ge " + time.Now().AddDate(0, 0, -13).UTC().Format("2006-01-02T15:04:05Z") + " and userType eq 'Guest'&$select=mail"), nil, []string{"pat@fabrikam.example"}},
		{"sign-in le", q("$filter=signInActivity/lastSignInDateTime le " + time.Now().AddDate(0, 0, -100).UTC().Format("2006-01-02T15:04:05Z") + "&$select=mail"), nil, []string{"lee.chen@northwind.example"}},
		{"in", q("$filter=mail in ('pat@fabrikam.example','ida@tailspin.example')&$select=mail"), nil, []string{"pat@fabrikam.example", "ida@tailspin.example"}},
		{"or", q("$filter=mail eq 'pat@fabrikam.example' or otherMails/any(x:x eq 'lee@northwind.example')&$select=mail"), nil, []string{"pat@fabrikam.example", "lee.chen@northwind.example"}},
		{"startsWith", q("$filter=startsWith(mail,'me')&$select=mail"), nil, []string{"megan@contoso.example"}},
		{"endsWith advanced", q("$filter=endsWith(userPrincipalName,'" + url.QueryEscape("#EXT#@contoso.onmicrosoft.com") + "')&$count=true&$select=mail"), eventual,
			[]string{"pat@fabrikam.example", "ann@fabrikam.example", "lee.chen@northwind.example", "ida@tailspin.example"}},
		{"ne advanced", q("$filter=userType ne 'Guest'&$count=true&$select=mail"), eventual, []string{"alex@contoso.example", "megan@contoso.example", "adele@contoso.example"}},
		{"not", q("$filter=not(userType eq 'Member')&$count=true&$select=mail"), eventual, []string{"pat@fabrikam.example", "ann@fabrikam.example", "lee.chen@northwind.example", "ida@tailspin.example"}},
		{"license any", q("$filter=assignedLicenses/any(x:x/skuId eq efccb6f7-5641-4e0e-bd10-b4976e1bf68e)&$select=mail"), nil, []string{"alex@contoso.example", "megan@contoso.example"}},
		{"escaped quote", q("$filter=mail eq 'o''brien@x.example'&$select=mail"), nil, nil},
		{"dollar-less", q("filter=mail eq 'ann@fabrikam.example'&select=mail"), nil, []string{"ann@fabrikam.example"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := tn.g("GET", c.path, nil, c.headers...)
			wantStatus(t, a, 200)
			if got := mails(a); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestUserQueryErrors(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	cases := []struct {
		name, path   string
		headers      []string
		status       int
		code, prefix string
	}{
		{"endsWith without advanced", "/users?$filter=endsWith(mail,'@fabrikam.example')", nil, 400, "Request_UnsupportedQuery",
			"Operator 'endsWith' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header."},
		{"endsWith header only", "/users?$filter=endsWith(mail,'@fabrikam.example')", eventual, 400, "Request_UnsupportedQuery", "Operator 'endsWith'"},
		{"ne without advanced", "/users?$filter=userType ne 'Guest'", nil, 400, "Request_UnsupportedQuery", "Operator 'ne'"},
		{"unknown property", "/users?$filter=color eq 'red'", nil, 400, "BadRequest", "Could not find a property named 'color' on type 'microsoft.graph.user'."},
		{"unindexed", "/users?$filter=startsWith(jobTitle,'a')&$count=true", eventual, 400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'jobTitle' of resource 'User'."},
		{"syntax", "/users?$filter=mail eq", nil, 400, "BadRequest", "Invalid filter clause"},
		{"unterminated", "/users?$filter=mail eq 'x", nil, 400, "BadRequest", "Invalid filter clause"},
		{"collection eq", "/users?$filter=otherMails eq 'a@b.example'", nil, 400, "BadRequest", "A binary operator with incompatible types was detected. Found operand types 'Collection(Edm.String)' and 'Edm.String'"},
		{"guid quoted", "/users?$filter=assignedLicenses/any(x:x/skuId eq 'efccb6f7-5641-4e0e-bd10-b4976e1bf68e')", nil, 400, "BadRequest",
			"A binary operator with incompatible types was detected. Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'."},
		{"sign-in with others", "/users?$filter=signInActivity/lastSignInDateTime le 2024-01-01T00:00:00Z and userType eq 'Guest'", nil, 400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'signInActivity'"},
		{"top 1000", "/users?$top=1000", nil, 400, "Request_BadRequest", "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."},
		{"top 0", "/users?$top=0", nil, 400, "Request_BadRequest", "Invalid page size specified: '0'."},
		{"select unknown", "/users?$select=id,color", nil, 400, "BadRequest", "Could not find a property named 'color' on type 'microsoft.graph.user'."},
		{"skip", "/users?$skip=2", nil, 400, "Request_BadRequest", "'$skip' is not supported by the service."},
		{"search", "/users?$search=\"displayName:ann\"", nil, 400, "Request_UnsupportedQuery", "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"},
		{"count segment", "/users/$count", nil, 400, "Request_BadRequest", "$count is not currently supported."},
		{"bad skiptoken", "/users?$skiptoken=abc", nil, 400, "Directory_ExpiredPageToken", "The specified page token value has expired"},
		{"not found", "/users/00000000-0000-0000-0000-00000000000a", nil, 404, "Request_ResourceNotFound", "Resource '00000000-0000-0000-0000-00000000000a' does not exist or one of its queried reference-property objects are not present."},
		{"no route", "/userz", nil, 400, "BadRequest", "Resource not found for the segment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, tn.g("GET", c.path, nil, c.headers...), c.status, c.code, c.prefix)
		})
	}
	wantError(t, tn.g("PUT", "/users", nil), 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
}

func TestUserGetByUPNAndCount(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	a := tn.g("GET", "/users/"+url.PathEscape("ann_fabrikam.example#EXT#@contoso.onmicrosoft.com"), nil)
	wantStatus(t, a, 200)
	if a.str("mail") != "ann@fabrikam.example" || !strings.HasSuffix(a.str("@odata.context"), "$metadata#users/$entity") {
		t.Errorf("get by UPN: %s", a.raw)
	}
	// Without $select Graph answers its default property set.
	for _, k := range []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"} {
		if _, ok := a.body[k]; !ok {
			t.Errorf("default set lacks %s", k)
		}
	}
	if _, ok := a.body["userType"]; ok {
		t.Errorf("userType is not in the default set")
	}
	c := tn.g("GET", "/users/$count?$filter=userType eq 'Guest'", nil, eventual...)
	if c.status != 200 || string(c.raw) != "4" || !strings.HasPrefix(c.header.Get("Content-Type"), "text/plain") {
		t.Errorf("$count: %d %q %s", c.status, c.raw, c.header.Get("Content-Type"))
	}
	// $count=true without the header is silently ignored.
	l := tn.g("GET", "/users?$count=true&$select=id", nil)
	if _, ok := l.body["@odata.count"]; ok {
		t.Errorf("@odata.count without ConsistencyLevel: %s", l.raw)
	}
	l = tn.g("GET", "/users?$count=true&$select=id", nil, eventual...)
	if l.get("@odata.count") != float64(7) {
		t.Errorf("@odata.count: %v", l.get("@odata.count"))
	}
}

// Paging across 3+ pages with $top, while objects are added between pages.
func TestUserPaging(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{Empty: true})
	for i := range 10 {
		wantStatus(t, tn.invite(fmt.Sprintf("p%02d@partner.example", i)), 201)
	}
	next := tn.s.URL() + "/v1.0/users?$filter=userType eq 'Guest'&$select=mail&$top=3&$count=true"
	var got []string
	pages := 0
	for next != "" {
		a := do(t, tn.graph, "GET", next, nil, eventual...)
		wantStatus(t, a, 200)
		if pages == 0 && a.get("@odata.count") != float64(10) {
			t.Errorf("first page count %v", a.get("@odata.count"))
		}
		if pages > 0 && a.get("@odata.count") != nil {
			t.Errorf("@odata.count on page %d", pages)
		}
		got = append(got, mails(a)...)
		next = a.str("@odata.nextLink")
		if pages == 1 {
			wantStatus(t, tn.invite("p10@partner.example"), 201) // added while paging: lands on a later page
		}
		pages++
	}
	if pages != 4 || len(got) != 11 || got[0] != "p00@partner.example" || got[10] != "p10@partner.example" {
		t.Errorf("%d pages: %v", pages, got)
	}
}

func TestUserPatchAndDelete(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	id := tn.invite("pd@partner.example").str("invitedUser.id")
	a := tn.g("PATCH", "/users/"+id, map[string]any{"usageLocation": "NL", "accountEnabled": false, "mail": "pd2@partner.example", "displayName": "P D"})
	wantStatus(t, a, http.StatusNoContent)
	u := tn.g("GET", "/users/"+id+"?$select=usageLocation,accountEnabled,mail,proxyAddresses,displayName", nil)
	if u.str("usageLocation") != "NL" || u.get("accountEnabled") != false || u.str("mail") != "pd2@partner.example" || u.str("proxyAddresses.0") != "SMTP:pd2@partner.example" {
		t.Errorf("after patch: %s", u.raw)
	}
	wantError(t, tn.g("PATCH", "/users/"+id, map[string]any{"usageLocation": "Netherlands"}), 400, "Request_BadRequest", "Invalid value specified for property 'usageLocation' of resource 'User'.")
	wantError(t, tn.g("PATCH", "/users/"+id, map[string]any{"createdDateTime": "2020-01-01T00:00:00Z"}), 400, "Request_BadRequest", "Property 'createdDateTime' is read-only and cannot be set.")
	wantError(t, tn.g("PATCH", "/users/"+id, map[string]any{"color": "red"}), 400, "BadRequest", "The property 'color' does not exist on type 'microsoft.graph.user'.")
	wantError(t, tn.g("PATCH", "/users/"+id, map[string]any{"accountEnabled": "yes"}), 400, "BadRequest", "Cannot convert the literal 'yes' to the expected type 'Edm.Boolean'.")
	wantError(t, tn.g("PATCH", "/users/"+id, map[string]any{"userPrincipalName": "pd@elsewhere.example"}), 400, "Request_BadRequest", "The domain portion of the userPrincipalName property is invalid.")
	wantError(t, tn.g("PATCH", "/users/"+id, map[string]any{"userPrincipalName": "alex@contoso.example"}), 400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists.")

	// Group membership goes with the user.
	g := tn.g("GET", "/groups?$filter=displayName eq 'DemoApp'&$select=id", nil).str("value.0.id")
	wantStatus(t, tn.g("POST", "/groups/"+g+"/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id}), 204)
	wantStatus(t, tn.g("DELETE", "/users/"+id, nil), http.StatusNoContent)
	wantError(t, tn.g("GET", "/users/"+id, nil), 404, "Request_ResourceNotFound", "Resource '"+id+"'")
	wantError(t, tn.g("DELETE", "/users/"+id, nil), 404, "Request_ResourceNotFound", "")
	for _, gr := range tn.s.Snapshot().Groups {
		for _, m := range gr.Members {
			if m == id {
				t.Errorf("deleted user still in %s", gr.DisplayName)
			}
		}
	}
	// The address can be invited again: a new user.
	if again := tn.invite("pd2@partner.example").str("invitedUser.id"); again == id || again == "" {
		t.Errorf("re-invite after delete: %q", again)
	}
}

// TestDisableDeleteCounters: the stats count, per user object id, the
// PATCHes that set accountEnabled to false and the DELETEs answered 204;
// an account enabled through the side door is not counted; sponsors set
// at seeding are listed.
func TestDisableDeleteCounters(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{Empty: true})
	boss := tn.side("POST", "/users", map[string]any{"display_name": "Boss", "user_principal_name": "boss@contoso.onmicrosoft.com", "mail": "boss@contoso.onmicrosoft.com"})
	wantStatus(t, boss, 201)
	bossID := boss.list("users")[0].(map[string]any)["id"].(string)
	g := tn.side("POST", "/users", map[string]any{"display_name": "G", "mail": "g@partner.example", "user_type": "Guest", "sponsors": []string{bossID}})
	wantStatus(t, g, 201)
	id := g.list("users")[0].(map[string]any)["id"].(string)

	sp := tn.g("GET", "/users/"+id+"/sponsors", nil)
	wantStatus(t, sp, 200)
	if got := mails(sp); len(got) != 1 || got[0] != "boss@contoso.onmicrosoft.com" {
		t.Fatalf("sponsors = %v", got)
	}
	wantStatus(t, tn.g("PATCH", "/users/"+id, map[string]any{"accountEnabled": false}), 204)
	wantStatus(t, tn.g("PATCH", "/users/"+id, map[string]any{"usageLocation": "US"}), 204)
	wantStatus(t, tn.side("POST", "/account", map[string]any{"id": id, "enabled": true}), 200)
	if a := tn.g("GET", "/users/"+id+"?$select=accountEnabled", nil); a.get("accountEnabled") != true {
		t.Fatalf("accountEnabled after the side door = %v", a.get("accountEnabled"))
	}
	wantStatus(t, tn.g("DELETE", "/users/"+id, nil), 204)
	wantStatus(t, tn.g("DELETE", "/users/"+id, nil), 404)
	st := tn.s.Stats()
	if st.DisablesByUser[id] != 1 || st.DeletesByUser[id] != 1 || len(st.DisablesByUser) != 1 || len(st.DeletesByUser) != 1 {
		t.Fatalf("disables %v, deletes %v; want one each for %s", st.DisablesByUser, st.DeletesByUser, id)
	}
	wantStatus(t, tn.side("POST", "/account", map[string]any{"id": id, "enabled": true}), 404)
}
