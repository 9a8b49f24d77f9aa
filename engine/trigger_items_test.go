package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/engine"
	"github.com/foyer-dev/foyer/store"
)

// lockedSources is memSources a test may change while the engine reads.
type lockedSources struct {
	mu sync.Mutex
	m  memSources
}

func (l *lockedSources) set(spec string, b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[spec] = b
}

func (l *lockedSources) Open(ctx context.Context, spec string, max int64) (*engine.Spooled, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m.Open(ctx, spec, max)
}

func (l *lockedSources) List(ctx context.Context, spec string) ([]engine.SourceItem, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m.List(ctx, spec)
}

// quiet waits until the engine has no live job on its intake queue:
// every trigger job and run job ended.
func quiet(t *testing.T, w *world) {
	t.Helper()
	waitFor(t, "every job ends", func() bool {
		var n int
		if err := w.store.InTx(context.Background(), func(tx store.Tx) error {
			var err error
			n, err = tx.LiveJobs(context.Background(), "intake")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}

// failures returns the details of the trigger's "trigger failed" audit
// entries.
func failures(t *testing.T, w *world, by string) []string {
	t.Helper()
	var out []string
	ctx := context.Background()
	if err := w.store.InTx(ctx, func(tx store.Tx) error {
		return tx.AuditLog(ctx, store.AuditFilter{}, func(a store.AuditEntry) error {
			if a.Op == "trigger failed" && a.Actor == by {
				out = append(out, a.Detail)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func csvOf(addrs ...string) []byte {
	var b strings.Builder
	b.WriteString("email\n")
	for _, a := range addrs {
		fmt.Fprintf(&b, "%s\n", a)
	}
	return []byte(b.String())
}

// TestTriggerBlobEvent: a blob an event names is applied once per event
// and once per version, whatever event names it again; a blob no trigger
// takes is ENOTFOUND.
func TestTriggerBlobEvent(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			src := memSources{"azblob://drops/partners/a.csv": []byte(triggerCSV)}
			w := newTriggered(t, ledger, src,
				engine.Trigger{Name: "drops", Profile: "partners", Source: "azblob://drops/", Events: true},
				engine.Trigger{Name: "partners", Profile: "partners", Source: "azblob://drops/partners/", Events: true},
				engine.Trigger{Name: "quiet", Profile: "partners", Source: "azblob://drops/partners/"})
			size := int64(len(triggerCSV))
			tr, first, started, err := w.eng.StartBlob(ctx, "eg:1", "drops", "partners/a.csv", `"0x8D4BCC2E4835CD0"`, size)
			if err != nil || !started || tr != "partners" {
				t.Fatalf("first event: trigger %q, started %v, %v; want partners (the longest prefix), started", tr, started, err)
			}
			if _, again, started, err := w.eng.StartBlob(ctx, "eg:1", "drops", "partners/a.csv", "0x8D4BCC2E4835CD0", size); err != nil || started || again != first {
				t.Fatalf("the same event again: job %d, started %v, %v; want job %d, not started", again, started, err, first)
			}
			waitFor(t, "the blob's run finishes", finished(t, w, "trigger:partners", 1))
			// Another event for the same version (Event Grid may send
			// one per API call) starts a job that applies nothing.
			if _, _, started, err := w.eng.StartBlob(ctx, "eg:2", "drops", "partners/a.csv", "0x8D4BCC2E4835CD0", size); err != nil || !started {
				t.Fatalf("another event: started %v, %v", started, err)
			}
			quiet(t, w)
			if runs := runsBy(t, w, "trigger:partners"); len(runs) != 1 {
				t.Errorf("%d runs, want 1", len(runs))
			}
			checkInvitedOnce(t, w, 3)
			if _, _, _, err := w.eng.StartBlob(ctx, "eg:3", "other", "a.csv", "0x1", 10); foyer.ErrorCode(err) != foyer.ENOTFOUND {
				t.Errorf("a blob no trigger takes: %v, want ENOTFOUND", err)
			}
		})
	}
}

// TestTriggerBlobRefused: a blob announced larger than the limit is not
// read; one that is no CSV fails with the reason; neither records a run.
func TestTriggerBlobRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := memSources{
		"azblob://drops/photo.png": append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...),
		"azblob://drops/big.csv":   []byte(triggerCSV),
	}
	w := newTriggered(t, ledgers["sqlite"], src,
		engine.Trigger{Name: "drops", Profile: "partners", Source: "azblob://drops/", Events: true, MaxBytes: 100})
	if _, _, _, err := w.eng.StartBlob(ctx, "eg:1", "drops", "photo.png", "0x1", 40); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := w.eng.StartBlob(ctx, "eg:2", "drops", "big.csv", "0x2", 50<<20+1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both failures are in the audit log", func() bool { return len(failures(t, w, "trigger:drops")) == 2 })
	got := strings.Join(failures(t, w, "trigger:drops"), "\n")
	for _, want := range []string{"photo.png", "CSV", "big.csv", "larger than the limit of 100 bytes"} {
		if !strings.Contains(got, want) {
			t.Errorf("the audit log says %q, want it to say %q", got, want)
		}
	}
	quiet(t, w)
	if runs := runsBy(t, w, "trigger:drops"); len(runs) != 0 {
		t.Errorf("%d runs recorded, want none", len(runs))
	}
	var rec store.TriggerItem
	if err := w.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.TriggerItem(ctx, "drops", "azblob://drops/big.csv", "0x2")
		return err
	}); err != nil || rec.State != store.ItemFailed {
		t.Errorf("big.csv's record: %+v, %v; want failed", rec, err)
	}
}

// TestTriggerPrefix: each firing of a prefix trigger applies the blobs not
// yet applied, one run per blob in name order; a replaced blob (a new
// version) is applied again, the others are not.
func TestTriggerPrefix(t *testing.T) {
	t.Parallel()
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			src := &lockedSources{m: memSources{
				"azblob://drops/p/b.csv":   csvOf("bo@fabrikam.example"),
				"azblob://drops/p/a.csv":   csvOf("ana@fabrikam.example"),
				"azblob://drops/other.csv": csvOf("zed@fabrikam.example"),
			}}
			w := newTriggered(t, ledger, src, engine.Trigger{Name: "hourly", Profile: "partners", Source: "azblob://drops/p/"})
			fire := func(delivery string) {
				t.Helper()
				if _, started, err := w.eng.StartTrigger(ctx, "hourly", delivery); err != nil || !started {
					t.Fatalf("firing %s: started %v, %v", delivery, started, err)
				}
				quiet(t, w)
			}
			fire("schedule:1")
			runs := runsBy(t, w, "trigger:hourly")
			if len(runs) != 2 {
				t.Fatalf("%d runs after the first firing, want 2", len(runs))
			}
			// ListRuns is newest first: a.csv was recorded first.
			if !strings.HasSuffix(runs[1].Source, "a.csv") || !strings.HasSuffix(runs[0].Source, "b.csv") {
				t.Errorf("runs of %s then %s, want a.csv then b.csv", runs[1].Source, runs[0].Source)
			}
			fire("schedule:2")
			if runs := runsBy(t, w, "trigger:hourly"); len(runs) != 2 {
				t.Errorf("%d runs after a firing with nothing new, want 2", len(runs))
			}
			src.set("azblob://drops/p/b.csv", csvOf("bo@fabrikam.example", "cy@fabrikam.example"))
			fire("schedule:3")
			if runs := runsBy(t, w, "trigger:hourly"); len(runs) != 3 || !strings.HasSuffix(runs[0].Source, "b.csv") {
				t.Errorf("%d runs after b.csv was replaced, want 3, the last of b.csv", len(runs))
			}
			checkInvitedOnce(t, w, 3)
		})
	}
}

// TestTriggerWatch: a file written in two parts is applied once, after two
// scans found it unchanged, with every row of both parts.
func TestTriggerWatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := &lockedSources{m: memSources{"drop/notes.txt": []byte("not matched")}}
	// No interval: the test scans by hand; two scans apart suffice.
	w := newTriggered(t, ledgers["sqlite"], src, engine.Trigger{Name: "drop", Profile: "partners", Watch: "drop/", Pattern: "*.csv"})
	n := 0
	scan := func() {
		t.Helper()
		n++
		if _, started, err := w.eng.StartTrigger(ctx, "drop", fmt.Sprintf("watch:%d", n)); err != nil || !started {
			t.Fatalf("scan %d: started %v, %v", n, started, err)
		}
		quiet(t, w)
	}
	src.set("drop/in.csv", []byte("email\nana@fabrikam.example\n"))
	scan()
	src.set("drop/in.csv", []byte("email\nana@fabrikam.example\nbo@fabrikam.example\n"))
	scan()
	if runs := runsBy(t, w, "trigger:drop"); len(runs) != 0 {
		t.Fatalf("%d runs while the file grew, want none", len(runs))
	}
	scan()
	scan()
	runs := runsBy(t, w, "trigger:drop")
	if len(runs) != 1 {
		t.Fatalf("%d runs once the file stopped growing, want 1", len(runs))
	}
	if runs[0].Summary.Rows != 2 {
		t.Errorf("the run has %d rows, want both parts' 2", runs[0].Summary.Rows)
	}
	checkInvitedOnce(t, w, 2)
}

// TestTriggerCSVOptions: a trigger's reading options reach the reader.
func TestTriggerCSVOptions(t *testing.T) {
	t.Parallel()
	src := memSources{"in.csv": []byte("Name;Mail\nAna;ana@fabrikam.example\nBo;bo@fabrikam.example\n")}
	w := newTriggered(t, ledgers["sqlite"], src, engine.Trigger{Name: "drop", Profile: "partners", Source: "in.csv",
		CSV: engine.CSVOptions{Delimiter: ';', EmailColumn: "2"}})
	if _, _, err := w.eng.StartTrigger(context.Background(), "drop", "d-1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the run finishes", finished(t, w, "trigger:drop", 1))
	checkInvitedOnce(t, w, 2)
}
