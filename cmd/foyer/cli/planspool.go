package cli

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/foyer-dev/foyer"
)

// planSpool keeps a plan's rows in a private temporary file between showing
// them and recording them in the ledger, so that apply holds none of them in
// memory: a million-row file costs disk, not RAM. What is recorded is what
// was shown, row for row.
type planSpool struct {
	f   *os.File
	w   *bufio.Writer
	enc *gob.Encoder
	n   int
}

func newPlanSpool() (*planSpool, error) {
	f, err := createSpool("plan", ".gob")
	if err != nil {
		return nil, fmt.Errorf("keep the plan: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	return &planSpool{f: f, w: w, enc: gob.NewEncoder(w)}, nil
}

func (s *planSpool) put(r foyer.Row) error {
	if err := s.enc.Encode(&r); err != nil {
		return fmt.Errorf("keep the plan: line %d: %w", r.Line, err)
	}
	s.n++
	return nil
}

// each calls fn for each row put, in the order put.
func (s *planSpool) each(fn func(foyer.Row) error) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("keep the plan: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read the plan back: %w", err)
	}
	dec := gob.NewDecoder(bufio.NewReaderSize(s.f, 1<<16))
	for i := 0; i < s.n; i++ {
		var r foyer.Row
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read the plan back: row %d of %d: %w", i+1, s.n, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *planSpool) remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}
