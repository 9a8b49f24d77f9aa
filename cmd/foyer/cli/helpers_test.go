package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
)

// hookWriter is a goroutine-safe buffer that calls hook once, the first
// time what was written contains trigger.
type hookWriter struct {
	mu      sync.Mutex
	b       bytes.Buffer
	trigger string
	hook    func()
	fired   bool
}

func (w *hookWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	n, _ := w.b.Write(p)
	fire := !w.fired && w.hook != nil && strings.Contains(w.b.String(), w.trigger)
	if fire {
		w.fired = true
	}
	w.mu.Unlock()
	if fire {
		w.hook()
	}
	return n, nil
}

func (w *hookWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// onTerminal makes every stream a terminal of the given width.
func onTerminal(width int) func(any) (bool, int) {
	return func(any) (bool, int) { return true, width }
}

// runIn runs the command line in env (with the defaults run uses) and
// returns the exit code, stdout and stderr.
func runIn(ctx context.Context, env cli.Env) (int, string, string) {
	var out bytes.Buffer
	errb := &hookWriter{}
	if env.Stdout == nil {
		env.Stdout = &out
	}
	if env.Stderr == nil {
		env.Stderr = errb
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	code := cli.Run(ctx, env)
	errs := ""
	if w, ok := env.Stderr.(*hookWriter); ok {
		errs = w.String()
	}
	stdout := out.String()
	if w, ok := env.Stdout.(*hookWriter); ok {
		stdout = w.String()
	}
	return code, stdout, errs
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// simTenantYAML is how a configuration for the sim s begins: the tenant
// contoso, signed in to as clientID with the secret in secretFile (beside
// the ca.pem WriteSimFiles wrote), and a SQLite ledger. Nine lines, so a
// test can name the line of what follows.
func simTenantYAML(s *sim.Server, clientID, secretFile string) string {
	return sprintf(`tenants:
  contoso:
    tenant_id: %[1]s
    client_id: %[2]s
    cloud: custom
    endpoints: {authority: %[3]s/, graph: %[3]s, arm: %[3]s, exchange: %[3]s}
    ca_file: ca.pem
    credential: {type: client_secret, secret_file: %[4]s}
ledger: {driver: sqlite, dsn: foyer.db}
`, s.TenantID(), clientID, s.URL(), secretFile)
}

// defaultAppSubscription is the scope of the subscription the sim's
// default app holds an Azure role on.
func defaultAppSubscription(s *sim.Server) string {
	sub := ""
	for _, a := range s.Snapshot().AzureRoleAssignments {
		if strings.EqualFold(a.PrincipalID, s.DefaultApp().ObjectID) {
			sub = a.Scope
		}
	}
	return sub
}
