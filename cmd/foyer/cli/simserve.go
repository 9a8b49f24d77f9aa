package cli

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/sim"
)

// defaultServePort is the port foyer serve listens on in the configuration
// foyer sim and foyer demo write; --serve-port changes it. It is in the web
// app's redirect URI, so foyer serve must listen on it.
const defaultServePort = 8080

// serveDemo is what the emulated tenant holds for foyer serve: two
// employees who approve (the second one is the first stage's alternate and
// the second stage), a group of approvers, and foyer's web app
// registration, whose secret goes in DIR/web-secret.
type serveDemo struct {
	Port          int    `json:"port"`
	Approver      string `json:"approver"`  // UPN; also an admin
	Alternate     string `json:"alternate"` // UPN
	Password      string `json:"password"`  // both sign in with it (an emulated tenant's throwaway)
	GroupID       string `json:"group_id"`  // Foyer Approvers, with Approver in it
	WebClientID   string `json:"web_client_id"`
	WebSecret     string `json:"web_secret"`
	WebSecretFile string `json:"web_secret_file"`
}

const (
	serveDomain     = "contoso.example" // the demo content's default domain
	approverUPN     = "approver@" + serveDomain
	alternateUPN    = "alternate@" + serveDomain
	approversGroup  = "Foyer Approvers"
	webAppName      = "foyer web"
	serveProfile    = "requests"
	webSecretFile   = "web-secret"
	serveCallback   = "/admin/callback"
	serveListenHost = "127.0.0.1"
)

// serveAddr is where foyer serve listens for the demo's configuration.
func serveAddr(port int) string { return net.JoinHostPort(serveListenHost, strconv.Itoa(port)) }

// seedServe adds what foyer serve needs to the emulated tenant's demo
// content. dir is where the web app's secret file will be.
func seedServe(s *sim.Server, dir string, port int) (*serveDemo, error) {
	seeded, err := s.Seed(sim.SeedData{
		Users: []sim.SeedUser{
			{DisplayName: "Avery Approver", GivenName: "Avery", Surname: "Approver", UserPrincipalName: approverUPN, Mail: approverUPN,
				JobTitle: "Partner Manager", UsageLocation: "US", Password: sim.MemberPassword},
			{DisplayName: "Sam Alternate", GivenName: "Sam", Surname: "Alternate", UserPrincipalName: alternateUPN, Mail: alternateUPN,
				JobTitle: "Head of Partnerships", UsageLocation: "US", Password: sim.MemberPassword},
		},
		Groups: []sim.SeedGroup{{DisplayName: approversGroup, Description: "Who approves requests for access in foyer", Members: []string{approverUPN}}},
	})
	if err != nil {
		return nil, fmt.Errorf("add foyer serve's approvers to the emulated tenant: %w", err)
	}
	app, err := s.AddApp(sim.App{
		DisplayName:  webAppName,
		RedirectURIs: []string{"http://" + serveAddr(port) + serveCallback},
		// foyer serve authorises approvers by the groups in their id
		// token, which Entra sends only to an app registration whose
		// groupMembershipClaims asks for them.
		GroupMembershipClaims: "SecurityGroup",
	})
	if err != nil {
		return nil, fmt.Errorf("register foyer's web app in the emulated tenant: %w", err)
	}
	return &serveDemo{
		Port: port, Approver: approverUPN, Alternate: alternateUPN, Password: sim.MemberPassword,
		GroupID: seeded.Groups[0].ID, WebClientID: app.ClientID, WebSecret: app.Secret,
		WebSecretFile: filepath.Join(dir, webSecretFile),
	}, nil
}

// serveConfig adds foyer serve's section and its public profile to c.
func (d *serveDemo) serveConfig(c *config.Config, tenantID string) {
	c.Serve = &config.Serve{
		Addr:      serveAddr(d.Port),
		PublicURL: "http://" + serveAddr(d.Port),
		Tenant:    "contoso",
		SignIn: &config.SignIn{ClientID: d.WebClientID,
			Credential: config.Credential{Type: config.CredClientSecret, SecretFile: d.WebSecretFile}},
		Access: config.Access{
			Admins:    config.Members{Users: []string{d.Approver}},
			Approvers: config.Members{Groups: []string{d.GroupID}, Users: []string{d.Alternate}},
		},
	}
	// Anyone may ask; the approvers group decides first, within three
	// days, then Sam Alternate; a first stage left undecided goes to Sam.
	c.Profiles[serveProfile] = &config.Profile{
		Tenant: "contoso", RedirectURL: "https://myapps.microsoft.com/?tenantid=" + tenantID,
		Sender: "microsoft", DenyDomains: []string{"gmail.com"}, Groups: []string{"DemoApp"},
		Public: true,
		Questions: []config.Question{
			{ID: "project", Label: "Project", Labels: map[string]string{"fr": "Projet"}, Required: true, Choices: []string{"Apollo", "Gemini"}},
		},
		Approval: &config.Approval{Stages: []config.Stage{
			{Approvers: config.Approvers{Groups: []string{d.GroupID}}, Timeout: config.Duration(72 * time.Hour),
				OnTimeout: "escalate", Alternates: &config.Approvers{Users: []string{d.Alternate}}},
			{Approvers: config.Approvers{Users: []string{d.Alternate}}},
		}},
	}
}
