package graph

import (
	"context"
	"strings"
	"sync"
	"testing"
)

func TestRequestLog(t *testing.T) {
	t.Parallel()
	requestLogFrom(context.Background()).add("ignored") // a nil log does nothing
	if ids := requestLogFrom(context.Background()).ids(); ids != nil {
		t.Errorf("no log, ids %v", ids)
	}
	ctx, log := withRequestLog(context.Background())
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { requestLogFrom(ctx).add("id", "") })
	}
	wg.Wait()
	if got := strings.Join(log.ids(), ","); got != strings.TrimSuffix(strings.Repeat("id,", 10), ",") {
		t.Errorf("ids %q", got)
	}
}
