package sim

import (
	"strings"
	"testing"
)

// FuzzBatch: parseBatch never panics; what it accepts respects the limits
// and orders every item after its dependencies.
func FuzzBatch(f *testing.F) {
	f.Add(`{"requests":[{"id":"1","method":"GET","url":"/users"}]}`)
	f.Add(`{"requests":[{"id":"1","method":"GET","url":"/users"},{"id":"2","dependsOn":["1"],"method":"POST","url":"/groups/x/members/$ref","headers":{"Content-Type":"application/json"},"body":{"@odata.id":"x"}}]}`)
	f.Add(`{"requests":[{"id":"a","method":"GET","url":"/users","dependsOn":["b"]},{"id":"b","method":"GET","url":"/users","dependsOn":["a"]}]}`)
	f.Add(`{"requests":[]}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		items, err := parseBatch([]byte(body))
		if err != nil {
			if err.status != 400 {
				t.Fatalf("status %d", err.status)
			}
			return
		}
		if len(items) > maxBatch {
			t.Fatalf("%d items", len(items))
		}
		done := map[string]bool{}
		for _, it := range items {
			for _, d := range it.DependsOn {
				if !done[strings.ToLower(d)] {
					t.Fatalf("item %s runs before its dependency %s", it.ID, d)
				}
			}
			done[strings.ToLower(it.ID)] = true
		}
	})
}

// FuzzInvitation: parseInvitation never panics, and what it accepts has a
// valid address and an absolute redirect URL.
func FuzzInvitation(f *testing.F) {
	f.Add(`{"invitedUserEmailAddress":"a@b.example","inviteRedirectUrl":"https://x.example"}`)
	f.Add(`{"invitedUserEmailAddress":"a@b.example","inviteRedirectUrl":"https://x.example","sendInvitationMessage":true,"invitedUserMessageInfo":{"ccRecipients":[{"emailAddress":{"address":"c@d.example"}}],"customizedMessageBody":"hi","messageLanguage":"fr"}}`)
	f.Add(`{"invitedUserEmailAddress":"a@b.example","inviteRedirectUrl":"https://x.example","resetRedemption":true,"invitedUser":{"id":"x"}}`)
	f.Add(`{"invitedUserEmailAddress":"a@b.example","inviteRedirectUrl":"https://x.example","invitedUserSponsors":[{"id":"x"}],"invitedUserType":"member"}`)
	f.Add(`{"invitedUserEmailAddress":".a@b.example"}`)
	f.Fuzz(func(t *testing.T, body string) {
		in, err := parseInvitation([]byte(body))
		if err != nil {
			if err.status != 400 {
				t.Fatalf("status %d", err.status)
			}
			return
		}
		if !validAddress(in.InvitedUserEmailAddress) || in.InviteRedirectURL == "" {
			t.Fatalf("accepted %+v", in)
		}
		if in.InvitedUserType != "Guest" && in.InvitedUserType != "Member" {
			t.Fatalf("type %q", in.InvitedUserType)
		}
		if in.ResetRedemption && (in.InvitedUser == nil || in.InvitedUser.ID == "") {
			t.Fatal("reset without id accepted")
		}
	})
}

func TestValidAddress(t *testing.T) {
	t.Parallel()
	good := []string{"a@b.example", "_a_@b.example", "a.b-c@sub.b.example", "A@B.EXAMPLE"}
	bad := []string{"", "a", "a@", "@b.example", ".a@b.example", "a.@b.example", "-a@b.example", "a!b@c.example", "a b@c.example", "a@b", "a@-b.example", "a@b..example", "a@b@c.example", "a,b@c.example"}
	for _, a := range good {
		if !validAddress(a) {
			t.Errorf("%q refused", a)
		}
	}
	for _, a := range bad {
		if validAddress(a) {
			t.Errorf("%q accepted", a)
		}
	}
}
