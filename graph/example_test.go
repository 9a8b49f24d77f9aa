package graph_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
	"github.com/foyer-dev/foyer/graph"
)

// A client for a tenant in the public cloud, signing in with a client
// secret read from an environment variable, inviting at most 30 guests a
// minute.
func ExampleNew() {
	ctx := context.Background()
	c, err := graph.New(ctx, graph.Options{
		TenantID: "00000000-0000-0000-0000-000000000001",
		ClientID: "00000000-0000-0000-0000-000000000002",
		Cloud:    graph.CloudPublic,
		Credential: graph.Credential{
			Type:      graph.CredentialClientSecret,
			SecretEnv: "FOYER_CLIENT_SECRET",
		},
		Pacing: graph.Pacing{InvitesPerMinute: 30},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	a, _ := foyer.ParseAddress("o'brien@fabrikam.example")
	found, err := c.Find(ctx, []foyer.Address{a})
	if err != nil {
		fmt.Println(directory.Code(err), err)
		return
	}
	if p, ok := found[a.Key()]; ok {
		fmt.Println("already there:", p.ID)
		return
	}
	inv, err := c.Invite(ctx, directory.Invitation{Email: a, RedirectURL: "https://myapps.microsoft.com/"})
	fmt.Println(inv.UserID, err)
}
