package sim_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

func TestSideDoor(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{})
	wantStatus(t, tn.invite("sd@partner.example"), 201)
	st := tn.side("GET", "/stats", nil)
	if st.get("invitations_by_email").(map[string]any)["sd@partner.example"] != float64(1) || st.get("writes") != float64(1) ||
		st.get("routes").(map[string]any)["POST /v1.0/invitations"] != float64(1) {
		t.Errorf("stats: %s", st.raw)
	}
	r := tn.side("POST", "/redeem", map[string]any{"email": "SD@partner.example"})
	if r.str("externalUserState") != "Accepted" {
		t.Errorf("redeem: %s", r.raw)
	}
	wantStatus(t, tn.side("POST", "/redeem", map[string]any{"email": "nobody@partner.example"}), 404)

	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	wantStatus(t, tn.side("POST", "/signin", map[string]any{"email": "sd@partner.example", "at": at}), 200)
	u := tn.g("GET", "/users?$filter=signInActivity/lastSignInDateTime eq 2025-03-01T12:00:00Z&$select=mail,signInActivity", nil)
	if u.str("value.0.mail") != "sd@partner.example" || u.str("value.0.signInActivity.lastSignInDateTime") != "2025-03-01T12:00:00Z" {
		t.Errorf("sign-in: %s", u.raw)
	}

	before := tn.s.Now()
	c := tn.side("POST", "/clock", map[string]any{"advance": "24h"})
	wantStatus(t, c, 200)
	if d := tn.s.Now().Sub(before); d < 24*time.Hour {
		t.Errorf("clock moved %v", d)
	}

	s := tn.side("PUT", "/settings", map[string]any{"replication_delay": "2s", "invites_per_minute": 5, "throttle": "published", "latency": "0", "faults": "0"})
	if s.str("replication_delay") != "2s" || s.get("invites_per_minute") != float64(5) || s.str("throttle") != "published" {
		t.Errorf("settings: %s", s.raw)
	}
	wantStatus(t, tn.side("PUT", "/settings", map[string]any{"replication_delay": "soon"}), 400)
	wantStatus(t, tn.side("PUT", "/settings", map[string]any{"bogus": 1}), 400)
	if got := tn.s.Settings(); got.ReplicationDelay != 2*time.Second || got.InvitesPerMinute != 5 {
		t.Errorf("settings after bad PUTs: %+v", got)
	}

	seeded := tn.side("POST", "/users", []any{map[string]any{"display_name": "Seed Guest", "user_type": "Guest", "mail": "seed@partner.example"}})
	wantStatus(t, seeded, 201)
	g := tn.side("POST", "/groups", map[string]any{"display_name": "Seeded", "members": []string{"seed@partner.example"}})
	wantStatus(t, g, 201)
	wantStatus(t, tn.side("POST", "/domains", map[string]any{"id": "fabrikam.example"}), 201)
	wantError(t, tn.invite("new@fabrikam.example"), 400, "BadRequest", "This user cannot be invited because the domain")
	wantStatus(t, tn.side("POST", "/skus", map[string]any{"sku_id": "f30db892-07e9-47e9-837c-80727f46fd3d", "sku_part_number": "FLOW_FREE", "enabled": 100}), 201)
	wantStatus(t, tn.side("POST", "/users", map[string]any{"display_name": "Bad", "user_principal_name": "bad@elsewhere.example"}), 400)
	wantStatus(t, tn.side("GET", "/nothing", nil), 404)

	b := tn.side("POST", "/guests/bulk", map[string]any{"count": 2000, "accepted": 0.5})
	if b.get("added") != float64(2000) {
		t.Errorf("bulk: %s", b.raw)
	}
	state := tn.side("GET", "/state", nil)
	if state.get("guests") != float64(2006) {
		t.Errorf("state guests: %v", state.get("guests"))
	}
	if n := len(tn.side("GET", "/mail", nil).raw); n == 0 {
		t.Error("mail")
	}
	wantStatus(t, tn.side("POST", "/reset", nil), 200)
	if st := tn.s.Stats(); st.Writes != 0 || len(st.InvitationsByEmail) != 0 {
		t.Errorf("stats after reset: %+v", st)
	}
	if n := tn.s.Snapshot().Guests; n != 4 {
		t.Errorf("%d guests after reset", n)
	}
	// The default app still works after a reset.
	wantStatus(t, tn.g("GET", "/users?$select=id", nil), 200)
	wantStatus(t, tn.invite("after@partner.example"), 201)
	ca := tn.side("GET", "/ca.pem", nil)
	if string(ca.raw) != string(tn.s.CAPEM()) {
		t.Error("ca.pem")
	}
}

func TestBulkGuestsLookup(t *testing.T) {
	t.Parallel()
	tn := start(t, sim.Options{Empty: true})
	n, err := tn.s.AddGuests(sim.BulkGuests{Count: 50000})
	if err != nil || n != 50000 {
		t.Fatalf("bulk: %d %v", n, err)
	}
	begin := time.Now()
	a := tn.g("GET", "/users?$filter=mail eq 'guest49999@bulk.example' or otherMails/any(x:x eq 'guest12345@bulk.example')&$select=mail", nil)
	if len(a.list("value")) != 2 {
		t.Errorf("lookup: %s", a.raw)
	}
	wantStatus(t, tn.invite("guest25000@bulk.example"), 201)
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("indexed lookups took %v at 50,000 guests", d)
	}
}

func TestClientCertificateCredential(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{ClientCertificate: true})
	certPEM, keyPEM := s.ClientCertificate()
	certs, key, err := azidentity.ParseCertificates(append(certPEM, keyPEM...), nil)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := azidentity.NewClientCertificateCredential(s.TenantID(), s.ClientID(), certs, key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions: simtest.ClientOptions(s), DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}); err != nil {
		t.Fatalf("certificate credential: %v", err)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	faults, _ := chaosFaults("rate=1,drop=0,after=0,500=1,503=0,504=0")
	tn := start(t, sim.Options{Faults: faults})
	a := tn.g("GET", "/users", nil)
	wantError(t, a, http.StatusInternalServerError, "InternalServerError", "")
	// The side door and the token endpoint are exempt.
	wantStatus(t, tn.side("GET", "/stats", nil), 200)
	if tn.s.Stats().Faults != 1 {
		t.Errorf("faults %d", tn.s.Stats().Faults)
	}
	// A dropped connection gives the client a transport error.
	drop, _ := chaosFaults("rate=1,drop=1,after=0")
	if err := tn.s.SetSettings(sim.Settings{Faults: drop}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", tn.s.URL()+"/v1.0/invitations", nil)
	if resp, err := tn.graph.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("dropped connection answered %d", resp.StatusCode)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	lat, err := chaosLatency("40ms,80ms")
	if err != nil {
		t.Fatal(err)
	}
	tn := start(t, sim.Options{Latency: lat})
	wantStatus(t, tn.g("GET", "/domains", nil), 200) // get a token first
	const n = 5
	begin := time.Now()
	for range n {
		wantStatus(t, tn.g("GET", "/domains", nil), 200)
	}
	graphAvg := time.Since(begin) / n
	begin = time.Now()
	for range n {
		tn.side("GET", "/stats", nil)
	}
	sideAvg := time.Since(begin) / n
	if graphAvg < 15*time.Millisecond {
		t.Errorf("average %v with a 40ms median latency", graphAvg)
	}
	if sideAvg >= graphAvg {
		t.Errorf("the side door (%v) is as slow as Graph (%v): it must not be delayed", sideAvg, graphAvg)
	}
}
