package directory_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/foyer-dev/foyer/directory"
)

func TestRequestLog(t *testing.T) {
	t.Parallel()
	directory.RequestLogFrom(context.Background()).Add("ignored") // a nil log does nothing
	if ids := directory.RequestLogFrom(context.Background()).IDs(); ids != nil {
		t.Errorf("no log, ids %v", ids)
	}
	ctx, log := directory.WithRequestLog(context.Background())
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { directory.RequestLogFrom(ctx).Add("id", "") })
	}
	wg.Wait()
	if got := strings.Join(log.IDs(), ","); got != strings.TrimSuffix(strings.Repeat("id,", 10), ",") {
		t.Errorf("ids %q", got)
	}
}
