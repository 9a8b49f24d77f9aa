package cli

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/notify"
	"github.com/foyer-dev/foyer/notify/slack"
	"github.com/foyer-dev/foyer/notify/teams"
	"github.com/foyer-dev/foyer/notify/webhook"
)

// secretValue reads a secret from the environment variable or the file a
// configuration names. Errors name where it looked, never what it found.
func secretValue(c *config.Config, env *Env, what, envName, file string) (string, error) {
	switch {
	case envName != "":
		v := strings.TrimSpace(env.Getenv(envName))
		if v == "" {
			return "", fmt.Errorf("%s: environment variable %s is empty or unset", what, envName)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(c.Path(file))
		if err != nil {
			return "", fmt.Errorf("%s: read %s: %w", what, c.Path(file), err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%s: %s is empty", what, c.Path(file))
		}
		return v, nil
	}
	return "", nil
}

// notifiers builds the notifiers the configuration names.
func notifiers(c *config.Config, env *Env, log *slog.Logger) ([]notify.Notifier, error) {
	var ns []notify.Notifier
	if h := c.Notify.Slack; h != nil {
		u, err := secretValue(c, env, "notify.slack", h.URLEnv, h.URLFile)
		if err != nil {
			return nil, err
		}
		n, err := slack.New(u, slack.Options{Log: log, Clock: env.Clock})
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	if h := c.Notify.Teams; h != nil {
		u, err := secretValue(c, env, "notify.teams", h.URLEnv, h.URLFile)
		if err != nil {
			return nil, err
		}
		n, err := teams.New(u, teams.Options{Log: log, Clock: env.Clock})
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	if h := c.Notify.Webhook; h != nil {
		u, err := secretValue(c, env, "notify.webhook", h.URLEnv, h.URLFile)
		if err != nil {
			return nil, err
		}
		secret, err := secretValue(c, env, "notify.webhook secret", h.SecretEnv, h.SecretFile)
		if err != nil {
			return nil, err
		}
		n, err := webhook.New(u, secret, webhook.Options{Log: log, Clock: env.Clock})
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	return ns, nil
}
