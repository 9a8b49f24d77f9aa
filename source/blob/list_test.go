package blob_test

import (
	"context"
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/source/blob"
)

// TestList: a prefix lists the blobs under it, every level, by name, each
// with its ETag (a new one when the blob is replaced) and size; a missing
// container is not_found.
func TestList(t *testing.T) {
	t.Parallel()
	a := startAzurite(t, false)
	upload(t, a, "drops", "partners/b.csv", guests)
	upload(t, a, "drops", "partners/2026/a.csv", "email\r\n")
	upload(t, a, "drops", "other.csv", guests)
	store, err := blob.New(blob.Options{ConnectionString: a.ConnectionString(), HTTPClient: a.Client})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	items, err := store.List(ctx, "drops", "partners/")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Name != "partners/2026/a.csv" || items[1].Name != "partners/b.csv" {
		t.Fatalf("items %+v, want partners/2026/a.csv and partners/b.csv", items)
	}
	if items[1].Size != int64(len(guests)) || items[1].ETag == "" || strings.Contains(items[1].ETag, `"`) {
		t.Errorf("b.csv: %+v, want its size and an unquoted ETag", items[1])
	}
	all, err := store.List(ctx, "drops", "")
	if err != nil || len(all) != 3 {
		t.Errorf("the whole container: %+v, %v; want 3 blobs", all, err)
	}
	upload(t, a, "drops", "partners/b.csv", guests+"ana@fabrikam.example,Ana\r\n")
	again, err := store.List(ctx, "drops", "partners/")
	if err != nil || len(again) != 2 || again[1].ETag == items[1].ETag {
		t.Errorf("after b.csv was replaced: %+v, %v; want a new ETag", again, err)
	}
	if _, err := store.List(ctx, "nosuch", ""); foyer.ErrorCode(err) != foyer.ENOTFOUND {
		t.Errorf("a missing container: %v, want not_found", err)
	}
}
