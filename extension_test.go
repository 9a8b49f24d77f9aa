package foyer_test

import (
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
)

// TestCheckExtensionDecision: CheckDecision's rules for an extension: a
// pending one, at a stage of the policy, decided by the stage's approvers
// (its alternates once escalated), never by the guest nor by whoever
// asked, and denied only with a reason.
func TestCheckExtensionDecision(t *testing.T) {
	t.Parallel()
	pol := foyer.Policy{Stages: []foyer.Stage{{Approvers: foyer.Approvers{Users: []string{"alex@contoso.example"}, Sponsor: true},
		Alternates: foyer.Approvers{Users: []string{"megan@contoso.example"}}}}}
	r := &foyer.Request{ID: "req-1", Email: "kim@tailwind.example", Details: foyer.Details{Sponsor: "adele@contoso.example"}}
	alex := foyer.Principal{ID: "id-alex", UPN: "alex@contoso.example", Email: "alex@contoso.example"}
	adele := foyer.Principal{ID: "id-adele", UPN: "adele@contoso.example"}
	megan := foyer.Principal{ID: "id-megan", UPN: "megan@contoso.example"}
	kim := foyer.Principal{ID: "id-kim", Email: "Kim@Tailwind.example"}
	pending := func(mod func(*foyer.Extension)) *foyer.Extension {
		x := &foyer.Extension{ID: "ext-1", RequestID: "req-1", Until: time.Now(), State: foyer.ExtensionPending, Stage: 1,
			AskedBy: "guest kim@tailwind.example"}
		if mod != nil {
			mod(x)
		}
		return x
	}
	tests := []struct {
		name    string
		x       *foyer.Extension
		who     foyer.Principal
		approve bool
		why     string
		want    string
	}{
		{"an approver approves", pending(nil), alex, true, "", ""},
		{"the sponsor approves", pending(nil), adele, true, "", ""},
		{"an approver denies with a reason", pending(nil), alex, false, "no", ""},
		{"a denial needs a reason", pending(nil), alex, false, " ", foyer.EINVALID},
		{"the guest", pending(nil), kim, true, "", foyer.EFORBIDDEN},
		{"who asked", pending(func(x *foyer.Extension) { x.AskedBy = "alex@contoso.example" }), alex, true, "", foyer.EFORBIDDEN},
		{"not an approver", pending(nil), megan, true, "", foyer.EFORBIDDEN},
		{"the alternates once escalated", pending(func(x *foyer.Extension) { x.Escalated = true }), megan, true, "", ""},
		{"not the approvers once escalated", pending(func(x *foyer.Extension) { x.Escalated = true }), alex, true, "", foyer.EFORBIDDEN},
		{"decided already", pending(func(x *foyer.Extension) { x.State = foyer.ExtensionApproved }), alex, true, "", foyer.ECONFLICT},
		{"no such stage", pending(func(x *foyer.Extension) { x.Stage = 2 }), alex, true, "", foyer.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := foyer.CheckExtensionDecision(r, tt.x, pol, tt.who, tt.approve, tt.why)
			if got := foyer.ErrorCode(err); got != tt.want {
				t.Fatalf("error %v (code %q), want code %q", err, got, tt.want)
			}
		})
	}
}

// TestExtensionMaxOf: extension_max, else the expiry, else 90 days.
func TestExtensionMaxOf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		p    foyer.Profile
		want time.Duration
	}{
		{foyer.Profile{ExtensionMax: time.Hour, Expiry: 2 * time.Hour}, time.Hour},
		{foyer.Profile{Expiry: 2 * time.Hour}, 2 * time.Hour},
		{foyer.Profile{ExpiresOn: time.Now()}, foyer.DefaultExtensionMax},
	} {
		if got := tt.p.ExtensionMaxOf(); got != tt.want {
			t.Errorf("%+v: %v, want %v", tt.p, got, tt.want)
		}
	}
}
