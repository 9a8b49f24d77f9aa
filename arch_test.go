package foyer_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestImportArrows checks that packages import only along the arrows in
// docs/architecture.md ("Packages and arrows"): cmd → engine, web → foyer,
// directory, store, notify, with concrete backends wired only in cmd/foyer/cli.
func TestImportArrows(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const mod = "github.com/foyer-dev/foyer"
	out, err := exec.Command("go", "list", "-json=ImportPath,Deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// forbidden maps a package (or a prefix ending in "/") to the module
	// packages it must not depend on, even indirectly.
	backends := []string{"graph", "sim", "store/sqlite", "store/postgres", "notify/slack", "notify/teams", "notify/webhook", "notify/email", "source/blob", "cmd/"}
	forbidden := map[string][]string{
		"":          {"*"}, // the root package: standard library only
		"directory": {"graph", "sim", "store", "engine", "web", "notify", "source", "config", "cmd/"},
		"sim":       {"graph", "directory", "store", "engine", "web", "notify", "source", "config", "cmd/"},
		"graph":     {"sim", "store", "engine", "web", "notify", "source", "cmd/"},
		"store":     {"graph", "sim", "engine", "web", "notify", "source", "cmd/", "directory"},
		"source":    {"graph", "sim", "store", "engine", "web", "notify", "cmd/"},
		"engine":    append([]string{"web"}, backends...),
		"web":       append([]string{"engine", "config"}, backends...),
		"notify":    {"graph", "sim", "store", "engine", "web", "source", "cmd/"},
		"config":    {"graph", "sim", "store", "engine", "web", "notify", "source", "cmd/"},
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")
		rules, ok := forbidden[rel]
		if !ok {
			// Sub-packages follow their parent's rules (store/sqlite may not
			// import engine, ...), except test helpers.
			for k, v := range forbidden {
				if k != "" && strings.HasPrefix(rel, k+"/") && !strings.HasSuffix(rel, "test") {
					rules, ok = v, true
				}
			}
		}
		if !ok {
			continue
		}
		for _, dep := range p.Deps {
			if rel == "" {
				if strings.Contains(strings.SplitN(dep, "/", 2)[0], ".") {
					t.Errorf("the root package must import only the standard library, but depends on %s", dep)
				}
				continue
			}
			if !strings.HasPrefix(dep, mod+"/") {
				continue
			}
			d := strings.TrimPrefix(dep, mod+"/")
			for _, f := range rules {
				if d == strings.TrimSuffix(f, "/") || strings.HasPrefix(d, strings.TrimSuffix(f, "/")+"/") {
					if strings.HasPrefix(d, rel+"/") || d == rel {
						continue // its own sub-packages
					}
					t.Errorf("%s depends on %s, against the arrows in docs/architecture.md", rel, d)
				}
			}
		}
	}
}
