package source

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

const (
	bufSize    = 64 << 10 // the reader's buffer, and how much is sniffed
	sniffBytes = 4 << 10  // raw bytes looked at to recognise UTF-16 without a BOM
)

// text is the input decoded to UTF-8, with what was recognised.
type text struct {
	br       *bufio.Reader
	encoding string // as Stats reports it
}

// decode recognises the input's encoding and returns it as UTF-8 text.
// Without a forced encoding it reads UTF-8 with or without a byte order mark,
// and UTF-16 (little or big endian) with a mark or, as some exports write it,
// without one. Other encodings must be named (Options.Encoding): a file that
// is not valid UTF-8 is refused with a hint rather than guessed at, because a
// wrong guess would put mangled names into the directory.
func decode(r io.Reader, forced string) (text, error) {
	raw := bufio.NewReaderSize(r, bufSize)
	head, err := raw.Peek(sniffBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return text{}, err
	}
	if msg := notText(head); msg != "" {
		return text{}, fileError("", "%s", msg)
	}
	var dec *encoding.Decoder
	name := "utf-8"
	switch f := strings.ToLower(strings.TrimSpace(forced)); {
	case f != "" && f != "utf-8" && f != "utf8":
		e, err := encodingNamed(f)
		if err != nil {
			return text{}, err
		}
		name, _ = htmlindex.Name(e)
		if bom := utf16BOM(head); bom != "" && strings.HasPrefix(name, "utf-16") {
			dec = unicode.UTF16(endian(bom), unicode.ExpectBOM).NewDecoder()
		} else {
			dec = e.NewDecoder()
		}
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		if _, err := raw.Discard(3); err != nil {
			return text{}, err
		}
		name = "utf-8 with BOM"
	case utf16BOM(head) != "":
		bom := utf16BOM(head)
		dec = unicode.UTF16(endian(bom), unicode.ExpectBOM).NewDecoder()
		name = bom + " with BOM"
	case f == "":
		if e := utf16NoBOM(head); e != "" {
			dec = unicode.UTF16(endian(e), unicode.IgnoreBOM).NewDecoder()
			name = e
		}
	}
	br := raw
	if dec != nil {
		br = bufio.NewReaderSize(transform.NewReader(raw, dec), bufSize)
	}
	t := text{br: br, encoding: name}
	sample, err := br.Peek(bufSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return text{}, err
	}
	if i := bytes.IndexByte(sample, 0); i >= 0 {
		return text{}, fileError(OptionEncoding, "the file holds a NUL byte on line %d: it is not CSV text, or it is in an encoding foyer does not recognise (save it as CSV UTF-8)", 1+bytes.Count(sample[:i], []byte{'\n'}))
	}
	if i := invalidUTF8(sample); i >= 0 {
		return text{}, fileError(OptionEncoding, "the file is not UTF-8 (byte 0x%02X on line %d): save it from Excel as \"CSV UTF-8 (Comma delimited)\", or name its encoding (e.g. windows-1252)", sample[i], 1+bytes.Count(sample[:i], []byte{'\n'}))
	}
	return t, nil
}

// encodingNamed returns the encoding a WHATWG label names ("windows-1252",
// "latin1", "utf-16le", "shift_jis", ...).
func encodingNamed(label string) (encoding.Encoding, error) {
	e, err := htmlindex.Get(strings.ToLower(strings.TrimSpace(label)))
	if err != nil {
		return nil, fileError(OptionEncoding, "unknown encoding %q (use e.g. utf-8, utf-16le, windows-1252, iso-8859-15)", label)
	}
	return e, nil
}

// notText recognises files that are often uploaded in place of a CSV.
func notText(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "the file is a ZIP archive, probably an Excel workbook (.xlsx): save it as \"CSV UTF-8 (Comma delimited)\""
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return "the file is an Excel 97-2003 workbook (.xls): save it as \"CSV UTF-8 (Comma delimited)\""
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE, 0, 0}), bytes.HasPrefix(head, []byte{0, 0, 0xFE, 0xFF}):
		return "the file is UTF-32, which foyer does not read: save it as UTF-8 or UTF-16"
	}
	return ""
}

func utf16BOM(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return "utf-16le"
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "utf-16be"
	}
	return ""
}

func endian(name string) unicode.Endianness {
	if name == "utf-16be" {
		return unicode.BigEndian
	}
	return unicode.LittleEndian
}

// utf16NoBOM recognises UTF-16 without a byte order mark by its NUL bytes:
// CSV text is mostly ASCII, whose UTF-16 form has a NUL in every other byte.
func utf16NoBOM(head []byte) string {
	n := len(head) &^ 1
	if n < 4 {
		return ""
	}
	var even, odd int
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			even++
		}
		if head[i+1] == 0 {
			odd++
		}
	}
	half := n / 2
	switch {
	case odd*10 >= half*6 && even*10 < half:
		return "utf-16le"
	case even*10 >= half*6 && odd*10 < half:
		return "utf-16be"
	}
	return ""
}

// invalidUTF8 returns the offset of the first byte of b that is not valid
// UTF-8, or -1. A rune cut by the end of b is not counted.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			if len(b)-i < utf8.UTFMax && !utf8.FullRune(b[i:]) {
				return -1
			}
			return i
		}
		i += size
	}
	return -1
}
