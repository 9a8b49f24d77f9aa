package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/foyer-dev/foyer/config"
	"github.com/foyer-dev/foyer/graph"
	"github.com/foyer-dev/foyer/source"
	"github.com/foyer-dev/foyer/source/blob"
)

// openInput opens the rows spec names: a path, "-", an https URL or
// azblob://container/blob (with the configuration's storage account). An
// input larger than maxBytes is refused (0: source.DefaultMaxBytes).
func openInput(ctx context.Context, spec string, c *config.Config, env *Env, maxBytes int64) (*source.Input, error) {
	o := source.OpenOptions{Stdin: env.Stdin, HTTPClient: env.InputClient, MaxBytes: maxBytes}
	if c.Storage != nil {
		b, err := blobStore(c, env)
		if err != nil {
			return nil, err
		}
		o.Blobs = b
	}
	in, err := source.Open(ctx, spec, o)
	if err != nil {
		// Never the spec itself: an https URL's query is a SAS token.
		return nil, fmt.Errorf("open %s: %w", source.Name(spec), err)
	}
	return in, nil
}

// blobStore reaches the configured storage account.
func blobStore(c *config.Config, env *Env) (*blob.Store, error) {
	s := c.Storage
	cs, err := secretValue(c, env, "storage connection string", s.ConnectionStringEnv, s.ConnectionStringFile)
	if err != nil {
		return nil, err
	}
	o := blob.Options{AccountURL: s.AccountURL, ConnectionString: cs, HTTPClient: env.InputClient}
	if cs == "" {
		t := c.Tenants[s.Tenant]
		cred, err := graph.NewCredential(graphOptions(c, t, env, nil, env.Clock))
		if err != nil {
			return nil, fmt.Errorf("storage: tenant %s's credential: %w", s.Tenant, err)
		}
		o.Credential = cred
	}
	return blob.New(o)
}

// spooled is an input copied to a private temporary file, so that apply
// knows its digest before planning (to resume an unfinished run of the
// same input) and can read it more than once.
type spooled struct {
	name   string // where it came from, safe to show
	path   string
	digest string
}

func spoolInput(ctx context.Context, spec string, c *config.Config, env *Env, maxBytes int64) (*spooled, error) {
	in, err := openInput(ctx, spec, c, env, maxBytes)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	f, err := createSpool("input", ".csv")
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", in.Name, err)
	}
	if _, err := io.Copy(f, readerWithContext(ctx, in)); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("read %s: %w", in.Name, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("copy %s: %w", in.Name, err)
	}
	digest, _ := in.Digest()
	return &spooled{name: in.Name, path: f.Name(), digest: digest}, nil
}

func (s *spooled) open() (*os.File, error) { return os.Open(s.path) }
func (s *spooled) remove()                 { os.Remove(s.path) }

// readerWithContext stops a copy when ctx ends.
func readerWithContext(ctx context.Context, r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return r.Read(p)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
