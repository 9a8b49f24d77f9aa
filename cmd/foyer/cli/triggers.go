package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/source"
	"github.com/foyer-dev/foyer/web/api"
	"github.com/foyer-dev/foyer/web/hooks"
)

// serveTriggers builds the engine's triggers from the triggers: section:
// each needs a profile foyer serve serves. A SAS URL is read from the
// variable source_env names, and is never shown.
func serveTriggers(c *config.Config, env *Env, profiles map[string]*foyer.Profile) (map[string]engine.Trigger, error) {
	ts := map[string]engine.Trigger{}
	for _, name := range c.TriggerNames() {
		t := c.Triggers[name]
		at := "$.triggers." + name
		if profiles[t.Profile] == nil {
			return nil, fmt.Errorf("%s: trigger %s: profile %s is not one foyer serve serves", c.Where(at+".profile"), name, t.Profile)
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
			return nil, fmt.Errorf("%s: trigger %s: %w", c.Where(at+".schedule"), name, err)
		}
		tr := engine.Trigger{Name: name, Profile: t.Profile, Source: spec, Events: t.EventGrid, Pattern: t.Pattern,
			MaxBytes: int64(t.MaxSizeMB) << 20}
		if s != nil {
			tr.Schedule = s
		}
		if t.Watch != "" {
			tr.Watch, tr.WatchEvery = c.Path(t.Watch), t.Interval()
			if tr.Pattern == "" {
				tr.Pattern = "*.csv"
			}
		}
		if t.CSV != nil {
			tr.CSV = engine.CSVOptions{Encoding: t.CSV.Encoding, Delimiter: t.CSV.DelimiterRune(), EmailColumn: t.CSV.EmailColumn}
			o := source.Options{Encoding: tr.CSV.Encoding, Delimiter: tr.CSV.Delimiter, EmailColumn: tr.CSV.EmailColumn}
			if err := o.Check(); err != nil {
				return nil, fmt.Errorf("%s: trigger %s: %s", c.Where(at+".csv"), name, foyer.ErrorMessage(err))
			}
		}
		ts[name] = tr
	}
	return ts, nil
}

// triggerHooks builds the webhooks of the triggers that have one, and
// /hooks/eventgrid when the event_grid: section is there. entra is how
// Entra tokens of the served tenant are checked (web/api's), for an
// audience.
func triggerHooks(ctx context.Context, c *config.Config, env *Env, eng *engine.Engine, entra func(audience string) *api.Entra, log *slog.Logger) (*hooks.Handler, error) {
	secrets, keys := map[string][]byte{}, map[string][]byte{}
	for _, name := range c.TriggerNames() {
		h := c.Triggers[name].Webhook
		if h == nil {
			continue
		}
		if h.KeyEnv != "" || h.KeyFile != "" {
			v, err := secretValue(c, env, "trigger "+name+"'s webhook key", h.KeyEnv, h.KeyFile)
			if err != nil {
				return nil, err
			}
			keys[name] = []byte(v)
			continue
		}
		v, err := secretValue(c, env, "trigger "+name+"'s webhook secret", h.SecretEnv, h.SecretFile)
		if err != nil {
			return nil, err
		}
		secrets[name] = []byte(v)
	}
	o := hooks.Options{Starter: eng, Secrets: secrets, Keys: keys, Clock: env.Clock, Log: log}
	if g := c.EventGrid; g != nil {
		eg := &hooks.EventGridOptions{Starter: eng}
		if g.KeyEnv != "" || g.KeyFile != "" {
			v, err := secretValue(c, env, "Event Grid key", g.KeyEnv, g.KeyFile)
			if err != nil {
				return nil, err
			}
			eg.Key = []byte(v)
		}
		if g.Audience != "" {
			a, err := api.NewAuthenticator(ctx, api.AuthOptions{Entra: entra(g.Audience), Clock: env.Clock, Logger: log})
			if err != nil {
				return nil, fmt.Errorf("event_grid: %w", err)
			}
			eg.Tokens, eg.Role = a, g.Role
			if eg.Role == "" {
				eg.Role = config.DefaultEventGridRole
			}
		}
		o.EventGrid = eg
	}
	return hooks.New(o)
}

// inputSources opens triggers' sources as foyer apply opens its input:
// a path, an https URL or azblob://, copied whole to a private file; and
// lists blob prefixes and watched folders.
type inputSources struct {
	c   *config.Config
	env *Env
}

var _ engine.Sources = inputSources{}

func (s inputSources) Open(ctx context.Context, spec string, maxBytes int64) (*engine.Spooled, error) {
	in, err := spoolInput(ctx, spec, s.c, s.env, maxBytes)
	if err != nil {
		return nil, err
	}
	return &engine.Spooled{Name: in.name, Digest: in.digest, Remove: in.remove,
		Reader: func() (io.ReadCloser, error) { return in.open() }}, nil
}

// List lists the blobs under azblob://container/prefix/, or the regular
// files directly in a folder. A file's version is its size and
// modification time.
func (s inputSources) List(ctx context.Context, spec string) ([]engine.SourceItem, error) {
	if rest, ok := strings.CutPrefix(spec, "azblob://"); ok {
		container, prefix, _ := strings.Cut(rest, "/")
		if s.c.Storage == nil {
			return nil, foyer.Errorf(foyer.EINVALID, "%s: no storage account is configured (storage:)", spec)
		}
		b, err := blobStore(s.c, s.env)
		if err != nil {
			return nil, err
		}
		blobs, err := b.List(ctx, container, prefix)
		if err != nil {
			return nil, err
		}
		items := make([]engine.SourceItem, 0, len(blobs))
		for _, it := range blobs {
			items = append(items, engine.SourceItem{Spec: "azblob://" + container + "/" + it.Name, Version: it.ETag, Size: it.Size})
		}
		return items, nil
	}
	entries, err := os.ReadDir(spec)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, foyer.Errorf(foyer.ENOTFOUND, "the watched folder %s does not exist", spec)
		}
		return nil, fmt.Errorf("list the watched folder %s: %w", spec, err)
	}
	var items []engine.SourceItem
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed since the listing
		}
		items = append(items, engine.SourceItem{Spec: filepath.Join(spec, e.Name()), Size: fi.Size(),
			Version: fmt.Sprintf("%d@%d", fi.Size(), fi.ModTime().UnixNano())})
	}
	return items, nil
}
