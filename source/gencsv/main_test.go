package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	if err := run([]string{"-rows", "500", "-seed", "7"}, &a); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "g.csv")
	if err := run([]string{"-rows", "500", "-seed", "7", "-o", path}, &b); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), file) || b.Len() != 0 {
		t.Error("the same seed gave different files")
	}
	if n := strings.Count(a.String(), "\r\n"); n != 501 {
		t.Errorf("%d lines, want 501", n)
	}
	if err := run([]string{"-rows", "-1"}, &a); err == nil {
		t.Error("negative rows accepted")
	}
}
