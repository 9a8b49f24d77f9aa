package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/notify/email/smtptest"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/sim/simtest"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// staleGuests seeds n guests created 200 days ago whose last sign-in was
// 100 days ago, and returns their ids by address.
func staleGuests(t *testing.T, s *sim.Server, n int, prefix string) map[string]string {
	t.Helper()
	var us []sim.SeedUser
	for i := range n {
		us = append(us, guest(fmt.Sprintf("%s%03d@partner.example", prefix, i), "Accepted", s.Now().AddDate(0, 0, -200)))
	}
	ids := seedGuests(t, s, us...)
	out := map[string]string{}
	for i, id := range ids {
		if err := s.SignIn(id, s.Now().AddDate(0, 0, -100), true); err != nil {
			t.Fatal(err)
		}
		out[us[i].Mail] = strings.ToLower(id)
	}
	return out
}

// activeGuest adds a guest who signed in today: a tenant where nobody
// signed in within no_sign_in_days looks like one whose sign-in data is
// missing, and is refused.
func activeGuest(t *testing.T, s *sim.Server) string {
	t.Helper()
	id := seedGuests(t, s, guest("active@northwind.example", "Accepted", s.Now().AddDate(-1, 0, 0)))[0]
	if err := s.SignIn(id, s.Now(), true); err != nil {
		t.Fatal(err)
	}
	return id
}

var runIDPattern = regexp.MustCompile(`sweep release ([0-9a-f-]{36})`)

// TestSweepApplyCapAndRelease: foyer sweep --apply against the sim, its
// clock advanced: a sweep beyond the cap is recorded and held (exit 7,
// nothing changed, held again when run again; discarded, it is planned
// anew) until foyer sweep release,
// then done by the next --apply; 30 days on, the deletes are held by the
// same cap, released, and done, each guest disabled and deleted once; a
// sweep with nothing due changes nothing; a guest excluded by its
// companyName is never touched; foyer runs lists the sweeps.
func TestSweepApplyCapAndRelease(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{Empty: true})
	ids := staleGuests(t, s, 3, "stale")
	fresh := seedGuests(t, s, guest("fresh@partner.example", "Accepted", s.Now().AddDate(0, 0, -200)))
	if err := s.SignIn(fresh[0], s.Now(), true); err != nil {
		t.Fatal(err)
	}
	// A stale guest of a company the configuration excludes.
	board := guest("board@contoso.example", "Accepted", s.Now().AddDate(0, 0, -200))
	board.CompanyName = "Contoso Board"
	kept := seedGuests(t, s, board)
	if err := s.SignIn(kept[0], s.Now().AddDate(0, 0, -100), true); err != nil {
		t.Fatal(err)
	}
	config := writeSweepConfig(t, s, `    lifecycle:
      stale: {no_sign_in_days: 90}
      delete_after_days: 30
      cap: {max: 2}
      exclude: {attributes: {companyName: Contoso Board}}
`)
	apply := []string{"sweep", "--apply", "--yes", "--config", config}
	count := func(what string, want int) {
		t.Helper()
		st := s.Stats()
		for mail, id := range ids {
			got := st.DisablesByUser[id]
			if what == "deletes" {
				got = st.DeletesByUser[id]
			}
			if got != want {
				t.Fatalf("%s: %d %s, want %d", mail, got, what, want)
			}
		}
		for _, id := range []string{fresh[0], kept[0]} {
			if st.DisablesByUser[strings.ToLower(id)] != 0 || st.DeletesByUser[strings.ToLower(id)] != 0 {
				t.Fatalf("the active or excluded guest %s was touched: %v %v", id, st.DisablesByUser, st.DeletesByUser)
			}
		}
	}
	release := func(phase, errs string) {
		t.Helper()
		m := runIDPattern.FindStringSubmatch(errs)
		if m == nil {
			t.Fatalf("%s: no run to release in:\n%s", phase, errs)
		}
		code, out, errs := runAt(s, "sweep", "release", m[1], "--config", config)
		if code != cli.ExitOK || !strings.Contains(out, "released") {
			t.Fatalf("%s: release exit %d:\n%s\n%s", phase, code, out, errs)
		}
		if code, _, _ := runAt(s, "sweep", "release", m[1], "--config", config); code != cli.ExitError {
			t.Fatalf("%s: a second release exit %d, want 1", phase, code)
		}
	}

	// A held sweep discarded is planned anew (and held again).
	code, _, errs := runAt(s, apply...)
	m := runIDPattern.FindStringSubmatch(errs)
	if code != cli.ExitSweepHeld || m == nil {
		t.Fatalf("first sweep: exit %d:\n%s", code, errs)
	}
	if code, out, errs := runAt(s, "sweep", "discard", m[1], "--config", config); code != cli.ExitOK || !strings.Contains(out, "discarded") {
		t.Fatalf("discard: exit %d:\n%s\n%s", code, out, errs)
	}
	if code, _, _ := runAt(s, "sweep", "release", m[1], "--config", config); code != cli.ExitError {
		t.Fatalf("release of a discarded sweep: exit %d, want 1", code)
	}
	for _, phase := range []string{"disable", "delete"} {
		code, out, errs := runAt(s, apply...)
		if code != cli.ExitSweepHeld || !strings.Contains(errs, "more than lifecycle.cap allows (2)") || strings.Contains(errs, m[1]) {
			t.Fatalf("%s: exit %d, want %d:\n%s\n%s", phase, code, cli.ExitSweepHeld, out, errs)
		}
		count("disables", map[string]int{"disable": 0, "delete": 1}[phase])
		count("deletes", 0)
		code, _, errs2 := runAt(s, apply...)
		if code != cli.ExitSweepHeld || !strings.Contains(errs2, "is held") {
			t.Fatalf("%s: a held sweep run again: exit %d:\n%s", phase, code, errs2)
		}
		release(phase, errs)
		code, out, errs = runAt(s, apply...)
		if code != cli.ExitOK || !strings.Contains(errs, "resuming sweep") || !strings.Contains(out, "finished: 3 "+phase+"d") {
			t.Fatalf("%s: released sweep: exit %d:\n%s\n%s", phase, code, out, errs)
		}
		count("disables", 1)
		count("deletes", map[string]int{"disable": 0, "delete": 1}[phase])
		if phase == "disable" {
			// Ten days on, nothing is due: nothing changes.
			s.Advance(10 * 24 * time.Hour)
			if code, out, errs := runAt(s, apply...); code != cli.ExitOK || !strings.Contains(errs, "nothing to do") {
				t.Fatalf("day 10: exit %d:\n%s\n%s", code, out, errs)
			}
			count("deletes", 0)
			s.Advance(21 * 24 * time.Hour)
		}
	}
	code, out, errs := runAt(s, "runs", "--config", config)
	if code != cli.ExitOK || strings.Count(out, "sweep") < 2 || !strings.Contains(out, "3 deleted") {
		t.Errorf("runs: exit %d:\n%s\n%s", code, out, errs)
	}
	last := strings.Fields(strings.Split(out, "\n")[1])[0] // the newest run: the deletes
	code, out, errs = runAt(s, "runs", "show", last, "--config", config, "--output", "json")
	var shown struct {
		Summary map[string]int `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || code != cli.ExitOK || shown.Summary["delete"] != 3 || shown.Summary["deleted"] != 3 {
		t.Errorf("runs show %s: exit %d, summary %v (%v):\n%s\n%s", last, code, shown.Summary, err, out, errs)
	}
}

// TestSweepApplyRefuses: --apply refuses a tenant whose guests have no
// sign-in data, recording nothing, and asks for --yes off a terminal.
func TestSweepApplyRefuses(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{Empty: true})
	seedGuests(t, s, guest("a@partner.example", "Accepted", s.Now().AddDate(0, 0, -400)), guest("b@partner.example", "Accepted", s.Now().AddDate(0, 0, -400)))
	config := writeSweepConfig(t, s, "    lifecycle: {stale: {no_sign_in_days: 90}}\n")
	code, out, errs := runAt(s, "sweep", "--apply", "--yes", "--config", config)
	if code != cli.ExitError || !strings.Contains(errs, "sign-in data looks missing") {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errs)
	}
	if n := len(s.Stats().DisablesByUser); n != 0 {
		t.Fatalf("a refused sweep disabled %d guests", n)
	}
	if code, out, _ := runAt(s, "runs", "--config", config); code != cli.ExitOK || strings.Contains(out, "sweep") {
		t.Fatalf("a refused sweep left a run:\n%s", out)
	}
	if code, _, errs := runAt(s, "sweep", "--apply", "--config", config); code != cli.ExitUsage || !strings.Contains(errs, "--yes") {
		t.Fatalf("--apply off a terminal: exit %d: %s", code, errs)
	}
}

// TestSweepSurvivesSIGKILL kills a real foyer sweep --apply while it
// disables 60 stale guests, at random points, runs it again until it is
// done, and judges by the sim's counters: every guest was disabled exactly
// once and none deleted (foyer disabled them moments ago, far from
// delete_after_days); a last sweep has nothing to do.
func TestSweepSurvivesSIGKILL(t *testing.T) {
	bin, s, _, _ := processWorld(t, sim.Options{Empty: true, Latency: chaos.Latency{Median: 20 * time.Millisecond, P99: 60 * time.Millisecond}}, "")
	t.Parallel()
	ids := staleGuests(t, s, 60, "stale")
	activeGuest(t, s)
	config := writeSweepConfig(t, s, `    lifecycle:
      stale: {no_sign_in_days: 90}
      delete_after_days: 1
`)
	appendFile(t, config, "pacing:\n  concurrency: 4\n")
	args := []string{"sweep", "--apply", "--yes", "--config", config}
	disables := func() int {
		n := 0
		for _, c := range s.Stats().DisablesByUser {
			n += c
		}
		return n
	}
	rnd := rand.New(rand.NewPCG(3, uint64(time.Now().UnixNano())))
	for kill := range 4 {
		before := disables()
		if before >= len(ids) {
			break
		}
		p := startProc(t, exec.Command(bin, args...))
		target := before + 1 + rnd.IntN(15)
		killed := false
		deadline := time.Now().Add(time.Minute)
		for !killed {
			select {
			case err := <-p.exited:
				p.exited <- err
				t.Logf("kill %d: the sweep ended on its own (%v) before the kill point", kill, err)
				killed = true
				continue
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: no progress in a minute:\n%s", kill, p.out.String())
			}
			if disables() >= target {
				if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				_ = p.wait(t, 30*time.Second)
				killed = true
			}
			time.Sleep(2 * time.Millisecond)
		}
		t.Logf("kill %d: %d disables before, %d after", kill, before, disables())
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("final sweep: %v\n%s", err, out.String())
	}
	st := s.Stats()
	for mail, id := range ids {
		if st.DisablesByUser[id] != 1 || st.DeletesByUser[id] != 0 {
			t.Errorf("%s: %d disables and %d deletes, want 1 and 0", mail, st.DisablesByUser[id], st.DeletesByUser[id])
		}
	}
	out.Reset()
	cmd = exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "nothing to do") {
		t.Fatalf("a sweep after the last: %v\n%s", err, out.String())
	}
	if n := len(s.Stats().DeletesByUser); n != 0 {
		t.Fatalf("%d guests deleted before their grace", n)
	}
}

// TestSweepApplyNotices: with notice_days, foyer sweep --apply emails the
// stale guest and its sponsor through the smtp: section and changes
// nothing; the disable comes only in a sweep notice_days later.
func TestSweepApplyNotices(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, sim.Options{Empty: true})
	srv := smtptest.Start(t, smtptest.Options{})
	boss := seedGuests(t, s, sim.SeedUser{DisplayName: "Boss", Mail: "boss@contoso.onmicrosoft.com", UserPrincipalName: "boss@contoso.onmicrosoft.com"})
	g := guest("stale@partner.example", "Accepted", s.Now().AddDate(0, 0, -200))
	g.Sponsors = boss
	id := seedGuests(t, s, g)[0]
	if err := s.SignIn(id, s.Now().AddDate(0, 0, -100), true); err != nil {
		t.Fatal(err)
	}
	activeGuest(t, s)
	config := writeSweepConfig(t, s, `    lifecycle:
      stale: {no_sign_in_days: 90}
      notice_days: 7
`)
	appendFile(t, config, fmt.Sprintf("smtp:\n  host: %s\n  port: %d\n  from: it@contoso.example\n  username: %s\n  password_env: SMTP_PASSWORD\n  ca_file: %s\n",
		srv.Host, srv.Port, srv.Username, srv.CAFile))
	sweep := func() (int, string, string) {
		var out, errb bytes.Buffer
		code := cli.Run(t.Context(), cli.Env{Args: []string{"sweep", "--apply", "--yes", "--config", config}, Stdin: strings.NewReader(""),
			Stdout: &out, Stderr: &errb, Clock: foyer.ClockFunc(s.Now),
			Getenv: func(k string) string {
				if k == "SMTP_PASSWORD" {
					return srv.Password
				}
				return ""
			}})
		return code, out.String(), errb.String()
	}
	code, out, errs := sweep()
	if code != cli.ExitOK || !strings.Contains(out, "1 notified") {
		t.Fatalf("day 0: exit %d:\n%s\n%s", code, out, errs)
	}
	msgs := srv.Messages()
	var to []string
	for _, m := range msgs {
		to = append(to, m.To...)
		if !strings.Contains(string(m.Data), "will be disabled") {
			t.Errorf("notice without its announcement:\n%s", m.Data)
		}
	}
	if slices.Sort(to); strings.Join(to, " ") != "boss@contoso.onmicrosoft.com stale@partner.example" {
		t.Fatalf("notices went to %v", to)
	}
	if n := s.Stats().DisablesByUser[strings.ToLower(id)]; n != 0 {
		t.Fatalf("disabled at the notice: %d", n)
	}
	s.Advance(7 * 24 * time.Hour)
	code, out, errs = sweep()
	if code != cli.ExitOK || !strings.Contains(out, "1 disabled") || s.Stats().DisablesByUser[strings.ToLower(id)] != 1 {
		t.Fatalf("day 7: exit %d:\n%s\n%s", code, out, errs)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Fatalf("%d messages after the disable, want the 2 notices only", n)
	}
}

// TestSweepDeletesSurviveSIGKILL: the delete phase with real processes.
// The ledger says foyer disabled 30 guests 40 days ago and 10 guests 10
// days ago (as a sweep a month earlier would have left it; the processes
// run on the real clock); a foyer sweep --apply killed at random points
// while it deletes, and run again until done, deletes each of the 30
// exactly once and none of the 10, whose grace has not passed.
func TestSweepDeletesSurviveSIGKILL(t *testing.T) {
	bin, s, _, _ := processWorld(t, sim.Options{Empty: true, Latency: chaos.Latency{Median: 20 * time.Millisecond, P99: 60 * time.Millisecond}}, "")
	t.Parallel()
	old := staleGuests(t, s, 30, "old")
	young := staleGuests(t, s, 10, "young")
	activeGuest(t, s)
	config := writeSweepConfig(t, s, `    lifecycle:
      stale: {no_sign_in_days: 90}
      delete_after_days: 30
`)
	appendFile(t, config, "pacing:\n  concurrency: 4\n")
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(filepath.Dir(config), "foyer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx store.Tx) error {
		run := &foyer.Run{ID: "earlier-sweep", Kind: foyer.RunSweep, Profile: "contoso", Source: "sweep of tenant contoso",
			Digest: "sweep contoso", StartedAt: time.Now().AddDate(0, 0, -40)}
		if err := tx.CreateRun(ctx, run); err != nil {
			return err
		}
		if err := tx.SealRun(ctx, run.ID); err != nil {
			return err
		}
		if err := tx.ApproveRun(ctx, run.ID, "test"); err != nil {
			return err
		}
		if err := tx.FinishRun(ctx, run.ID, foyer.Summary{}); err != nil {
			return err
		}
		for ids, days := range map[*map[string]string]int{&old: 40, &young: 10} {
			for _, id := range *ids {
				if err := s.SetAccountEnabled(id, false); err != nil {
					return err
				}
				if err := tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditOutcome, RunID: run.ID, Op: "sweep disable", Target: id,
					At: time.Now().AddDate(0, 0, -days)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	args := []string{"sweep", "--apply", "--yes", "--config", config}
	deletes := func() int {
		n := 0
		for _, c := range s.Stats().DeletesByUser {
			n += c
		}
		return n
	}
	rnd := rand.New(rand.NewPCG(5, uint64(time.Now().UnixNano())))
	for kill := range 3 {
		before := deletes()
		if before >= len(old) {
			break
		}
		p := startProc(t, exec.Command(bin, args...))
		target := before + 1 + rnd.IntN(10)
		deadline := time.Now().Add(time.Minute)
		for done := false; !done; time.Sleep(2 * time.Millisecond) {
			select {
			case err := <-p.exited:
				p.exited <- err
				t.Logf("kill %d: the sweep ended on its own (%v):\n%s", kill, err, p.out.String())
				done = true
				continue
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: no progress in a minute:\n%s", kill, p.out.String())
			}
			if deletes() >= target {
				if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				_ = p.wait(t, 30*time.Second)
				done = true
			}
		}
		t.Logf("kill %d: %d deletes before, %d after", kill, before, deletes())
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("final sweep: %v\n%s", err, out.String())
	}
	st := s.Stats()
	for mail, id := range old {
		if st.DeletesByUser[id] != 1 {
			t.Errorf("%s: deleted %d times, want once", mail, st.DeletesByUser[id])
		}
	}
	for mail, id := range young {
		if st.DeletesByUser[id] != 0 {
			t.Errorf("%s, disabled 10 days ago: deleted %d times", mail, st.DeletesByUser[id])
		}
	}
	if n := len(st.DisablesByUser); n != 0 {
		t.Errorf("%d guests disabled again", n)
	}
}
