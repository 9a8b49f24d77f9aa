package hooks

import (
	"os"
	"testing"
)

// FuzzParseEvents: any body parses to events with ids and types, or to an
// EINVALID error; blobOf never panics.
func FuzzParseEvents(f *testing.F) {
	for _, name := range []string{"eventgrid-validation.json", "eventgrid-blobcreated.json", "cloudevents-blobcreated.json", "cloudevents-batch.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("application/json", b)
		f.Add("application/cloudevents+json", b)
	}
	f.Add("application/json", []byte(`[{}]`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		events, err := parseEvents(contentType, body)
		if err != nil {
			return
		}
		if len(events) == 0 {
			t.Fatal("no events and no error")
		}
		for _, e := range events {
			if e.ID == "" || e.kind() == "" {
				t.Fatalf("event %+v without id or type", e)
			}
			if c, n, ok := blobOf(e.Subject); ok && (c == "" || n == "") {
				t.Fatalf("blobOf(%q) = %q, %q", e.Subject, c, n)
			}
		}
	})
}

func TestBlobOf(t *testing.T) {
	tests := []struct {
		subject, container, name string
		ok                       bool
	}{
		{"/blobServices/default/containers/drops/blobs/partners/a.csv", "drops", "partners/a.csv", true},
		{"blobServices/default/containers/drops/blobs/a b.csv", "drops", "a b.csv", true},
		{"/blobServices/default/containers/drops", "", "", false},
		{"/blobServices/default/containers//blobs/a.csv", "", "", false},
		{"/fileServices/default/shares/s/files/a.csv", "", "", false},
	}
	for _, tc := range tests {
		c, n, ok := blobOf(tc.subject)
		if c != tc.container || n != tc.name || ok != tc.ok {
			t.Errorf("blobOf(%q) = %q, %q, %v", tc.subject, c, n, ok)
		}
	}
}

// BenchmarkParseEvents reads a BlobCreated delivery in the Event Grid
// schema, as each event's POST does.
func BenchmarkParseEvents(b *testing.B) {
	body, err := os.ReadFile("testdata/eventgrid-blobcreated.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := parseEvents("application/json", body); err != nil {
			b.Fatal(err)
		}
	}
}
