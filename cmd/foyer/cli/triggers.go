package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/web/hooks"
)

// serveTriggers builds the engine's triggers from the triggers: section:
// each needs a profile foyer serve serves. A SAS URL is read from the
// variable source_env names, and is never shown.
func serveTriggers(c *config.Config, env *Env, profiles map[string]*foyer.Profile) (map[string]engine.Trigger, error) {
	ts := map[string]engine.Trigger{}
	for _, name := range c.TriggerNames() {
		t := c.Triggers[name]
		if profiles[t.Profile] == nil {
			return nil, fmt.Errorf("%s: trigger %s: profile %s is not one foyer serve serves", c.Where("$.triggers."+name+".profile"), name, t.Profile)
		}
		spec := t.Source
		if t.SourceEnv != "" {
			v, err := secretValue(c, env, "trigger "+name+"'s source", t.SourceEnv, "")
			if err != nil {
				return nil, err
			}
			spec = v
		}
		s, err := t.TriggerSchedule()
		if err != nil {
			return nil, fmt.Errorf("%s: trigger %s: %w", c.Where("$.triggers."+name+".schedule"), name, err)
		}
		tr := engine.Trigger{Name: name, Profile: t.Profile, Source: spec}
		if s != nil {
			tr.Schedule = s
		}
		ts[name] = tr
	}
	return ts, nil
}

// triggerHooks builds the webhooks of the triggers that have one.
func triggerHooks(c *config.Config, env *Env, eng *engine.Engine, log *slog.Logger) (*hooks.Handler, error) {
	secrets := map[string][]byte{}
	for _, name := range c.TriggerNames() {
		h := c.Triggers[name].Webhook
		if h == nil {
			continue
		}
		v, err := secretValue(c, env, "trigger "+name+"'s webhook secret", h.SecretEnv, h.SecretFile)
		if err != nil {
			return nil, err
		}
		secrets[name] = []byte(v)
	}
	return hooks.New(hooks.Options{Starter: eng, Secrets: secrets, Clock: env.Clock, Log: log})
}

// inputSources opens triggers' sources as foyer apply opens its input:
// a path, an https URL or azblob://, copied whole to a private file.
type inputSources struct {
	c   *config.Config
	env *Env
}

var _ engine.Sources = inputSources{}

func (s inputSources) Open(ctx context.Context, spec string) (*engine.Spooled, error) {
	in, err := spoolInput(ctx, spec, s.c, s.env)
	if err != nil {
		return nil, err
	}
	return &engine.Spooled{Name: in.name, Digest: in.digest, Remove: in.remove,
		Reader: func() (io.ReadCloser, error) { return in.open() }}, nil
}
