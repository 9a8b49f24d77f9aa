package cli_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/cmd/foyer/cli"
	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/store/sqlite"
)

// recordTriggerItems records items in the ledger at config's side as the
// triggers do, each batch first seen ago before now.
func recordTriggerItems(t *testing.T, config string, ago time.Duration, items ...store.TriggerItem) {
	t.Helper()
	ctx := context.Background()
	at := time.Now().Add(-ago)
	db, err := sqlite.Open(ctx, filepath.Join(filepath.Dir(config), "foyer.db"),
		sqlite.Options{Clock: foyer.ClockFunc(func() time.Time { return at })})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.InTx(ctx, func(tx store.Tx) error {
		for _, it := range items {
			if err := tx.PutTriggerItem(ctx, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type triggerItemsDoc struct {
	Items []struct {
		Trigger string     `json:"trigger"`
		Item    string     `json:"item"`
		Version string     `json:"version"`
		State   string     `json:"state"`
		RunID   string     `json:"run_id"`
		SeenAt  time.Time  `json:"seen_at"`
		DoneAt  *time.Time `json:"done_at"`
		Detail  string     `json:"detail"`
	} `json:"trigger_items"`
}

// TestTriggerItems: foyer triggers items lists what the triggers
// recorded, newest first, with why a version failed, filtered by trigger
// and state, as a table and as JSON; foyer triggers prune deletes only
// the seen versions a later one replaced, older than --older-than.
func TestTriggerItems(t *testing.T) {
	t.Parallel()
	_, config, _ := tenant(t, sim.Options{})
	const day = 24 * time.Hour
	code, out, errs := run(t, "triggers", "items", "--config", config)
	if code != cli.ExitOK || out != "No trigger inputs in the ledger.\n" {
		t.Fatalf("items of an empty ledger: exit %d\n%s%s", code, out, errs)
	}
	recordTriggerItems(t, config, 40*day, store.TriggerItem{Trigger: "drops", Item: "/in/a.csv", Version: "10@1", State: store.ItemSeen})
	recordTriggerItems(t, config, 35*day,
		store.TriggerItem{Trigger: "drops", Item: "/in/a.csv", Version: "20@2", State: store.ItemSeen},
		store.TriggerItem{Trigger: "drops", Item: "/in/b.png", Version: "7@2", State: store.ItemFailed, Detail: "the file is not a CSV"})
	recordTriggerItems(t, config, day,
		store.TriggerItem{Trigger: "drops", Item: "/in/a.csv", Version: "30@3", State: store.ItemSeen},
		store.TriggerItem{Trigger: "nightly", Item: "azblob://in/x.csv", Version: "0x8DC", State: store.ItemApplied, RunID: "run-x"})

	code, out, errs = run(t, "triggers", "items", "--config", config)
	if code != cli.ExitOK {
		t.Fatalf("items: exit %d\n%s", code, errs)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := [][]string{
		{"trigger", "item", "version", "state", "run", "seen", "done", "detail"},
		{"nightly", "azblob://in/x.csv", "0x8DC", "applied", "run-x"},
		{"drops", "/in/a.csv", "30@3", "seen", "-"},
		{"drops", "/in/b.png", "7@2", "failed", "-", "the file is not a CSV"},
		{"drops", "/in/a.csv", "20@2", "seen"},
		{"drops", "/in/a.csv", "10@1", "seen"},
	}
	if len(lines) != len(want) {
		t.Fatalf("items: %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, words := range want {
		for _, w := range words {
			if !strings.Contains(lines[i], w) {
				t.Errorf("items: line %d lacks %q:\n%s", i, w, out)
			}
		}
	}
	if seen := time.Now().Add(-day).Local().Format("2006-01-02"); !strings.Contains(lines[1], seen) {
		t.Errorf("items: the newest line lacks the day it was seen, %s:\n%s", seen, out)
	}

	code, out, errs = run(t, "triggers", "items", "--config", config, "--state", "failed", "--output", "json")
	if code != cli.ExitOK {
		t.Fatalf("items --state failed: exit %d\n%s", code, errs)
	}
	var d triggerItemsDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("items --output json is not JSON: %v\n%s", err, out)
	}
	if len(d.Items) != 1 {
		t.Fatalf("items --state failed: %+v, want /in/b.png only", d.Items)
	}
	if it := d.Items[0]; it.Trigger != "drops" || it.Item != "/in/b.png" || it.Version != "7@2" || it.State != "failed" ||
		it.Detail != "the file is not a CSV" || it.DoneAt == nil || it.RunID != "" {
		t.Errorf("items --state failed: %+v", it)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
		not  string // what must not be listed
	}{
		{"one trigger", []string{"--trigger", "nightly"}, cli.ExitOK, "azblob://in/x.csv", "drops"},
		{"two states", []string{"--state", "applied,failed", "--limit", "1"}, cli.ExitOK, "run-x", "drops"},
		{"nothing", []string{"--trigger", "nope", "--state", "failed"}, cli.ExitOK, "No failed trigger inputs of trigger nope in the ledger.", ""},
		{"unknown state", []string{"--state", "done"}, cli.ExitUsage, `--state "done"`, ""},
		{"negative limit", []string{"--limit", "-1"}, cli.ExitUsage, "--limit", ""},
		{"unknown output", []string{"--output", "xml"}, cli.ExitUsage, "--output", ""},
	}
	for _, tt := range tests {
		code, out, errs := run(t, append([]string{"triggers", "items", "--config", config}, tt.args...)...)
		if code != tt.code || !strings.Contains(out+errs, tt.want) {
			t.Errorf("items %s: exit %d, want %d with %q:\n%s%s", tt.name, code, tt.code, tt.want, out, errs)
		}
		if tt.not != "" && strings.Contains(out, tt.not) {
			t.Errorf("items %s: lists %q:\n%s", tt.name, tt.not, out)
		}
	}

	// Pruning: a.csv's first version (40 days old) goes with --older-than
	// 38d, its second (35 days) with the default 30 days; the newest
	// version, the failed and the applied ones stay.
	prunes := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--older-than", "38d"}, cli.ExitOK, "Deleted 1 seen version:"},
		{nil, cli.ExitOK, "Deleted 1 seen version:"},
		{nil, cli.ExitOK, "Deleted 0 seen versions:"},
		{[]string{"--older-than", "1h"}, cli.ExitOK, "Deleted 0 seen versions:"},
		{[]string{"--older-than", "soon"}, cli.ExitUsage, "--older-than"},
	}
	for _, p := range prunes {
		code, out, errs := run(t, append([]string{"triggers", "prune", "--config", config}, p.args...)...)
		if code != p.code || !strings.Contains(out+errs, p.want) {
			t.Errorf("prune %v: exit %d, want %d with %q:\n%s%s", p.args, code, p.code, p.want, out, errs)
		}
	}
	code, out, errs = run(t, "triggers", "items", "--config", config, "--output", "json")
	if code != cli.ExitOK {
		t.Fatalf("items after prune: exit %d\n%s", code, errs)
	}
	d = triggerItemsDoc{}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, it := range d.Items {
		left = append(left, it.Item+" "+it.Version+" "+it.State)
	}
	if got, want := strings.Join(left, ", "), "azblob://in/x.csv 0x8DC applied, /in/a.csv 30@3 seen, /in/b.png 7@2 failed"; got != want {
		t.Errorf("after prune: %s\nwant %s", got, want)
	}
}
