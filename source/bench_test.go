package source

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/source/internal/csvgen"
)

// benchOptions are a tenant and profile that give the generated rows every
// verdict.
var benchOptions = Options{
	VerifiedDomains: []string{"contoso.example", "contoso.onmicrosoft.com"},
	Profile:         &foyer.Profile{Name: "partners", Deny: []string{"gmail.com"}},
}

// BenchmarkRead reads 100,000 generated rows from memory per operation.
func BenchmarkRead(b *testing.B) {
	const rows = 100_000
	var buf bytes.Buffer
	if err := csvgen.Write(&buf, rows, 1, csvgen.DefaultMix); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st, err := Read(context.Background(), bytes.NewReader(data), benchOptions, func(foyer.Row) error { return nil })
		if err != nil || st.Rows != rows {
			b.Fatalf("rows %d, err %v", st.Rows, err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadFile reads the file FOYER_BENCH_CSV names (see docs/csv.md:
// go run ./source/gencsv -rows 1000000 -o /tmp/1m.csv) and reports rows per
// second, bytes allocated per row, the peak of live heap while reading and
// the de-duplication set's size per distinct address.
func BenchmarkReadFile(b *testing.B) {
	path := os.Getenv("FOYER_BENCH_CSV")
	if path == "" {
		b.Skip("FOYER_BENCH_CSV is unset: generate a file with go run ./source/gencsv and name it there")
	}
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		peak := sampleHeap()
		start := time.Now()
		st, err := Read(context.Background(), f, benchOptions, func(foyer.Row) error { return nil })
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		top := peak()
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Rows), "rows")
		b.ReportMetric(float64(st.Rows)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(st.Rows), "alloc-B/row")
		b.ReportMetric(float64(top-before.HeapAlloc)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(st.Distinct), "distinct")
	}
}

// sampleHeap samples the live heap every 20 ms until the returned function
// is called, which returns the highest value seen.
func sampleHeap() func() uint64 {
	var (
		mu   sync.Mutex
		peak uint64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapAlloc)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// BenchmarkSeen measures the de-duplication set: the live heap it holds
// per distinct address once a million are in it (reported as B/address),
// and the time to add one.
func BenchmarkSeen(b *testing.B) {
	const n = 1_000_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "person" + strconv.Itoa(i) + "@partner" + strconv.Itoa(i%97) + ".example"
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		s := newSeen()
		for i, k := range keys {
			s.add(k, i+2)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.StartTimer()
		if s.len() != n {
			b.Fatalf("%d distinct", s.len())
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/address")
		runtime.KeepAlive(s)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/address")
}
