package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Languages returns the languages foyer's pages speak, the default first.
func Languages() []string { return []string{"en", "fr"} }

// Language returns the language to answer r in: the query's lang when
// foyer speaks it, else the best of Accept-Language, else English.
func Language(r *http.Request) string {
	langs := Languages()
	if l := strings.ToLower(r.URL.Query().Get("lang")); slices.Contains(langs, l) {
		return l
	}
	best, bestQ := langs[0], 0.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if q > bestQ && slices.Contains(langs, base) {
			best, bestQ = base, q
		}
	}
	return best
}
