package config

import (
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"runtime"
	"strings"
)

// Warnings returns what Load found risky but allowed: a configuration that
// users other than its owner may change (they could point foyer at another
// tenant or credential), and secret files they may read. Each names the
// file and the command that fixes it. Parse, which reads no file, finds
// none of those; on Windows, where file modes say little, there are none.
// Both also warn about a key read under an old name (mail_contact).
func (c *Config) Warnings() []Problem { return c.warnings }

// fileModeWarnings warns about a configuration others may write.
func fileModeWarnings(path string, mode fs.FileMode) []Problem {
	if runtime.GOOS == "windows" || mode.Perm()&0o022 == 0 {
		return nil
	}
	return []Problem{{File: path, Msg: fmt.Sprintf("%s may change this file (mode %04o), and with it the tenant and credential foyer uses: run chmod go-w %s",
		who(mode), mode.Perm(), shellQuote(path))}}
}

// secretFileWarnings warns about each secret file the configuration names
// that users other than its owner may read or change.
func (c *Config) secretFileWarnings() []Problem {
	if runtime.GOOS == "windows" || c.src == nil {
		return nil
	}
	files := map[string]string{} // go-yaml path → file as written
	for _, name := range c.TenantNames() {
		if t := c.Tenants[name]; t != nil {
			files["$.tenants."+name+".credential.secret_file"] = t.Credential.SecretFile
			files["$.tenants."+name+".credential.certificate_file"] = t.Credential.CertificateFile
		}
	}
	for key, h := range map[string]*Hook{"slack": c.Notify.Slack, "teams": c.Notify.Teams, "webhook": c.Notify.Webhook} {
		if h != nil {
			files["$.notify."+key+".url_file"] = h.URLFile
			files["$.notify."+key+".secret_file"] = h.SecretFile
		}
	}
	if c.SMTP != nil {
		files["$.smtp.password_file"] = c.SMTP.PasswordFile
	}
	if c.Storage != nil {
		files["$.storage.connection_string_file"] = c.Storage.ConnectionStringFile
	}
	if c.Serve != nil && c.Serve.SignIn != nil {
		files["$.serve.sign_in.credential.secret_file"] = c.Serve.SignIn.Credential.SecretFile
		files["$.serve.sign_in.credential.certificate_file"] = c.Serve.SignIn.Credential.CertificateFile
	}
	for name, t := range c.Triggers {
		if t != nil && t.Webhook != nil {
			files["$.triggers."+name+".webhook.secret_file"] = t.Webhook.SecretFile
			files["$.triggers."+name+".webhook.key_file"] = t.Webhook.KeyFile
		}
	}
	if c.EventGrid != nil {
		files["$.event_grid.key_file"] = c.EventGrid.KeyFile
	}
	var ws []Problem
	for _, at := range sortedKeys(files) {
		if files[at] == "" {
			continue
		}
		p := c.Path(files[at])
		fi, err := os.Stat(p) // a missing file is the CLI's to report, when it reads it
		if err != nil || fi.Mode().Perm()&0o066 == 0 {
			continue
		}
		line, col := c.src.pos(at)
		ws = append(ws, Problem{File: c.src.name, Line: line, Column: col, path: at,
			Msg: fmt.Sprintf("%s: %s may read or change the secret file %s (mode %04o): run chmod 600 %s",
				field(at), who(fi.Mode()), p, fi.Mode().Perm(), shellQuote(p))})
	}
	return ws
}

// who names the users a mode lets in beside the owner.
func who(mode fs.FileMode) string {
	group, other := mode.Perm()&0o070 != 0, mode.Perm()&0o007 != 0
	switch {
	case group && other:
		return "the file's group and all users"
	case group:
		return "the file's group"
	}
	return "all users"
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9/._+:@%,=-]+$`)

// shellQuote quotes a path for a POSIX shell command the user may paste.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
