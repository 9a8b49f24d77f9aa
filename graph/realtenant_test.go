package graph

import (
	"cmp"
	"context"
	"os"
	"testing"
	"time"

	"github.com/foyer-dev/foyer/directory/directorytest"
)

// TestConformanceRealTenant runs the conformance suite against a real
// tenant when FOYER_TEST_TENANT is set. It invites guests at
// fabrikam.example addresses and grants them the fixtures' access, and does
// not delete them afterwards: use a test tenant.
//
//	FOYER_TEST_TENANT          tenant id (required)
//	FOYER_TEST_CLIENT_ID       app (client) id (required)
//	FOYER_TEST_CLIENT_SECRET   its secret, or
//	FOYER_TEST_CERTIFICATE     a PEM or PFX file (password in FOYER_TEST_CERTIFICATE_PASSWORD)
//	FOYER_TEST_CLOUD           public (default), usgov or china
//	FOYER_TEST_DOMAIN, FOYER_TEST_GROUP, FOYER_TEST_APP, FOYER_TEST_APP_ROLE,
//	FOYER_TEST_LICENSE, FOYER_TEST_USAGE_LOCATION, FOYER_TEST_NO_SEATS,
//	FOYER_TEST_DIRECTORY_ROLE, FOYER_TEST_AZURE_SCOPE, FOYER_TEST_AZURE_ROLE,
//	FOYER_TEST_MAIL_CONTACTS=1   the fixtures (see directorytest.Fixtures);
//	                           subtests whose fixture is unset skip.
//	FOYER_TEST_INVITATIONS     ceiling (default: 10 a minute from the start, so
//	                           that each subtest ends within its 10 minutes) or
//	                           governed (the governor from 1 a minute).
func TestConformanceRealTenant(t *testing.T) {
	tenant := os.Getenv("FOYER_TEST_TENANT")
	if tenant == "" {
		t.Skip("FOYER_TEST_TENANT is not set: the conformance suite runs against the sim only (see this test's comment to run it on a real tenant)")
	}
	cred := Credential{Type: CredentialClientSecret, SecretEnv: "FOYER_TEST_CLIENT_SECRET"}
	if f := os.Getenv("FOYER_TEST_CERTIFICATE"); f != "" {
		cred = Credential{Type: CredentialCertificate, CertificateFile: f, PasswordEnv: "FOYER_TEST_CERTIFICATE_PASSWORD"}
	}
	c, err := New(context.Background(), Options{
		TenantID: tenant, ClientID: os.Getenv("FOYER_TEST_CLIENT_ID"),
		Cloud: Cloud(os.Getenv("FOYER_TEST_CLOUD")), Credential: cred,
		Pacing: Pacing{InvitesPerMinute: 10, Invitations: InvitePacing(cmp.Or(os.Getenv("FOYER_TEST_INVITATIONS"), string(InvitesCeiling)))},
	})
	if err != nil {
		t.Fatal(err)
	}
	directorytest.Run(t, func(t *testing.T) directorytest.Harness {
		return directorytest.Harness{
			Directory: c,
			Fixtures: directorytest.Fixtures{
				Domain: os.Getenv("FOYER_TEST_DOMAIN"), Group: os.Getenv("FOYER_TEST_GROUP"),
				App: os.Getenv("FOYER_TEST_APP"), AppRole: os.Getenv("FOYER_TEST_APP_ROLE"),
				License: os.Getenv("FOYER_TEST_LICENSE"), UsageLocation: os.Getenv("FOYER_TEST_USAGE_LOCATION"),
				NoSeats: os.Getenv("FOYER_TEST_NO_SEATS"), DirectoryRole: os.Getenv("FOYER_TEST_DIRECTORY_ROLE"),
				AzureScope: os.Getenv("FOYER_TEST_AZURE_SCOPE"), AzureRole: os.Getenv("FOYER_TEST_AZURE_ROLE"),
				MailContacts: os.Getenv("FOYER_TEST_MAIL_CONTACTS") == "1",
			},
			Timeout: 10 * time.Minute,
		}
	})
}
