// Package csvgen writes large, realistic guest-list CSV files for
// benchmarks: mostly new people at partner domains, with the duplicates,
// internal addresses, denied domains, invalid addresses, international
// domains and quoted names that real files carry. Only source's benchmark
// and the gencsv command import it.
package csvgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Mix is the share of each kind of row, in percent; the rest are new
// people at partner domains.
type Mix struct {
	Duplicate, Internal, Denied, Invalid, IDN, Quoted int
}

// DefaultMix is what the benchmark reads.
var DefaultMix = Mix{Duplicate: 2, Internal: 2, Denied: 1, Invalid: 1, IDN: 1, Quoted: 5}

// Header is the header line Write writes.
const Header = "username,email,company"

var (
	first    = []string{"Ana", "Bram", "Wei", "Olu", "Kim", "Sam", "Marie", "Jürgen", "Zoë", "Łukasz", "Priya", "Mateo", "Aiko", "Noah", "Fatima", "Liam"}
	last     = []string{"Lima", "de Vries", "Chen", "Ade", "Lee", "Roe", "Dupont", "Müller", "Åberg", "Nowak", "Patel", "García", "Sato", "Smith", "Haddad", "Byrne"}
	partners = []string{"fabrikam.example", "northwind.example", "tailspin.example", "fourthcoffee.example", "wingtip.example", "litware.example", "adatum.example", "woodgrove.example"}
	idn      = []string{"bücher.example", "例え.example", "münchen-partner.example"}
	invalid  = []string{"no-at-sign.example", "a(b)@fabrikam.example", "two@@fabrikam.example", "", "x y@northwind.example", ".dot@tailspin.example"}
)

// Write writes a header and rows rows to w. The same rows and seed give the
// same bytes.
func Write(w io.Writer, rows int, seed uint64, mix Mix) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	bw.WriteString(Header + "\r\n")
	var line []byte
	for i := range rows {
		line = line[:0]
		f, l := first[i%len(first)], last[(i/len(first))%len(last)]
		name := f + " " + l
		email := person(i)
		company := strings.TrimSuffix(partners[i%len(partners)], ".example")
		switch p := rng.IntN(100); {
		case p < mix.Duplicate && i > 0:
			email = strings.ToUpper(person(rng.IntN(i)))
		case p < mix.Duplicate+mix.Internal:
			email = local(i) + "@contoso.example"
		case p < mix.Duplicate+mix.Internal+mix.Denied:
			email = local(i) + "@gmail.com"
		case p < mix.Duplicate+mix.Internal+mix.Denied+mix.Invalid:
			email = invalid[rng.IntN(len(invalid))]
		case p < mix.Duplicate+mix.Internal+mix.Denied+mix.Invalid+mix.IDN:
			email = local(i) + "@" + idn[i%len(idn)]
		case p < mix.Duplicate+mix.Internal+mix.Denied+mix.Invalid+mix.IDN+mix.Quoted:
			name = `"` + l + `, ` + f + `"`
		}
		line = append(line, name...)
		line = append(line, ',')
		line = append(line, email...)
		line = append(line, ',')
		line = append(line, company...)
		line = append(line, '\r', '\n')
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write row %d: %w", i+1, err)
		}
	}
	return bw.Flush()
}

// person returns the address of the i-th new person: unique for each i.
func person(i int) string {
	return local(i) + "@" + partners[i%len(partners)]
}

func local(i int) string {
	f, l := first[i%len(first)], last[(i/len(first))%len(last)]
	return ascii(f) + "." + ascii(l) + strconv.Itoa(i)
}

// ascii keeps the letters of s that an address's local part may hold.
func ascii(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r == 'ü':
			b.WriteString("ue")
		case r == 'ë':
			b.WriteByte('e')
		case r == 'å':
			b.WriteByte('a')
		case r == 'ł':
			b.WriteByte('l')
		case r == 'í':
			b.WriteByte('i')
		}
	}
	return b.String()
}
