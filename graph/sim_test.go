package graph

import (
	"context"
	"crypto/x509"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/directory/directorytest"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/sim/throttle"
)

// acceptance is the sim configuration the conformance suite must pass:
// latency, the published throttling limits, 5% faults (some dropped
// connections, some striking after the request took effect) and a 5 s
// replication delay.
func acceptance() sim.Options {
	return sim.Options{
		Latency:          chaos.Latency{Median: 20 * time.Millisecond, P99: 150 * time.Millisecond},
		Throttle:         throttle.Published(),
		Faults:           chaos.Faults{Rate: 0.05, Drop: 0.3, After: 0.5, RetryAfter: time.Second},
		ReplicationDelay: 5 * time.Second,
	}
}

// simOptions are client options for the sim's default app, signing in with
// a client secret read from an environment variable (faked here).
func simOptions(s *sim.Server, clientID, secret string) Options {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	return Options{
		TenantID: s.TenantID(), ClientID: clientID,
		Cloud:      CloudCustom,
		Endpoints:  Endpoints{Authority: s.URL(), Graph: s.URL(), ARM: s.URL(), Exchange: s.URL()},
		RootCAs:    pool,
		Credential: Credential{Type: CredentialClientSecret, SecretEnv: "FOYER_TEST_SECRET"},
		Getenv: func(k string) string {
			if k == "FOYER_TEST_SECRET" {
				return secret
			}
			return ""
		},
		Pacing: Pacing{RetryDelay: 50 * time.Millisecond, MaxRetryDelay: 2 * time.Second, GroupWindow: 200 * time.Millisecond},
	}
}

func simClient(t testing.TB, s *sim.Server, clientID, secret string) *Client {
	t.Helper()
	c, err := New(context.Background(), simOptions(s, clientID, secret))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// simTenant is the conformance suite's side door into the sim.
type simTenant struct{ s *sim.Server }

func (st simTenant) AddUser(_ context.Context, u directorytest.User) (string, error) {
	su := sim.SeedUser{DisplayName: u.DisplayName, Mail: u.Mail, OtherMails: u.OtherMails, ProxyAddresses: u.ProxyAddresses,
		UserPrincipalName: u.UserPrincipalName, UserType: "Member", CompanyName: u.CompanyName}
	if u.Guest {
		su.UserType, su.ExternalUserState = "Guest", "PendingAcceptance"
	} else if su.UserPrincipalName == "" {
		local, _, _ := strings.Cut(u.Mail, "@")
		su.UserPrincipalName = strings.ReplaceAll(local, "'", "") + ".member@contoso.onmicrosoft.com"
	}
	d, err := st.s.Seed(sim.SeedData{Users: []sim.SeedUser{su}})
	if err != nil {
		return "", err
	}
	return d.Users[0].ID, nil
}

func (st simTenant) AddMailContact(_ context.Context, name string, email foyer.Address) error {
	_, err := st.s.AddMailContact(sim.MailContact{Name: name, ExternalEmailAddress: email.String()})
	return err
}

func (st simTenant) AddGroup(_ context.Context, name string, members []string) (string, error) {
	d, err := st.s.Seed(sim.SeedData{Groups: []sim.SeedGroup{{DisplayName: name, Members: members}}})
	if err != nil {
		return "", err
	}
	return d.Groups[0].ID, nil
}

// AddMailGroup seeds a Microsoft 365 group: mail-enabled, with a mail in
// the tenant's default domain.
func (st simTenant) AddMailGroup(_ context.Context, name string, members []string) (string, string, error) {
	d, err := st.s.Seed(sim.SeedData{Groups: []sim.SeedGroup{{DisplayName: name, GroupTypes: []string{"Unified"}, Members: members}}})
	if err != nil {
		return "", "", err
	}
	id := d.Groups[0].ID
	return id, st.s.GroupMail(id), nil
}

// AddSponsors sets sponsors through the sim's side door.
func (st simTenant) AddSponsors(_ context.Context, userID string, sponsorIDs ...string) error {
	return st.s.AddSponsors(userID, sponsorIDs...)
}

// Settle moves the sim's clock past its replication delay.
func (st simTenant) Settle(context.Context) error {
	st.s.Advance(st.s.Settings().ReplicationDelay + time.Millisecond)
	return nil
}

// SignIn records an interactive sign-in through the sim's side door.
func (st simTenant) SignIn(_ context.Context, userID string, at time.Time) error {
	return st.s.SignIn(userID, at, true)
}

// SetPremium turns the sim's no_premium setting off (on: true) or on.
func (st simTenant) SetPremium(_ context.Context, on bool) error {
	v := st.s.Settings()
	v.NoPremium = !on
	return st.s.SetSettings(v)
}

// AddGuestPolicy creates a guest lifecycle policy through the sim's side door.
func (st simTenant) AddGuestPolicy(_ context.Context, name string, enabled bool) (string, error) {
	p, err := st.s.AddLifecyclePolicy(sim.LifecyclePolicy{DisplayName: name, IsEnabled: enabled, AllGuests: true})
	return p.ID, err
}

func (st simTenant) RemoveGuestPolicy(_ context.Context, id string) error {
	return st.s.RemoveLifecyclePolicy(id)
}

// Redeem redeems the guest's invitation through the sim's side door.
func (st simTenant) Redeem(_ context.Context, email foyer.Address) error {
	return st.s.Redeem(string(email))
}

// ExpireDeltaTokens expires every delta token the sim handed out.
func (st simTenant) ExpireDeltaTokens(context.Context) error {
	st.s.ExpireDeltaTokens()
	return nil
}

func (st simTenant) Invitations(context.Context) (map[string]int, error) {
	return st.s.Stats().InvitationsByEmail, nil
}

// defaultSubscription is the subscription where the sim's default app is
// Owner.
func defaultSubscription(t testing.TB, s *sim.Server) string {
	t.Helper()
	app := s.DefaultApp()
	for _, a := range s.Snapshot().AzureRoleAssignments {
		if strings.EqualFold(a.PrincipalID, app.ObjectID) {
			return a.Scope
		}
	}
	t.Fatal("the sim's default app holds no Azure role")
	return ""
}

func simHarness(o sim.Options) func(t *testing.T) directorytest.Harness {
	return func(t *testing.T) directorytest.Harness {
		s := simtest.Start(t, o)
		return directorytest.Harness{
			Directory: simClient(t, s, s.ClientID(), s.ClientSecret()),
			Tenant:    simTenant{s},
			Fixtures: directorytest.Fixtures{
				Domain: "contoso.example", Group: "DemoApp", App: "DemoApp", AppRole: "Reader",
				License: "AAD_PREMIUM", UsageLocation: "US", NoSeats: "EMS", DirectoryRole: "Guest Inviter",
				AzureScope: defaultSubscription(t, s) + "/resourceGroups/rg-demo", AzureRole: "Reader",
				MailContacts: true,
			},
			Limited: func(t *testing.T) directory.Directory {
				app, err := s.AddApp(sim.App{DisplayName: "reader", Permissions: []string{"User.Read.All"}})
				if err != nil {
					t.Fatal(err)
				}
				return simClient(t, s, app.ClientID, app.Secret)
			},
			Timeout: 90 * time.Second,
		}
	}
}

// TestConformance runs the directory conformance suite against the sim in
// the acceptance configuration.
func TestConformance(t *testing.T) {
	t.Parallel()
	directorytest.Run(t, simHarness(acceptance()))
}

// TestCredentialsGetTokensFromTheSim signs in with a client secret (from an
// environment variable and from a file) and with a certificate (PEM), and
// reads the tenant's domains with each.
func TestCredentialsGetTokensFromTheSim(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{})
	certPEM, keyPEM := s.ClientCertificate()
	files := map[string][]byte{
		"/etc/foyer/secret":   []byte(s.ClientSecret() + "\n"),
		"/etc/foyer/cert.pem": append(append([]byte{}, certPEM...), keyPEM...),
	}
	readFile := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return b, nil
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	for _, cred := range []Credential{
		{Type: CredentialClientSecret, SecretEnv: "FOYER_TEST_SECRET"},
		{Type: CredentialClientSecret, SecretFile: "/etc/foyer/secret"},
		{Type: CredentialCertificate, CertificateFile: "/etc/foyer/cert.pem"},
	} {
		t.Run(cred.String(), func(t *testing.T) {
			t.Parallel()
			o := simOptions(s, s.ClientID(), s.ClientSecret())
			o.Credential, o.ReadFile = cred, readFile
			tc, err := NewCredential(o)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := tc.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
			if err != nil || tok.Token == "" {
				t.Fatalf("token: %v", err)
			}
			c, err := New(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := c.Domains(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(ds, " "), "contoso.example") {
				t.Fatalf("domains %v", ds)
			}
		})
	}
	t.Run("a wrong secret is refused without showing it", func(t *testing.T) {
		t.Parallel()
		const wrong = "not-the-secret-4f2a"
		c := simClient(t, s, s.ClientID(), wrong)
		_, err := c.Domains(context.Background())
		if !errors.Is(err, directory.ErrSignIn) {
			t.Fatalf("err = %v, want ErrSignIn", err)
		}
		if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), s.ClientSecret()) {
			t.Fatalf("a secret is in the error: %v", err)
		}
	})
}

// A guest invited a moment ago is missing from list queries until it
// replicates; the look-up after an unknown invitation outcome still finds
// it, by its #EXT# UPN, so the invitation is not sent twice.
func TestExistingFindsAGuestBeforeItReplicates(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{ReplicationDelay: time.Hour})
	c := simClient(t, s, s.ClientID(), s.ClientSecret())
	ctx := context.Background()
	for _, a := range []foyer.Address{"o'brien@fabrikam.example", "Mixed.Case@Fabrikam.example"} {
		inv, err := c.Invite(ctx, directory.Invitation{Email: a, RedirectURL: "https://myapps.microsoft.com/"})
		if err != nil {
			t.Fatal(err)
		}
		found, err := c.Find(ctx, []foyer.Address{a})
		if err != nil || len(found) != 0 {
			t.Fatalf("the sim lists %s before replication (%v, %v): this test needs the lag", a, found, err)
		}
		p, ok, err := c.Lookup(ctx, a)
		if err != nil || !ok || p.ID != inv.UserID {
			t.Fatalf("Lookup(%s) = %+v, %v, %v; want %s", a, p, ok, err, inv.UserID)
		}
	}
}
