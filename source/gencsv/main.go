// Command gencsv writes a large, realistic guest-list CSV for benchmarks:
//
//	go run ./source/gencsv -rows 1000000 -o /tmp/1m.csv
//
// The same -rows and -seed give the same file. See docs/csv.md for what the
// rows hold and how the reader performs on them.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/foyer-dev/foyer/source/internal/csvgen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gencsv:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gencsv", flag.ContinueOnError)
	rows := fs.Int("rows", 1_000_000, "number of rows after the header")
	out := fs.String("o", "-", "output file, - for standard output")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rows < 0 {
		return fmt.Errorf("-rows must not be negative")
	}
	if *out == "-" {
		return csvgen.Write(stdout, *rows, *seed, csvgen.DefaultMix)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := csvgen.Write(f, *rows, *seed, csvgen.DefaultMix); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
