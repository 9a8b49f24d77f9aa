// Package deploy holds the files that deploy foyer (systemd, Kubernetes,
// Azure Container Apps; the Dockerfile is at the repository's root) and
// the tests that keep them in step with the code: the image builds the
// module's main package with the Go that go.mod asks for, the example
// configurations load as foyer serve would load them, every secret they
// name is provided, and the stop timeouts leave foyer serve its drain.
package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/foyer-dev/foyer/config"
)

// httpDrain is how long foyer serve lets the answers under way finish
// after SIGTERM (cmd/foyer/cli/serve.go); then the jobs under way get
// serve.drain_timeout. Every stop timeout here must leave more than both.
const httpDrain = 30 * time.Second

// checkGrace says whether a supervisor's grace period leaves foyer serve
// its whole stop: the answers, then the jobs' drain.
func checkGrace(t *testing.T, c *config.Config, grace any) {
	t.Helper()
	st, err := c.ServeSettings()
	if err != nil {
		t.Fatal(err)
	}
	need := httpDrain + st.DrainTimeout
	if g, ok := grace.(uint64); !ok || time.Duration(g)*time.Second <= need {
		t.Errorf("terminationGracePeriodSeconds %v, want more than %s (answers %s, then serve.drain_timeout %s)", grace, need, httpDrain, st.DrainTimeout)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goDirective returns the version of go.mod's go line, and of its
// toolchain line when there is one ("" otherwise).
func goDirective(gomod string) (goVersion, toolchain string, err error) {
	for line := range strings.Lines(gomod) {
		f := strings.Fields(strings.TrimSpace(line))
		if len(f) == 2 && f[0] == "go" {
			goVersion = f[1]
		}
		if len(f) == 2 && f[0] == "toolchain" {
			toolchain = strings.TrimPrefix(f[1], "go")
		}
	}
	if goVersion == "" {
		return "", "", fmt.Errorf("go.mod has no go line")
	}
	return goVersion, toolchain, nil
}

// dockerBuild is what a Dockerfile says about the binary it builds.
type dockerBuild struct {
	goImage string // the golang image's tag: 1.26, 1.26.1, 1.26-bookworm
	pkg     string // the package go build builds: ./cmd/foyer
	out     string // where go build writes the binary
	cgo     string // CGO_ENABLED's value, "" if unset
}

var (
	fromGolang = regexp.MustCompile(`(?im)^FROM\s+(?:docker\.io/(?:library/)?)?golang:(\S+)\s+AS\s+build\s*$`)
	goBuild    = regexp.MustCompile(`(?m)\bgo build\b([^&;\n]*)`)
	cgoEnv     = regexp.MustCompile(`(?m)\bCGO_ENABLED=(\S+)`)
)

func parseDockerfile(df string) (dockerBuild, error) {
	df = strings.ReplaceAll(df, "\\\n", " ") // continuation lines
	var b dockerBuild
	m := fromGolang.FindAllStringSubmatch(df, -1)
	if len(m) != 1 {
		return b, fmt.Errorf("want one `FROM golang:VERSION AS build`, found %d", len(m))
	}
	b.goImage = m[0][1]
	builds := goBuild.FindAllStringSubmatch(df, -1)
	if len(builds) != 1 {
		return b, fmt.Errorf("want one go build, found %d", len(builds))
	}
	args := strings.Fields(builds[0][1])
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-o" && i+1 < len(args):
			b.out = args[i+1]
			i++
		case strings.HasPrefix(a, "./") || a == ".":
			b.pkg = a
		}
	}
	if b.pkg == "" || b.out == "" {
		return b, fmt.Errorf("go build %s: want -o PATH and a ./package", builds[0][1])
	}
	if c := cgoEnv.FindStringSubmatch(df); c != nil {
		b.cgo = c[1]
	}
	return b, nil
}

// version splits 1.26.0 (or 1.26, 1.26rc1) into numbers; the image tag's
// suffix (-bookworm, -alpine) is dropped.
func version(v string) ([]int, error) {
	v, _, _ = strings.Cut(v, "-")
	var out []int
	for _, p := range strings.Split(v, ".") {
		p = strings.TrimRightFunc(p, func(r rune) bool { return r < '0' || r > '9' })
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("version %q: %w", v, err)
		}
		out = append(out, n)
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("version %q: want at least major.minor", v)
	}
	return out, nil
}

// checkGo says whether the golang image's tag gives the Go that go.mod
// asks for: the same major.minor, and a patch release no older than
// go.mod's (a floating tag, 1.26, is always the newest patch).
func checkGo(imageTag, goVersion, toolchain string) error {
	img, err := version(imageTag)
	if err != nil {
		return err
	}
	for _, want := range []string{goVersion, toolchain} {
		if want == "" {
			continue
		}
		w, err := version(want)
		if err != nil {
			return err
		}
		if img[0] != w[0] || img[1] != w[1] {
			return fmt.Errorf("the image builds with Go %s, go.mod asks for %s", imageTag, want)
		}
		if len(img) > 2 && len(w) > 2 && img[2] < w[2] {
			return fmt.Errorf("the image's Go %s is older than go.mod's %s", imageTag, want)
		}
	}
	return nil
}

func TestCheckGo(t *testing.T) {
	tests := []struct {
		image, goVersion, toolchain string
		ok                          bool
	}{
		{"1.26", "1.26.0", "", true},
		{"1.26-bookworm", "1.26.0", "", true},
		{"1.26.3", "1.26.0", "", true},
		{"1.26.3", "1.26.4", "", false},
		{"1.25", "1.26.0", "", false},
		{"1.27", "1.26.0", "", false},
		{"2.26", "1.26.0", "", false},
		{"1.26", "1.26.0", "1.27.1", false},
		{"1.26", "1.26", "", true},
	}
	for _, tt := range tests {
		err := checkGo(tt.image, tt.goVersion, tt.toolchain)
		if (err == nil) != tt.ok {
			t.Errorf("checkGo(%q, %q, %q) = %v, want ok %v", tt.image, tt.goVersion, tt.toolchain, err, tt.ok)
		}
	}
}

func TestParseDockerfile(t *testing.T) {
	tests := []struct {
		name, df string
		want     dockerBuild
		wantErr  bool
	}{
		{"continued", "FROM golang:1.26 AS build\nENV CGO_ENABLED=0\nRUN go build -trimpath \\\n  -o /out/foyer ./cmd/foyer \\\n && mkdir /x\n",
			dockerBuild{goImage: "1.26", pkg: "./cmd/foyer", out: "/out/foyer", cgo: "0"}, false},
		{"no golang stage", "FROM alpine AS build\nRUN go build -o /f ./cmd/foyer\n", dockerBuild{}, true},
		{"two builds", "FROM golang:1.26 AS build\nRUN go build -o /a ./cmd/foyer\nRUN go build -o /b ./cmd/foyer\n", dockerBuild{}, true},
		{"no output", "FROM golang:1.26 AS build\nRUN go build ./cmd/foyer\n", dockerBuild{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDockerfile(tt.df)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestDockerfileMatchesGoMod: the image builds the module's command with
// the Go go.mod asks for, without cgo (the SQLite driver is pure Go, and
// the final image has no C library), and runs the binary it built.
func TestDockerfileMatchesGoMod(t *testing.T) {
	df := string(read(t, "../Dockerfile"))
	b, err := parseDockerfile(df)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	goVersion, toolchain, err := goDirective(string(read(t, "../go.mod")))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkGo(b.goImage, goVersion, toolchain); err != nil {
		t.Errorf("Dockerfile: %v", err)
	}
	if b.pkg != "./cmd/foyer" {
		t.Errorf("Dockerfile builds %s, want ./cmd/foyer", b.pkg)
	}
	src := string(read(t, "../cmd/foyer/main.go"))
	if !regexp.MustCompile(`(?m)^package main$`).MatchString(src) {
		t.Errorf("cmd/foyer/main.go is not package main")
	}
	if b.cgo != "0" {
		t.Errorf("Dockerfile: CGO_ENABLED=%q, want 0 (the final image is static)", b.cgo)
	}
	if !strings.Contains(df, "COPY --from=build "+b.out+" ") {
		t.Errorf("Dockerfile: the final image does not copy %s, the binary go build writes", b.out)
	}
	if !strings.Contains(df, `CMD ["serve", "--config", "/etc/foyer/foyer.yaml"]`) || !strings.Contains(df, "EXPOSE 8080") {
		t.Errorf("Dockerfile: want CMD serve --config /etc/foyer/foyer.yaml and EXPOSE 8080")
	}
}

// envNames are the environment variables a configuration reads secrets
// and the DSN from.
func envNames(c *config.Config) []string {
	var names []string
	add := func(n string) {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, name := range c.TenantNames() {
		cr := c.Tenants[name].Credential
		add(cr.SecretEnv)
		add(cr.CertificatePasswordEnv)
	}
	add(c.Ledger.DSNEnv)
	if c.SMTP != nil {
		add(c.SMTP.PasswordEnv)
	}
	if s := c.Serve; s != nil {
		add(s.SessionKeyEnv)
		if s.SignIn != nil {
			add(s.SignIn.Credential.SecretEnv)
			add(s.SignIn.Credential.CertificatePasswordEnv)
		}
	}
	for _, h := range []*config.Hook{c.Notify.Slack, c.Notify.Teams, c.Notify.Webhook} {
		if h != nil {
			add(h.URLEnv)
			add(h.SecretEnv)
		}
	}
	slices.Sort(names)
	return names
}

// docs reads every YAML document of a file into maps.
func docs(t *testing.T, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i, d := range strings.Split(string(read(t, path)), "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatalf("%s, document %d: %v", path, i+1, err)
		}
		out = append(out, m)
	}
	return out
}

// at walks a YAML document by keys and list indexes.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a mapping at %q", path, k)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

func kind(t *testing.T, ds []map[string]any, k string) map[string]any {
	t.Helper()
	for _, d := range ds {
		if d["kind"] == k {
			return d
		}
	}
	t.Fatalf("no %s", k)
	return nil
}

// loadExample loads an example configuration as foyer serve does, and
// checks what running in a container needs: listening on every interface
// at 8080, a session key shared by replicas, the ledger on PostgreSQL.
func loadExample(t *testing.T, path string) *config.Config {
	t.Helper()
	c, err := config.Parse(path, read(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, w := range c.Warnings() {
		t.Errorf("%s: warning: %s", path, w)
	}
	st, err := c.ServeSettings()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if st.Addr != "0.0.0.0:8080" {
		t.Errorf("%s: serve.addr %s, want 0.0.0.0:8080 (the container's port, every interface)", path, st.Addr)
	}
	if st.SessionKeyEnv == "" {
		t.Errorf("%s: no serve.session_key_env", path)
	}
	if c.Ledger.Driver != "postgres" || c.Ledger.DSNEnv == "" {
		t.Errorf("%s: ledger %s, want postgres with dsn_env", path, c.Ledger.Driver)
	}
	return c
}

func probe(t *testing.T, probes map[string]string, kind, want string) {
	t.Helper()
	if got := probes[kind]; got != want {
		t.Errorf("%s probe on %q, want %q", kind, got, want)
	}
}

func TestKubernetes(t *testing.T) {
	c := loadExample(t, "kubernetes/foyer.yaml")
	ds := docs(t, "kubernetes/deployment.yaml")
	d := kind(t, ds, "Deployment")
	if n := at(t, d, "spec", "replicas"); n != uint64(2) {
		t.Errorf("replicas %v, want 2: replicas share the PostgreSQL ledger", n)
	}
	if s := at(t, d, "spec", "strategy", "type"); s != "RollingUpdate" {
		t.Errorf("strategy %v, want RollingUpdate: a new pod works beside the old ones", s)
	}
	pod := at(t, d, "spec", "template", "spec")
	checkGrace(t, c, at(t, pod, "terminationGracePeriodSeconds"))
	ctr := at(t, pod, "containers", 0)
	probes := map[string]string{}
	for _, k := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
		if p, ok := at(t, ctr, k, "httpGet", "path").(string); ok {
			probes[k] = p
		}
	}
	probe(t, probes, "livenessProbe", "/healthz")
	probe(t, probes, "readinessProbe", "/readyz")
	probe(t, probes, "startupProbe", "/healthz")
	if at(t, d, "spec", "template", "metadata", "labels", "azure.workload.identity/use") != "true" {
		t.Errorf("the pod does not ask for workload identity")
	}
	sa := kind(t, ds, "ServiceAccount")
	if id := at(t, sa, "metadata", "annotations", "azure.workload.identity/client-id"); id != c.Tenants["contoso"].ClientID {
		t.Errorf("the service account's client-id %v is not the tenant's client_id %s", id, c.Tenants["contoso"].ClientID)
	}
	kind(t, ds, "Service")
	secret := kind(t, docs(t, "kubernetes/secret.example.yaml"), "Secret")
	var given []string
	for k := range at(t, secret, "stringData").(map[string]any) {
		given = append(given, k)
	}
	for _, n := range envNames(c) {
		if !slices.Contains(given, n) {
			t.Errorf("foyer.yaml reads $%s; secret.example.yaml does not give it", n)
		}
	}
}

func TestContainerApps(t *testing.T) {
	c := loadExample(t, "containerapps/foyer.yaml")
	if cr := c.Tenants["contoso"].Credential; cr.Type != config.CredManagedIdentity || cr.ManagedIdentityClientID == "" {
		t.Errorf("credential %s, want a user-assigned managed identity", cr.Type)
	}
	app := docs(t, "containerapps/containerapp.yaml")[0]
	tmpl := at(t, app, "properties", "template")
	for _, k := range []string{"minReplicas", "maxReplicas"} {
		if n := at(t, tmpl, "scale", k); n != uint64(2) {
			t.Errorf("scale.%s %v, want 2: replicas share the PostgreSQL ledger", k, n)
		}
	}
	checkGrace(t, c, at(t, tmpl, "terminationGracePeriodSeconds"))
	if p := at(t, app, "properties", "configuration", "ingress", "targetPort"); p != uint64(8080) {
		t.Errorf("ingress targetPort %v, want 8080", p)
	}
	ctr := at(t, tmpl, "containers", 0)
	probes := map[string]string{}
	for _, p := range at(t, ctr, "probes").([]any) {
		probes[at(t, p, "type").(string)] = at(t, p, "httpGet", "path").(string)
	}
	probe(t, probes, "Liveness", "/healthz")
	probe(t, probes, "Readiness", "/readyz")
	secrets := map[string]bool{}
	for _, s := range at(t, app, "properties", "configuration", "secrets").([]any) {
		secrets[at(t, s, "name").(string)] = true
	}
	env := map[string]bool{}
	for _, e := range at(t, ctr, "env").([]any) {
		env[at(t, e, "name").(string)] = true
		if ref := at(t, e, "secretRef").(string); !secrets[ref] {
			t.Errorf("env %v reads secret %s, which the app does not define", at(t, e, "name"), ref)
		}
	}
	for _, n := range envNames(c) {
		if !env[n] {
			t.Errorf("foyer.yaml reads $%s; containerapp.yaml does not set it", n)
		}
	}
	if !secrets["foyer-yaml"] {
		t.Errorf("no secret foyer-yaml for the configuration volume")
	}
}

// TestSystemdUnit: the unit gives foyer serve its drain before SIGKILL,
// restarts it on failure, and keeps the ledger in its state directory.
func TestSystemdUnit(t *testing.T) {
	unit := map[string][]string{}
	for line := range strings.Lines(string(read(t, "systemd/foyer.service"))) {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			unit[k] = append(unit[k], v)
		}
	}
	one := func(k string) string {
		if len(unit[k]) != 1 {
			t.Errorf("%s set %d times, want once", k, len(unit[k]))
			return ""
		}
		return unit[k][0]
	}
	stop, err := time.ParseDuration(one("TimeoutStopSec"))
	// The unit's configuration is the operator's: the default drain.
	if need := httpDrain + config.DefaultDrainTimeout; err != nil || stop <= need {
		t.Errorf("TimeoutStopSec %q: want more than %s (answers, then the default serve.drain_timeout)", one("TimeoutStopSec"), need)
	}
	for k, want := range map[string]string{
		"ExecStart":        "/usr/local/bin/foyer serve --config /etc/foyer/foyer.yaml",
		"Restart":          "on-failure",
		"StateDirectory":   "foyer",
		"DynamicUser":      "yes",
		"NoNewPrivileges":  "yes",
		"ProtectSystem":    "strict",
		"EnvironmentFile":  "/etc/foyer/foyer.env",
		"WorkingDirectory": "/var/lib/foyer",
	} {
		if got := one(k); got != want {
			t.Errorf("%s=%s, want %s", k, got, want)
		}
	}
}
