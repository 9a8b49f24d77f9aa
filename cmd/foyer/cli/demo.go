package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/examples"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

func newDemo(env *Env) *cobra.Command {
	var dir string
	var serve bool
	var servePort int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try foyer on an emulated tenant: plan and apply an example guest list",
		Long: `demo starts an emulated Entra tenant in this process, writes a configuration
for it, then plans and applies examples/guests.csv (a list with every kind of
row) with the example profile, and shows what happened. Nothing leaves this
machine. With --serve, the tenant keeps running afterwards and foyer serve
runs beside it (the request page, the approver UI and the API, on
--serve-port), printing the emails it would send; the other commands can be
tried against the same tenant and ledger.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, env, dir, serve, servePort) },
	}
	cmd.Flags().StringVar(&dir, "dir", "", "where to write the configuration, ledger and example file (default: a new temporary directory)")
	cmd.Flags().BoolVar(&serve, "serve", false, "then run foyer serve beside the emulated tenant until interrupted")
	cmd.Flags().IntVar(&servePort, "serve-port", defaultServePort, "the port foyer serve will listen on, in the web app's redirect URI and the serve: section of foyer.yaml")
	return cmd
}

func runDemo(cmd *cobra.Command, env *Env, dir string, serve bool, servePort int) error {
	ctx := cmd.Context()
	log, err := logger(cmd, env)
	if err != nil {
		return err
	}
	if servePort < 1 || servePort > 65535 {
		return usageError("--serve-port must be a port, from 1 to 65535")
	}
	if dir, err = simDir(dir); err != nil {
		return withCode(ExitError, err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return withCode(ExitError, err)
	}
	defer unlock()
	s, err := sim.Start(ctx, sim.Options{Seed: 1, Logger: log.With("component", "sim")})
	if err != nil {
		return withCode(ExitError, fmt.Errorf("start the emulated tenant: %w", err))
	}
	defer s.Close()
	web, err := seedServe(s, dir, servePort)
	if err != nil {
		return withCode(ExitError, err)
	}
	ready, err := writeSimFiles(s, dir, false, web)
	if err != nil {
		return withCode(ExitError, err)
	}
	csv := filepath.Join(dir, "guests.csv")
	if err := writeDemoFile(dir, "guests.csv", examples.GuestsCSV); err != nil {
		return withCode(ExitError, fmt.Errorf("write the example guest list: %w", err))
	}
	out, prog := env.Stdout, env.program()
	fmt.Fprintf(out, "An emulated Entra tenant (contoso.example) is running at %s.\n", s.URL())
	fmt.Fprintf(out, "Its configuration is %s; the example guest list is %s.\n\n", ready.Config, csv)

	step := func(args ...string) int {
		fmt.Fprintf(out, "$ %s %s\n", prog, strings.Join(args, " "))
		sub := *env
		sub.Args = args
		code := Run(ctx, sub)
		fmt.Fprintln(out)
		return code
	}
	common := []string{"--config", ready.Config, "--profile", "partners", csv}
	// The example list has invalid rows on purpose: exit code 4 is the
	// answer expected.
	if code := step(append([]string{"apply", "--yes"}, common...)...); code != ExitOK && code != ExitInvalidRows {
		return &exitError{code: code, err: fmt.Errorf("the demo's apply failed")}
	}
	fmt.Fprintln(out, "The same file again invites nobody twice: everyone is there now.")
	if code := step(append([]string{"plan"}, common...)...); code != ExitOK && code != ExitInvalidRows {
		return &exitError{code: code, err: fmt.Errorf("the demo's second plan failed")}
	}

	stats := s.Stats()
	emails := make([]string, 0, len(stats.InvitationsByEmail))
	for e := range stats.InvitationsByEmail {
		emails = append(emails, e)
	}
	sort.Strings(emails)
	fmt.Fprintf(out, "The tenant counted %s (GET /_sim/stats, invitations_by_email):\n", plural(len(emails), "invitation", "invitations"))
	for _, e := range emails {
		fmt.Fprintf(out, "  %-40s %d\n", e, stats.InvitationsByEmail[e])
	}
	runID := newestRun(ctx, filepath.Join(dir, "foyer.db"))
	fmt.Fprintf(out, "\nWhere to look next:\n")
	fmt.Fprintf(out, "  the ledger (runs, requests, steps, audit log)  %s\n", filepath.Join(dir, "foyer.db"))
	fmt.Fprintf(out, "  the runs in the ledger                         %s runs --config %s\n", prog, ready.Config)
	fmt.Fprintf(out, "  the run's rows, read back from the ledger      %s runs show --config %s %s\n", prog, ready.Config, runID)
	fmt.Fprintf(out, "  an emulated tenant to keep                     %s sim --dir %s\n", prog, filepath.Join(os.TempDir(), "foyer-sim"))
	fmt.Fprintf(out, "  a configuration for your own tenant            %s init\n", prog)
	fmt.Fprintf(out, "  point foyer at your own tenant                 README.md, \"Use it on your tenant\"\n")
	if !serve {
		return nil
	}
	return demoServe(ctx, env, log, s.URL(), ready, csv, web)
}

// demoServe runs foyer serve beside the emulated tenant until interrupted,
// with the configuration the demo wrote; the emails it would send are
// printed here.
func demoServe(ctx context.Context, env *Env, log *slog.Logger, tenantURL string, ready simReady, csv string, web *serveDemo) error {
	out, prog := env.Stdout, env.program()
	c, err := config.Load(ctx, ready.Config)
	if err != nil {
		return withCode(ExitError, err)
	}
	st, err := c.ServeSettings()
	if err != nil {
		return withCode(ExitError, err)
	}
	sv, err := buildService(ctx, c, st, env, log, printedMail{mu: &sync.Mutex{}, out: out})
	if err != nil {
		return err
	}
	defer sv.close()
	return sv.serve(ctx, env, func(s serving) {
		fmt.Fprintf(out, "\nfoyer serve is running at %s beside the tenant (%s), until you press Ctrl-C:\n", s.URL, tenantURL)
		fmt.Fprintf(out, "  the request page        %s/request/%s\n", s.URL, serveProfile)
		fmt.Fprintf(out, "  the approver UI         %s/admin  (sign in as %s or %s, password %s)\n", s.URL, web.Approver, web.Alternate, web.Password)
		fmt.Fprintf(out, "  the API                 %s/api/v1/openapi.json  (a key: %s apikeys create NAME --config %s)\n", s.URL, prog, ready.Config)
		fmt.Fprintf(out, "  the tenant's counters   curl --cacert %s %s/_sim/stats\n", ready.CAFile, tenantURL)
		fmt.Fprintf(out, "  another plan            %s plan --config %s --profile partners %s\n", prog, ready.Config, csv)
		fmt.Fprintf(out, "The emails foyer sends (links to prove an address, approvals awaited) are printed here.\n")
	})
}

// writeDemoFile writes a file into the checked directory, as the sim's
// files are written (writeNewFile).
func writeDemoFile(dir, name string, data []byte) error {
	root, err := openSimDir(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return writeNewFile(root, name, data, 0o644)
}

// newestRun returns the id of the newest run in the SQLite ledger at path,
// or RUN-ID if it cannot be read.
func newestRun(ctx context.Context, path string) string {
	id := "RUN-ID"
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return id
	}
	defer db.Close()
	_ = db.InTx(ctx, func(tx store.Tx) error {
		return tx.ListRuns(ctx, 1, func(r *foyer.Run) error {
			id = r.ID
			return nil
		})
	})
	return id
}
