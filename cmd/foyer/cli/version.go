package cli

import (
	"runtime/debug"
	"strings"
)

// version returns the module version the binary was built from, or "devel".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// versionLine describes the build: the module version, and the commit and
// its time when the build recorded them (go build in a git checkout does,
// unless -buildvcs=false; go install module@version records the version
// only), e.g. "v1.4.0 (commit 3f2a9c1d0b7e, 2026-05-02T09:14:00Z, modified)".
func versionLine() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version()
	}
	var revision, at string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return formatVersion(version(), revision, at, modified, bi.GoVersion)
}

func formatVersion(v, revision, at string, modified bool, goVersion string) string {
	var parts []string
	if revision != "" {
		if len(revision) > 12 {
			revision = revision[:12]
		}
		parts = append(parts, "commit "+revision)
	}
	if at != "" {
		parts = append(parts, at)
	}
	if modified {
		parts = append(parts, "modified")
	}
	if goVersion != "" {
		parts = append(parts, goVersion)
	}
	if len(parts) == 0 {
		return v
	}
	return v + " (" + strings.Join(parts, ", ") + ")"
}
